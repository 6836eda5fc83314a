"""Invitation drafts (`generate --email-drafts`): standard MIME that a mail program opens, signed by the sender,
byte-identical from run to run."""

from __future__ import annotations

import csv
import email
import email.policy
from pathlib import Path

from click.testing import CliRunner

from eif_xlsx.cli import main
from eif_xlsx.rounds.mail import default_body, draft, fill_template, sign_off, to_bytes

PARTNERS = (
    "id,name,organisation,email\n"
    "NMW-01,Hélène Dupré,Northshire Maternity,helene@example.org\n"
    "FH-01,Bob Sample,Family Hubs North,bob@example.org\n"
    "CC-01,,Little Acorns Nursery,\n"
)  # no email: no draft


def generate(tmp_path: Path, out: str, *more: str):
    partners = tmp_path / "partners.csv"
    partners.write_text(PARTNERS, encoding="utf-8")
    return CliRunner().invoke(
        main,
        [
            "generate",
            "maternity-early-years",
            "--partners",
            str(partners),
            "--area",
            "Northshire",
            "--deadline",
            "2026-12-11",
            "--email-drafts",
            "--sender",
            "early.years@northshire.example",
            "--out",
            str(tmp_path / out),
            "-j",
            "1",
            "--quiet",
            *more,
        ],
    )


def parse(path: Path):
    return email.message_from_bytes(path.read_bytes(), policy=email.policy.default)


def test_invitation_drafts_parse_back(tmp_path):
    res = generate(tmp_path, "a", "--sender-name", "Sam Coordinator", "--sender-organisation", "Northshire Council")
    assert res.exit_code == 0, res.output
    out = tmp_path / "a"
    rows = list(csv.DictReader((out / "manifest.csv").open(encoding="utf-8")))
    drafts = sorted((out / "emails").glob("*.eml"))
    assert [d.stem for d in drafts] == sorted(Path(r["file"]).stem for r in rows if r["email"])
    for row in (r for r in rows if r["email"]):
        msg = parse(out / "emails" / (Path(row["file"]).stem + ".eml"))
        assert msg["From"].addresses[0].addr_spec == "early.years@northshire.example"
        assert msg["From"].addresses[0].display_name == "Sam Coordinator"  # who it is from, in every mail program
        assert msg["To"].addresses[0].addr_spec == row["email"]
        assert msg["To"].addresses[0].display_name == row["name"]
        assert msg["Subject"] == "EIF maturity matrix self-assessment — Northshire"
        assert msg["X-Unsent"] == "1" and msg["Date"] is None
        body = msg.get_body(("plain",)).get_content().replace("\r\n", "\n")
        assert body.startswith(f"Dear {row['name']},\n\nPlease find attached your workbook")
        assert "email it back to early.years@northshire.example by 11 December 2026." in body
        assert body.rstrip().endswith("Thank you,\nSam Coordinator\nNorthshire Council")
        (attachment,) = list(msg.iter_attachments())
        assert attachment.get_filename() == row["file"]
        assert attachment.get_content_type() == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        assert attachment.get_content() == (out / row["file"]).read_bytes()

    # The same inputs give the same bytes.
    assert (
        generate(
            tmp_path, "b", "--sender-name", "Sam Coordinator", "--sender-organisation", "Northshire Council"
        ).exit_code
        == 0
    )
    for d in drafts:
        assert d.read_bytes() == (tmp_path / "b" / "emails" / d.name).read_bytes()
    ids = {parse(d)["Message-ID"] for d in drafts}
    assert len(ids) == len(drafts)


def test_default_body_reads_well_without_a_sign_off(tmp_path):
    assert generate(tmp_path, "a").exit_code == 0
    for d in (tmp_path / "a" / "emails").glob("*.eml"):
        body = parse(d).get_body(("plain",)).get_content().replace("\r\n", "\n")
        assert body.endswith("\n\nThank you,\n")
        assert "{" not in body and "None" not in body


def test_message_template_fields(tmp_path):
    template = tmp_path / "message.txt"
    template.write_text(
        "Hello {name} ({organisation}),\n\nPlease return by {deadline} to {sender}. {not a field}\n\n"
        "Best wishes,\n{sender_name}\n{sender_organisation}\n",
        encoding="utf-8",
    )
    res = generate(
        tmp_path,
        "a",
        "--message",
        str(template),
        "--sender-name",
        "Sam Coordinator",
        "--sender-organisation",
        "Northshire Council",
    )
    assert res.exit_code == 0, res.output
    (helene,) = [d for d in (tmp_path / "a" / "emails").glob("*.eml") if "nmw-01" in d.name]
    body = parse(helene).get_body(("plain",)).get_content().replace("\r\n", "\n")
    assert body == (
        "Hello Hélène Dupré (Northshire Maternity),\n\nPlease return by 11 December 2026 to "
        "early.years@northshire.example. {not a field}\n\nBest wishes,\nSam Coordinator\n"
        "Northshire Council\n"
    )


def test_twelve_months_invitation_says_which_column():
    body = default_body("Ann", "Northshire", "10 December 2027", "me@example.org", round_="12_months")
    assert "12-months review" in body and "choose ✓ in the 12 months column" in body
    assert "Baseline column, and locked" in body
    assert "choose ✓ in the Baseline column" in default_body("Ann", "", "", "me@example.org")


def test_draft_helpers():
    assert sign_off() == "Thank you,"
    assert sign_off("Sam", "") == "Thank you,\nSam"
    assert fill_template("{name} {x} {sender_name}", {"name": "Ann"}) == "Ann {x} "
    long_subject = "Please correct and return: EIF maturity matrix self-assessment — " + "Northshire " * 8
    msg = draft(
        sender="a@example.org",
        to_name="",
        to_email="b@example.org",
        subject=long_subject,
        body="Line ✓\n",
        attachments=[("x.ods", b"PK\x03\x04")],
    )
    back = email.message_from_bytes(to_bytes(msg), policy=email.policy.default)
    assert back["Subject"] == long_subject  # not folded into a double space
    assert back["To"] == "b@example.org"
    (att,) = list(back.iter_attachments())
    assert att.get_content_type() == "application/vnd.oasis.opendocument.spreadsheet"
    assert att.get_content() == b"PK\x03\x04"
    assert all(len(line) <= 998 for line in to_bytes(msg).split(b"\r\n"))


SAMPLE_PARTNERS = Path(__file__).resolve().parent.parent / "samples" / "partners.csv"


def test_an_address_that_is_not_one_is_refused_before_anything_is_read(tmp_path):
    """--sender and --return-to are checked as the partner list's addresses are: exit 2, naming the option, before
    the partner list or any return is read, and nothing is written."""
    cases = [
        ["generate", "maternity-early-years", "--partners", str(SAMPLE_PARTNERS), "--email-drafts"]
        + ["--sender", "early years team", "--out", str(tmp_path / "g")],
        ["chase", str(tmp_path), "--manifest", __file__, "--sender", "me@council"],
        ["chase", str(tmp_path), "--manifest", __file__, "--sender", "me@council.example", "--return-to", "x@y"],
        ["generate", "maternity-early-years", "--return-to", "not an address", "--out", str(tmp_path / "g")],
        ["validate", str(tmp_path), "--feedback", str(tmp_path / "g"), "--return-to", "me at council"],
    ]
    for args in cases:
        res = CliRunner().invoke(main, args)
        assert res.exit_code == 2, res.output
        assert "is not an e-mail address" in res.output and "Traceback" not in res.output
    assert not (tmp_path / "g").exists()


def test_tracker_out_must_be_an_xlsx(tmp_path):
    res = CliRunner().invoke(main, ["tracker", "staffordshire-best-start", "--out", str(tmp_path / "t.csv")])
    assert res.exit_code == 2 and "give a file name ending in .xlsx" in res.output
    assert not (tmp_path / "t.csv").exists()
