"""Returns checked against the round the manifest issued: a baseline (round 1) workbook sent back in the 12-months
round is rejected as wrong-round, and its partner chased; validate, import and chase agree on a folder and a
manifest; manifest.csv is written as the other CSVs (byte-order mark, CRLF) and read with or without its mark.

Real files throughout: round 1 generated and filled, one return re-saved by LibreOffice, round 2 generated from
the returns by `generate --round 12-months --previous`."""

from __future__ import annotations

import csv
import datetime as dt
import email
import email.policy
import json
import shutil
from email.message import EmailMessage
from pathlib import Path

import pytest
from click.testing import CliRunner

from eif_xlsx import api
from eif_xlsx.cli import main
from eif_xlsx.domain.partners import Partner
from eif_xlsx.intake.manifest import read_manifest
from eif_xlsx.office import convert
from eif_xlsx.template.generate import generate_workbooks
from eif_xlsx.template.layout import BASELINE, TWELVE_MONTHS

from .conftest import ANN, BOB, MATRIX_ID, need_soffice

ZOE = Partner("P-ZOE", "Zoë Brontë", "Riverside Family Hub", "zoe@example.org", "Manager")
PARTNERS = [ANN, BOB, ZOE]
SENDER = "early.years@northshire.example"


def answers(day: int, column: str = BASELINE) -> dict:
    return {
        ("criterion", "1.1", "1.1a", column): "✓",
        ("criterion", "1.1", "1.1b", column): "✓",
        ("assessment_date", "", "", column): dt.date(2026 if column == BASELINE else 2027, 11, day),
    }


def filled(matrix, folder: Path, partner: Partner, values: dict, deadline: str = "2026-12-11", **more) -> Path:
    made = generate_workbooks(
        matrix,
        folder,
        [partner],
        area="Northshire",
        deadline=deadline,
        return_to=SENDER,
        prefill={partner.id: ("", values, {})},
        **more,
    )
    return made.files[0]


def cli(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


@pytest.fixture(scope="module")
def rounds(tmp_path_factory, matrix):
    """Round 1 (baseline) returns of all three partners (Zoë's re-saved by LibreOffice); round 2 generated from
    them; Ann's 12-months return."""
    need_soffice()
    base = tmp_path_factory.mktemp("rounds")
    round1 = generate_workbooks(
        matrix, base / "round1", PARTNERS, area="Northshire", deadline="2026-12-11", return_to=SENDER
    )
    returns1 = base / "returns1"
    returns1.mkdir()
    for p, day in ((ANN, 2), (BOB, 3)):
        shutil.copyfile(
            filled(matrix, base / "work" / p.id, p, answers(day)), returns1 / round1.files[PARTNERS.index(p)].name
        )
    convert(filled(matrix, base / "work" / ZOE.id, ZOE, answers(4)), "xlsx", returns1)
    partners = base / "partners.csv"
    partners.write_text(
        "id,name,organisation,email,role\n"
        + "".join(f"{p.id},{p.name},{p.organisation},{p.email},{p.role}\n" for p in PARTNERS),
        encoding="utf-8",
    )
    res = cli(
        "generate",
        MATRIX_ID,
        "--round",
        "12-months",
        "--previous",
        str(returns1),
        "--partners",
        str(partners),
        "--area",
        "Northshire",
        "--deadline",
        "2027-12-10",
        "--return-to",
        SENDER,
        "--out",
        str(base / "round2"),
    )
    assert res.exit_code == 0, res.output
    sent2 = {r["partner_id"]: r for r in read_manifest(base / "round2" / "manifest.csv")}
    # Ann sends her 12-months workbook back; Bob and Zoë send last year's workbooks again.
    returns2 = base / "returns2"
    returns2.mkdir()
    ann12 = filled(
        matrix,
        base / "work" / "ann12",
        ANN,
        {**answers(2), **answers(5, TWELVE_MONTHS)},
        deadline="2027-12-10",
        round="12_months",
    )
    shutil.copyfile(ann12, returns2 / sent2[ANN.id]["file"])
    for f in returns1.iterdir():
        if not f.name.startswith(ANN.id.lower()) and "ann" not in f.name:
            shutil.copyfile(f, returns2 / f.name)
    return {
        "base": base,
        "round1": round1,
        "returns1": returns1,
        "round2": base / "round2",
        "manifest2": base / "round2" / "manifest.csv",
        "returns2": returns2,
        "sent2": sent2,
    }


def register(out: Path) -> dict[str, dict[str, str]]:
    with (out / "register.csv").open(encoding="utf-8-sig", newline="") as fh:
        return {r["partner_id"] + "|" + r["status"]: r for r in csv.DictReader(fh)}


def findings(out: Path) -> list[dict[str, str]]:
    with (out / "findings.csv").open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.mark.slow
def test_round_one_returns_are_not_counted_in_round_two(rounds, tmp_path):
    assert sorted(p.name for p in rounds["returns2"].iterdir()) == sorted(
        [rounds["sent2"][ANN.id]["file"], *(f.name for f in rounds["returns1"].iterdir() if "ann" not in f.name)]
    )
    out = tmp_path / "out"
    res = cli(
        "import", str(rounds["returns2"]), "--manifest", str(rounds["manifest2"]), "--out", str(out), "--no-pdf", "-q"
    )
    assert res.exit_code == 1, res.output  # files rejected
    reg = register(out)
    assert sorted(reg) == [
        "P-ANN|returned",
        "P-BOB|outstanding",
        "P-BOB|rejected",
        "P-ZOE|outstanding",
        "P-ZOE|rejected",
    ]
    wrong = [f for f in findings(out) if f["code"] == "wrong-round"]
    assert sorted(f["file"] for f in wrong) == sorted(reg[f"{p}|rejected"]["file"] for p in ("P-BOB", "P-ZOE"))
    for f in wrong:
        pid = "P-BOB" if "bob" in f["file"] else "P-ZOE"
        assert f["severity"] == "error"
        assert f["message"] == (
            "This is your baseline workbook from the first round; the 12 months workbook sent "
            f"to you ({rounds['sent2'][pid]['file']}) is the one to fill in and return."
        )
        assert reg[f"{pid}|rejected"]["reason"] == f["message"]
    # The LibreOffice re-save kept its round: it is one of the two rejected.
    assert any("zoe" in f["file"] for f in wrong)

    # The same files against the round-1 manifest: all counted, and Ann's 12-months workbook is the wrong one.
    out1 = tmp_path / "out1"
    res = cli(
        "import",
        str(rounds["returns2"]),
        "--manifest",
        str(rounds["round1"].manifest),
        "--out",
        str(out1),
        "--no-pdf",
        "-q",
    )
    assert res.exit_code == 1
    assert sorted(register(out1)) == ["P-ANN|outstanding", "P-ANN|rejected", "P-BOB|returned", "P-ZOE|returned"]
    (ann,) = [f for f in findings(out1) if f["code"] == "wrong-round"]
    assert ann["message"] == (
        "This is your 12 months workbook; the baseline workbook sent to you "
        f"({rounds['round1'].rows[0]['file']}) is the one to fill in and return."
    )

    # Without a manifest nothing says which round is expected: every return counts.
    out0 = tmp_path / "out0"
    res = cli("import", str(rounds["returns2"]), "--out", str(out0), "--no-pdf", "-q")
    assert res.exit_code == 0, res.output
    assert not [f for f in findings(out0) if f["code"] == "wrong-round"]


@pytest.mark.slow
def test_chase_counts_a_round_one_return_as_outstanding(rounds, tmp_path):
    args = ["chase", str(rounds["returns2"]), "--manifest", str(rounds["manifest2"]), "--sender", SENDER, "-j", "1"]
    res = cli(*args, "--dry-run")
    assert res.exit_code == 0, res.output
    assert res.output.splitlines()[-1].startswith("2 outstanding, 0 to correct, 1 complete")
    out = tmp_path / "chase"
    res = cli(*args, "--out", str(out))
    assert res.exit_code == 0, res.output
    with (out / "chase.csv").open(encoding="utf-8-sig", newline="") as fh:
        rows = {r["partner_id"]: r for r in csv.DictReader(fh)}
    assert {p: r["status"] for p, r in rows.items()} == {
        "P-ANN": "complete",
        "P-BOB": "outstanding",
        "P-ZOE": "outstanding",
    }
    for pid in ("P-BOB", "P-ZOE"):
        row, sent = rows[pid], rounds["sent2"][pid]["file"]
        assert row["file_attached"] == sent  # the 12-months workbook goes again (round 2 names its files as round 1)
        msg = email.message_from_bytes((out / row["draft"]).read_bytes(), policy=email.policy.default)
        body = msg.get_body(("plain",)).get_content().replace("\r\n", "\n")
        assert f"Thank you for sending {row['return_file']}. We have not counted it" in body
        assert (
            f"This is your baseline workbook from the first round; the 12 months workbook sent to you ({sent})" in body
        )
        assert f"The workbook to return is attached ({sent})." in body
        assert "10 December 2027" in body  # the round's deadline, not the old workbook's
        (att,) = list(msg.iter_attachments())
        assert att.get_filename() == sent and att.get_content() == (rounds["round2"] / sent).read_bytes()


@pytest.mark.slow
def test_a_workbook_without_a_round_is_not_rejected_for_it(rounds, tmp_path):
    """A workbook whose metadata carries no round (an older template) is not judged on its round."""
    from openpyxl import load_workbook

    bob = next(f for f in rounds["returns1"].iterdir() if "bob" in f.name)
    wb = load_workbook(bob)
    meta = wb["_eif"]
    (row,) = [r for r in meta.iter_rows() if r[0].value == "round"]
    row[0].value = row[1].value = None
    folder = tmp_path / "returns"
    folder.mkdir()
    wb.save(folder / bob.name)
    (rep,) = api.validate([folder], manifest=rounds["manifest2"], jobs=1)
    assert rep.ret.partner_id == "P-BOB" and "round" not in rep.ret.metadata
    assert not [f for f in rep.findings if f.code == "wrong-round"]


def grace_sends_liams(matrix, folder: Path, work: Path) -> tuple[Path, list[Partner]]:
    liam = Partner("P-LIAM", "Liam Doyle", "Northshire Childminders", "liam@example.org", "Coordinator")
    grace = Partner("P-GRACE", "Grace Ito", "Northshire Public Health", "grace@example.org", "Analyst")
    sent = generate_workbooks(
        matrix, work / "sent", [liam, grace], area="Northshire", deadline="2026-12-11", return_to=SENDER
    )
    wb = filled(matrix, work / "liam", liam, answers(6))
    msg = EmailMessage()
    msg["From"] = "Grace Ito <grace@example.org>"
    msg["Subject"] = "our return"
    msg.set_content("attached")
    msg.add_attachment(wb.read_bytes(), maintype="application", subtype="octet-stream", filename=wb.name)
    folder.mkdir(parents=True)
    (folder / "grace.eml").write_bytes(msg.as_bytes())
    return sent.manifest, [liam, grace]


@pytest.mark.slow
def test_validate_with_a_manifest_finds_what_import_finds(rounds, matrix, tmp_path):
    """One folder, one manifest: validate --manifest, import --manifest and the API give the same findings."""
    folder = tmp_path / "returns"
    manifest, _ = grace_sends_liams(matrix, folder, tmp_path / "work")
    res = cli("validate", str(folder), "--json", "-j", "1")
    assert res.exit_code == 0, res.output  # without the manifest nobody knows Grace's address
    res = cli("validate", str(folder), "--manifest", str(manifest), "--json", "-j", "1")
    assert res.exit_code == 1, res.output
    validated = {(f["file"], f["code"], f["message"]) for r in json.loads(res.output) for f in r["findings"]}
    out = tmp_path / "out"
    assert cli("import", str(folder), "--manifest", str(manifest), "--out", str(out), "--no-pdf", "-q").exit_code == 1
    imported = {(f["file"], f["code"], f["message"]) for f in findings(out)}
    assert validated == imported
    assert "other-partner" in {code for _, code, _ in validated}
    by_api = {
        (f.file, f.code, f.message) for r in api.validate([folder], manifest=manifest, jobs=1) for f in r.findings
    }
    assert by_api == validated

    # And for the wrong round: round-1 returns against the round-2 manifest.
    res = cli("validate", str(rounds["returns2"]), "--manifest", str(rounds["manifest2"]), "--json", "-j", "1")
    assert res.exit_code == 1
    validated = {(f["file"], f["code"], f["message"]) for r in json.loads(res.output) for f in r["findings"]}
    out = tmp_path / "out2"
    cli("import", str(rounds["returns2"]), "--manifest", str(rounds["manifest2"]), "--out", str(out), "--no-pdf", "-q")
    assert validated == {(f["file"], f["code"], f["message"]) for f in findings(out)}
    assert sum(code == "wrong-round" for _, code, _ in validated) == 2


@pytest.mark.slow
def test_the_manifest_is_written_as_the_other_csvs_and_read_with_or_without_its_mark(rounds, matrix, tmp_path):
    raw = rounds["manifest2"].read_bytes()
    assert raw.startswith(b"\xef\xbb\xbfpartner_id,name,") and raw.count(b"\r\n") == 1 + len(PARTNERS)
    assert "Zoë Brontë".encode() in raw and b"\n" not in raw.replace(b"\r\n", b"")
    bare = rounds["round2"] / "manifest-without-bom.csv"  # as written before, or re-saved by another program
    bare.write_bytes(raw[3:].replace(b"\r\n", b"\n"))
    assert [dict(r) for r in read_manifest(bare)] == [dict(r) for r in read_manifest(rounds["manifest2"])]
    assert read_manifest(bare)[2]["name"] == "Zoë Brontë" and read_manifest(bare)[0]["round"] == "12_months"
    for manifest in (rounds["manifest2"], bare):
        res = cli("validate", str(rounds["returns2"]), "--manifest", str(manifest), "-q", "-j", "1")
        assert res.exit_code == 1 and res.output.splitlines()[-1] == "3 file(s): 1 accepted, 2 rejected", res.output
        res = cli(
            "import",
            str(rounds["returns2"]),
            "--manifest",
            str(manifest),
            "--out",
            str(tmp_path / "o"),
            "--no-pdf",
            "-q",
        )
        assert res.exit_code == 1 and sorted(register(tmp_path / "o"))[0] == "P-ANN|returned"
        res = cli(
            "chase", str(rounds["returns2"]), "--manifest", str(manifest), "--sender", SENDER, "--dry-run", "-j", "1"
        )
        assert res.output.splitlines()[-1].startswith("2 outstanding, 0 to correct, 1 complete"), res.output
    # generate --previous: a manifest.csv (with its mark) in the folder of previous returns is not read as one.
    previous = tmp_path / "previous"
    shutil.copytree(rounds["returns1"], previous)
    shutil.copyfile(rounds["round1"].manifest, previous / "manifest.csv")
    res = cli(
        "generate", MATRIX_ID, "--round", "12-months", "--previous", str(previous), "--out", str(tmp_path / "again")
    )
    assert res.exit_code == 0 and res.output.splitlines() == [
        f"Wrote 3 workbook(s) and {tmp_path / 'again' / 'manifest.csv'}"
    ], res.output
    assert len(read_manifest(tmp_path / "again" / "manifest.csv")) == len(PARTNERS)


def test_a_formula_like_name_is_guarded_in_the_manifest_and_read_back_as_typed(matrix, tmp_path):
    odd = Partner("P-ODD", '=HYPERLINK("x")', "@Home Nursery", "odd@example.org", "-")
    made = generate_workbooks(matrix, tmp_path, [odd])
    with made.manifest.open(encoding="utf-8-sig", newline="") as fh:
        (row,) = list(csv.DictReader(fh))
    assert (row["name"], row["organisation"], row["role"]) == ('\'=HYPERLINK("x")', "'@Home Nursery", "'-")
    (back,) = read_manifest(made.manifest)
    assert (back["name"], back["organisation"]) == (odd.name, odd.organisation)


def test_chase_says_a_rejected_return_is_not_counted(matrix, tmp_path):
    """Grace sent Liam's workbook (other-partner, an error): import rejected it, and her mail says it is not counted
    (a return with warnings only is counted: test_chase)."""
    folder = tmp_path / "returns"
    manifest, (liam, grace) = grace_sends_liams(matrix, folder, tmp_path / "work")
    out = tmp_path / "chase"
    res = cli("chase", str(folder), "--manifest", str(manifest), "--sender", SENDER, "--out", str(out), "-j", "1")
    assert res.exit_code == 0, res.output
    assert res.output.splitlines()[-1].startswith("1 outstanding, 1 to correct, 0 complete")
    (draft,) = out.glob(f"to-correct-*{grace.id.lower()}.eml")
    body = email.message_from_bytes(draft.read_bytes(), policy=email.policy.default).get_body(("plain",)).get_content()
    assert "We cannot count it until these points are corrected:" in body
    assert "This workbook belongs to partner P-LIAM" in body and "We have counted it" not in body
