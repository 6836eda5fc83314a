"""The import and generation work the same whatever way worker processes start: under 'spawn' and 'forkserver'
(the default on macOS and Windows, and on Linux from Python 3.14) every output is byte for byte what 'fork' writes,
the import's outputs too, written in two processes (report/outputs.py). Each run is a fresh interpreter, so that the
start method is set before anything else."""

from __future__ import annotations

import multiprocessing
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from .conftest import saved_email
from .msgfile import build_msg

ROOT = Path(__file__).resolve().parent.parent
RETURNS = ROOT / "samples" / "returns"
SAMPLE = RETURNS / "northshire-maternity-services-priya-raman-nmw-01.xlsx"

# argv: start method ('' for the default), the returns folder, the output folder, the generate folder
SCRIPT = """
import multiprocessing, sys
if sys.argv[1]:
    multiprocessing.set_start_method(sys.argv[1], force=True)
from eif_xlsx.domain.catalog import Catalog
from eif_xlsx.api import consolidate
from eif_xlsx.template.generate import generate_workbooks
from eif_xlsx.domain.partners import Partner

result = consolidate([sys.argv[2]], sys.argv[3], jobs=2, pdf=False)
catalog = Catalog.default()
people = [Partner(f"P{i:02}", f"Name {i}", f"Organisation {i}", f"p{i}@example.org", "Lead") for i in range(10)]
generate_workbooks(catalog.matrix("maternity-early-years"), sys.argv[4], people,
                   indicators=catalog.indicator_set("staffordshire-best-start"), area="Northshire",
                   deadline="2026-12-11", jobs=2)
print(multiprocessing.get_start_method(), len(result.consolidation.reports))
"""


@pytest.fixture(scope="module")
def returns(tmp_path_factory) -> Path:
    """The sample returns and ten copies of one: enough for the pool to take several files to a task; and the
    sample in a saved .eml and a .msg (opened by the reading processes, their workbooks read as files of their
    own)."""
    folder = tmp_path_factory.mktemp("spawn") / "returns"
    shutil.copytree(RETURNS, folder)
    for i in range(10):
        shutil.copyfile(SAMPLE, folder / f"copy-{i:02}.xlsx")
    (folder / "mailed.eml").write_bytes(saved_email([(SAMPLE.name, SAMPLE.read_bytes())], "priya.raman@example.org"))
    (folder / "mailed.msg").write_bytes(build_msg("priya.raman@example.org", [(SAMPLE.name, SAMPLE.read_bytes())]))
    return folder


def _run(method: str, returns: Path, where: Path) -> dict[str, bytes]:
    out, made = where / "import", where / "generate"
    tmp = Path(tempfile.mkdtemp(prefix="eif-"))  # short: forkserver's socket goes there
    try:
        done = subprocess.run(
            [sys.executable, "-c", SCRIPT, method, str(returns), str(out), str(made)],
            cwd=ROOT,
            env={**os.environ, "TMPDIR": str(tmp)},
            capture_output=True,
            text=True,
            timeout=600,
        )
        left = list(tmp.iterdir())
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split()[0] == (method or multiprocessing.get_start_method()), done.stdout
    assert left == []  # the import's scratch folder (spool files, XlsxWriter's) removed at its end
    files = {f"import/{p.name}": p.read_bytes() for p in out.iterdir() if p.is_file()}
    files.update({f"generate/{p.name}": p.read_bytes() for p in made.iterdir() if p.is_file()})
    return files


@pytest.mark.slow
@pytest.mark.parametrize("method", ["spawn", "forkserver"])
def test_outputs_are_byte_identical_under_every_start_method(returns, tmp_path, method):
    if method not in multiprocessing.get_all_start_methods():
        pytest.skip(f"no {method} start method here")
    # 'fork' where there is one (Linux): the consolidation sent to the process writing summary.xlsx and the report
    # (report/outputs.py) is read there from its spool files by name, never from memory inherited by a fork.
    default = _run("fork" if "fork" in multiprocessing.get_all_start_methods() else "", returns, tmp_path / "default")
    other = _run(method, returns, tmp_path / method)
    assert {
        "import/summary.xlsx",
        "import/tracker.xlsx",
        "import/report.html",
        "import/register.csv",
        "import/answers.csv",
        "import/summary.json",
        "generate/manifest.csv",
    } <= set(default)
    assert sum(name.startswith("generate/") and name.endswith(".xlsx") for name in default) == 10
    register = default["import/register.csv"].decode("utf-8")
    assert "mailed.eml › " in register and "mailed.msg › " in register  # the e-mails' workbooks, read
    assert sorted(default) == sorted(other)
    different = [name for name in default if default[name] != other[name]]
    assert not different, different
