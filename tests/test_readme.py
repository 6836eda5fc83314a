"""The README stays true: its CLI reference matches --help, and every command it shows runs."""

from __future__ import annotations

import csv
import email
import email.policy
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
    demo = subprocess.run(
        [str(exe), "demo", "--out", "output"], cwd=tmp_path, capture_output=True, text=True, env=env, timeout=600
    )
    assert demo.returncode == 0, demo.stderr
    commands = readme_commands()
    assert len(commands) >= 10
    printed = {}
    for command in commands:
        argv = shlex.split(command)
        assert argv[0] == "eif-xlsx"
        done = subprocess.run([str(exe), *argv[1:]], cwd=tmp_path, capture_output=True, text=True, env=env, timeout=600)
        assert "Traceback" not in done.stderr + done.stdout, command
        allowed = (0, 1) if argv[1] in ("validate", "import") else (0,)
        assert done.returncode in allowed, f"{command}\n{done.stdout}\n{done.stderr}"
        printed[command] = done.stdout
        if "--dry-run" in argv:
            assert not (tmp_path / "chase").exists(), "a dry run writes nothing"
    assert (tmp_path / "board-pack" / "summary.xlsx").exists()
    assert (tmp_path / "round2" / "manifest.csv").exists()
    assert list((tmp_path / "round1" / "emails").glob("*.eml"))
    assert list((tmp_path / "feedback").glob("*.xlsx"))

    # What the walk-through says of chase holds: the summary line it quotes, a draft per partner to chase.
    text = README.read_text(encoding="utf-8")
    chase_runs = [c for c in commands if c.startswith("eif-xlsx chase")]
    assert len(chase_runs) == 2
    summary = re.search(r"the last line printed is `([^`]+)`", text).group(1)
    for c in chase_runs:
        assert summary in printed[c].splitlines()[-1], printed[c]
    rows = list(csv.DictReader((tmp_path / "chase" / "chase.csv").open(encoding="utf-8-sig", newline="")))
    drafts = sorted((tmp_path / "chase").glob("*.eml"))
    assert len(drafts) == sum(r["status"] != "complete" for r in rows) == 3
    for d in drafts:
        msg = email.message_from_bytes(d.read_bytes(), policy=email.policy.default)
        body = msg.get_body(("plain",)).get_content()
        assert "18 December 2026" in body and "Sam Patel" in body
        assert len(list(msg.iter_attachments())) == 1
    assert "'maybe' is not a tick" in text and "'maybe' is not a tick" in printed[chase_runs[1]]
    # Round 2: the new deadline, not last year's.
    from eif_xlsx.api import read_return

    round2 = list(csv.DictReader((tmp_path / "round2" / "manifest.csv").open(encoding="utf-8")))
    assert read_return(tmp_path / "round2" / round2[0]["file"]).metadata["deadline"] == "10 December 2027"
    invitations = sorted((tmp_path / "round2" / "emails").glob("*.eml"))
    assert len(invitations) == len(round2)
    msg = email.message_from_bytes(invitations[0].read_bytes(), policy=email.policy.default)
    assert msg["Subject"] == "EIF maturity matrix self-assessment: 12-months review — Northshire"
    body = msg.get_body(("plain",)).get_content()
    assert "12 months column" in body and "by 10 December 2027" in body and "Sam Patel" in body
