"""An import's outputs written in two processes (report/outputs.py): byte for byte what one process writes; the
consolidation travels to the second process by the names of its spool files, not as its answers; an error there is
the same message as in one process; the run's scratch folder is gone when the import ends, however it ends."""

from __future__ import annotations

import io
import multiprocessing
import os
import pickle
import shutil
import signal
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest

from eif_xlsx import spool
from eif_xlsx.api import consolidate, validate
from eif_xlsx.domain.catalog import Catalog
from eif_xlsx.report import outputs
from eif_xlsx.report.consolidate import build
from eif_xlsx.spool import Rows

ROOT = Path(__file__).resolve().parent.parent
RETURNS = ROOT / "samples" / "returns"
CLI = [sys.executable, "-m", "eif_xlsx.cli"]


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}


def test_two_processes_write_the_same_files_as_one(tmp_path):
    one = consolidate([RETURNS], tmp_path / "one", jobs=1, pdf=False)
    two = consolidate([RETURNS], tmp_path / "two", jobs=2, pdf=False)
    assert [p.name for p in one.outputs] == [p.name for p in two.outputs]  # listed in the same order
    a, b = _files(tmp_path / "one"), _files(tmp_path / "two")
    assert {"summary.xlsx", "tracker.xlsx", "report.html", "answers.csv", "summary.json", "register.csv"} <= set(a)
    assert sorted(a) == sorted(b)
    assert [name for name in a if a[name] != b[name]] == []


def _read_back(payload: bytes, more: bytes = b"", sent: bool = False) -> tuple[list, list, list]:
    """In the other process: what the outputs read, from the consolidation sent (pickled, or as the outputs send
    it) and a Rows list."""
    cons = outputs._unpickle_from(io.BytesIO(payload)) if sent else pickle.loads(payload)
    answers = [[(a.key, a.raw_text) for a in p.report.ret.answers] for p in cons.participants]
    results = [sorted((k, r.score.score) for k, r in p.report.results.items()) for p in cons.participants]
    return answers, results, list(pickle.loads(more)) if more else []


@pytest.mark.parametrize("method", ["spawn", "fork"])
def test_a_consolidation_travels_by_the_names_of_its_spool_files(method):
    if method not in multiprocessing.get_all_start_methods():
        pytest.skip(f"no {method} start method here")
    catalog = Catalog.default()
    with spool.scratch() as folder:
        reports = validate([RETURNS], catalog=catalog, jobs=1)
        accepted = [r.ret.metadata for r in reports if r.accepted]
        cons = build(reports, catalog.matrix(accepted[0]["definition_id"]), None, catalog.indicator_set_for(*accepted))
        rows = Rows([("cp1", "2026 Q1", 12.5), {"a": "b"}])
        rows.append(["added", "after"])
        here = _read_back(pickle.dumps(cons), pickle.dumps(rows))
        assert here[0] and all(here[0]) and here[2] == [("cp1", "2026 Q1", 12.5), {"a": "b"}, ["added", "after"]]
        made = os.listdir(folder)
        assert any(n.endswith(".spool") for n in made) and any(n.endswith(".rows") for n in made)
        payload = outputs._pickled(cons)
        longest = max((t for p in here[0] for _, t in p), key=len)
        assert len(longest) > 20 and longest.encode() not in payload  # the answers stayed in the spool file
        with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context(method)) as pool:
            assert pool.submit(_read_back, payload, pickle.dumps(rows), True).result() == here
    assert not os.path.exists(folder)  # removed with its files
    # Still read here from the open files; sent now, the answers and rows go as themselves.
    assert _read_back(pickle.dumps(cons), pickle.dumps(rows)) == here
    assert longest.encode() in outputs._pickled(cons)


def _import(out: Path, tmp: Path, jobs: int) -> subprocess.Popen:
    env = {**os.environ, "TMPDIR": str(tmp)}
    cmd = [*CLI, "import", str(RETURNS), "--out", str(out), "--jobs", str(jobs), "--quiet", "--no-pdf"]
    return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_an_error_writing_is_the_same_message_in_two_processes_and_the_scratch_folder_goes(tmp_path):
    seen = []
    for jobs in (1, 2):
        for blocked in ("summary.xlsx", "report.html", "tracker.xlsx"):  # the other process's files, and this one's
            out, tmp = tmp_path / f"out-{jobs}-{blocked}", tmp_path / f"tmp-{jobs}-{blocked}"
            (out / blocked).mkdir(parents=True)  # a folder where the file goes: cannot be written
            tmp.mkdir()
            done = _import(out, tmp, jobs)
            stdout, stderr = done.communicate(timeout=300)
            seen.append((blocked, done.returncode, stderr.replace(str(out), "OUT")))
            assert done.returncode == 1 and "Traceback" not in stderr
            assert stderr.strip() == f"{out / blocked}: Is a directory", stderr
            assert list(tmp.iterdir()) == []  # the run's scratch folder and XlsxWriter's files in it: gone
    assert seen[:3] == seen[3:]


@pytest.mark.slow
@pytest.mark.parametrize("moment", ["reading", "writing"])
def test_an_interrupted_import_leaves_no_process_no_scratch_and_no_traceback(tmp_path, moment):
    returns = tmp_path / "returns"
    shutil.copytree(RETURNS, returns)
    sample = next(RETURNS.glob("*.xlsx"))
    for i in range(60):  # long enough to be interrupted while the outputs are written
        shutil.copyfile(sample, returns / f"copy-{i:02}.xlsx")
    out, tmp = tmp_path / "out", tmp_path / "tmp"
    tmp.mkdir()
    env = {**os.environ, "TMPDIR": str(tmp)}
    cmd = [*CLI, "import", str(returns), "--out", str(out), "--jobs", "2", "--quiet", "--no-pdf"]
    proc = subprocess.Popen(
        cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    # Reading: the second process waits for its work; writing: it writes summary.xlsx while this one tracker.xlsx.
    deadline = time.monotonic() + 300
    ready = out if moment == "reading" else out / "tracker.xlsx"
    while not ready.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    if moment == "reading":
        time.sleep(0.3)
        assert not (out / "tracker.xlsx").exists()
    assert proc.poll() is None
    os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C: to the command and every process it started
    _, stderr = proc.communicate(timeout=120)
    assert "Traceback" not in stderr
    assert proc.returncode == 1 and "Aborted!" in stderr, (proc.returncode, stderr)
    time.sleep(0.5)
    left = subprocess.run(["pgrep", "-s", str(proc.pid)], capture_output=True, text=True).stdout.split()
    assert left == []  # no process of the import's session still running
    assert list(tmp.iterdir()) == []
