"""The safety pass's fast paths refuse what its full checks refuse: sheets that the one-match plain form must not
let through, zip headers that the one-call part reading must catch, and stored_zip handing calamine exactly the
checked parts (see tests/corpus.py for the hostile corpus itself)."""

from __future__ import annotations

import io
import math
import struct
import zipfile
import zlib
from pathlib import Path

import pytest

from eif_xlsx import container
from eif_xlsx.container import inspect, stored_zip
from eif_xlsx.errors import ReadError

from .conftest import make_workbook
from .corpus import NS_MAIN, add_before_sheet_data_end, first_sub_element_sheet, rewrite
from .test_hostile import answers_for


@pytest.fixture(scope="module")
def good(tmp_path_factory, matrix):
    folder = tmp_path_factory.mktemp("speed")
    path = make_workbook(folder / "gen", matrix, answers_for(1))
    name, part = first_sub_element_sheet(path)
    with zipfile.ZipFile(path) as zf:
        xml = zf.read(part)
    return {"path": path, "folder": folder, "sheet": name, "part": part, "xml": xml}


def refusal(path: Path) -> ReadError:
    with pytest.raises(ReadError) as caught:
        inspect(path)
    return caught.value


def sheet_variant(good, name: str, change) -> Path:
    return rewrite(good["path"], good["folder"] / name, {good["part"]: change(good["xml"])})


def add_rows(rows: bytes):
    return lambda xml: add_before_sheet_data_end(xml, rows)


FAR = b'<c r="XFD1048576"><v>1</v></c>'

#: Sheets the plain form must leave to the full scan, and what the full scan then says (code, words, cell).
REFUSED = {
    # calamine takes the second 'r'; expat refuses the duplicate attribute
    "second-r": (add_rows(b'<row r="60"><c r="B60" r="XFD1048576"><v>1</v></c></row>'), "damaged",
                 ["not well-formed"], ""),
    # an inline string whose CDATA holds '</sheetData>': a byte search for the end would stop there
    "cdata": (add_rows(b'<row r="60"><c r="B60" t="inlineStr"><is><t><![CDATA[</row></sheetData>]]></t></is></c>'
                       + FAR + b"</row>"), "too-large", ["XFD1048576"], "XFD1048576"),
    "comment": (add_rows(b"<!-- </row></sheetData> --><row r=\"60\">" + FAR + b"</row>"), "too-large",
                ["XFD1048576"], "XFD1048576"),
    # a second, prefixed sheetData after the first: readers take its cells too
    "second-sheet-data": (lambda xml: xml.replace(
        b"</sheetData>", b'</sheetData><x:sheetData xmlns:x="' + NS_MAIN + b'"><x:row r="1"><x:c r="XFD1"><x:v>1'
        b"</x:v></x:c></x:row></x:sheetData>", 1), "too-large", ["XFD1"], "XFD1"),
    # the plain form numbered past the limit
    "far-row": (add_rows(b'<row r="20001"><c r="B20001"><v>1</v></c></row>'), "too-large", ["B20001"], "B20001"),
    # a cell far below its row element: readers place it by its own reference
    "cell-below-its-row": (add_rows(b'<row r="60"><c r="B900000"><v>1</v></c></row>'), "too-large", ["B900000"],
                           "B900000"),
}


@pytest.mark.parametrize("name", REFUSED)
def test_sheets_outside_the_plain_form_are_refused_by_the_full_scan(good, name):
    change, code, words, cell = REFUSED[name]
    error = refusal(sheet_variant(good, f"{name}.xlsx", change))
    assert error.code == code, str(error)
    for word in [good["sheet"], *words]:
        assert word in str(error), (word, str(error))
    if code == "too-large":
        assert (error.sheet, error.cell) == (good["sheet"], cell)


@pytest.mark.parametrize("rows, extent", [
    (b'<row r="60"><c r="B900"><v>1</v></c></row>', (899, 1)),  # a cell below its row element
    (b'<row r="15000"><c r="B15000"><v>1</v></c></row><row r="61"><c r="C61"><v>1</v></c></row>', (14999, 2)),
    (b'<row r="60"><c r="AB60"><v>1</v></c></row>', (59, 27)),  # past Z: worked out exactly
])
def test_extents_reach_every_cell_whatever_the_order(good, rows, extent):
    max_r, max_c = inspect(sheet_variant(good, "extent.xlsx", add_rows(rows))).extents[good["sheet"]]
    assert max_r == extent[0] and max_c >= extent[1]


def test_plain_form_agrees_with_the_full_scan(good):
    """Every sheet of a filled workbook: the same formulas, and an extent reaching at least as far."""
    box = inspect(good["path"])
    for sheet, part in box.sheet_parts.items():
        data = box.parts[part]
        plain = container._plain_scan(data)
        assert plain is not None, sheet
        full = container._full_scan(sheet, part, data)
        assert plain[0] >= full[0] and plain[1] >= full[1], sheet
        assert dict(plain[2]) == dict(full[2]), sheet
        assert box.formulas[sheet] == plain[2]


# --- zip headers ---------------------------------------------------------------------------------


def patched(good, name: str, part: str, patch) -> Path:
    """A copy of the good workbook with patch(raw bytes, local header offset, central header offset) applied."""
    raw = bytearray(good["path"].read_bytes())
    with zipfile.ZipFile(good["path"]) as zf:
        local = zf.getinfo(part).header_offset
    central = raw.index(b"PK\x01\x02")
    while raw[central + 46:central + 46 + struct.unpack_from("<H", raw, central + 28)[0]] != part.encode():
        central = raw.index(b"PK\x01\x02", central + 4)
    patch(raw, local, central)
    path = good["folder"] / name
    path.write_bytes(bytes(raw))
    return path


def test_local_header_naming_another_part_is_refused(good):
    def rename(raw, local, _central):
        raw[local + 30 + len("xl/styles.xml") - 5] ^= 0x20  # 'xl/styles.xml' -> 'xl/stYles.xml', here only
    error = refusal(patched(good, "local-name.xlsx", "xl/styles.xml", rename))
    assert error.code == "damaged" and "disagree" in str(error) and "xl/styles.xml" in str(error)


def test_local_header_with_another_method_is_refused(good):
    def stored(raw, local, _central):
        struct.pack_into("<H", raw, local + 8, zipfile.ZIP_STORED)
    error = refusal(patched(good, "local-method.xlsx", "xl/styles.xml", stored))
    assert error.code == "damaged" and "disagree" in str(error)


def test_encrypted_flag_in_the_local_header_only_is_a_password(good):
    def encrypted(raw, local, _central):
        raw[local + 6] |= 0x1
    assert refusal(patched(good, "local-encrypted.xlsx", "xl/styles.xml", encrypted)).code == "password-protected"


def test_local_header_outside_the_file_is_damaged(good):
    def elsewhere(raw, _local, central):
        struct.pack_into("<I", raw, central + 42, len(raw) + 1000)
    error = refusal(patched(good, "local-outside.xlsx", "xl/styles.xml", elsewhere))
    assert error.code == "damaged" and "local header is missing" in str(error)


def test_unusual_compression_method_is_refused(good):
    def bzip2(raw, local, central):
        struct.pack_into("<H", raw, local + 8, zipfile.ZIP_BZIP2)
        struct.pack_into("<H", raw, central + 10, zipfile.ZIP_BZIP2)
    error = refusal(patched(good, "bzip2.xlsx", "xl/styles.xml", bzip2))
    assert error.code == "damaged" and "compression method 12" in str(error)


def test_deflate_stream_cut_short_is_damaged(good):
    """Compressed data that ends before its deflate stream does (the headers still claim the whole part)."""
    def cut(raw, local, central):
        size = struct.unpack_from("<I", raw, local + 18)[0]
        struct.pack_into("<I", raw, local + 18, size // 2)
        struct.pack_into("<I", raw, central + 20, size // 2)
    error = refusal(patched(good, "cut.xlsx", good["part"], cut))
    assert error.code == "damaged" and "ends before" in str(error)


# --- stored_zip ----------------------------------------------------------------------------------


def _values(workbook) -> dict[str, list]:
    return {name: workbook.get_sheet_by_name(name).to_python(skip_empty_area=False)
            for name in workbook.sheet_names}


def _same(a, b) -> bool:
    return a == b or (isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b))


def test_stored_zip_holds_exactly_the_checked_parts(good, tmp_path):
    from python_calamine import CalamineWorkbook

    # A non-ASCII part name too (flagged UTF-8 in the stored zip).
    path = rewrite(good["path"], tmp_path / "named.xlsx", extra=[("docProps/café.xml", b"<x/>")])
    box = inspect(path)
    stored = stored_zip(box)
    with zipfile.ZipFile(io.BytesIO(stored)) as zf:
        assert zf.testzip() is None
        assert [i.filename for i in zf.infolist()] == list(box.parts)
        assert all(i.compress_type == zipfile.ZIP_STORED for i in zf.infolist())
        assert {i.filename: zf.read(i) for i in zf.infolist()} == box.parts
    with zipfile.ZipFile(path) as zf:
        assert [i.filename for i in zf.infolist()] == list(box.parts)
        assert all(zlib.crc32(zf.read(i)) == box.crcs[i.filename] for i in zf.infolist())
    original = _values(CalamineWorkbook.from_path(str(path)))
    again = _values(CalamineWorkbook.from_filelike(io.BytesIO(stored)))
    assert original.keys() == again.keys()
    for name in original:
        assert len(original[name]) == len(again[name]), name
        for row_a, row_b in zip(original[name], again[name], strict=True):
            assert len(row_a) == len(row_b) and all(map(_same, row_a, row_b)), name


def test_a_cell_nested_in_a_formula_is_a_finding_not_a_crash(good):
    """Well-formed but not a workbook's shape: the full scan closed the cell and then tripped over its formula's end
    (a TypeError that reached the batch as a crash). Found by a mutation harness."""
    from eif_xlsx.reader import read_return

    path = sheet_variant(good, "nested.xlsx", add_rows(b'<row r="60"><c r="B60"><f>1+<c r="C60"/>1</f></c></row>'))
    box = inspect(path)  # the scan itself goes through
    assert box.extents[good["sheet"]][0] >= 59
    ret = read_return(path)  # and the reader gives findings, never an exception
    assert ret.findings or ret.readable


def test_hidden_sheets_are_read_as_hidden(good):
    """calamine's visibility names all contain 'Visible' (SheetVisibleEnum.Hidden): read the word that differs."""
    from eif_xlsx.reader import _load_values

    box = inspect(good["path"])
    sheets = _load_values(good["path"], box)
    assert not sheets["_eif"].visible and sheets[good["sheet"]].visible


# --- the inflater ----------------------------------------------------------------------------------


def _outcome(path: Path):
    try:
        box = inspect(path)
    except ReadError as exc:
        return ("refused", exc.code, str(exc))
    return ("read", box.parts, box.crcs, box.extents, {k: dict(v) for k, v in box.formulas.items()})


def test_zlib_ng_reads_and_refuses_exactly_as_the_standard_zlib(good, tmp_path, monkeypatch):
    """The parts are inflated with zlib-ng; the standard library's zlib gives the same bytes, and the same refusal
    with the same words, for every hostile file of the corpus and for deflate data damaged at many places."""
    from zlib_ng import zlib_ng

    from .corpus import build_corpus

    assert container._zlib is zlib_ng
    files = [good["path"]] + [path for path, _ in build_corpus(tmp_path / "corpus", good["path"],
                                                               office=False).values()]
    raw = good["path"].read_bytes()
    with zipfile.ZipFile(good["path"]) as zf:
        info = zf.getinfo(good["part"])
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    for i, at in enumerate(range(start, start + info.compress_size, max(1, info.compress_size // 40))):
        damaged = bytearray(raw)
        damaged[at] ^= 0x5A
        files.append(tmp_path / f"flipped-{i}.xlsx")
        files[-1].write_bytes(bytes(damaged))
    fast = [_outcome(f) for f in files]
    monkeypatch.setattr(container, "_zlib", zlib)
    standard = [_outcome(f) for f in files]
    assert fast == standard
    kinds = {o[0] for o in fast}
    assert kinds == {"read", "refused"}  # both kinds were compared
    assert sum(o[0] == "refused" and "cannot be decompressed" in o[2] for o in fast) >= 5
