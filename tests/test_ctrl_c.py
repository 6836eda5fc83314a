"""Ctrl-C while the installed command is still loading ends it as Ctrl-C does later: 'Aborted!', exit 1, no
traceback (the command's imports take ~0.3 s; Python's own handler would print where the import was)."""

from __future__ import annotations

import random
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import press_ctrl_c

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
            press_ctrl_c(proc, f"trial {trial}")
        else:
            proc.communicate()  # it had finished: nothing to interrupt
