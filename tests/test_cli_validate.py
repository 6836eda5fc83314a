"""`eif-xlsx validate`: exit codes, --json equal to the API's reports, and the XML-hardening guard."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from eif_xlsx import __version__, api
from eif_xlsx.cli import main
from eif_xlsx.template.layout import BASELINE

from .conftest import make_workbook


def test_json_equals_the_api(tmp_path, matrix):
    good = make_workbook(
        tmp_path / "a",
        matrix,
        {("criterion", "1.1", "1.1a", BASELINE): "maybe", ("criterion", "1.1", "1.1b", BASELINE): "✓"},
    )
    bad = tmp_path / "a" / "notes.txt"
    bad.write_text("not a workbook", encoding="utf-8")
    res = CliRunner().invoke(main, ["validate", str(tmp_path / "a"), "--json"])
    assert res.exit_code == 1
    printed = json.loads(res.output)
    expected = [r.as_dict() for r in api.validate([tmp_path / "a"])]
    assert printed == expected
    by_file = {r["file"]: r for r in printed}
    assert by_file[good.name]["status"] == "accepted"
    assert by_file["notes.txt"]["status"] == "rejected"
    assert by_file["notes.txt"]["findings"][0]["code"] == "not-a-workbook"
    assert {"unrecognised-tick"} <= {f["code"] for f in by_file[good.name]["findings"]}


def test_exit_codes(tmp_path, matrix):
    good = make_workbook(tmp_path / "a", matrix, {("criterion", "1.1", "1.1a", BASELINE): "✓"})
    res = CliRunner().invoke(main, ["validate", str(good)])
    assert res.exit_code == 0, res.output
    assert "ACCEPTED" in res.output and "1 accepted, 0 rejected" in res.output
    assert CliRunner().invoke(main, ["validate", str(tmp_path / "missing.xlsx")]).exit_code == 2
    assert CliRunner().invoke(main, ["validate"]).exit_code == 2
    legacy = tmp_path / "old.xls"
    legacy.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600)
    res = CliRunner().invoke(main, ["validate", str(legacy)])
    assert res.exit_code == 1 and "legacy-xls" in res.output and "Traceback" not in res.output


def test_refuses_to_run_without_defusedxml(tmp_path, matrix):
    good = make_workbook(tmp_path / "a", matrix, {("criterion", "1.1", "1.1a", BASELINE): "✓"})
    exe = Path(sys.executable).with_name("eif-xlsx")
    env = {**os.environ, "OPENPYXL_DEFUSEDXML": "False"}
    done = subprocess.run([str(exe), "validate", str(good)], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 2
    assert "defusedxml" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.slow
def test_the_installed_command_exits_with_the_right_code_and_all_its_output(tmp_path, matrix):
    """The console script (cli.run) skips the interpreter's teardown: exit codes, printed output and written files
    must all be as main leaves them."""
    exe = str(Path(sys.executable).with_name("eif-xlsx"))
    good = make_workbook(tmp_path / "in", matrix, {("criterion", "1.1", "1.1a", BASELINE): "✓"})
    (tmp_path / "in" / "broken.xlsx").write_bytes(good.read_bytes()[:3000])
    done = subprocess.run(
        [exe, "import", str(tmp_path / "in"), "--out", str(tmp_path / "out"), "--jobs", "1"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 1, done.stderr  # one rejected
    assert "2 file(s) read" in done.stdout and "summary.json" in done.stdout
    summary = json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))
    assert len(summary["register"]) == 2
    assert (
        subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=60)
        .stdout.strip()
        .endswith(__version__)
    )
    usage = subprocess.run([exe, "import"], capture_output=True, text=True, timeout=60)
    assert usage.returncode == 2 and "Missing argument" in usage.stderr
    missing = subprocess.run([exe, "validate", str(tmp_path / "nope.xlsx")], capture_output=True, text=True, timeout=60)
    assert missing.returncode == 2 and "nope.xlsx" in missing.stderr


def test_saved_emails_are_opened(tmp_path, matrix):
    """.eml and Outlook .msg: workbook attachments taken out, the sender reported."""
    from email.message import EmailMessage

    from .msgfile import build_msg

    good = make_workbook(tmp_path / "gen", matrix, {("criterion", "1.1", "1.1a", BASELINE): "✓"})
    box = tmp_path / "inbox"
    box.mkdir()
    msg = EmailMessage()
    msg["From"] = "Ann Example <ann@example.org>"
    msg["Subject"] = "my return"
    msg.set_content("attached")
    msg.add_attachment(good.read_bytes(), maintype="application", subtype="octet-stream", filename="ann.xlsx")
    (box / "ann.eml").write_bytes(msg.as_bytes())
    (box / "bob.msg").write_bytes(
        build_msg("bob@example.org", [("bob return.xlsx", good.read_bytes()), ("photo.png", b"\x89PNG")])
    )
    (box / "empty.eml").write_bytes(b"From: carol@example.org\nSubject: sorry\n\nforgot the file\n")
    reports = api.validate([box])
    by_file = {r.file: r for r in reports}
    assert by_file["ann.eml › ann.xlsx"].ret.sender == "ann@example.org"
    assert by_file["ann.eml › ann.xlsx"].accepted
    assert by_file["bob.msg › bob return.xlsx"].ret.sender == "bob@example.org"
    assert by_file["bob.msg › bob return.xlsx"].accepted
    assert by_file["bob.msg › bob return.xlsx"].ret.answer("criterion", "1.1", "1.1a", BASELINE).value is True
    assert not by_file["empty.eml"].accepted
    assert "no .xlsx" in by_file["empty.eml"].findings[0].message


UNKNOWN_IDS = {
    "generate MATRIX_ID": (["generate", "nope"], "known matrices: maternity-early-years"),
    "generate --indicators": (
        ["generate", "maternity-early-years", "--indicators", "nope"],
        "known indicator sets: staffordshire-best-start",
    ),
    "validate --matrix": (["validate", "{returns}", "--matrix", "nope"], "known matrices: maternity-early-years"),
    "validate --matrix an indicator set": (
        ["validate", "{returns}", "--matrix", "staffordshire-best-start"],
        "'staffordshire-best-start' is an indicator set, not a matrix",
    ),
    "import --indicators": (
        ["import", "{returns}", "--indicators", "nope"],
        "known indicator sets: staffordshire-best-start",
    ),
    "import --manifest of an unknown matrix": (
        ["import", "{returns}", "--manifest", "{other_manifest}"],
        "matrix_id: no matrix 'nope' (known matrices: maternity-early-years)",
    ),
    "tracker SET_ID": (["tracker", "maternity-early-years"], "known indicator sets: staffordshire-best-start"),
    "chase --matrix": (
        ["chase", "{returns}", "--manifest", "{manifest}", "--sender", "me@example.org", "--matrix", "nope"],
        "known matrices: maternity-early-years",
    ),
    "definitions show": (
        ["definitions", "show", "nope"],
        "no definition with id 'nope' (known: maternity-early-years, staffordshire-best-start)",
    ),
}


def test_unknown_ids_are_usage_errors_before_any_file_is_read(tmp_path):
    """Exit 2 with the known ids, and not a word about the returns (they were not read)."""
    returns = Path(__file__).resolve().parent.parent / "samples" / "returns"
    other = tmp_path / "manifest.csv"
    other.write_text(
        (returns.parent / "returns-manifest.csv").read_text(encoding="utf-8").replace("maternity-early-years", "nope"),
        encoding="utf-8",
    )
    for case, (argv, known) in UNKNOWN_IDS.items():
        out = tmp_path / case.replace(" ", "_")
        argv = [
            a.replace("{returns}", str(returns))
            .replace("{other_manifest}", str(other))
            .replace("{manifest}", str(returns.parent / "returns-manifest.csv"))
            for a in argv
        ]
        if argv[0] in ("generate", "import", "chase"):
            argv += ["--out", str(out)]
        res = CliRunner().invoke(main, argv)
        assert res.exit_code == 2, (case, res.output)
        assert known in res.output, (case, res.output)
        assert "Traceback" not in res.output and ".xlsx" not in res.output and "REJECTED" not in res.output, case
        assert not out.exists(), case


def test_python_dash_m_runs_the_command(tmp_path):
    """`python -m eif_xlsx` is the installed command: the same report, and usage errors exit 2 as there."""
    returns = Path(__file__).resolve().parent.parent / "samples" / "returns"
    done = subprocess.run(
        [sys.executable, "-m", "eif_xlsx", "validate", "--json", str(returns)], capture_output=True, text=True
    )
    assert done.returncode in (0, 1), done.stderr
    assert json.loads(done.stdout) == json.loads(CliRunner().invoke(main, ["validate", "--json", str(returns)]).stdout)
    wrong = subprocess.run([sys.executable, "-m", "eif_xlsx", "validate"], capture_output=True, text=True)
    assert wrong.returncode == 2 and "Usage: python -m eif_xlsx validate" in wrong.stderr
