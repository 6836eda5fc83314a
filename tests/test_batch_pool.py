"""The reading pool: it takes several files to a task without one file's failure costing the others; what an import
writes is never read back as a return."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from .conftest import press_ctrl_c

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "samples" / "returns" / "northshire-maternity-services-priya-raman-nmw-01.xlsx"


def _copies(folder: Path, n: int = 24) -> list[Path]:
    files = [folder / f"return-{i:02}.xlsx" for i in range(n)]
    for f in files:
        shutil.copyfile(SAMPLE, f)
    return files


# --- several files to a task -------------------------------------------------------------------------


def test_files_sharing_a_task_each_keep_their_own_report_when_one_fails_or_kills_its_worker(
    tmp_path, monkeypatch, debug_log
):
    """With many files, the pool takes several to a task (batch.CHUNK). A file whose reading raises is reported
    damaged without costing the others of its task; a file that kills its worker costs the task, and every one of
    its files is then read again alone: only that file is lost."""
    import multiprocessing

    from eif_xlsx.intake import batch

    if multiprocessing.get_start_method(allow_none=False) != "fork":
        pytest.skip("the workers must inherit the patched reader (fork start method)")
    files = _copies(tmp_path)
    real = batch.read_return

    def reading(path, *args, **kwargs):
        if path.endswith("return-05.xlsx"):
            raise ValueError("a bug met on this file")
        if path.endswith("return-10.xlsx"):
            os._exit(9)  # the worker dies, as on a real crash
        return real(path, *args, **kwargs)

    monkeypatch.setattr(batch, "read_return", reading)
    submitted = []

    class Pool(batch.WorkerPool):
        def submit(self, fn, *args, **kwargs):
            if fn is batch._work_many:
                submitted.append(len(args[0]))
            return super().submit(fn, *args, **kwargs)

    monkeypatch.setattr(batch, "WorkerPool", Pool)
    log = debug_log
    seen = []
    reports = batch.run([batch.Source(str(f), f.name) for f in files], jobs=1, progress=seen.append)
    assert [r.file for r in reports] == [f.name for f in files]
    assert sum(seen) == 24
    assert max(submitted) == batch.CHUNK > 1  # several files to a task
    bad = {r.file: r for r in reports if not r.accepted}
    assert set(bad) == {"return-05.xlsx", "return-10.xlsx"}
    unforeseen = bad["return-05.xlsx"].findings[0]
    assert unforeseen.code == "internal-error" and "ValueError" not in unforeseen.message  # plain words only
    assert "ValueError: a bug met on this file" in log.read_text(encoding="utf-8")  # the detail, for --debug
    assert "crashed" in bad["return-10.xlsx"].findings[0].message
    assert all(r.status == "accepted" for r in reports if r.file not in bad)


def test_every_file_an_import_writes_is_skipped_when_its_folder_is_read_again(tmp_path):
    """An import's outputs land beside the returns as often as not: each is one of batch.SKIP_NAMES (register.csv,
    as the import and the README name it), so that a second import of the folder reads the returns alone."""
    from eif_xlsx.api import consolidate
    from eif_xlsx.intake import batch

    returns = tmp_path / "returns"
    returns.mkdir()
    for f in _copies(returns, 2):
        assert f.exists()
    result = consolidate([returns], returns, pdf=False)
    written = {p.name for p in result.outputs if p.parent == returns}
    assert "register.csv" in written and "summary.xlsx" in written
    assert written <= batch.SKIP_NAMES, written - batch.SKIP_NAMES
    assert [p.name for p in batch.expand([returns])] == ["return-00.xlsx", "return-01.xlsx"]


# --- Ctrl-C while the returns are read ---------------------------------------------------------------


@pytest.mark.slow
def test_ctrl_c_at_any_moment_of_the_reading_ends_the_import_quietly(tmp_path):
    """Ctrl-C reaches every process of the import. A worker interrupted while it took a task or sent a result used
    to leave the pool's pipes half-read and the import hung in its shutdown (seen one time in about twenty on a
    busy machine); the workers now ignore it and the batch stops them. Interrupted at many moments of the
    reading, the import ends each time, at once, with 'Aborted!', no traceback and no process left."""
    import random
    import subprocess
    import sys
    import time

    returns = tmp_path / "returns"
    returns.mkdir()
    _copies(returns, 60)
    rng = random.Random(7)
    for trial in range(12):
        out = tmp_path / f"out-{trial}"
        proc = subprocess.Popen(
            [sys.executable, "-m", "eif_xlsx.cli", "import", str(returns), "--out", str(out), "--jobs", "2"],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        while not out.exists() and proc.poll() is None:  # the command has started: the reading is under way
            time.sleep(0.005)
        time.sleep(rng.uniform(0.0, 0.8))
        if proc.poll() is not None:
            continue
        press_ctrl_c(proc, f"trial {trial}")
