"""The fast loop stays fast: a test that runs a real program (LibreOffice, Gnumeric, Chromium, poppler) must be
marked slow, and conftest.py fails it when it is not. Checked here on a small test run of its own."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

from .conftest import real_program

ROOT = Path(__file__).resolve().parent.parent

# One test file run by a pytest of its own, with this suite's conftest.py: which of its tests pass and which fail.
SAMPLE = """
import subprocess
import sys

import pytest

from conftest import need_program


def start(argv):
    try:
        subprocess.run(argv, capture_output=True, timeout=60)
    except FileNotFoundError:  # not installed: the attempt is what counts
        pass


def test_starts_a_real_program_unmarked():
    start(["pdftotext", "-v"])


@pytest.mark.slow
def test_starts_a_real_program_marked():
    start(["pdftotext", "-v"])


@pytest.fixture
def office():
    start(["soffice", "--version"])


def test_fixture_starts_a_real_program_unmarked(office):
    pass


def test_asks_for_a_program_unmarked():
    need_program(sys.executable, "Python")


@pytest.mark.slow
def test_asks_for_a_program_marked():
    assert need_program(sys.executable, "Python") == sys.executable


def test_starts_python_unmarked():
    start([sys.executable, "-c", "pass"])
"""


def test_an_unmarked_test_that_runs_a_real_program_fails(tmp_path):
    (tmp_path / "pytest.ini").write_text("[pytest]\nmarkers =\n    slow: slow\n", encoding="utf-8")
    (tmp_path / "conftest.py").write_text(
        (ROOT / "tests" / "conftest.py").read_text(encoding="utf-8"), encoding="utf-8"
    )
    (tmp_path / "test_sample.py").write_text(SAMPLE, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rA", "-p", "no:cacheprovider", "test_sample.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=240,
    )
    outcomes = {}
    for line in done.stdout.splitlines():
        for outcome in ("PASSED", "FAILED", "ERROR"):
            if line.startswith(f"{outcome} test_sample.py::"):
                outcomes[line.split("::")[1].split()[0]] = outcome
    assert outcomes == {
        "test_starts_a_real_program_unmarked": "FAILED",
        "test_starts_a_real_program_marked": "PASSED",
        "test_fixture_starts_a_real_program_unmarked": "ERROR",  # failed in its setup
        "test_asks_for_a_program_unmarked": "FAILED",
        "test_asks_for_a_program_marked": "PASSED",
        "test_starts_python_unmarked": "PASSED",
    }, done.stdout[-3000:] + done.stderr[-2000:]
    assert "test_starts_a_real_program_unmarked runs poppler: mark it slow" in done.stdout
    assert "test_fixture_starts_a_real_program_unmarked runs LibreOffice: mark it slow" in done.stdout
    assert "test_asks_for_a_program_unmarked runs Python: mark it slow" in done.stdout


def test_real_programs_are_known_by_their_command_lines():
    assert real_program(["/usr/bin/soffice", "--headless", "--convert-to", "ods", "a.xlsx"]) == "LibreOffice"
    assert real_program("/usr/lib/libreoffice/program/soffice.bin --headless") == "LibreOffice"
    assert real_program([Path("/usr/bin/ssconvert"), "a.xlsx", "b.ods"]) == "Gnumeric"
    assert real_program([b"/usr/bin/chromium", b"--headless"]) == "Chromium"
    assert real_program(["pdftotext", "-layout", "a.pdf", "-"]) == "poppler"
    driver = ".venv/lib/python3.11/site-packages/playwright/driver/node"
    assert real_program([driver, driver.replace("node", "package/cli.js"), "run-driver"]) == "Chromium (Playwright)"
    assert real_program([sys.executable, "-m", "eif_xlsx.cli", "validate"]) is None
    assert real_program([]) is None


def test_the_slow_marker_is_declared_and_strict():
    options = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["pytest"]["ini_options"]
    assert any(m.startswith("slow:") for m in options["markers"])
    assert "--strict-markers" in options["addopts"]


def test_readme_gives_the_full_run_and_the_fast_loop():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert ".venv/bin/pytest\n```" in readme  # the full run: the README's test command, what .ci/run runs
    assert 'pytest -m "not slow"' in readme
