"""The import keeps freed memory for the next return (batch._tune_malloc, glibc only): a worker's page faults do
not grow with the returns it reads. Counted in a subprocess, so that this process's own allocator is untouched."""

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
if sys.argv[1] == "off":
    B._tune_malloc = lambda: None
files = sys.argv[2:]

def faults(n):
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_minflt
    reports = B.run([B.Source(f, f) for f in files[:n]], jobs=2)
    assert all(r.status == "accepted" for r in reports), [r.status for r in reports]
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_minflt - before

few, many = faults(8), faults(len(files))
print((many - few) / (len(files) - 8))
"""


def _faults_per_return(tmp_path: Path, mode: str) -> float:
    files = []
    for i in range(24):
        files.append(tmp_path / f"return-{i:02}.xlsx")
        shutil.copyfile(SAMPLE, files[-1])
    out = subprocess.run([sys.executable, "-c", SCRIPT, mode, *map(str, files)], cwd=ROOT, capture_output=True,
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
    assert _faults_per_return(tmp_path, "on") < 150
