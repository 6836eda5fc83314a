"""`eif-xlsx chase`: a round of six partners (one complete after a superseded draft, two to correct, one whose file
arrived damaged, one who forgot the attachment, one who never returned), returns filled by the project's writer and re-saved by LibreOffice; every
draft parsed back as a mail program would."""

from __future__ import annotations

import csv
import datetime as dt
import email
import email.policy
import os
import shutil
from email.message import EmailMessage
from pathlib import Path

import pytest
from click.testing import CliRunner
from python_calamine import CalamineWorkbook

from eif_xlsx import api
from eif_xlsx.cli import main
from eif_xlsx.domain.partners import Partner
from eif_xlsx.office import convert
from eif_xlsx.template.generate import generate_workbooks
from eif_xlsx.template.layout import BASELINE

from .conftest import ANN, BOB, need_soffice

CAT = Partner("P-CAT", "Cat Jones", "Northshire Childminders", "cat@example.org", "Coordinator")
DAN = Partner("P-DAN", "Dan Wu", "Northshire Public Health", "dan@example.org", "Analyst")
EVE = Partner("P-EVE", "Ève Martin", "Riverside Family Hub", "eve@example.org", "Manager")
FAY = Partner("P-FAY", "Fay Okoro", "Northshire Health Visiting", "Fay.Okoro@example.org", "Lead")
PARTNERS = [ANN, BOB, CAT, DAN, EVE, FAY]
SENDER = "early.years@northshire.example"
SIGN = ["--sender-name", "Sam Coordinator", "--sender-organisation", "Northshire Council"]


def answers(tick: str, day: int) -> dict:
    return {
        ("criterion", "1.1", "1.1a", BASELINE): tick,
        ("criterion", "1.1", "1.1b", BASELINE): "✓",
        ("assessment_date", "", "", BASELINE): dt.date(2026, 11, day),
    }


def filled(matrix, folder: Path, partner: Partner, values: dict) -> Path:
    """The partner's workbook as they send it back: generated with their answers in it."""
    made = generate_workbooks(
        matrix,
        folder,
        [partner],
        area="Northshire",
        deadline="2026-12-11",
        return_to=SENDER,
        prefill={partner.id: ("", values, {})},
    )
    return made.files[0]


@pytest.fixture(scope="module")
def round1(tmp_path_factory, matrix):
    need_soffice()
    base = tmp_path_factory.mktemp("round")
    sent = generate_workbooks(
        matrix, base / "round1", PARTNERS, area="Northshire", deadline="2026-12-11", return_to=SENDER
    )
    returns = base / "returns"
    returns.mkdir()
    work = base / "work"
    # Ann: an early draft with a tick she could not make up her mind about, then her final version, re-saved by
    # LibreOffice as .ods. The final one counts: she is complete.
    draft = filled(matrix, work / "ann-draft", ANN, answers("maybe", 1))
    shutil.copyfile(draft, returns / f"DRAFT {draft.name}")
    convert(filled(matrix, work / "ann", ANN, answers("✓", 20)), "ods", returns)
    # Bob: 'maybe' in a tick cell, the file re-saved by LibreOffice as .xlsx.
    convert(filled(matrix, work / "bob", BOB, answers("maybe", 10)), "xlsx", returns)
    # Dan: the attachment arrived cut short.
    dan = filled(matrix, work / "dan", DAN, answers("✓", 10))
    (returns / dan.name).write_bytes(dan.read_bytes()[:2000])
    # Eve: a good return, then a later one with 'maybe', sent by email; the later one counts: to correct.
    shutil.copyfile(filled(matrix, work / "eve1", EVE, answers("✓", 2)), returns / "eve-first.xlsx")
    later = filled(matrix, work / "eve2", EVE, answers("maybe", 25))
    msg = EmailMessage()
    msg["From"] = "Ève Martin <eve@example.org>"
    msg["Subject"] = "corrected"
    msg.set_content("attached")
    msg.add_attachment(later.read_bytes(), maintype="application", subtype="octet-stream", filename=later.name)
    (returns / "eve.eml").write_bytes(msg.as_bytes())
    # Fay's email came without the workbook: known by the address it came from.
    (returns / "fay.eml").write_bytes(
        b"From: Fay Okoro <fay.okoro@example.org>\r\nSubject: done!\r\n\r\nHere it is\r\n"
    )
    # Cat never returns.
    return {
        "manifest": sent.manifest,
        "sent": {r["partner_id"]: sent.out_dir / r["file"] for r in sent.rows},
        "returns": returns,
        "base": base,
    }


def run_chase(round1, out: Path, *more: str):
    return CliRunner().invoke(
        main,
        [
            "chase",
            str(round1["returns"]),
            "--manifest",
            str(round1["manifest"]),
            "--sender",
            SENDER,
            "--out",
            str(out),
            "--deadline",
            "2026-12-18",
            "-j",
            "1",
            *SIGN,
            *more,
        ],
    )


def parse(path: Path) -> email.message.EmailMessage:
    return email.message_from_bytes(path.read_bytes(), policy=email.policy.default)


@pytest.mark.slow
def test_chase_writes_a_draft_for_each_partner_to_chase(round1, tmp_path):
    out = tmp_path / "chase"
    res = run_chase(round1, out)
    assert res.exit_code == 0, res.output
    assert "1 outstanding, 4 to correct, 1 complete" in res.output.splitlines()[-1]
    rows = {r["partner_id"]: r for r in csv.DictReader((out / "chase.csv").open(encoding="utf-8-sig", newline=""))}
    assert {p: r["status"] for p, r in rows.items()} == {
        "P-ANN": "complete",
        "P-BOB": "to-correct",
        "P-CAT": "outstanding",
        "P-DAN": "to-correct",
        "P-EVE": "to-correct",
        "P-FAY": "to-correct",
    }
    assert rows["P-FAY"]["return_file"] == "fay.eml" and rows["P-FAY"]["file_attached"] == round1["sent"]["P-FAY"].name
    assert rows["P-ANN"]["return_file"].endswith(".ods") and rows["P-ANN"]["draft"] == ""
    assert rows["P-EVE"]["return_file"].startswith("eve.eml › ")  # the later of her two returns
    eve = parse(out / rows["P-EVE"]["draft"]).get_body(("plain",)).get_content()
    assert f"({round1['sent']['P-EVE'].name})" in eve and "eve.eml" not in eve  # the name she sent, not ours
    assert rows["P-CAT"]["file_attached"] == round1["sent"]["P-CAT"].name
    assert rows["P-DAN"]["file_attached"] == round1["sent"]["P-DAN"].name  # nothing of hers could be read
    assert rows["P-BOB"]["file_attached"].startswith("FEEDBACK ")
    assert sorted(p.name for p in out.glob("*.eml")) == sorted(r["draft"] for r in rows.values() if r["draft"])
    raw = (out / "chase.csv").read_bytes()  # opens in Excel with its accents: BOM, CRLF
    assert raw.startswith(b"\xef\xbb\xbfpartner_id,") and b"\r\n" in raw and "Ève Martin".encode() in raw

    # What validate says about Bob's and Eve's returns is what their mails list, cell by cell.
    checked = {
        r.ret.partner_id: r
        for r in api.validate([round1["returns"]])
        if r.file.endswith((round1["sent"]["P-BOB"].name, "eve.eml › " + round1["sent"]["P-EVE"].name))
    }
    for pid, row in rows.items():
        if not row["draft"]:
            continue
        partner = next(p for p in PARTNERS if p.id == pid)
        msg = parse(out / row["draft"])
        assert msg["From"].addresses[0].addr_spec == SENDER
        assert msg["From"].addresses[0].display_name == "Sam Coordinator"  # --sender-name
        assert msg["To"].addresses[0].addr_spec == partner.email
        assert msg["To"].addresses[0].display_name == partner.name
        assert msg["X-Unsent"] == "1" and msg["Message-ID"].endswith("@eif-xlsx>") and msg["Date"] is None
        body = msg.get_body(("plain",)).get_content().replace("\r\n", "\n")
        assert body.startswith(f"Dear {partner.name},\n")
        assert "18 December 2026" in body and SENDER in body
        assert body.rstrip().endswith("Thank you,\nSam Coordinator\nNorthshire Council")
        (attachment,) = list(msg.iter_attachments())
        name = row["file_attached"]
        assert attachment.get_filename() == name
        on_disk = out / "feedback" / name if name.startswith("FEEDBACK ") else round1["sent"][pid]
        assert attachment.get_content() == on_disk.read_bytes()
        if row["status"] == "outstanding":
            assert msg["Subject"] == "Reminder: EIF maturity matrix self-assessment — Northshire"
            assert "We have not yet received your completed workbook" in body
        else:
            assert msg["Subject"] == "Please correct and return: EIF maturity matrix self-assessment — Northshire"
        if pid in checked:
            (tick,) = [f for f in checked[pid].findings if f.code == "unrecognised-tick"]
            assert f"  • {tick.sheet}!{tick.cell}: 'maybe' is not a tick" in body
            # A 'maybe' is a warning: import counted the return (tick not given), and the mail says so.
            assert checked[pid].accepted and "We have counted it, but some answers could not be read" in body
            assert "Before we can count it" not in body and "We cannot count it" not in body
            assert tick.cell == "D10" and tick.sheet.startswith("1.1 ")
        if pid == "P-DAN":
            assert "could not read a workbook from what you sent" in body and "damaged" in body
        if pid == "P-FAY":
            assert "has no .xlsx, .xlsm or .ods attachment" in body


@pytest.mark.slow
def test_feedback_copy_states_return_address_and_deadline(round1, tmp_path):
    out = tmp_path / "chase"
    assert run_chase(round1, out, "--return-to", "corrections@northshire.example").exit_code == 0
    (copy,) = [p for p in (out / "feedback").glob("FEEDBACK *.xlsx") if "bob" in p.name]
    cover = dict(
        (str(r[0]), str(r[2]))
        for r in CalamineWorkbook.from_path(str(copy)).get_sheet_by_name("Cover").to_python()
        if len(r) > 2 and r[0]
    )
    assert cover["Return by"] == "18 December 2026"
    assert cover["Return to"] == "corrections@northshire.example"
    back = api.read_return(copy)
    assert back.answer("criterion", "1.1", "1.1a", BASELINE).raw_text == "maybe"  # nothing the partner typed lost
    assert back.answer("criterion", "1.1", "1.1b", BASELINE).value is True
    body = parse(next(out.glob("to-correct-*p-bob.eml"))).get_body(("plain",)).get_content()
    assert "corrections@northshire.example by 18 December 2026" in body


@pytest.mark.slow
def test_dry_run_writes_nothing_and_output_is_deterministic(round1, tmp_path):
    res = run_chase(round1, tmp_path / "dry", "--dry-run")
    assert res.exit_code == 0, res.output
    assert "1 outstanding, 4 to correct, 1 complete" in res.output and "dry run" in res.output
    assert "Cat Jones" in res.output and not (tmp_path / "dry").exists()
    first, second = tmp_path / "a", tmp_path / "b"
    assert run_chase(round1, first).exit_code == 0 and run_chase(round1, second).exit_code == 0
    files = sorted(p.relative_to(first) for p in first.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(second) for p in second.rglob("*") if p.is_file())
    assert len(files) >= 6
    for rel in files:
        assert (first / rel).read_bytes() == (second / rel).read_bytes(), rel


@pytest.mark.slow
def test_library_function(round1, tmp_path):
    result = api.chase(
        [round1["returns"]], round1["manifest"], sender=SENDER, out_dir=tmp_path / "c", jobs=1, dry_run=True
    )
    assert result.summary() == "1 outstanding, 4 to correct, 1 complete"
    assert result.deadline == "11 December 2026"  # the round's own, from the workbooks
    by_id = {i.partner_id: i for i in result.items}
    assert by_id["P-ANN"].report.file.endswith(".ods") and by_id["P-ANN"].findings == []
    assert [f.code for f in by_id["P-BOB"].findings] == ["unrecognised-tick"]
    assert by_id["P-DAN"].findings[0].code == "damaged"
    assert result.csv is None and result.drafts == []


@pytest.mark.slow
def test_usage_errors(round1, tmp_path):
    res = run_chase(round1, tmp_path / "x", "--matrix", "nope")
    assert res.exit_code == 2 and "known matrices: maternity-early-years" in res.output
    res = CliRunner().invoke(main, ["chase", str(round1["returns"]), "--manifest", str(round1["manifest"])])
    assert res.exit_code == 2 and "--sender" in res.output
    res = run_chase(round1, tmp_path / "x", "--deadline", "next week")
    assert res.exit_code == 2 and "not a date" in res.output and "Traceback" not in res.output
    assert not (tmp_path / "x").exists()


@pytest.mark.slow
def test_validate_feedback_return_to_and_deadline(round1, tmp_path):
    bob = next(p for p in round1["returns"].iterdir() if p.name == round1["sent"]["P-BOB"].name)

    def cover_of(folder: Path) -> dict:
        (copy,) = folder.glob("FEEDBACK *.xlsx")
        rows = CalamineWorkbook.from_path(str(copy)).get_sheet_by_name("Cover").to_python()
        return {str(r[0]): str(r[2]) for r in rows if len(r) > 2 and r[0]}

    res = CliRunner().invoke(main, ["validate", str(bob), "--feedback", str(tmp_path / "own"), "-j", "1"])
    assert res.exit_code == 0, res.output
    cover = cover_of(tmp_path / "own")  # what the workbook itself carried
    assert cover["Return by"] == "11 December 2026" and cover["Return to"] == SENDER
    res = CliRunner().invoke(
        main,
        [
            "validate",
            str(bob),
            "--feedback",
            str(tmp_path / "new"),
            "-j",
            "1",
            "--return-to",
            "fixes@northshire.example",
            "--deadline",
            "2027-01-08",
        ],
    )
    assert res.exit_code == 0, res.output
    cover = cover_of(tmp_path / "new")
    assert cover["Return by"] == "8 January 2027" and cover["Return to"] == "fixes@northshire.example"
    res = CliRunner().invoke(main, ["validate", str(bob), "--feedback", str(tmp_path / "bad"), "--deadline", "soon"])
    assert res.exit_code == 2 and "not a date" in res.output and not (tmp_path / "bad").exists()
    # The same return saved as .ods by LibreOffice: its cover is read for the defaults just the same.
    ods = convert(bob, "ods", tmp_path / "ods")
    res = CliRunner().invoke(main, ["validate", str(ods), "--feedback", str(tmp_path / "from-ods"), "-j", "1"])
    assert res.exit_code == 0, res.output
    cover = cover_of(tmp_path / "from-ods")
    assert cover["Return by"] == "11 December 2026" and cover["Return to"] == SENDER


@pytest.mark.slow
def test_before_anyone_returns_everyone_is_outstanding(round1, tmp_path):
    empty = tmp_path / "returns"
    empty.mkdir()
    res = CliRunner().invoke(
        main,
        [
            "chase",
            str(empty),
            "--manifest",
            str(round1["manifest"]),
            "--sender",
            SENDER,
            "--out",
            str(tmp_path / "chase"),
        ],
    )
    assert res.exit_code == 0, res.output
    assert res.output.splitlines()[-1].startswith("6 outstanding, 0 to correct, 0 complete")
    assert len(list((tmp_path / "chase").glob("outstanding-*.eml"))) == 6
    missing = CliRunner().invoke(
        main, ["chase", str(tmp_path / "nope"), "--manifest", str(round1["manifest"]), "--sender", SENDER]
    )
    assert missing.exit_code == 2 and "no such file or folder" in missing.output


def test_matching_when_the_workbook_does_not_say_who_sent_it(tmp_path, matrix):
    """A damaged copy is known by the name of the file sent; a colleague's workbook sent by another partner is that
    partner's to correct (finding other-partner), not the colleague's."""
    sent = generate_workbooks(matrix, tmp_path / "round1", [ANN, BOB, CAT], area="Northshire", deadline="2026-12-11")
    returns = tmp_path / "returns"
    returns.mkdir()
    ann = filled(matrix, tmp_path / "ann", ANN, answers("✓", 3))
    (returns / f"Copy of {ann.name}").write_bytes(ann.read_bytes()[:1500])
    msg = EmailMessage()
    msg["From"] = BOB.email
    msg["Subject"] = "ours"
    msg.set_content("attached")
    msg.add_attachment(ann.read_bytes(), maintype="application", subtype="octet-stream", filename=ann.name)
    (returns / "bob.eml").write_bytes(msg.as_bytes())
    # Cat returns her workbook (no assessment date), then a 'thank you' without it: her workbook still counts.
    shutil.copyfile(
        filled(matrix, tmp_path / "cat", CAT, {("criterion", "1.1", "1.1a", BASELINE): "✓"}), returns / "cat.xlsx"
    )
    (returns / "cat-thanks.eml").write_bytes(b"From: cat@example.org\r\nSubject: thanks\r\n\r\nSent!\r\n")
    os.utime(returns / "cat.xlsx", (1_780_000_000, 1_780_000_000))
    result = api.chase([returns], sent.manifest, sender=SENDER, out_dir=tmp_path / "chase", jobs=1)
    assert result.summary() == "0 outstanding, 2 to correct, 1 complete"
    by_id = {i.partner_id: i for i in result.items}
    assert by_id["P-ANN"].status == "to-correct" and by_id["P-ANN"].report.file == f"Copy of {ann.name}"
    assert [f.code for f in by_id["P-ANN"].findings] == ["damaged"]
    assert by_id["P-BOB"].status == "to-correct" and by_id["P-BOB"].report.file == f"bob.eml › {ann.name}"
    assert [f.code for f in by_id["P-BOB"].findings] == ["other-partner"]
    body = parse(by_id["P-BOB"].draft).get_body(("plain",)).get_content()
    assert "This workbook belongs to" in body and body.startswith("Dear Bob Sample,")
    assert by_id["P-BOB"].attachment.read_bytes() == (sent.out_dir / sent.rows[1]["file"]).read_bytes()  # his own
    assert by_id["P-ANN"].attachment.read_bytes() == (sent.out_dir / sent.rows[0]["file"]).read_bytes()
    assert result.unmatched == []
