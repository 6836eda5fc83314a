"""Smoke test of benchmarks/bench.py: a tiny run writes a result file with every figure (not a benchmark)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent / "benchmarks" / "bench.py"


def _positive(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value > 0


def test_bench_smoke(tmp_path):
    result_file = tmp_path / "result.json"
    run = subprocess.run(
        [sys.executable, str(BENCH), "--n", "6", "--jobs", "2", "--repeat", "1", "--openpyxl-sample", "2",
         "--memory", "--memory-n", "3,8", "--json", str(result_file), "--workdir", str(tmp_path / "work")],
        capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr  # a measurement: exit 0 whatever the targets say
    assert "PASS" in run.stdout or "FAIL" in run.stdout
    data = json.loads(result_file.read_text(encoding="utf-8"))

    assert {"date", "machine", "config", "generation", "import", "calamine", "openpyxl", "ratios", "memory",
            "targets", "passed"} <= data.keys()
    assert {"platform", "cpu_count", "python"} <= data["machine"].keys()
    assert data["config"]["n"] == 6
    for key in ("workbooks", "seconds", "per_second", "ms_per_workbook"):
        assert _positive(data["generation"][key]), key
    assert data["generation"]["workbooks"] == 6
    for section in ("import", "calamine", "openpyxl"):
        for key in ("files", "seconds", "per_second", "ms_per_file", "peak_rss_mb"):
            assert _positive(data[section][key]), (section, key)
    assert data["import"]["statuses"] == {"returned": 6}
    assert data["openpyxl"]["sample"] == 2
    for key in ("import_over_calamine", "openpyxl_over_import"):
        assert _positive(data["ratios"][key]), key
    memory = data["memory"]
    assert [r["returns"] for r in memory["runs"]] == [3, 8]
    assert all(_positive(r["peak_rss_mb"]) and _positive(r["seconds"]) for r in memory["runs"])
    assert _positive(memory["peak_rss_mb"]) and _positive(memory["growth"])
    names = {t["name"] for t in data["targets"]}
    assert names == {"generation_per_second", "import_returns_per_second", "import_over_calamine",
                     "openpyxl_over_import", "memory_peak_rss_mb", "memory_growth"}
    assert all(isinstance(t["pass"], bool) and _positive(t["value"]) for t in data["targets"])
    assert data["passed"] == all(t["pass"] for t in data["targets"])
