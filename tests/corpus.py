"""A corpus of bad, broken and hostile files, built by code from a real generated workbook.

`build_corpus(folder, good_workbook_path)` writes every file into `folder` (scratch files go into the hidden
`folder/.work`, which batch.expand skips) and returns {file name: (path, expected finding code)}. The code is the
finding the importer must report for that file; `None` means the file must be read with no error at all.
Whether a code rejects the file follows from its severity in errors.FINDINGS.

Everything here stays light: the 300 MB compression bomb is written streaming, and nothing is ever inflated.
"""

from __future__ import annotations

import re
import shutil
import struct
import warnings
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

from eif_xlsx.intake.container import OLE_MAGIC
from eif_xlsx.template.layout import META_SHEET

MATRIX_ID = "maternity-early-years"
OTHER_MATRIX_ID = "maternity-early-years-copy"
NS_MAIN = b"http://schemas.openxmlformats.org/spreadsheetml/2006/main"
NS_STRICT = b"http://purl.oclc.org/ooxml/spreadsheetml/main"
PASSWD = Path("/etc/passwd")

#: Every file of the corpus and the finding it must give (None: read with no error). The .ods entries need
#: LibreOffice and are left out without it.
EXPECTED: dict[str, str | None] = {
    # not workbooks
    "random-bytes.xlsx": "not-a-workbook",
    "empty.xlsx": "not-a-workbook",
    "truncated.xlsx": "damaged",
    "legacy-ole.xlsx": "legacy-xls",
    "csv-renamed.xlsx": "not-a-workbook",
    "pdf-renamed.xlsx": "not-a-workbook",
    "html-saved-as.xls": "not-a-workbook",
    "plain-zip.xlsx": "not-a-workbook",
    "password-ole.xlsx": "password-protected",
    # macros: read, with an info finding
    "macro.xlsm": "macro-workbook",
    # XML attacks
    "billion-laughs.xlsx": "hostile",
    "xxe.xlsx": "hostile",
    "xxe-utf16.xlsx": "hostile",
    # zip attacks
    "bomb.xlsx": "hostile",
    "bomb-lying.xlsx": "hostile",
    "size-lie.xlsx": "hostile",
    "duplicate-part.xlsx": "hostile",
    # extent
    "huge-dimension.xlsx": None,
    "far-cell.xlsx": "too-large",
    "far-cell-in-early-row.xlsx": "too-large",
    "far-cell-long-column.xlsx": "too-large",
    "far-cell-prefixed.xlsx": "too-large",
    "rows-without-refs.xlsx": "too-large",
    "spread-over-sheets.xlsx": "too-large",
    "sheet-outside.xlsx": "too-large",
    # damage
    "malformed-sheet.xlsx": "damaged",
    "no-workbook-part.xlsx": "damaged",
    "missing-sheet-part.xlsx": "damaged",
    "strict.xlsx": "not-a-workbook",
    # metadata
    "no-metadata.xlsx": "matched-by-structure",
    "metadata-edited.xlsx": "metadata-altered",
    "foreign.xlsx": "metadata-missing",
    # formulas in inputs
    "formulas.xlsx": "formula-in-input",
    "shared-formulas.xlsx": "formula-in-input",
    # another matrix
    "other-matrix.xlsx": "unknown-matrix",
    # .ods (LibreOffice)
    "ods-renamed.xlsx": None,
    "ods-bad-repeat.ods": "damaged",
    "ods-far-cell.ods": "too-large",
}

#: Files whose expected result the importer does not give yet (a bug outside container.py): name -> why.
KNOWN_BUGS: dict[str, str] = {}  # file name -> why its result is wrong today (none now)

Change = bytes | Callable[[bytes], bytes] | None  # new content, a function of the old one, or None to drop


# --- zip plumbing ----------------------------------------------------------------------------------


def rewrite(
    src: Path, dst: Path, changes: dict[str, Change] | None = None, extra: list[tuple[str, bytes]] | None = None
) -> Path:
    """Copy the zip `src` to `dst`, replacing, transforming or dropping parts, and adding `extra` parts."""
    changes = changes or {}
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename in changes:
                change = changes[info.filename]
                if change is None:
                    continue
                data = change(data) if callable(change) else change
            zout.writestr(info.filename, data)
        for name, data in extra or []:
            zout.writestr(name, data)
    return dst


def lie_about_size(path: Path, name: str, claimed: bytes) -> None:
    """Patch the local and central headers of `name` (not zip64) to claim it holds only `claimed`.

    zipfile would then quietly stop after len(claimed) bytes, its CRC satisfied, whatever the data really holds.
    """
    raw = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo(name)
    crc, size = zlib.crc32(claimed), len(claimed)
    local = info.header_offset
    assert raw[local : local + 4] == b"PK\x03\x04"
    struct.pack_into("<I", raw, local + 14, crc)  # local header: CRC at 14, sizes at 18 (compressed), 22
    struct.pack_into("<I", raw, local + 22, size)
    pos = 0
    while True:
        pos = raw.index(b"PK\x01\x02", pos)
        length = struct.unpack_from("<H", raw, pos + 28)[0]
        if raw[pos + 46 : pos + 46 + length] == name.encode():
            break
        pos += 4
    struct.pack_into("<I", raw, pos + 16, crc)  # central header: CRC at 16, sizes at 20 (compressed), 24
    struct.pack_into("<I", raw, pos + 24, size)
    path.write_bytes(bytes(raw))


def ole_file(path: Path, names: tuple[str, ...] = ()) -> Path:
    """A minimal OLE2 compound file: the magic, a header-like block, and directory entries naming `names`."""
    header = OLE_MAGIC + bytes(16) + struct.pack("<HHHH", 0x3E, 3, 0xFFFE, 9) + bytes(512 - 32)
    entries = b""
    for name in ("Root Entry", *names):
        encoded = name.encode("utf-16-le") + b"\x00\x00"
        entries += encoded.ljust(64, b"\x00") + struct.pack("<H", len(encoded)) + bytes(128 - 66)
    path.write_bytes(header + entries.ljust(4096, b"\x00") + bytes(4096))
    return path


def sheet_parts(path: Path) -> dict[str, str]:
    """Sheet name -> its part, from the workbook's own relationships."""
    with zipfile.ZipFile(path) as zf:
        wb = zf.read("xl/workbook.xml").decode()
        rels = zf.read("xl/_rels/workbook.xml.rels").decode()
    targets = dict(re.findall(r'Id="([^"]+)"[^>]*Target="([^"]+)"', rels))
    targets |= {k: v for v, k in re.findall(r'Target="([^"]+)"[^>]*Id="([^"]+)"', rels)}
    out = {}
    for name, rid in re.findall(r'<sheet name="([^"]+)" sheetId="\d+" r:id="([^"]+)"', wb):
        name = name.replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"')
        out[name] = "xl/" + targets[rid].lstrip("/").removeprefix("xl/")
    return out


def first_sub_element_sheet(path: Path) -> tuple[str, str]:
    """(name, part) of the first sub-element sheet: the one holding criterion 1.1a."""
    name, part = next((n, p) for n, p in sheet_parts(path).items() if n.startswith("1.1 "))
    return name, part


def add_before_sheet_data_end(xml: bytes, rows: bytes) -> bytes:
    assert b"</sheetData>" in xml
    return xml.replace(b"</sheetData>", rows + b"</sheetData>", 1)


# --- the corpus ------------------------------------------------------------------------------------


def build_corpus(folder: Path, good_workbook_path: Path, *, office: bool = True) -> dict[str, tuple[Path, str | None]]:
    """Write every bad file into `folder`; {name: (path, expected finding code or None)}.

    `good_workbook_path` is a generated (ideally filled) workbook of matrix 'maternity-early-years'. With
    office=True and LibreOffice installed, an .ods renamed .xlsx is included too.
    """
    folder = Path(folder)
    good = Path(good_workbook_path)
    work = folder / ".work"
    work.mkdir(parents=True, exist_ok=True)
    out: dict[str, tuple[Path, str | None]] = {}
    sheet_name, sheet_part = first_sub_element_sheet(good)
    with zipfile.ZipFile(good) as zf:
        sheet_xml = zf.read(sheet_part)
    far_row = b'<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>far away</t></is></c></row>'

    def put(name: str, path: Path | None = None) -> Path:
        path = path or folder / name
        out[name] = (path, EXPECTED[name])
        return path

    def variant(name: str, changes=None, extra=None) -> Path:
        return put(name, rewrite(good, folder / name, changes, extra))

    # Not workbooks at all.
    (folder / "random-bytes.xlsx").write_bytes(bytes((i * 7919 + 13) % 251 for i in range(20000)))
    put("random-bytes.xlsx")
    (folder / "empty.xlsx").write_bytes(b"")
    put("empty.xlsx")
    data = good.read_bytes()
    (folder / "truncated.xlsx").write_bytes(data[: len(data) // 2])
    put("truncated.xlsx")
    put("legacy-ole.xlsx", ole_file(folder / "legacy-ole.xlsx", ("Workbook", "\x05SummaryInformation")))
    (folder / "csv-renamed.xlsx").write_text(
        "partner,criterion,baseline\nP-ANN,1.1a,✓\nP-ANN,1.1b,\n", encoding="utf-8"
    )
    put("csv-renamed.xlsx")
    (folder / "pdf-renamed.xlsx").write_bytes(
        b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n2 0 obj << /Type /Pages /Kids [] /Count 0 >>"
        b" endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
    )
    put("pdf-renamed.xlsx")
    # An HTML table saved with an .xls name (what "Export to Excel" on many web sites produces).
    (folder / "html-saved-as.xls").write_text(
        "<html><head><meta charset='utf-8'></head><body><table><tr><td>1.1a</td><td>✓</td></tr></table></body></html>",
        encoding="utf-8",
    )
    put("html-saved-as.xls")
    with zipfile.ZipFile(folder / "plain-zip.xlsx", "w") as zf:
        zf.writestr("readme.txt", "not a spreadsheet")
    put("plain-zip.xlsx")

    # Encrypted: Office keeps an encrypted workbook in an OLE2 file with these two streams.
    put(
        "password-ole.xlsx",
        ole_file(folder / "password-ole.xlsx", ("EncryptionInfo", "EncryptedPackage", "\x06DataSpaces")),
    )

    # Macro-enabled: the same workbook with a VBA project, saved as .xlsm. Readable; only an info finding.
    def macro_types(xml: bytes) -> bytes:
        xml = xml.replace(
            b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
            b"application/vnd.ms-excel.sheet.macroEnabled.main+xml",
        )
        return xml.replace(
            b"<Default ", b'<Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/><Default ', 1
        )

    def macro_rels(xml: bytes) -> bytes:
        return xml.replace(
            b"</Relationships>",
            b'<Relationship Id="rIdVba" Type="http://schemas.microsoft.com/'
            b'office/2006/relationships/vbaProject" Target="vbaProject.bin"/>'
            b"</Relationships>",
        )

    vba = ole_file(work / "vbaProject.bin", ("VBA", "PROJECT", "dir")).read_bytes()
    variant(
        "macro.xlsm",
        {"[Content_Types].xml": macro_types, "xl/_rels/workbook.xml.rels": macro_rels},
        [("xl/vbaProject.bin", vba)],
    )

    # XML entity expansion and external entities.
    lol = b'<!ENTITY lol "lololololololololololol">' + b"".join(
        b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10) for i in range(1, 10)
    )
    variant(
        "billion-laughs.xlsx",
        {
            "xl/sharedStrings.xml": lambda x: x.replace(b"?>", b"?>\n<!DOCTYPE sst [" + lol + b"]>", 1).replace(
                b"<si><t>", b"<si><t>&lol9;", 1
            )
        },
    )
    xxe_doctype = b'<!DOCTYPE worksheet [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    xxe_cell = b'<row r="52"><c r="B52" t="inlineStr"><is><t>&xxe;</t></is></c></row>'

    def xxe(xml: bytes) -> bytes:
        return add_before_sheet_data_end(xml.replace(b"?>", b"?>\n" + xxe_doctype, 1), xxe_cell)

    variant("xxe.xlsx", {sheet_part: xxe})
    # The same, written in UTF-16 without a byte-order mark (a byte search for '<!DOCTYPE' does not see it).
    variant(
        "xxe-utf16.xlsx",
        {
            sheet_part: lambda x: (
                xxe(x).replace(b'encoding="UTF-8"', b'encoding="UTF-16"').decode("utf-8").encode("utf-16-le")
            )
        },
    )

    # Compression bombs: 300 MB of zeros (honest header, written streaming), and 100 MB whose header claims 1 KB.
    bomb = shutil.copy(good, folder / "bomb.xlsx")
    with (
        zipfile.ZipFile(bomb, "a", zipfile.ZIP_DEFLATED) as zf,
        zf.open("xl/customData.xml", "w", force_zip64=True) as fh,
    ):
        zeros = bytes(1024 * 1024)
        for _ in range(300):
            fh.write(zeros)
    put("bomb.xlsx")
    lying_bomb = rewrite(good, folder / "bomb-lying.xlsx", {"xl/sharedStrings.xml": None})
    with zipfile.ZipFile(lying_bomb, "a", zipfile.ZIP_DEFLATED) as zf, zf.open("xl/sharedStrings.xml", "w") as fh:
        for _ in range(100):
            fh.write(zeros)
    lie_about_size(lying_bomb, "xl/sharedStrings.xml", bytes(1024))
    put("bomb-lying.xlsx")
    # A sheet whose header claims only its harmless first part; the rest holds a cell far away.
    lying = variant("size-lie.xlsx", {sheet_part: add_before_sheet_data_end(sheet_xml, far_row)})
    lie_about_size(lying, sheet_part, sheet_xml[: sheet_xml.index(b"</sheetData>")])

    # Extent: a huge claimed dimension is harmless; cells far away are refused, however they are written.
    variant(
        "huge-dimension.xlsx",
        {sheet_part: lambda x: re.sub(rb'<dimension ref="[^"]*"/>', b'<dimension ref="A1:XFD1048576"/>', x)},
    )
    variant("far-cell.xlsx", {sheet_part: add_before_sheet_data_end(sheet_xml, far_row)})
    variant(
        "far-cell-in-early-row.xlsx",
        {
            sheet_part: add_before_sheet_data_end(
                sheet_xml, b'<row r="60"><c r="KM1048576" t="inlineStr"><is><t>x</t></is></c></row>'
            )
        },
    )
    variant(
        "far-cell-long-column.xlsx",
        {sheet_part: add_before_sheet_data_end(sheet_xml, b'<row r="60"><c r="AAAAAAAAAAAA60"><v>1</v></c></row>')},
    )

    def prefixed(xml: bytes) -> bytes:
        xml = re.sub(rb"<(/?)([A-Za-z][\w]*)([ >/])", rb"<\1x:\2\3", xml)
        return xml.replace(b'xmlns="' + NS_MAIN + b'"', b'xmlns:x="' + NS_MAIN + b'"')

    variant(
        "far-cell-prefixed.xlsx",
        {
            sheet_part: prefixed(
                add_before_sheet_data_end(sheet_xml, b'<row r="1048576"><c r="KM1048576"><v>1</v></c></row>')
            )
        },
    )
    # Rows and cells without an 'r' are placed one after another: 30,000 of them reach far past the template.
    rows = b"".join(b'<row ht="%d.%02d"/>' % (15 + i % 7, i % 97) for i in range(30000))
    variant(
        "rows-without-refs.xlsx",
        {
            sheet_part: add_before_sheet_data_end(
                sheet_xml, rows + b"<row>" + b"<c><v>%d</v></c>" * 5 % (1, 2, 3, 4, 5) + b"</row>"
            )
        },
    )
    # Each sheet within the per-sheet limit, but the dense grids of all of them together too big.
    parts = list(sheet_parts(good).values())
    spread = b'<row r="15000"><c r="KL15000"><v>1</v></c></row>'
    variant("spread-over-sheets.xlsx", {p: (lambda x: add_before_sheet_data_end(x, spread)) for p in parts[2:4]})
    # A sheet stored outside xl/worksheets under a name that is not .xml (readers follow the relationship).
    variant(
        "sheet-outside.xlsx",
        {
            sheet_part: None,
            "xl/_rels/workbook.xml.rels": lambda x: x.replace(
                b'Target="' + sheet_part.removeprefix("xl/").encode() + b'"', b'Target="/sheet.bin"'
            ),
        },
        [("sheet.bin", add_before_sheet_data_end(sheet_xml, far_row))],
    )
    # The same part twice in the zip: which copy a reader takes is up to the reader.
    with (
        zipfile.ZipFile(good) as zin,
        zipfile.ZipFile(folder / "duplicate-part.xlsx", "w", zipfile.ZIP_DEFLATED) as zout,
    ):
        for info in zin.infolist():
            if info.filename == sheet_part:
                zout.writestr(info.filename, add_before_sheet_data_end(sheet_xml, far_row))
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                zout.writestr(info.filename, zin.read(info))
    put("duplicate-part.xlsx")

    # Damage.
    variant("malformed-sheet.xlsx", {sheet_part: sheet_xml.replace(b"</row>", b"</rwo>", 1)})
    variant("no-workbook-part.xlsx", {"xl/workbook.xml": None})
    variant("missing-sheet-part.xlsx", {sheet_part: None})
    variant("strict.xlsx", {"xl/workbook.xml": lambda x: x.replace(NS_MAIN, NS_STRICT)})

    # Metadata: deleted, edited; and a workbook that never had any.
    from openpyxl import Workbook, load_workbook

    wb = load_workbook(good)
    del wb[META_SHEET]
    wb.save(put("no-metadata.xlsx"))
    wb = load_workbook(good)
    ws = wb[META_SHEET]
    row = next(r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value == "partner_id")
    ws.cell(row, 2).value = "P-SOMEONE-ELSE"
    wb.save(put("metadata-edited.xlsx"))
    wb = Workbook()
    ws = wb.active
    ws.title = "Budget"
    for r, (item, amount) in enumerate([("Item", "Amount"), ("Rent", 1200), ("Staff", 5400), ("Travel", 310)], 1):
        ws.cell(r, 1, item)
        ws.cell(r, 2, amount)
    wb.save(put("foreign.xlsx"))

    # Formulas typed into inputs: a tick cell and a notes cell of the first sub-element sheet.
    tick_cell, notes_cell = formula_cells(good)
    wb = load_workbook(good)
    wb[sheet_name][tick_cell] = "=1+1"
    wb[sheet_name][notes_cell] = '=HYPERLINK("http://x","y")'
    wb.save(put("formulas.xlsx"))

    # A formula filled down (Excel stores it once, as a shared formula) and an array formula over two cells.
    variant("shared-formulas.xlsx", {sheet_part: shared_formulas(sheet_xml, *shared_formula_cells(good))})

    # Another matrix: a copy of the definition under another id, which the default catalog does not know.
    catalog = other_catalog(work / "definitions")
    from eif_xlsx.template.generate import generate_workbooks

    made = generate_workbooks(
        catalog.matrix(OTHER_MATRIX_ID),
        work / "other",
        None,
        prefill={"": ("", {("criterion", "1.1", "1.1a", "baseline"): "✓"}, {})},
    )
    put("other-matrix.xlsx", Path(shutil.copy(made.files[0], folder / "other-matrix.xlsx")))

    # An .ods renamed .xlsx: recognised by its content and read.
    if office:
        from eif_xlsx.office import convert, soffice

        if soffice():
            ods = convert(good, "ods", work / "ods")
            put("ods-renamed.xlsx", Path(shutil.copy(ods, folder / "ods-renamed.xlsx")))
            rewrite(
                ods,
                put("ods-bad-repeat.ods"),
                {
                    "content.xml": lambda x: x.replace(
                        b'table:number-columns-repeated="2"', b'table:number-columns-repeated="two"', 1
                    )
                },
            )
            far = (
                b'<table:table-row table:number-rows-repeated="1048000"><table:table-cell office:value-type='
                b'"float" office:value="1"><text:p>1</text:p></table:table-cell></table:table-row>'
            )
            rewrite(
                ods,
                put("ods-far-cell.ods"),
                {"content.xml": lambda x: x.replace(b"</table:table>", far + b"</table:table>", 1)},
            )
    return out


def formula_cells(good: Path) -> tuple[str, str]:
    """The cells of criterion 1.1a (baseline tick) and of the 1.1 notes, as the workbook's layout places them."""
    from eif_xlsx.intake.reader import read_return

    ret = read_return(good)
    tick = ret.answer("criterion", "1.1", "1.1a", "baseline")
    notes = ret.answer("notes", "1.1", "", "")
    assert tick and notes, "the good workbook has no criterion 1.1a or 1.1 notes"
    return tick.cell, notes.cell


def shared_formula_cells(good: Path) -> tuple[list[str], list[str]]:
    """Baseline tick cells of criteria 1.1a-1.1c (a fill-down) and 12-month cells of 1.1a-1.1b (an array)."""
    from eif_xlsx.intake.reader import read_return

    ret = read_return(good)
    down = [ret.answer("criterion", "1.1", item, "baseline").cell for item in ("1.1a", "1.1b", "1.1c")]
    array = [ret.answer("criterion", "1.1", item, "12_months").cell for item in ("1.1a", "1.1b")]
    return down, array


def shared_formulas(xml: bytes, down: list[str], array: list[str]) -> bytes:
    """Put a shared formula over the `down` cells and an array formula over the `array` cells, each cell caching
    a tick (so a reader that misses the formula would read them as ticked)."""

    def cell(ref: str, inner: bytes) -> Callable[[re.Match], bytes]:
        return lambda m: b'<c r="%s"%s t="str">%s<v>\xe2\x9c\x93</v></c>' % (ref.encode(), m.group(1), inner)

    def replace(xml: bytes, ref: str, inner: bytes) -> bytes:
        pattern = rb'<c r="%s"((?: s="\d+")?)(?:[^>]*?/>|[^>]*?>.*?</c>)' % ref.encode()
        xml, n = re.subn(pattern, cell(ref, inner), xml, count=1)
        assert n == 1, f"cell {ref} not found"
        return xml

    span = f"{down[0]}:{down[-1]}".encode()
    xml = replace(xml, down[0], b'<f t="shared" ref="%s" si="0">IF(TRUE,"\xe2\x9c\x93")</f>' % span)
    for ref in down[1:]:
        xml = replace(xml, ref, b'<f t="shared" si="0"/>')
    xml = replace(
        xml, array[0], b'<f t="array" ref="%s:%s">IF(TRUE,"\xe2\x9c\x93")</f>' % (array[0].encode(), array[-1].encode())
    )
    for ref in array[1:]:
        xml = replace(xml, ref, b"")
    return xml


def other_catalog(folder: Path):
    """A catalog with the built-in matrix and a copy of it under OTHER_MATRIX_ID."""
    from eif_xlsx.domain.catalog import Catalog

    folder.mkdir(parents=True, exist_ok=True)
    source = Catalog.default().entries[MATRIX_ID].path.read_text(encoding="utf-8")
    copy, n = re.subn(rf"(?m)^id: {re.escape(MATRIX_ID)}\s*$", f"id: {OTHER_MATRIX_ID}", source)
    assert n == 1, "the matrix definition has no top-level 'id:' line"
    (folder / f"{OTHER_MATRIX_ID}.yaml").write_text(copy, encoding="utf-8")
    catalog = Catalog(extra_dirs=[folder])
    assert OTHER_MATRIX_ID in catalog.entries, catalog.problems
    return catalog
