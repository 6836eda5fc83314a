"""Ctrl-C while the installed command is still loading ends it as Ctrl-C does later: 'Aborted!', exit 1, no
traceback (the command's imports take ~0.3 s; Python's own handler would print where the import was)."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
COMMAND = Path(sys.executable).parent / "eif-xlsx"  # the console script pip installed beside this interpreter


@pytest.mark.slow
@pytest.mark.skipif(not COMMAND.exists(), reason="the eif-xlsx command is not installed beside this Python")
def test_ctrl_c_while_the_command_loads_says_aborted_without_a_traceback(tmp_path):
    rng = random.Random(11)
    for trial in range(10):
        proc = subprocess.Popen(
            [str(COMMAND), "validate", str(ROOT / "samples" / "returns")],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        try:
            proc.wait(timeout=rng.uniform(0.02, 0.3))  # still loading, most of the time
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGINT)
        _, stderr = proc.communicate(timeout=60)
        if proc.returncode == 0:
            continue  # it had finished: nothing to interrupt
        assert "Traceback" not in stderr, (trial, stderr)
        assert proc.returncode == 1 and "Aborted!" in stderr, (trial, proc.returncode, stderr)
