"""The safety pass on any producer's layout: the one sheet scan refuses what must be refused and places cells and
formulas exactly as a parser does (attributes in any order and quoting, prefixes, rows and cells without 'r'); zip
headers that the one-call part reading must catch; stored_zip handing calamine exactly the checked parts (see
tests/corpus.py for the hostile corpus itself)."""

from __future__ import annotations

import io
import math
import struct
import zipfile
import zlib
from pathlib import Path

import pytest

from eif_xlsx.cells import col_index
from eif_xlsx.errors import ReadError
from eif_xlsx.intake import container
from eif_xlsx.intake.container import inspect, stored_zip

from .conftest import make_workbook
from .corpus import NS_MAIN, add_before_sheet_data_end, first_sub_element_sheet, rewrite
from .test_hostile import answers_for


@pytest.fixture(scope="module")
def good(tmp_path_factory, matrix):
    folder = tmp_path_factory.mktemp("container")
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

#: Sheets that hide a far cell or are not well-formed, and what the scan says (code, words, cell).
REFUSED = {
    # calamine takes the second 'r'; expat refuses the duplicate attribute
    "second-r": (
        add_rows(b'<row r="60"><c r="B60" r="XFD1048576"><v>1</v></c></row>'),
        "damaged",
        ["not well-formed"],
        "",
    ),
    # an inline string whose CDATA holds '</sheetData>': a byte search for the end would stop there
    "cdata": (
        add_rows(
            b'<row r="60"><c r="B60" t="inlineStr"><is><t><![CDATA[</row></sheetData>]]></t></is></c>' + FAR + b"</row>"
        ),
        "too-large",
        ["XFD1048576"],
        "XFD1048576",
    ),
    "comment": (
        add_rows(b'<!-- </row></sheetData> --><row r="60">' + FAR + b"</row>"),
        "too-large",
        ["XFD1048576"],
        "XFD1048576",
    ),
    # a second, prefixed sheetData after the first: readers take its cells too
    "second-sheet-data": (
        lambda xml: xml.replace(
            b"</sheetData>",
            b'</sheetData><x:sheetData xmlns:x="' + NS_MAIN + b'"><x:row r="1"><x:c r="XFD1"><x:v>1'
            b"</x:v></x:c></x:row></x:sheetData>",
            1,
        ),
        "too-large",
        ["XFD1"],
        "XFD1",
    ),
    # a row numbered past the limit
    "far-row": (add_rows(b'<row r="20001"><c r="B20001"><v>1</v></c></row>'), "too-large", ["B20001"], "B20001"),
    # a cell far below its row element: readers place it by its own reference
    "cell-below-its-row": (
        add_rows(b'<row r="60"><c r="B900000"><v>1</v></c></row>'),
        "too-large",
        ["B900000"],
        "B900000",
    ),
}


@pytest.mark.parametrize("name", REFUSED)
def test_sheets_hiding_cells_are_refused(good, name):
    change, code, words, cell = REFUSED[name]
    error = refusal(sheet_variant(good, f"{name}.xlsx", change))
    assert error.code == code, str(error)
    for word in [good["sheet"], *words]:
        assert word in str(error), (word, str(error))
    if code == "too-large":
        assert (error.sheet, error.cell) == (good["sheet"], cell)


@pytest.mark.parametrize(
    "rows, extent",
    [
        (b'<row r="60"><c r="B900"><v>1</v></c></row>', (899, 1)),  # a cell below its row element
        (b'<row r="15000"><c r="B15000"><v>1</v></c></row><row r="61"><c r="C61"><v>1</v></c></row>', (14999, 2)),
        (b'<row r="60"><c r="AB60"><v>1</v></c></row>', (59, 27)),  # past Z: worked out exactly
    ],
)
def test_extents_reach_every_cell_whatever_the_order(good, rows, extent):
    max_r, max_c = inspect(sheet_variant(good, "extent.xlsx", add_rows(rows))).extents[good["sheet"]]
    assert max_r == extent[0] and max_c >= extent[1]


def parser_placement(data: bytes) -> tuple[int, int, dict[str, str]]:
    """Where a parser places a sheet's cells, and its formulas (with shared formulas' master text): an independent
    reading with ElementTree, by local name, to compare the scan with."""
    from xml.etree import ElementTree

    from eif_xlsx.cells import col_letter

    def local(tag: str) -> str:
        return tag.rpartition("}")[2]

    root = ElementTree.fromstring(data)
    row = max_r = max_c = -1
    formulas: dict[str, str] = {}
    shared: dict[str, str] = {}
    children: list[tuple[str, str]] = []
    for element in root.iter():
        if local(element.tag) == "row":
            row = int(element.get("r")) - 1 if element.get("r") else row + 1
            col = -1
        elif local(element.tag) == "c":
            m = container._CELL_REF.fullmatch(element.get("r", ""))
            col = col_index(m.group(1)) if m and m.group(1) else col + 1
            r = int(m.group(2)) - 1 if m and m.group(2) else row
            max_r, max_c = max(max_r, r), max(max_c, col)
            f = next((x for x in element if local(x.tag) == "f"), None)
            if f is not None:
                where, text = f"{col_letter(col)}{r + 1}", f.text or ""
                if f.get("t") == "shared" and not text:
                    children.append((where, f.get("si")))
                    continue
                if f.get("t") == "shared":
                    shared.setdefault(f.get("si"), text)
                formulas[where] = text
    for where, si in children:
        formulas.setdefault(where, shared.get(si, ""))
    return max_r, max_c, formulas


def _layouts(xml: bytes) -> dict[str, bytes]:
    """The good sheet as other producers lay it out, each as a whole sheet: the same cells, differently written."""
    import re

    ns = b'xmlns:x="' + NS_MAIN + b'"'
    prefixed = re.sub(rb"<(/?)(sheetData|row|c|v|f|is|t)([\s>/])", rb"<\1x:\2\3", xml).replace(
        b"<worksheet ", b"<worksheet " + ns + b" ", 1
    )
    return {
        "as written": xml,
        "single quotes, spaces around '='": re.sub(rb' (r|s|t)="([^"]*)"', rb" \1 = '\2'", xml),
        "'r' last": re.sub(rb'<c r="([A-Z]+[0-9]+)"((?: [a-z]+="[^"]*")*)', rb'<c\2 r="\1"', xml),
        "prefixed elements": prefixed,
        "rows and cells without 'r'": re.sub(rb'<(row|c) r="[A-Z]*[0-9]+"', rb"<\1", xml),
        "'>' inside an attribute value": xml.replace(b"<c r=", b'<c x=">" r=', 20),
        "shared and array formulas": add_before_sheet_data_end(
            xml,
            (
                b'<row r="61"><c r="B61"><f t="shared" ref="B61:D61" si="7">A61+1</f><v>1</v></c>'
                b'<c r="C61"><f t="shared" si="7"/><v>2</v></c><c r="D61"><f t="shared" si="7"></f></c>'
                b'<c r="E61"><f t="array" ref="E61:F62">SUM(A1:A2*B1:B2)</f><v>3</v></c></row>'
            ),
        ),
        "cells giving their column only, and their row only": add_before_sheet_data_end(
            xml, (b'<row r="70"><c r="C"><v>1</v></c><c><v>2</v></c><c r="71"><f>1&amp;2</f><v>3</v></c></row>')
        ),
    }


@pytest.mark.parametrize("layout", list(_layouts(b"<sheetData></sheetData>")))
def test_the_scan_places_cells_as_a_parser_does_on_any_layout(good, layout):
    """The one scan, on the same sheet as several producers write it: the extent reaches every cell a parser
    places, no further than the cells themselves, and the formulas are the parser's."""
    data = _layouts(good["xml"])[layout]
    max_r, max_c, formulas = container._scan_sheet(good["sheet"], good["part"], data)
    expected = parser_placement(data)
    assert (max_r, max_c) == expected[:2]
    assert dict(formulas) == expected[2]
    assert formulas  # the template's own formulas were found


def test_every_sheet_of_a_workbook_is_scanned_as_a_parser_reads_it(good):
    box = inspect(good["path"])
    for sheet, part in box.sheet_parts.items():
        max_r, max_c, formulas = parser_placement(box.parts[part])
        assert box.extents[sheet] == (max_r, max_c), sheet
        assert dict(box.formulas[sheet]) == formulas, sheet


def test_a_sheet_in_utf16_is_scanned_like_its_utf8_form(good):
    text = good["xml"].decode("utf-8").replace('encoding="UTF-8"', 'encoding="UTF-16"')
    for codec in ("utf-16", "utf-16-le", "utf-16-be"):
        data = text.encode(codec)
        got = container._scan_sheet(good["sheet"], good["part"], data)
        want = container._scan_sheet(good["sheet"], good["part"], good["xml"])
        assert got[:2] == want[:2] and dict(got[2]) == dict(want[2]), codec


# --- zip headers ---------------------------------------------------------------------------------


def patched(good, name: str, part: str, patch) -> Path:
    """A copy of the good workbook with patch(raw bytes, local header offset, central header offset) applied."""
    raw = bytearray(good["path"].read_bytes())
    with zipfile.ZipFile(good["path"]) as zf:
        local = zf.getinfo(part).header_offset
    central = raw.index(b"PK\x01\x02")
    while raw[central + 46 : central + 46 + struct.unpack_from("<H", raw, central + 28)[0]] != part.encode():
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
    return {name: workbook.get_sheet_by_name(name).to_python(skip_empty_area=False) for name in workbook.sheet_names}


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
    from eif_xlsx.intake.reader import read_return

    path = sheet_variant(good, "nested.xlsx", add_rows(b'<row r="60"><c r="B60"><f>1+<c r="C60"/>1</f></c></row>'))
    box = inspect(path)  # the scan itself goes through
    assert box.extents[good["sheet"]][0] >= 59
    ret = read_return(path)  # and the reader gives findings, never an exception
    assert ret.findings or ret.readable


def test_hidden_sheets_are_read_as_hidden(good):
    """calamine's visibility names all contain 'Visible' (SheetVisibleEnum.Hidden): read the word that differs."""
    from eif_xlsx.intake.reader import _load_values

    box = inspect(good["path"])
    sheets = _load_values(good["path"], box)
    assert not sheets["_eif"].visible and sheets[good["sheet"]].visible


@pytest.mark.libreoffice
@pytest.mark.slow
def test_ods_parts_are_kept_and_a_part_can_be_replaced(tmp_path, matrix):
    """The safety pass keeps an .ods's checked parts too (the reader re-zips them with its plain content.xml
    instead of inflating the file again); a replaced part gets its own CRC-32."""
    from eif_xlsx.office import convert

    from .conftest import need_soffice

    need_soffice()
    path = convert(make_workbook(tmp_path / "gen", matrix), "ods", tmp_path / "lo")
    box = inspect(path)
    assert box.format == "ods"
    # the tag scan reads LibreOffice's own content.xml as the tree does, formulas included
    tables = container._ods_tables(box.parts["content.xml"])
    assert tables == container._ods_tables_by_tree(box.parts["content.xml"])
    assert any(formulas for _, formulas in tables.values())
    with zipfile.ZipFile(path) as zf:
        assert {i.filename: zf.read(i) for i in zf.infolist()} == box.parts
        assert [i.filename for i in zf.infolist()] == list(box.parts)
    content = box.parts["content.xml"].replace(b"<office:body>", b"<office:body> ", 1)
    with zipfile.ZipFile(io.BytesIO(stored_zip(box, {"content.xml": content}))) as zf:
        assert zf.testzip() is None
        assert zf.read("content.xml") == content
        assert {n: zf.read(n) for n in zf.namelist() if n != "content.xml"} == {
            n: d for n, d in box.parts.items() if n != "content.xml"
        }


# --- .ods: the tags of content.xml -----------------------------------------------------------------

ODS_NS = (
    b'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    b'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
    b'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"'
)


def ods_content(
    tables: bytes, namespaces: bytes = ODS_NS, declaration: bytes = b'<?xml version="1.0" encoding="UTF-8"?>'
) -> bytes:
    return (
        declaration
        + b"<office:document-content "
        + namespaces
        + b"><office:body><office:spreadsheet>"
        + tables
        + b"</office:spreadsheet></office:body></office:document-content>"
    )


def ods_file(path: Path, content: bytes) -> Path:
    """A minimal .ods as LibreOffice lays one out (mimetype first, stored; a manifest; content.xml)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet", compress_type=zipfile.ZIP_STORED)
        z.writestr("content.xml", content)
        z.writestr(
            "META-INF/manifest.xml",
            b'<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:'
            b'manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"/>',
        )
    return path


def value_row(cell: bytes, rows: int) -> bytes:
    return (
        b'<table:table table:name="S"><table:table-row table:number-rows-repeated="'
        + str(rows).encode()
        + b'">'
        + cell
        + b"</table:table-row></table:table>"
    )


#: Cells calamine reads as holding a value though they carry no office:value-type (the tree reading only counted
#: that attribute or content, so a row of such cells repeated 20,000 times and more went through to calamine).
VALUE_ONLY = {
    "office:value": b'<table:table-cell office:value="1"/>',
    "office:boolean-value": b'<table:table-cell office:boolean-value="true"/>',
    "office:date-value": b'<table:table-cell office:date-value="2026-12-01"/>',
    "office:string-value": b'<table:table-cell office:string-value="x"/>',
    "table:formula": b'<table:table-cell table:formula="of:=1"/>',
}


@pytest.mark.parametrize("kind", VALUE_ONLY)
def test_ods_cells_holding_only_a_value_attribute_are_bounded(tmp_path, kind):
    from python_calamine import CalamineWorkbook

    cell = VALUE_ONLY[kind]
    small = ods_file(tmp_path / "small.ods", ods_content(value_row(cell, 5)))
    assert inspect(small).extents["S"] == (4, 0)
    if kind != "table:formula":  # what makes it matter: calamine reads each repeated row into the grid
        assert len(CalamineWorkbook.from_path(str(small)).get_sheet_by_name("S").to_python()) == 5
    far = ods_file(tmp_path / "far.ods", ods_content(value_row(cell, 1_000_000)))
    error = refusal(far)
    assert error.code == "too-large" and error.sheet == "S", str(error)


#: content.xml written in ways a tag scan must follow: every table is also read as an element tree, by namespaces
#: (ElementTree), and the two readings must agree.
ODS_LAYOUTS = {
    "as LibreOffice writes it": (
        b'<table:table table:name="A &amp; B"><table:table-column table:number-columns-repeated="3"/>'
        b'<table:table-row><table:table-cell office:value-type="string"><text:p>x</text:p></table:table-cell>'
        b'<table:table-cell table:number-columns-repeated="2"/><table:table-cell office:value-type="float" '
        b'office:value="2" table:formula="of:=IF([.A1]&gt;0;&quot;a&quot;;[$\'S 1\'.B2])"><text:p>2</text:p>'
        b'</table:table-cell><table:table-cell table:number-columns-repeated="16380"/></table:table-row>'
        b'<table:table-row table:number-rows-repeated="7"><table:table-cell table:number-columns-repeated="16384"/>'
        b'</table:table-row><table:table-row><table:covered-table-cell table:number-columns-repeated="4"/>'
        b'<table:table-cell office:value-type="float" office:value="1"/></table:table-row>'
        b'<table:table-row table:number-rows-repeated="1048566"><table:table-cell '
        b'table:number-columns-repeated="16384"/></table:table-row></table:table>'
    ),
    "indented, single quotes, attributes across lines": (
        b"<table:table table:name='S 1'>\n  <table:table-header-rows>\n    <table:table-row\n      "
        b"table:number-rows-repeated = '2'>\n      <table:table-cell table:number-columns-repeated='3'>\n      "
        b"</table:table-cell>\n      <table:table-cell\n        table:formula='of:=1&lt;2'\n        "
        b"office:value-type='boolean'>\n        <text:p>TRUE</text:p>\n      </table:table-cell>\n    "
        b"</table:table-row>\n  </table:table-header-rows>\n  <table:table-row-group>\n    <table:table-row>\n"
        b"      <table:table-cell>text only</table:table-cell>\n    </table:table-row>\n  "
        b"</table:table-row-group>\n</table:table>"
    ),
    "tags in a comment, a CDATA section and a processing instruction": (
        b'<table:table table:name="S"><!-- </table:table><table:table table:name="S"> --><table:table-row>'
        b'<table:table-cell office:value-type="string"><text:p><![CDATA[<table:table-cell office:value-type='
        b'"float" table:number-columns-repeated="500"/>]]></text:p></table:table-cell><?x <table:table-row '
        b'table:number-rows-repeated="90000"> ?><table:table-cell><!-- only a comment --></table:table-cell>'
        b'<table:table-cell table:number-columns-repeated="&#50;" office:value-type="float" office:value="1"/>'
        b"</table:table-row></table:table>"
    ),
    "several tables, an empty one": (
        b'<table:table table:name="E"/><table:table table:name="F"><table:table-row><table:table-cell '
        b'office:value-type="float" office:value="3"/></table:table-row></table:table>'
    ),
}


@pytest.mark.parametrize("layout", ODS_LAYOUTS)
def test_ods_tag_scan_reads_tables_as_a_tree_does(layout):
    content = ods_content(ODS_LAYOUTS[layout])
    tables = container._ods_tables(content)
    assert tables == container._ods_tables_by_tree(content)
    assert tables  # every table is there


def test_ods_tag_scan_places_cells_and_formulas():
    tables = container._ods_tables(ods_content(ODS_LAYOUTS["as LibreOffice writes it"]))
    assert tables == {"A & B": ((8, 4), {"D1": "=IF([.A1]>0;\"a\";[$'S 1'.B2])"})}
    tables = container._ods_tables(ods_content(ODS_LAYOUTS["indented, single quotes, attributes across lines"]))
    assert tables == {"S 1": ((2, 3), {"D1": "=1<2"})}
    tables = container._ods_tables(
        ods_content(ODS_LAYOUTS["tags in a comment, a CDATA section and a processing instruction"])
    )
    assert tables == {"S": ((0, 3), {})}


def test_ods_cells_under_another_prefix_are_bounded_too(tmp_path):
    """calamine goes by the names 'table:table-row', 'table:table-cell'; a namespace-aware reader by namespaces.
    A file binding the table namespace to another prefix is read both ways, and bounded by both."""
    far = b'<t:table-cell office:value-type="float" office:value="1" t:number-columns-repeated="400"/>'
    namespaces = ODS_NS + b' xmlns:t="urn:oasis:names:tc:opendocument:xmlns:table:1.0"'
    path = ods_file(
        tmp_path / "prefix.ods",
        ods_content(
            b'<table:table table:name="S"><table:table-row>' + far + b"</table:table-row></table:table>", namespaces
        ),
    )
    error = refusal(path)
    assert error.code == "too-large" and error.sheet == "S", str(error)
    # and the other way round: 'table' bound elsewhere, the table namespace under 't'
    other = ODS_NS.replace(b"xmlns:table:1.0", b"xmlns:text:1.0", 1) + (
        b' xmlns:t="urn:oasis:names:tc:opendocument:xmlns:table:1.0"'
    )
    path = ods_file(
        tmp_path / "rebound.ods",
        ods_content(b'<t:table t:name="S"><t:table-row>' + far + b"</t:table-row></t:table>", other),
    )
    assert refusal(path).code == "too-large"


def test_ods_in_another_encoding_is_read_by_its_declaration(tmp_path):
    content = ods_content(
        b'<table:table table:name="Caf\xe9"><table:table-row><table:table-cell office:value-type='
        b'"float" office:value="1" table:formula="of:=1"/></table:table-row></table:table>',
        declaration=b'<?xml version="1.0" encoding="ISO-8859-1"?>',
    )
    box = inspect(ods_file(tmp_path / "latin1.ods", content))
    assert box.extents["Café"] == (0, 0) and box.formulas["Café"] == {"A1": "=1"}


@pytest.mark.parametrize(
    "tables, code, words",
    [
        (
            b'<table:table table:name="S"><table:table-row><table:table-cell><table:table table:name="T"/>'
            b"</table:table-cell></table:table-row></table:table>",
            "damaged",
            ["table inside a table"],
        ),
        (
            b'<table:table table:name="S"><table:table-row><table:table-cell table:number-columns-repeated="two"/>'
            b"</table:table-row></table:table>",
            "damaged",
            ["'two'", "S"],
        ),
        (
            b'<table:table table:name="S"><table:table-row><table:table-cell></table:table-row></table:table>',
            "damaged",
            ["not well-formed"],
        ),
    ],
)
def test_ods_content_that_is_not_a_spreadsheet_is_damage(tmp_path, tables, code, words):
    error = refusal(ods_file(tmp_path / "bad.ods", ods_content(tables)))
    assert error.code == code, str(error)
    for word in words:
        assert word in str(error), (word, str(error))


# --- the plain layout, in bulk -----------------------------------------------------------------------


@pytest.mark.parametrize("layout", list(_layouts(b"<sheetData></sheetData>")))
def test_the_bulk_reading_of_a_plain_sheet_is_the_tag_scan(good, layout):
    """Where the bulk reading takes a sheet, it gives exactly what the tag-by-tag scan gives; it takes the plain
    layout every producer writes, and leaves every other layout to the scan."""
    data = _layouts(good["xml"])[layout]
    plain = container._plain_sheet(data)
    if layout in ("as written", "shared and array formulas"):
        assert plain is not None
    elif layout != "'>' inside an attribute value":  # 'r' not first there: the scan's, or the same
        assert plain is None, layout
    if plain is not None:
        full = container._scan_tags(good["sheet"], good["part"], data)
        assert plain[:2] == full[:2] and dict(plain[2]) == dict(full[2])
        assert plain[:2] == parser_placement(data)[:2]


PLAIN_NOT = {
    "a comment": b"<!-- x -->",
    "a CDATA section": b'<row r="60"><c r="B60" t="inlineStr"><is><t><![CDATA[x]]></t></is></c></row>',
    "a processing instruction": b"<?x y?>",
    "a prefixed cell": b'<x:c xmlns:x="' + NS_MAIN + b'" r="B60"/>',
    "a cell without 'r'": b'<row r="60"><c><v>1</v></c></row>',
    "a row without 'r'": b'<row><c r="B60"><v>1</v></c></row>',
    "a lower-case reference": b'<row r="60"><c r="b60"><v>1</v></c></row>',
    "a reference with '$'": b'<row r="60"><c r="$B$60"><v>1</v></c></row>',
    "a leading zero": b'<row r="60"><c r="B060"><v>1</v></c></row>',
    "a formula after the value": b'<row r="60"><c r="B60"><v>1</v><f>1+1</f></c></row>',
    "a formula after an empty cell": b'<row r="60"><c r="B60"/><f>1+1</f></row>',
    "a far cell": b'<row r="60"><c r="B20001"><v>1</v></c></row>',
}


@pytest.mark.parametrize("name", PLAIN_NOT)
def test_a_sheet_that_is_not_plain_goes_to_the_tag_scan(good, name):
    assert container._plain_sheet(add_before_sheet_data_end(good["xml"], PLAIN_NOT[name])) is None


@pytest.mark.parametrize("hiding", [b"<!-- </table:table> -->", b"<?x </table:table> ?>"])
def test_ods_text_that_looks_like_a_table_end_hides_no_cell(tmp_path, hiding):
    """A table's end tag in a comment or a processing instruction: a scan that took it for the end would miss the
    cells after it."""
    far = (
        b'<table:table-row table:number-rows-repeated="30000"><table:table-cell office:value-type="float" '
        b'office:value="1"/></table:table-row>'
    )
    path = ods_file(
        tmp_path / "hiding.ods",
        ods_content(
            b'<table:table table:name="S"><table:table-row>' + hiding + b"</table:table-row>" + far + b"</table:table>"
        ),
    )
    error = refusal(path)
    assert error.code == "too-large" and error.sheet == "S", str(error)
