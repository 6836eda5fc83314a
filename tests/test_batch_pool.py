"""The reading pool: it takes several files to a task without one file's failure costing the others; what an import
writes is never read back as a return."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

from .conftest import press_ctrl_c, saved_email

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


def _eml(path: Path, attachments: list[tuple[str, bytes]], sender: str = "partner@example.org") -> Path:
    path.write_bytes(saved_email(attachments, sender))
    return path


def test_e_mails_are_opened_by_the_pool_and_their_workbooks_reported_in_their_place(tmp_path):
    """Saved e-mails among the files: each is opened in a reading process and every workbook in it read as a
    file of its own. The reports: first the e-mails that gave no workbook, then every workbook in the order of the
    files, an e-mail's in its place; progress counts each file given once (an e-mail once its workbooks are
    read). Their attachments are removed with the run's scratch folders."""
    from eif_xlsx.intake import batch, sources

    book = SAMPLE.read_bytes()
    files = [
        _copies(tmp_path, 1)[0],
        _eml(tmp_path / "b.eml", [("first.xlsx", book), ("notes.txt", b"x"), ("second.xlsx", book)]),
        _eml(tmp_path / "c.eml", [("notes.txt", b"no workbook here")], sender="nobody@example.org"),
        tmp_path / "d.xlsx",
        _eml(tmp_path / "e.eml", [("third.xlsx", book)]),
    ]
    shutil.copyfile(SAMPLE, files[3])
    seen: list[int] = []
    work = tmp_path / "work"
    with sources.scratch():
        reports = batch.run([sources.source_of(f) for f in files], jobs=2, progress=seen.append, workdir=work)
        kept = [Path(r.path) for r in reports if r.file.endswith(".xlsx") and "›" in r.file]
        assert kept and all(p.is_file() and work in p.parents for p in kept)
    assert not work.exists()  # made for the run, removed with its attachments
    assert [r.file for r in reports] == [
        "c.eml",
        "return-00.xlsx",
        "b.eml › first.xlsx",
        "b.eml › second.xlsx",
        "d.xlsx",
        "e.eml › third.xlsx",
    ]
    assert [f.code for f in reports[0].findings] == ["not-a-workbook"]
    assert "nobody@example.org" in reports[0].findings[0].message
    assert all(r.accepted for r in reports[1:])
    assert {r.ret.sender for r in reports[2:4]} == {"partner@example.org"}
    assert sum(seen) == len(files)


@pytest.mark.slow
def test_an_e_mail_that_takes_too_long_to_open_costs_only_itself(tmp_path, monkeypatch):
    """An e-mail of many thousands of parts takes the standard library's parser long (a 5 MB one ~20 s, a 60 MB
    one, the largest taken, minutes): opened in a reading process, it is stopped at the time limit and
    reported, and the files beside it are read, without waiting for the batch's own deadline. (Opened in the
    importing process, it held up the whole run.)"""
    from eif_xlsx.intake import batch, sources

    monkeypatch.setattr(batch, "FILE_SECONDS", 2)  # the limit is kept by this process
    boundary = "b" * 20
    parts = "".join(f"--{boundary}\nContent-Type: text/plain\n\nx\n" for _ in range(150000))  # 7.5 MB
    slow = tmp_path / "slow.eml"
    slow.write_text(
        f'From: a@example.org\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="{boundary}"\n\n'
        f"{parts}--{boundary}--\n"
    )
    files = [*_copies(tmp_path, 40), slow]
    with sources.scratch():
        started = time.monotonic()
        reports = batch.run([sources.source_of(f) for f in files], jobs=2, workdir=tmp_path / "work")
        took = time.monotonic() - started
    assert [r.file for r in reports] == ["slow.eml", *(f.name for f in files[:-1])]  # e-mails' problems first
    assert all(r.accepted for r in reports[1:])
    assert [f.code for f in reports[0].findings] == ["not-a-workbook"]
    assert "opening the e-mail took longer than 2 seconds" in reports[0].findings[0].message
    # The parser would take ~35 s to open it (here). The batch's own deadline is 2 s x (1 + 41 / 2) = 42 s; it is
    # stopped once no task has finished for a whole task's time (2 s x batch.CHUNK), then tried alone (2 s).
    assert took < 25


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
