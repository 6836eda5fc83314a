"""Which of a partner's returns counts (manifest.return_order): the assessment date typed, then when the partner
sent it (the Date of the e-mail it came out of) or saved it (the time the workbook records), and only then the
file's modification time, which for a workbook taken out of an e-mail is only when it was taken out."""

from __future__ import annotations

import csv
import datetime as dt
import os
import struct
import zipfile
from pathlib import Path

import openpyxl
from openpyxl.writer.excel import ExcelWriter

from eif_xlsx import api
from eif_xlsx.intake.checks import Report
from eif_xlsx.intake.container import parse_w3cdtf
from eif_xlsx.intake.manifest import return_order
from eif_xlsx.intake.reader import Return
from eif_xlsx.template.layout import BASELINE

from .conftest import ANN, make_workbook, saved_email
from .msgfile import build_msg

WHEN = {("assessment_date", "", "", BASELINE): dt.date(2024, 11, 29)}  # a correction keeps the assessment date
ORIGINAL = {**WHEN, ("criterion", "1.1", "1.1a", BASELINE): "✓"}
CORRECTED = {**ORIGINAL, ("criterion", "1.1", "1.1b", BASELINE): "✓"}  # one answer more
OLD, NEW = 1_700_000_000, 1_800_000_000  # file modification times


def _eml(path: Path, workbook: Path, date: str) -> Path:
    """A saved e-mail from Ann with the workbook attached, and this Date header."""
    path.write_bytes(b"Date: " + date.encode() + b"\r\n" + saved_email([(workbook.name, workbook.read_bytes())]))
    return path


DEC_3 = "Tue, 03 Dec 2024 09:15:00 +0000"


def _emailed(tmp_path: Path, matrix, original: tuple[str, str], corrected: tuple[str, str]) -> tuple[Path, Path, Path]:
    """Ann's original and corrected workbooks, each in a saved e-mail (its name, its Date) in a returns folder."""
    first = make_workbook(tmp_path / "g1", matrix, ORIGINAL)
    second = make_workbook(tmp_path / "g2", matrix, CORRECTED)
    returns = tmp_path / "returns"
    returns.mkdir()
    _eml(returns / original[0], first, original[1])
    _eml(returns / corrected[0], second, corrected[1])
    return first, second, returns


def _saved(src: Path, dst: Path, modified: dt.datetime) -> Path:
    """The workbook saved again by openpyxl, as on that day: the time it records in docProps/core.xml
    (dcterms:modified, UTC). Written by openpyxl's own writer, as Workbook.save writes, but for the time (save
    stamps the present one)."""
    wb = openpyxl.load_workbook(src)
    wb.properties.modified = modified
    ExcelWriter(wb, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED, allowZip64=True)).save()  # closes the zip
    return dst


def _import(returns: Path, out: Path) -> tuple[dict[str, list[str]], set[str]]:
    """The register's files by status, and the criteria Ann's counted return ticks (answers.csv)."""
    api.consolidate([returns], out, jobs=1, pdf=False)
    with (out / "register.csv").open(encoding="utf-8-sig", newline="") as fh:
        reg: dict[str, list[str]] = {}
        for r in csv.DictReader(fh):
            reg.setdefault(r["status"], []).append(r["file"])
    with (out / "answers.csv").open(encoding="utf-8-sig", newline="") as fh:
        ticked = {
            r["item"]
            for r in csv.DictReader(fh)
            if r["partner_id"] == ANN.id and r["field"] == "criterion" and r["column"] == BASELINE
        }
    return reg, ticked


def test_the_later_e_mail_counts_whatever_its_file_time_and_name(tmp_path, matrix):
    """A correction sent on 3 Dec and the original sent on 30 Nov, both with the same assessment date: the
    correction counts, though its saved e-mail is the older file and its name sorts first (the workbooks taken out
    of them have the times they were taken out, the original's the later)."""
    original, corrected, returns = _emailed(
        tmp_path, matrix, ("b-original.eml", "Sat, 30 Nov 2024 17:40:00 +0100"), ("a-corrected.eml", DEC_3)
    )
    os.utime(returns / "a-corrected.eml", (OLD, OLD))
    os.utime(returns / "b-original.eml", (NEW, NEW))
    reports = api.validate([returns], jobs=1, workdir=tmp_path / "work")
    assert {r.file: r.ret.sent for r in reports} == {
        f"a-corrected.eml › {corrected.name}": dt.datetime(2024, 12, 3, 9, 15, tzinfo=dt.UTC),
        f"b-original.eml › {original.name}": dt.datetime(2024, 11, 30, 16, 40, tzinfo=dt.UTC),
    }
    assert all(r.ret.saved is None for r in reports)  # the generator's own fixed time: not saved by a partner
    reg, ticked = _import(returns, tmp_path / "out")
    assert reg["returned"] == [f"a-corrected.eml › {corrected.name}"]
    assert reg["superseded"] == [f"b-original.eml › {original.name}"]
    assert ticked == {"1.1a", "1.1b"}


def test_the_later_saved_workbook_counts_whatever_its_file_time(tmp_path, matrix):
    """Two plain workbooks saved by a spreadsheet program (openpyxl here): the one saved later counts, though its
    file is the older (a copy or download sets a file's time, not the partner's saving) and its name sorts first."""
    returns = tmp_path / "returns"
    returns.mkdir()
    corrected = _saved(
        make_workbook(tmp_path / "g2", matrix, CORRECTED), returns / "a-corrected.xlsx", dt.datetime(2024, 12, 3, 9)
    )
    original = _saved(
        make_workbook(tmp_path / "g1", matrix, ORIGINAL), returns / "b-original.xlsx", dt.datetime(2024, 11, 30, 17)
    )
    os.utime(corrected, (OLD, OLD))
    os.utime(original, (NEW, NEW))
    assert api.read_return(corrected).saved == dt.datetime(2024, 12, 3, 9, tzinfo=dt.UTC)
    reg, ticked = _import(returns, tmp_path / "out")
    assert reg["returned"] == ["a-corrected.xlsx"] and reg["superseded"] == ["b-original.xlsx"]
    assert ticked == {"1.1a", "1.1b"}


def test_a_date_header_that_is_not_a_date(tmp_path, matrix):
    """An e-mail whose Date is garbage is read as any other, with no time of sending: the workbooks' own saved
    times then tell which counts, and compare with another e-mail's time of sending where that one reads."""
    returns = tmp_path / "returns"
    returns.mkdir()
    saved = tmp_path / "saved"
    saved.mkdir()
    corrected = _saved(make_workbook(tmp_path / "g2", matrix, CORRECTED), saved / "ann.xlsx", dt.datetime(2024, 12, 3))
    _eml(returns / "a-corrected.eml", corrected, "the day after tomorrow, 99:99 +9999")
    original = _saved(make_workbook(tmp_path / "g1", matrix, ORIGINAL), saved / "ann.xlsx", dt.datetime(2024, 11, 30))
    _eml(returns / "b-original.eml", original, "Mon, 31 Feb 2024 25:00:00 +0000")
    reports = api.validate([returns], jobs=1, workdir=tmp_path / "work")
    assert [(r.file, r.ret.sent, r.accepted) for r in reports] == [
        ("a-corrected.eml › ann.xlsx", None, True),
        ("b-original.eml › ann.xlsx", None, True),
    ]
    reg, ticked = _import(returns, tmp_path / "out")
    assert reg["returned"] == ["a-corrected.eml › ann.xlsx"] and reg["superseded"] == ["b-original.eml › ann.xlsx"]
    assert ticked == {"1.1a", "1.1b"}
    # The original sent again, on a day after the correction was saved, in an e-mail whose Date reads: it counts.
    _eml(returns / "b-original.eml", original, "Wed, 04 Dec 2024 08:00:00 +0000")
    reg, ticked = _import(returns, tmp_path / "out2")
    assert reg["returned"] == ["b-original.eml › ann.xlsx"]
    assert ticked == {"1.1a"}


def test_an_outlook_message_carries_when_it_was_sent(tmp_path, matrix):
    """A .msg's time of sending (its client submit time, as extract-msg gives it) is carried like an .eml's Date;
    one that does not say gives None."""
    workbook = make_workbook(tmp_path / "g", matrix, ORIGINAL)
    data = build_msg(ANN.email, [(workbook.name, workbook.read_bytes())])
    (tmp_path / "returns").mkdir()
    (tmp_path / "returns" / "undated.msg").write_bytes(data)
    # build_msg writes no time: its store-support property (16 bytes) is replaced by PidTagClientSubmitTime
    sent = dt.datetime(2024, 12, 3, 9, 15, tzinfo=dt.UTC)
    filetime = int((sent - dt.datetime(1601, 1, 1, tzinfo=dt.UTC)).total_seconds()) * 10_000_000
    support = struct.pack("<IIII", 0x340D0003, 6, 0x00040000, 0)
    assert data.count(support) == 1
    dated = data.replace(support, struct.pack("<IIQ", 0x00390040, 6, filetime))
    (tmp_path / "returns" / "dated.msg").write_bytes(dated)
    reports = api.validate([tmp_path / "returns"], jobs=1, workdir=tmp_path / "work")
    assert {r.file: (r.ret.sender, r.ret.sent) for r in reports} == {
        f"dated.msg › {workbook.name}": (ANN.email, sent),
        f"undated.msg › {workbook.name}": (ANN.email, None),
    }


def test_an_ods_says_when_it_was_saved(tmp_path):
    """An .ods's meta.xml dc:date, as LibreOffice writes it (local time without a zone, nanoseconds): read as UTC."""
    path = tmp_path / "return.ods"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet", compress_type=zipfile.ZIP_STORED)
        zf.writestr(
            "content.xml",
            '<?xml version="1.0" encoding="UTF-8"?><office:document-content '
            'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
            'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0"><office:body><office:spreadsheet>'
            '<table:table table:name="Sheet1"><table:table-row><table:table-cell/></table:table-row></table:table>'
            "</office:spreadsheet></office:body></office:document-content>",
        )
        zf.writestr(
            "meta.xml",
            '<?xml version="1.0" encoding="UTF-8"?><office:document-meta '
            'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
            'xmlns:dc="http://purl.org/dc/elements/1.1/"><office:meta>'
            "<dc:date>2024-12-03T10:15:30.123456789</dc:date></office:meta></office:document-meta>",
        )
    ret = api.read_return(path)
    assert ret.format == "ods"
    assert ret.saved == dt.datetime(2024, 12, 3, 10, 15, 30, 123456, tzinfo=dt.UTC)


def test_timestamps_as_workbooks_write_them():
    utc = dt.UTC
    assert parse_w3cdtf("2024-12-03T09:15:00Z") == dt.datetime(2024, 12, 3, 9, 15, tzinfo=utc)
    assert parse_w3cdtf("2024-12-03T10:15:00+01:00") == dt.datetime(2024, 12, 3, 9, 15, tzinfo=utc)
    assert parse_w3cdtf(" 2024-12-03T04:15:00.5-0500 ") == dt.datetime(2024, 12, 3, 9, 15, 0, 500000, tzinfo=utc)
    assert parse_w3cdtf("2024-12-03") == dt.datetime(2024, 12, 3, tzinfo=utc)
    for text in ("", "yesterday", "2024-13-01T00:00:00Z", "2024-12-03T25:00:00Z", "0001-01-01T00:00:00+01:00"):
        assert parse_w3cdtf(text) is None, text


def test_a_return_that_says_when_comes_after_one_that_does_not(tmp_path):
    """None (no time of sending or saving) sorts before any time, and times of sending and of saving compare as
    the UTC instants they are."""
    path = str(tmp_path / "missing.xlsx")  # no file: its modification time counts as 0
    silent = Report("z.xlsx", path, Return(path, "z.xlsx"))
    saved = Report("b.xlsx", path, Return(path, "b.xlsx", saved=dt.datetime(2024, 11, 30, tzinfo=dt.UTC)))
    sent = Report("a.xlsx", path, Return(path, "a.xlsx", sent=dt.datetime(2024, 12, 3, tzinfo=dt.UTC)))
    assert [r.file for r in sorted([sent, silent, saved], key=return_order)] == ["z.xlsx", "b.xlsx", "a.xlsx"]


def test_two_workbooks_in_one_e_mail_are_told_apart_by_when_each_was_saved(tmp_path, matrix):
    """Both came in one e-mail (one Date): the one saved later counts, whatever order they are attached in and
    whatever their names."""
    final = _saved(
        make_workbook(tmp_path / "g1", matrix, CORRECTED), tmp_path / "a-final.xlsx", dt.datetime(2024, 12, 3)
    )
    draft = _saved(
        make_workbook(tmp_path / "g2", matrix, ORIGINAL), tmp_path / "b-draft.xlsx", dt.datetime(2024, 11, 30)
    )
    returns = tmp_path / "returns"
    returns.mkdir()
    mail = saved_email([(final.name, final.read_bytes()), (draft.name, draft.read_bytes())])
    (returns / "ann.eml").write_bytes(b"Date: Wed, 04 Dec 2024 08:00:00 +0000\r\n" + mail)
    reg, ticked = _import(returns, tmp_path / "out")
    assert reg["returned"] == ["ann.eml › a-final.xlsx"] and reg["superseded"] == ["ann.eml › b-draft.xlsx"]
    assert ticked == {"1.1a", "1.1b"}


def test_a_time_in_the_future_does_not_win(tmp_path, matrix):
    """An e-mail dated decades ahead (a wrong clock) counts as one that says no time: a correction sent since
    wins over it."""
    original, corrected, returns = _emailed(
        tmp_path, matrix, ("a-original.eml", "Mon, 01 Jan 2094 09:00:00 +0000"), ("b-corrected.eml", DEC_3)
    )
    reg, ticked = _import(returns, tmp_path / "out")
    assert reg["returned"] == [f"b-corrected.eml › {corrected.name}"] and ticked == {"1.1a", "1.1b"}
