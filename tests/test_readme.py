"""The README stays true: its CLI reference matches --help, and every command it shows runs."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
sys.path.insert(0, str(ROOT / "scripts"))


def test_cli_reference_matches_help():
    from cli_reference import END, START, reference

    text = README.read_text(encoding="utf-8")
    block = text.split(START, 1)[1].split(END, 1)[0]
    assert block.strip() == reference().strip(), "run: python scripts/cli_reference.py --write README.md"


def readme_commands() -> list[str]:
    text = README.read_text(encoding="utf-8")
    return [line[2:].strip() for line in re.findall(r"^\$ .+$", text, flags=re.M)]


def test_readme_has_the_two_commands():
    text = README.read_text(encoding="utf-8")
    assert "python3 -m venv .venv && .venv/bin/pip install -q . && .venv/bin/eif-xlsx demo" in text
    test_command = "python3 -m venv .venv && .venv/bin/pip install -q -e '.[dev]' && .venv/bin/pytest"
    assert test_command in text
    assert test_command in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


@pytest.mark.slow
def test_every_readme_command_runs(tmp_path):
    """After the demo, the walkthrough's commands run in order, in a fresh folder, as a newcomer would type them."""
    exe = Path(sys.executable).with_name("eif-xlsx")
    (tmp_path / "samples").symlink_to(ROOT / "samples")
    env = {**os.environ, "EIF_XLSX_DEFINITIONS": ""}
    demo = subprocess.run([str(exe), "demo", "--out", "output"], cwd=tmp_path, capture_output=True, text=True,
                          env=env, timeout=600)
    assert demo.returncode == 0, demo.stderr
    commands = readme_commands()
    assert len(commands) >= 7
    for command in commands:
        argv = shlex.split(command)
        assert argv[0] == "eif-xlsx"
        done = subprocess.run([str(exe), *argv[1:]], cwd=tmp_path, capture_output=True, text=True, env=env,
                              timeout=600)
        assert "Traceback" not in done.stderr + done.stdout, command
        allowed = (0, 1) if argv[1] in ("validate", "import") else (0,)
        assert done.returncode in allowed, f"{command}\n{done.stdout}\n{done.stderr}"
    assert (tmp_path / "board-pack" / "summary.xlsx").exists()
    assert (tmp_path / "round2" / "manifest.csv").exists()
    assert list((tmp_path / "round1" / "emails").glob("*.eml"))
    assert list((tmp_path / "feedback").glob("*.xlsx"))
