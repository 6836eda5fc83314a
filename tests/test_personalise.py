"""Workbooks made by substitution (template/personalise.py) read exactly as those written whole for the same
partner; the values that cannot be substituted, and the workbooks that must be written whole, are; the zip
container (eif_xlsx/zipwriter.py) is one every reader opens and whose CRCs check."""

from __future__ import annotations

import html
import re
import sys
import zipfile
import zlib
from dataclasses import replace
from io import BytesIO
from pathlib import Path

import openpyxl
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from python_calamine import CalamineWorkbook

from eif_xlsx.api import check, read_return
from eif_xlsx.domain.partners import Partner
from eif_xlsx.office import convert
from eif_xlsx.template import layout as layout_mod
from eif_xlsx.template.generate import generate_workbooks
from eif_xlsx.template.layout import META_SHEET
from eif_xlsx.template.personalise import FIELDS, MAX_VALUE, Personaliser, substitutable
from eif_xlsx.template.workbook import WorkbookSpec, write_workbook
from eif_xlsx.zipwriter import Member, deflate, write_zip

from .conftest import ANN, need_soffice
from .test_cached_values import assert_cached_values_match

AREA, DEADLINE = "Northshire", "12 December 2026"

# Partners whose values XlsxWriter writes as plain escaped text: made by substitution.
AWKWARD = {
    "plain": ANN.as_dict(),
    "markup": {
        "id": "P-<1>&2",
        "name": 'Ann "Nan" O\'Brien & <b>Sons</b>',
        "organisation": "Smith & Co <Midwifery> >",
        "email": "a&b@example.org",
        "role": "a </r> and <r> b",  # rich-text tags, but not at its start and end
    },
    "accents and emoji": {
        "id": "P-É",
        "name": "Zoë Ødegård 😀 日本",
        "organisation": "Crèche «Les Étoiles» 👶",
        "email": "zoë@exämple.org",
        "role": "Directrice générale",
    },
    "footer codes": {
        "id": "P-&P",
        "name": "Page &P of &N",
        "organisation": "&&L &C &R 100%",
        "email": "x@example.org",
        "role": "&",
    },
    "long name": {
        "id": "P-LONG",
        "name": "N" * 150,
        "organisation": "Org",
        "email": "long@example.org",
        "role": "R" * MAX_VALUE,
    },
    "empty role and email": {"id": "P-E", "name": "Eve", "organisation": "Hub", "email": "", "role": ""},
    "no name": {"id": "P-O", "name": "", "organisation": "Only An Organisation", "email": "o@example.org", "role": ""},
    "no id": {"id": "", "name": "Nobody's Id", "organisation": "Hub", "email": "n@example.org", "role": "Lead"},
    "values found elsewhere": {
        "id": "1.1",
        "name": "Overview",
        "organisation": AREA,
        "email": "Baseline",
        "role": "EIF maturity matrix",  # also the footer's words when there is no name or organisation
    },
    "the placeholders' own text": {
        "id": "EIFXLSXPLACEHOLDERIDQ",
        "name": "EIFXLSXPLACEHOLDERORGANISATIONQ",
        "organisation": "EIFXLSXPLACEHOLDERNAMEQ",
        "email": "EIFXLSXPLACEHOLDERNAMEQ@example.org",
        "role": "_x00",  # not a whole '_xHHHH_' escape
    },
}


@pytest.fixture(scope="module")
def base(matrix, indicator_set) -> WorkbookSpec:
    lay = layout_mod.build(matrix, indicator_set)
    return WorkbookSpec(matrix=matrix, layout=lay, indicators=indicator_set, area=AREA, deadline=DEADLINE)


@pytest.fixture(scope="module")
def personaliser(base) -> Personaliser:
    return Personaliser(base)


def cells(data: bytes) -> dict[str, list[list]]:
    wb = CalamineWorkbook.from_filelike(BytesIO(data))
    return {name: wb.get_sheet_by_name(name).to_python(skip_empty_area=False) for name in wb.sheet_names}


def footers(data: bytes) -> dict[str, tuple]:
    return opened(data)[0]


def opened(data: bytes) -> tuple[dict[str, tuple], tuple]:
    """Each sheet's footer (and header) as openpyxl reads them, and the document properties."""
    wb = openpyxl.load_workbook(BytesIO(data))
    sheets = {
        ws.title: (ws.oddFooter.left.text, ws.oddFooter.center.text, ws.oddFooter.right.text, ws.oddHeader.left.text)
        for ws in wb.worksheets
    }
    p = wb.properties
    return sheets, (p.title, p.creator, p.created, p.modified, p.description, p.lastModifiedBy, p.keywords)


def read_back(data: bytes, path: Path, catalog) -> tuple:
    path.write_bytes(data)
    ret = read_return(path, catalog)
    report = check(ret, catalog)
    answers = [(a.sheet, a.cell, a.field, a.sub_element, a.item, a.column, a.raw, a.value) for a in ret.answers]
    findings = [(f.code, f.sheet, f.cell) for f in report.findings]
    return ret.readable, ret.metadata, answers, findings, report.accepted


def crcs_check(data: bytes) -> None:
    with zipfile.ZipFile(BytesIO(data)) as z:
        assert z.testzip() is None
        for info in z.infolist():
            assert zlib.crc32(z.read(info)) == info.CRC, info.filename
            assert info.compress_type == zipfile.ZIP_DEFLATED
            assert info.date_time == (1980, 1, 1, 0, 0, 0)


@pytest.mark.parametrize("who", list(AWKWARD))
def test_substituted_workbook_reads_as_the_whole_one(who, base, personaliser, catalog, tmp_path):
    partner = AWKWARD[who]
    assert all(substitutable(v) for v in partner.values())
    made = personaliser.workbook(partner)
    assert made is not None, "made by substitution"
    whole = write_workbook(replace(base, partner=partner))
    crcs_check(made)
    assert made != whole  # its own container: the comparisons below are not of a file with itself
    assert cells(made) == cells(whole)
    assert opened(made) == opened(whole)  # footers, headers and document properties
    got, expected = read_back(made, tmp_path / "made.xlsx", catalog), read_back(whole, tmp_path / "whole.xlsx", catalog)
    assert got == expected
    readable, metadata, _, findings, _ = got
    assert readable
    assert findings == [("nothing-filled", "", "")]  # a blank workbook's only finding: no checksum or metadata one
    assert {k: metadata[f"partner_{k}"] for k in FIELDS} == partner


def test_members_are_the_whole_writers_when_no_value_repeats_another(base, personaliser):
    """Shared strings are kept once by XlsxWriter: a value equal to another text has its own entry in the
    substituted workbook; otherwise every member is byte for byte the whole writer's."""
    partner = AWKWARD["accents and emoji"]
    made, whole = personaliser.workbook(partner), write_workbook(replace(base, partner=partner))
    assert made is not None
    with zipfile.ZipFile(BytesIO(made)) as a, zipfile.ZipFile(BytesIO(whole)) as b:
        assert a.namelist() == b.namelist()
        for name in b.namelist():
            assert a.read(name) == b.read(name), name


def test_the_container_is_the_whole_writers_field_for_field(base, personaliser):
    """Every field of every local header and of the central directory (names, times, flags, methods, versions, the
    system and permissions it was made with, CRCs, sizes) is the one XlsxWriter's own container has, but the
    compressed sizes and the offsets that follow from them (the deflate is made in pieces): the container that
    Excel, LibreOffice and every reader open when XlsxWriter writes a workbook whole."""
    partner = AWKWARD["accents and emoji"]
    made, whole = personaliser.workbook(partner), write_workbook(replace(base, partner=partner))
    assert made is not None
    fields = [f for f in zipfile.ZipInfo.__slots__ if f not in ("compress_size", "header_offset", "_raw_time")]
    fields = [f for f in fields if not f.startswith("_")]
    if sys.platform == "win32":  # zipfile marks what it writes there as made on MS-DOS (ours: Unix, everywhere)
        fields.remove("create_system")
    with zipfile.ZipFile(BytesIO(made)) as a, zipfile.ZipFile(BytesIO(whole)) as b:
        ours, xlsxwriter = a.infolist(), b.infolist()
        assert [i.filename for i in ours] == [i.filename for i in xlsxwriter]
        for x, y in zip(ours, xlsxwriter, strict=True):
            assert {f: getattr(x, f) for f in fields} == {f: getattr(y, f) for f in fields}, x.filename
            assert (
                made[x.header_offset : x.header_offset + 30 + len(x.filename)][:14]
                == (whole[y.header_offset : y.header_offset + 30][:14])
            ), x.filename  # the local header's signature, versions, flags, method, time and date
    assert len(made) - made.rindex(b"PK\x05\x06") == len(whole) - whole.rindex(b"PK\x05\x06") == 22  # no comment


def test_the_partners_values_are_where_the_whole_writer_puts_them(personaliser, catalog, tmp_path):
    partner = AWKWARD["markup"]
    made = personaliser.workbook(partner)
    assert made is not None
    sheets = cells(made)
    text = {v for rows in sheets.values() for row in rows for v in row if isinstance(v, str)}
    for field in FIELDS:
        assert partner[field] in text, field
    assert f"{partner['name']}, {partner['organisation']}, {AREA}" in text  # the Overview's "who" line
    left = {f[0] for name, f in footers(made).items() if name != META_SHEET}
    assert left == {f"{partner['name']} · {partner['organisation']}".replace("&", "&&")}  # '&&': a literal '&'


def test_one_template_per_set_of_empty_fields(base):
    p = Personaliser(base)
    shapes = [AWKWARD[k] for k in ("plain", "markup", "empty role and email", "no name", "no id")]
    for partner in shapes:
        assert p.workbook(partner) is not None
    assert len(p.templates) == 4
    assert p.workbook({**AWKWARD["plain"], "name": "Someone Else"}) is not None
    assert len(p.templates) == 4


# Partner values built mostly from what escaping, footers and shared strings care about (and any other character
# but controls: those are never substituted, see NOT_SUBSTITUTABLE).
PARTNER_TEXT = st.text(
    st.one_of(
        st.sampled_from([*"aZ &<>\"'_x0Fr/#·,.-", "\u00a0", "😀", "é"]),
        st.characters(blacklist_categories=("Cs", "Cc")),
    ),
    max_size=12,
)


@pytest.fixture(scope="module")
def small(matrix) -> Personaliser:
    """Without the indicator sheet: quicker to write whole."""
    return Personaliser(WorkbookSpec(matrix=matrix, layout=layout_mod.build(matrix, None), area=AREA))


def xml_footers(data: bytes) -> list[str]:
    with zipfile.ZipFile(BytesIO(data)) as z:
        sheets = [n for n in z.namelist() if n.startswith("xl/worksheets/sheet")]
        return [
            html.unescape(m.decode()) for n in sheets for m in re.findall(rb"<oddFooter>(.*?)</oddFooter>", z.read(n))
        ]


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(values=st.fixed_dictionaries({f: PARTNER_TEXT for f in FIELDS}))
def test_any_values_substituted_read_as_written_whole(values, small):
    made = small.workbook(values)
    event("written whole" if made is None else "substituted")
    if made is None:  # written whole: for a value that cannot be substituted (the footers here are short)
        assert not all(substitutable(v) for v in values.values())
        return
    whole = write_workbook(replace(small.base, partner=values))
    assert cells(made) == cells(whole)
    assert xml_footers(made) == xml_footers(whole)


NOT_SUBSTITUTABLE = {
    "control character": "Ann\x07Example",
    "tab": "Ann\tExample",
    "line feed": "Ann\nExample",
    "C1 control": "Ann\x85",
    "leading space": " Ann",
    "trailing space": "Ann ",
    "no-break space at the end": "Ann\u00a0",
    "an escape's shape": "Ann_x0041_",
    "rich-text shape": "<r>Ann</r>",
    "ends like rich text": "Ann</r>",
    "footer image code": "A&G Care",
    "footer picture code": "Ann &[Picture]",
    "non-character": "Ann\uffff",
    "lone surrogate": "Ann\ud800",
    "too long": "A" * (MAX_VALUE + 1),
}


@pytest.mark.parametrize("case", list(NOT_SUBSTITUTABLE))
def test_values_that_are_not_substituted(case, personaliser):
    value = NOT_SUBSTITUTABLE[case]
    assert not substitutable(value)
    assert personaliser.workbook({**ANN.as_dict(), "organisation": value}) is None


@pytest.mark.parametrize(
    "value", ["Ann", "Zoë 😀", "A & B", "<b>", "x_x", "_x004", "&&", "A&g", "in  between", "a\u00a0b", "R" * MAX_VALUE]
)
def test_values_that_are_substituted(value):
    assert substitutable(value)


@pytest.mark.filterwarnings("error")  # XlsxWriter warns when it leaves a footer out
def test_a_footer_too_long_for_excel_is_written_whole_and_cut_short(base, personaliser):
    """XlsxWriter leaves out a footer over 255 characters: such a partner's workbook is written whole, its footer's
    left part cut short with '…' so that every sheet still has its footer."""
    partner = {**ANN.as_dict(), "name": "N" * 240}
    assert substitutable(partner["name"])
    assert personaliser.workbook(partner) is None
    whole = write_workbook(replace(base, partner=partner))
    for name, (left, centre, right, _) in footers(whole).items():
        if name == META_SHEET:
            continue
        assert left.startswith("N" * 100) and left.endswith("…"), name
        assert centre.replace("&&", "&") == name and right == "Page &P of &N"  # openpyxl keeps the codes as written
        assert len(f"&L{left}&C{centre}&R{right}") <= 255


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("organisation", ["A&G Care", "Ann &[Picture]"])
def test_a_footer_with_an_image_code_keeps_its_footer(base, organisation):
    """'&G' (and '&[Picture]') are image codes to XlsxWriter even after '&&': it would leave the footer out. The
    '&' before them is written full-width there, so the footer stays and reads as the partner's name."""
    whole = write_workbook(replace(base, partner={**ANN.as_dict(), "organisation": organisation}))
    lefts = {f[0] for name, f in footers(whole).items() if name != META_SHEET}
    assert lefts == {f"{ANN.name} · {organisation.replace('&', '＆')}"}


def test_generate_substitutes_or_writes_whole_and_says_the_same(tmp_path, matrix, indicator_set, base, catalog):
    """Through generate_workbooks: a partner with a value that cannot be substituted gets the whole writer's
    workbook, byte for byte; the others get the substituted one; both read back with the partner's values."""
    odd = Partner("P-ODD", " Ann Leading", "Hub\x07Bell", "odd@example.org", "Lead")
    plain = Partner("P-PLAIN", "Pat Plain", "Hub & Co", "pat@example.org", "")
    res = generate_workbooks(matrix, tmp_path, [odd, plain], indicators=indicator_set, area=AREA, deadline="2026-12-12")
    files = dict(zip(("odd", "plain"), res.files, strict=True))
    odd_whole = write_workbook(replace(base, partner=odd.as_dict()))
    assert files["odd"].read_bytes() == odd_whole
    plain_made = Personaliser(base).workbook(plain.as_dict())
    assert plain_made is not None
    assert files["plain"].read_bytes() == plain_made
    assert files["plain"].read_bytes() != write_workbook(replace(base, partner=plain.as_dict()))
    for key, partner in (("odd", odd), ("plain", plain)):
        ret = read_return(files[key], catalog)
        assert ret.readable
        assert ret.metadata["partner_id"] == partner.id
        assert ret.metadata["partner_name"] == partner.name
        crcs_check(files[key].read_bytes())
    assert read_return(files["odd"], catalog).metadata["partner_organisation"] == "Hub\x07Bell"


def test_re_issued_workbooks_are_written_whole(base):
    """A workbook with pre-filled answers (a re-issue, a feedback copy) is never made by substitution; nor one
    beside an outlandish area name."""
    spec = replace(base, notes_for_partner=("Please check 1.1.",))
    assert Personaliser(spec).workbook(ANN.as_dict()) is None
    spec = replace(base, locked_columns=frozenset({"baseline"}))
    assert Personaliser(spec).workbook(ANN.as_dict()) is None
    # An area so long the Overview's "name, organisation, area" line could be cut at 32,767 characters.
    assert Personaliser(replace(base, area="A" * (MAX_VALUE + 1))).workbook(ANN.as_dict()) is None


def test_same_bytes_with_workers_or_without(tmp_path, matrix, indicator_set):
    """Substituted and whole workbooks mixed (nine written whole: enough for worker processes): the same bytes from
    one process and from two."""
    whole = [Partner(f"P-{i}", f" Lead {i}", "Hub", f"p{i}@example.org") for i in range(9)]
    made = [Partner(f"Q-{i}", f"Name {i}", "Hub & Co", f"q{i}@example.org", "Lead") for i in range(5)]
    people = [*whole[:2], made[0], *whole[2:5], *made[1:3], *whole[5:], *made[3:]]  # in an order of their own
    runs = [
        generate_workbooks(matrix, tmp_path / f"run{jobs}", people, indicators=indicator_set, area=AREA, jobs=jobs)
        for jobs in (1, 2)
    ]
    first = [f.read_bytes() for f in runs[0].files]
    for run in runs[1:]:
        assert [f.read_bytes() for f in run.files] == first
        assert run.manifest.read_bytes() == runs[0].manifest.read_bytes()
    assert len(set(first)) == len(people)
    for partner, data in zip(people, first, strict=True):  # each file is its partner's
        assert f"<t>{partner.id}</t>".encode() in zipfile.ZipFile(BytesIO(data)).read("xl/sharedStrings.xml")


def test_substituted_workbook_carries_the_right_cached_values(tmp_path, matrix, catalog):
    res = generate_workbooks(matrix, tmp_path, [ANN], area=AREA)
    assert res.files[0].read_bytes() == Personaliser(
        WorkbookSpec(matrix=matrix, layout=layout_mod.build(matrix, None), area=AREA)
    ).workbook(ANN.as_dict())
    assert_cached_values_match(res.files[0], catalog)


def test_zip_of_pieces_deflated_apart():
    """Pieces each deflated on their own (sync-flushed, the last one finished) join into one member; names that
    are not ASCII are flagged UTF-8; the same members give the same bytes."""
    parts = [b"<a>" * 1000, "é ".encode() * 10, b"", b"</a>" * 500]
    data = b"".join(parts)
    pieces = [deflate(p, last=i == len(parts) - 1) for i, p in enumerate(parts)]
    members = [
        Member("x/one.xml", zlib.crc32(data), len(data), pieces),
        Member("zwei-ä.xml", zlib.crc32(b"two"), 3, [deflate(b"two")]),
        Member("empty", zlib.crc32(b""), 0, [deflate(b"")]),
    ]
    blob = write_zip(members)
    assert blob == write_zip(members)
    with zipfile.ZipFile(BytesIO(blob)) as z:
        assert z.testzip() is None
        assert z.namelist() == ["x/one.xml", "zwei-ä.xml", "empty"]
        assert z.read("x/one.xml") == data
        assert z.read("zwei-ä.xml") == b"two"
        assert z.read("empty") == b""


@pytest.mark.slow
@pytest.mark.libreoffice
def test_libreoffice_opens_a_substituted_workbook(personaliser, base, tmp_path):
    need_soffice()
    partner = AWKWARD["markup"]
    made = personaliser.workbook(partner)
    assert made is not None
    path = tmp_path / "made.xlsx"
    path.write_bytes(made)
    saved = convert(path, "xlsx", tmp_path / "lo")
    original, resaved = cells(made), cells(saved.read_bytes())
    assert resaved.keys() == original.keys()
    text = {v for rows in resaved.values() for row in rows for v in row if isinstance(v, str)}
    for field in FIELDS:
        assert partner[field] in text, field
    assert f"{partner['name']}, {partner['organisation']}, {AREA}" in text
    # Every text cell the workbook carries is there after LibreOffice has opened and saved it.
    for name, rows in original.items():
        for r, row in enumerate(rows):
            for c, v in enumerate(row):
                if isinstance(v, str) and v:
                    assert resaved[name][r][c] == v, (name, r, c)
