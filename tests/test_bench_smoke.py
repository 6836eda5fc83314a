"""Smoke test of benchmarks/bench.py: a tiny run on a tiny realworld corpus (no LibreOffice needed) prints the table
and writes a result file with every figure (not a benchmark: the figures are not checked against the targets)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "benchmarks" / "bench.py"


def _positive(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value > 0


@pytest.mark.slow
def test_bench_smoke(tmp_path):
    result_file = tmp_path / "result.json"
    run = subprocess.run(
        [
            sys.executable,
            str(BENCH),
            "--n",
            "20",
            "--jobs",
            "2",
            "--repeat",
            "1",
            "--openpyxl-sample",
            "3",
            "--small",
            "4",
            "--large",
            "30",
            "--generate",
            "3",
            "--corpus",
            str(tmp_path / "corpus"),
            "--sources",
            "openpyxl,eif-xlsx,eml",
            "--json",
            str(result_file),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stdout + run.stderr  # a measurement: exit 0 whatever the targets say
    for words in (
        "python-calamine, every sheet",
        "openpyxl read_only",
        "eif-xlsx import, end to end",
        "eif-xlsx validate",
        "per source",
        "targets:",
    ):
        assert words in run.stdout, words
    data = json.loads(result_file.read_text(encoding="utf-8"))
    assert {"platform", "cpu_count", "python"} <= data["machine"].keys()
    assert data["import"]["statuses"] == {"returned": 20}
    for section in ("import", "validate"):
        assert _positive(data[section]["seconds"]) and _positive(data[section]["peak_rss_mb"]), section
    assert len(data["calamine"]["per_file"]) == 20 and all(map(_positive, data["calamine"]["per_file"]))
    assert set(data["by_source"]) == {"openpyxl", "eif-xlsx", "eml"}  # an e-mail's workbook taken out first
    assert sum(s["files"] for s in data["by_source"].values()) == 20
    # The most an import could reach: the read, write and proof floors alone, over the processes.
    assert _positive(data["xml_proof"]["seconds"]) and _positive(data["ceiling_returns_per_second"])
    assert "at most" in run.stdout
    assert data["generate"]["workbooks"] == 3 and data["generate"]["drafts"] == 3
    assert set(data["memory"]) == {"4", "30"}
    assert data["memory"]["30"]["statuses"].get("superseded")  # the distinct returns again, under other names
    names = {t["name"] for t in data["targets"]}
    assert names == {
        "import_returns_per_second",
        "import_over_calamine",
        "openpyxl_over_import",
        "memory_peak_rss_mb",
        "memory_growth_100_to_large",
        "generate_per_second",
    }
    assert data["passed"] == all(t["pass"] for t in data["targets"])
