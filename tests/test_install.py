"""A real, non-editable install: build the wheel, install it into a fresh virtual environment, run the command."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
BUILTIN_IDS = ("maternity-early-years", "staffordshire-best-start")


def _venv_available() -> bool:
    probe = subprocess.run([sys.executable, "-m", "venv", "--help"], capture_output=True, text=True)
    if probe.returncode != 0:
        return False
    ensurepip = subprocess.run([sys.executable, "-c", "import ensurepip"], capture_output=True, text=True)
    return ensurepip.returncode == 0


def _run(cmd: list, timeout: float = 240, **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=timeout, **kwargs)
    assert result.returncode == 0, f"{cmd} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
    return result


@pytest.mark.slow
def test_wheel_installs_and_lists_builtin_definitions(tmp_path):
    if not _venv_available():
        pytest.skip("python -m venv (with ensurepip) is not available")

    # 1. build the wheel (hatchling comes from the package index through pip's build isolation)
    wheels = tmp_path / "wheels"
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--disable-pip-version-check", "-q", "-w", wheels, REPO])
    (wheel,) = wheels.glob("eif_xlsx-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
    assert "eif_xlsx/definitions/maternity-early-years.yaml" in names
    assert "eif_xlsx/definitions/staffordshire-best-start.yaml" in names
    assert "eif_xlsx/cli.py" in names
    assert not any(n.startswith(("tests/", "definitions/")) for n in names)

    # 2. a clean virtual environment (no system site-packages), and the wheel installed into it
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", venv])
    bindir = venv / ("Scripts" if os.name == "nt" else "bin")
    python = bindir / "python"
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "EIF_XLSX_DEFINITIONS", "PYTHONSTARTUP")
    }
    _run([python, "-m", "pip", "install", "--disable-pip-version-check", "-q", wheel], env=env, cwd=tmp_path)

    # 3. run the installed command from outside the repository
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    listing = _run([bindir / "eif-xlsx", "definitions", "list"], timeout=60, env=env, cwd=outside)
    assert listing.stderr == ""
    lines = listing.stdout.strip().splitlines()
    assert lines[0].split() == ["id", "kind", "title", "version", "from"]
    by_id = {line.split()[0]: line for line in lines[1:]}
    assert set(by_id) == set(BUILTIN_IDS)
    for ident in BUILTIN_IDS:
        assert by_id[ident].rstrip().endswith("built-in"), by_id[ident]
    assert by_id["maternity-early-years"].split()[1] == "matrix"
    assert by_id["staffordshire-best-start"].split()[1] == "indicators"

    # the package and its definitions come from the environment, not from this checkout
    where = _run(
        [
            python,
            "-c",
            "import json, eif_xlsx, eif_xlsx.domain.catalog as c; "
            "print(json.dumps([eif_xlsx.__file__, str(c.builtin_dir())]))",
        ],
        timeout=60,
        env=env,
        cwd=outside,
    )
    module_file, builtin = (Path(p) for p in json.loads(where.stdout))
    assert venv.resolve() in module_file.resolve().parents
    assert REPO not in module_file.resolve().parents
    assert builtin.resolve() == module_file.resolve().parent / "definitions"

    # the installed matrix is the whole transcription
    shown = _run(
        [bindir / "eif-xlsx", "definitions", "show", "maternity-early-years", "--json"],
        timeout=60,
        env=env,
        cwd=outside,
    )
    data = json.loads(shown.stdout)
    criteria = [
        c for d in data["dimensions"] for e in d["elements"] for s in (e["sub_elements"] or [e]) for c in s["criteria"]
    ]
    assert len(criteria) == 123

    # the README's main job, from the installed package alone: the demo round trip
    assert "eif_xlsx/samples/partners.csv" in names
    demo = _run([bindir / "eif-xlsx", "demo", "--out", "output"], timeout=600, env=env, cwd=outside)
    assert "summary.xlsx" in demo.stdout
    assert (outside / "output" / "summary.xlsx").is_file() and (outside / "output" / "levels.csv").is_file()
