"""The reading pool: it keeps freed memory for the next return (batch._tune_malloc, glibc only), so that a worker's
page faults do not grow with the returns it reads (counted in a subprocess, so that this process's own allocator is
untouched); and it takes several files to a task without one file's failure costing the others."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "samples" / "returns" / "northshire-maternity-services-priya-raman-nmw-01.xlsx"

SCRIPT = """
import resource, sys
import eif_xlsx.batch as B
files = sys.argv[1:]

def faults(n):
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_minflt
    reports = B.run([B.Source(f, f) for f in files[:n]], jobs=2)
    assert all(r.status == "accepted" for r in reports), [r.status for r in reports]
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_minflt - before

few, many = faults(8), faults(len(files))
print((many - few) / (len(files) - 8))
"""


def _copies(folder: Path, n: int = 24) -> list[Path]:
    files = [folder / f"return-{i:02}.xlsx" for i in range(n)]
    for f in files:
        shutil.copyfile(SAMPLE, f)
    return files


def _faults_per_return(tmp_path: Path) -> float:
    out = subprocess.run([sys.executable, "-c", SCRIPT, *map(str, _copies(tmp_path))], cwd=ROOT, capture_output=True,
                         text=True, timeout=300, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def _glibc() -> bool:
    try:
        return bool(os.confstr("CS_GNU_LIBC_VERSION"))
    except (AttributeError, ValueError, OSError):  # no confstr (Windows), or no such name (macOS, musl)
        return False


@pytest.mark.skipif(not _glibc(), reason="glibc only")
def test_workers_reuse_freed_memory_instead_of_faulting_in_fresh_pages(tmp_path):
    # Each of 16 more returns read by the pool: with glibc's defaults ~540 page faults each (measured), tuned ~30.
    assert _faults_per_return(tmp_path) < 150


# --- several files to a task -------------------------------------------------------------------------


def test_files_sharing_a_task_each_keep_their_own_report_when_one_fails_or_kills_its_worker(tmp_path, monkeypatch):
    """With many files, the pool takes several to a task (batch.CHUNK). A file whose reading raises is reported
    damaged without costing the others of its task; a file that kills its worker costs the task, and every one of
    its files is then read again alone: only that file is lost."""
    import multiprocessing

    from eif_xlsx import batch

    if multiprocessing.get_start_method(allow_none=False) != "fork":
        pytest.skip("the workers must inherit the patched reader (fork start method)")
    files = _copies(tmp_path)
    real = batch.read_return

    def reading(path, **kwargs):
        if path.endswith("return-05.xlsx"):
            raise ValueError("a bug met on this file")
        if path.endswith("return-10.xlsx"):
            os._exit(9)  # the worker dies, as on a real crash
        return real(path, **kwargs)

    monkeypatch.setattr(batch, "read_return", reading)
    submitted = []

    class Pool(batch.ProcessPoolExecutor):
        def submit(self, fn, *args, **kwargs):
            if fn is batch._work_many:
                submitted.append(len(args[0]))
            return super().submit(fn, *args, **kwargs)

    monkeypatch.setattr(batch, "ProcessPoolExecutor", Pool)
    seen = []
    reports = batch.run([batch.Source(str(f), f.name) for f in files], jobs=1, progress=seen.append)
    assert [r.file for r in reports] == [f.name for f in files]
    assert sum(seen) == 24
    assert max(submitted) == batch.CHUNK > 1  # several files to a task
    bad = {r.file: r for r in reports if not r.accepted}
    assert set(bad) == {"return-05.xlsx", "return-10.xlsx"}
    assert "ValueError: a bug met on this file" in bad["return-05.xlsx"].findings[0].message
    assert "crashed" in bad["return-10.xlsx"].findings[0].message
    assert all(r.status == "accepted" for r in reports if r.file not in bad)
