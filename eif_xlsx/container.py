"""Open a returned file safely, before any spreadsheet parser sees it.

Sniffs what the file really is, checks the zip (entry count, sizes, compression ratio) and every XML part
(no DTDs or entities, bounded size), finds formulas and the extent of each sheet, so that nothing later can be
made to hang, explode or reach outside the file.
"""

from __future__ import annotations

import copy
import html
import posixpath
import re
import zipfile
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from xml.parsers import expat

from defusedxml import ElementTree as SafeET

from .cells import a1, col_letter
from .errors import ReadError

MAX_FILE_BYTES = 50 * 1024 * 1024
MAX_ENTRIES = 2000
MAX_PART_BYTES = 64 * 1024 * 1024  # one uncompressed part
MAX_TOTAL_BYTES = 256 * 1024 * 1024  # all parts together
MAX_RATIO = 200  # uncompressed / compressed, for parts over 1 MiB
MAX_ROWS, MAX_COLS = 20000, 300  # extent a return's sheet may reach (the template uses far less)
MAX_CELLS = MAX_ROWS * MAX_COLS  # the grids of all sheets together (each is read as a dense grid)

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"
NS_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
NS_STRICT = "http://purl.oclc.org/ooxml/spreadsheetml/main"
NS_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
NS_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
_CELL_REF = re.compile(r"\$?([A-Za-z]*)\$?([0-9]*)")
_RANGE_REF = re.compile(r"\$?([A-Za-z]+)\$?([0-9]+)(?::\$?([A-Za-z]+)\$?([0-9]+))?")


@dataclass
class Container:
    """What the safety pass learnt about a file."""

    path: Path
    format: str  # xlsx | xlsm | ods
    macros: bool = False
    sheet_parts: dict[str, str] = field(default_factory=dict)  # sheet name -> part name (xlsx)
    formulas: dict[str, Mapping[str, str]] = field(default_factory=dict)  # sheet -> 'A1' -> formula text
    extents: dict[str, tuple[int, int]] = field(default_factory=dict)  # sheet -> (max row, max col), zero-based


class _XlsxFormulas(Mapping):
    """Formulas of one sheet by 'A1'. Cells of a shared formula carry its master's text; every cell inside an
    array formula's range is looked up as holding that formula (ranges are kept, not expanded)."""

    def __init__(self, cells: dict[str, str], arrays: list[tuple[int, int, int, int, str]]):
        self._cells, self._arrays = cells, arrays

    def __getitem__(self, key: str) -> str:
        if key in self._cells:
            return self._cells[key]
        if self._arrays:
            m = _CELL_REF.fullmatch(key)
            if m and m.group(1) and m.group(2):
                r, c = int(m.group(2)) - 1, _col_number(m.group(1))
                for r0, c0, r1, c1, text in self._arrays:
                    if r0 <= r <= r1 and c0 <= c <= c1:
                        return text
        raise KeyError(key)

    def get(self, key: str, default=None):
        if key in self._cells:  # the common case, without raising KeyError
            return self._cells[key]
        if not self._arrays:
            return default
        try:
            return self[key]
        except KeyError:
            return default

    def __iter__(self):
        return iter(self._cells)

    def __len__(self) -> int:
        return len(self._cells) + len(self._arrays)


_BEYOND = 10**9  # stands for any row or column number too long to be worth computing


def _col_number(letters: str) -> int:
    """Zero-based column of any run of letters (a hostile file may use 'AAAAAAAAAA1')."""
    if len(letters) > 5:
        return _BEYOND
    n = 0
    for ch in letters.upper():
        n = n * 26 + (ord(ch) - 64)
    return n - 1


def sniff(path: Path) -> str:
    """What the file is by its bytes, whatever its name says."""
    try:
        size = path.stat().st_size
        with path.open("rb") as fh:
            head = fh.read(4096)
    except OSError as exc:
        raise ReadError("not-a-workbook", f"cannot open the file: {exc.strerror or exc}") from exc
    if size == 0:
        raise ReadError("not-a-workbook", "the file is empty (0 bytes)")
    if size > MAX_FILE_BYTES:
        raise ReadError("too-large", f"{size / 1e6:.0f} MB is over the {MAX_FILE_BYTES / 1e6:.0f} MB limit")
    if head.startswith(OLE_MAGIC):
        with path.open("rb") as fh:
            blob = fh.read(min(size, 8 * 1024 * 1024))
        if "EncryptionInfo".encode("utf-16-le") in blob or "EncryptedPackage".encode("utf-16-le") in blob:
            raise ReadError("password-protected", "")
        raise ReadError("legacy-xls", "")
    if head.startswith(ZIP_MAGIC):
        return "zip"
    if head.startswith(b"PK"):
        raise ReadError("damaged", "the zip container is not valid")
    low = head.lower().lstrip()
    if low.startswith(b"%pdf"):
        raise ReadError("not-a-workbook", "it is a PDF; please send the .xlsx workbook")
    if low.startswith((b"<html", b"<!doctype html", b"<?xml", b"<")):
        raise ReadError("not-a-workbook", "it is an HTML or XML document, not an .xlsx or .ods workbook")
    if b"\x00" not in head and head.count(b",") + head.count(b"\t") >= 2:
        raise ReadError("not-a-workbook", "it is a text/CSV file; a CSV cannot carry a return's answers")
    raise ReadError("not-a-workbook", "its content is not an .xlsx, .xlsm or .ods workbook")


def _read_part(zf: zipfile.ZipFile, info: zipfile.ZipInfo, budget: list[int]) -> bytes:
    """Decompress one part in chunks, stopping at the limits whatever the zip headers claim.

    The part is read to the real end of its compressed data (not to the size its header claims: zipfile would
    silently cut it there, while another reader may not), so a header that lies about the size is caught.
    """
    if info.flag_bits & 0x1:
        raise ReadError("password-protected", "")
    limit = min(MAX_PART_BYTES, budget[0])
    # Past this the ratio test below must fail: stop there rather than inflate a bomb up to the part limit.
    ceiling = max(1024 * 1024, MAX_RATIO * info.compress_size)
    probe = copy.copy(info)
    probe.file_size = limit + 1  # read until the data really ends (or the limit), not to the claimed size
    probe.CRC = None  # checked below, once the length is known to be the claimed one
    out = bytearray()
    failed: Exception | None = None
    try:
        with zf.open(probe) as fh:
            while True:
                chunk = fh.read(1024 * 1024)
                if not chunk:
                    break
                out += chunk
                if len(out) > limit:
                    if limit < MAX_PART_BYTES:  # the budget of all parts ran out first
                        raise ReadError("hostile", f"the parts together expand beyond "
                                                   f"{MAX_TOTAL_BYTES // (1024 * 1024)} MB (at part "
                                                   f"'{info.filename}'; a compression bomb?)")
                    raise ReadError("hostile", f"part '{info.filename}' expands beyond {limit // (1024 * 1024)} MB "
                                               "(a compression bomb?)")
                if len(out) > ceiling:
                    raise ReadError("hostile", f"part '{info.filename}' is compressed over {MAX_RATIO}:1 "
                                               "(a compression bomb?)")
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError, RuntimeError, ValueError) as exc:
        failed = exc
    if len(out) > info.file_size or (failed is None and len(out) != info.file_size):
        raise ReadError("hostile", f"part '{info.filename}' holds {len(out):,} bytes but the zip header says "
                                   f"{info.file_size:,} (the header lies about its size)")
    if failed is not None:
        raise ReadError("damaged", f"part '{info.filename}' cannot be decompressed ({failed})") from failed
    if zlib.crc32(out) != info.CRC:
        raise ReadError("damaged", f"part '{info.filename}' is corrupt (its checksum does not match)")
    budget[0] -= len(out)
    if len(out) > 1024 * 1024 and info.compress_size and len(out) / info.compress_size > MAX_RATIO:
        raise ReadError("hostile", f"part '{info.filename}' is compressed {len(out) // info.compress_size}:1 "
                                   "(a compression bomb?)")
    return bytes(out)


def _dtd_refused(part: str) -> ReadError:
    return ReadError("hostile", f"part '{part}' declares a DTD or entities (XML entity expansion / external "
                                "entities are never part of a spreadsheet)")


def _check_xml(name: str, data: bytes) -> None:
    if b"\x00" in data[:64]:
        # UTF-16 or UTF-32, with or without a byte-order mark: look at the ASCII text the NULs interleave.
        data = data.replace(b"\x00", b"")
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise _dtd_refused(name)


def _xml(name: str, data: bytes):
    try:
        return SafeET.fromstring(data)
    except SafeET.ParseError as exc:
        raise ReadError("damaged", f"part '{name}' is not well-formed XML ({exc})") from exc
    except Exception as exc:  # defusedxml's own refusals
        raise ReadError("hostile", f"part '{name}' was refused by the XML guard ({type(exc).__name__})") from exc


def inspect(path: Path) -> Container:
    """Run every safety check; raise ReadError (with a finding code) if the file must be refused."""
    path = Path(path)
    sniff(path)
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError) as exc:
        raise ReadError("damaged", f"the zip container is broken or truncated ({exc})") from exc
    with zf:
        infos = zf.infolist()
        if len(infos) > MAX_ENTRIES:
            raise ReadError("hostile", f"{len(infos)} parts in the zip (limit {MAX_ENTRIES})")
        names = {i.filename for i in infos}
        if len(names) != len(infos):
            twice = next(n for n in names if sum(i.filename == n for i in infos) > 1)
            raise ReadError("hostile", f"the part '{twice}' is stored twice in the zip (readers would disagree "
                                       "about which copy to use)")
        declared = sum(i.file_size for i in infos)
        if declared > MAX_TOTAL_BYTES:
            raise ReadError("hostile", f"the parts claim {declared // (1024 * 1024)} MB uncompressed "
                                       f"(limit {MAX_TOTAL_BYTES // (1024 * 1024)} MB)")
        for i in infos:
            if i.filename.startswith("/") or ".." in PurePosixPath(i.filename).parts:
                raise ReadError("hostile", f"part name '{i.filename}' points outside the file")
        if "mimetype" in names and "content.xml" in names:
            return _inspect_ods(path, zf, infos)
        if "EncryptionInfo" in names or "EncryptedPackage" in names:
            raise ReadError("password-protected", "")
        if "xl/workbook.xml" not in names:
            if "[Content_Types].xml" in names and "word/document.xml" in names:
                raise ReadError("not-a-workbook", "it is a Word document")
            if "[Content_Types].xml" in names and "ppt/presentation.xml" in names:
                raise ReadError("not-a-workbook", "it is a PowerPoint presentation")
            if "xl/workbook.bin" in names:
                raise ReadError("not-a-workbook", "it is an Excel Binary Workbook (.xlsb); please save it as an "
                                                  "Excel Workbook (.xlsx) and send it again")
            if any(n.startswith("Index/") and n.endswith(".iwa") for n in names):
                raise ReadError("not-a-workbook", "it is an Apple Numbers file; in Numbers choose File > Export To "
                                                  "> Excel and send the .xlsx")
            if "[Content_Types].xml" in names:
                raise ReadError("damaged", "the workbook part (xl/workbook.xml) is missing")
            raise ReadError("not-a-workbook", "it is a zip archive, not a spreadsheet")
        return _inspect_xlsx(path, zf, infos, names)


def _inspect_xlsx(path: Path, zf: zipfile.ZipFile, infos, names: set[str]) -> Container:
    macros = "xl/vbaProject.bin" in names or path.suffix.lower() == ".xlsm"
    box = Container(path, "xlsm" if macros else "xlsx", macros=macros)
    budget = [MAX_TOTAL_BYTES]
    parts: dict[str, bytes] = {}
    for info in infos:
        if info.filename.endswith((".xml", ".rels", ".vml")):
            data = _read_part(zf, info, budget)
            _check_xml(info.filename, data)
            parts[info.filename] = data
    if "[Content_Types].xml" not in parts:
        raise ReadError("damaged", "the part list ([Content_Types].xml) is missing")
    wb = _xml("xl/workbook.xml", parts["xl/workbook.xml"])
    if wb.tag == f"{{{NS_STRICT}}}workbook":
        raise ReadError("not-a-workbook", "it is saved as 'Strict Open XML'; please save it as an ordinary "
                                          "Excel Workbook (.xlsx) and send it again")
    if wb.tag != f"{{{NS_MAIN}}}workbook":
        raise ReadError("damaged", f"xl/workbook.xml is not a workbook ({wb.tag})")
    rels_name = "xl/_rels/workbook.xml.rels"
    if rels_name not in parts:
        raise ReadError("damaged", f"the part '{rels_name}' is missing")
    targets: dict[str | None, list[str]] = {}
    for rel in _xml(rels_name, parts[rels_name]):
        target = rel.get("Target", "")
        # Resolved as the format says (relative to xl/), and as some readers also accept (from the root): a
        # sheet is checked wherever a reader may find it.
        bare = posixpath.normpath(target.lstrip("/"))
        main = bare if target.startswith("/") else posixpath.normpath(f"xl/{target}")
        targets[rel.get("Id")] = [main] + ([bare] if bare != main else [])
    total_cells = 0
    for sheet in wb.iter(f"{{{NS_MAIN}}}sheet"):
        name = sheet.get("name", "")
        found = [t for t in targets.get(sheet.get(f"{{{NS_REL}}}id"), []) if t in names]
        if not found:
            part = (targets.get(sheet.get(f"{{{NS_REL}}}id")) or ["?"])[0]
            raise ReadError("damaged", f"the sheet '{name}' (part '{part}') is missing")
        for i, part in enumerate(found):
            if part not in parts:
                # Stored under a name that is not .xml: readers follow the relationship, so it is checked too.
                parts[part] = _read_part(zf, zf.getinfo(part), budget)
                _check_xml(part, parts[part])
            max_r, max_c, formulas = _scan_sheet(name, part, parts[part])
            if i == 0:
                box.sheet_parts[name] = part
                box.extents[name] = (max_r, max_c)
                box.formulas[name] = formulas
                total_cells += (max_r + 1) * (max_c + 1)
        if total_cells > MAX_CELLS:
            raise ReadError("too-large", f"the sheets up to '{name}' span {total_cells:,} cells together (limit "
                                         f"{MAX_CELLS:,}); a return never holds that much")
    return box


_SD_OPEN, _SD_CLOSE = b"<sheetData", b"</sheetData>"
_PREFIXED = re.compile(rb"<[A-Za-z_][\w.-]*:")
_FAR_REF = re.compile(rb'<c r="(?:[A-Z]{3}|[L-Z][A-Z]|K[O-Z]|[A-Z]{1,2}(?:[2-9][0-9]{4}|[0-9]{6}))')
_REF_ROW = re.compile(rb'<c r="[A-Z]{1,3}([0-9]{1,7})"')
_REF_WIDE = re.compile(rb'<c r="([A-Z]{2,3})[0-9]')
_SELF_CLOSED_ROW = re.compile(rb"<row [^>]*/>")


def _fast_scan(data: bytes) -> tuple[int, int, Mapping[str, str]] | None:
    """The common case in C-speed searches: one plain <sheetData>, every cell with r first, every reference
    within bounds, only plain formulas. Returns None where any of that does not hold (the full scan decides)."""
    start = data.find(_SD_OPEN)
    if start == -1 or data.find(_SD_OPEN, start + 1) != -1:
        return None
    end = data.find(_SD_CLOSE, start)
    if end == -1:
        return (-1, -1, {}) if data.startswith(b"/>", start + len(_SD_OPEN)) else None
    body = data[start:end]
    if _PREFIXED.search(body) or _FAR_REF.search(body) or not _balanced(body):
        return None  # prefixed, far-reaching or not closed properly: the full scan decides
    rows = _REF_ROW.findall(body)
    if len(rows) != body.count(b"<c"):
        return None  # a cell without a leading r attribute (or rich text): let the full scan place it
    if not rows:
        return -1, -1, {}
    max_r = max(map(int, rows)) - 1
    # Columns past Z are rare: only those are worked out; otherwise Z stands as the (generous) width.
    max_c = max((_col_number(w.decode()) for w in set(_REF_WIDE.findall(body))), default=25)
    formulas = body.count(b"<f")
    refs: list[bytes] = []
    pos = body.find(b"<f>")
    while pos != -1:
        cell = body.rfind(b'<c r="', 0, pos)
        refs.append(body[cell + 6:body.find(b'"', cell + 6)])
        pos = body.find(b"<f>", pos + 3)
    if len(refs) != formulas:
        return None  # shared or array formulas: the full scan resolves them
    return max_r, max_c, (_LazyFormulas(body, refs) if refs else {})


class _LazyFormulas(Mapping):
    """The plain formulas of a sheet by 'A1'; a formula's text is decoded only when looked up (most are the
    template's own, and never are)."""

    def __init__(self, body: bytes, refs: list[bytes]):
        self._body, self._refs = body, {r.decode() for r in refs}

    def get(self, key: str, default=None):
        return self[key] if key in self._refs else default

    def __contains__(self, key: object) -> bool:
        return key in self._refs

    def __getitem__(self, key: str) -> str:
        if key not in self._refs:
            raise KeyError(key)
        pos = self._body.find(b"<f>", self._body.find(b'<c r="' + key.encode() + b'"'))
        end = self._body.find(b"</f>", pos)
        return html.unescape(self._body[pos + 3:end].decode("utf-8", errors="replace"))

    def __iter__(self):
        return iter(self._refs)

    def __len__(self) -> int:
        return len(self._refs)


def _balanced(body: bytes) -> bool:
    """A cheap sign that sheetData is intact: every row that opens also closes."""
    return body.count(b"<row") == body.count(b"</row>") + len(_SELF_CLOSED_ROW.findall(body))


def _scan_sheet(name: str, part: str, data: bytes) -> tuple[int, int, Mapping[str, str]]:
    """Where a sheet's cells reach, and its formulas: the fast path where the sheet is plain (DTDs and entities
    were refused before), else the full scan below, which also proves the XML well-formed."""
    fast = _fast_scan(data)
    return fast if fast is not None else _full_scan(name, part, data)


def _full_scan(name: str, part: str, data: bytes) -> tuple[int, int, Mapping[str, str]]:
    """Where a sheet's cells reach, worked out as a spreadsheet reader places them, and its formulas.

    Every <row> and <c> inside <sheetData> counts, prefixed or not; a row or cell without an 'r' follows the one
    before it (as every reader places it). Returns (max row, max col) zero-based and the formulas by cell; raises
    'too-large' at the first cell beyond MAX_ROWS x MAX_COLS, before a reader would allocate a grid that big.
    """
    state = {"in_data": False, "row": -1, "col": -1, "cell": None, "f": None}
    max_r = max_c = -1
    cells: dict[str, str] = {}
    arrays: list[tuple[int, int, int, int, str]] = []
    shared: dict[str, str] = {}
    children: list[tuple[str, str]] = []
    text: list[str] = []

    def bad(what: str) -> ReadError:
        return ReadError("damaged", f"the sheet '{name}' (part '{part}'): {what}")

    def start(tag: str, attrs: dict[str, str]) -> None:
        nonlocal max_r, max_c
        local = tag.rpartition(":")[2]
        if not state["in_data"]:
            if local == "sheetData":
                state["in_data"] = True
            return
        if local == "row":
            r = attrs.get("r")
            if r is None:
                state["row"] += 1
            elif r.isdigit() and r.isascii():
                state["row"] = int(r) - 1 if len(r) < 10 else _BEYOND
            else:
                raise bad(f"row number '{r[:20]}' is not valid")
            state["col"] = -1
        elif local == "c":
            ref = attrs.get("r")
            row = state["row"]
            if ref is None:
                state["col"] += 1
            else:
                m = _CELL_REF.fullmatch(ref)
                if not m or not (m.group(1) or m.group(2)) or not ref.isascii():
                    raise bad(f"cell reference '{ref[:20]}' is not valid")
                state["col"] = _col_number(m.group(1)) if m.group(1) else state["col"] + 1
                if m.group(2):
                    row = int(m.group(2)) - 1 if len(m.group(2)) < 10 else _BEYOND
            col = state["col"]
            state["cell"] = (row, col)
            if row >= MAX_ROWS or col >= MAX_COLS:
                where = ref[:20] if ref else f"{col_letter(col)}{row + 1}"
                raise ReadError("too-large", f"the sheet '{name}' has a cell at {where} (row {row + 1:,}, column "
                                             f"{col + 1:,}); a return never reaches that far (cells far outside "
                                             "the template)", sheet=name,
                                cell=where if len(where) <= 10 else "")
            max_r, max_c = max(max_r, row), max(max_c, col)
        elif local == "f" and state["cell"] is not None:
            state["f"] = attrs
            text.clear()

    def end(tag: str) -> None:
        local = tag.rpartition(":")[2]
        if local == "sheetData":
            state["in_data"] = False
        elif local == "c":
            state["cell"] = None
        elif local == "f" and state["f"] is not None:
            attrs, state["f"] = state["f"], None
            row, col = state["cell"]
            where = f"{col_letter(col)}{row + 1}"
            formula = "".join(text)
            kind = attrs.get("t", "")
            if kind == "shared" and not formula:
                children.append((where, attrs.get("si", "")))
                return
            if kind == "shared":
                shared.setdefault(attrs.get("si", ""), formula)
            cells[where] = formula
            m = _RANGE_REF.fullmatch(attrs.get("ref", "")) if kind == "array" else None
            if m and m.group(3):
                arrays.append((int(m.group(2)) - 1, _col_number(m.group(1)), int(m.group(4)) - 1,
                               _col_number(m.group(3)), formula))

    def chars(data: str) -> None:
        if state["f"] is not None:
            text.append(data)

    def refuse(*_args) -> None:
        raise _dtd_refused(part)

    parser = expat.ParserCreate()
    parser.buffer_text = True
    parser.StartElementHandler, parser.EndElementHandler, parser.CharacterDataHandler = start, end, chars
    parser.StartDoctypeDeclHandler = parser.EntityDeclHandler = refuse
    try:
        parser.Parse(data, True)
    except expat.ExpatError as exc:
        raise bad(f"not well-formed XML ({exc})") from exc
    for where, si in children:
        if si in shared:
            cells.setdefault(where, shared[si])
    return max_r, max_c, (_XlsxFormulas(cells, arrays) if cells or arrays else {})


_ODS = {
    "table": "urn:oasis:names:tc:opendocument:xmlns:table:1.0",
    "office": "urn:oasis:names:tc:opendocument:xmlns:office:1.0",
}


def _inspect_ods(path: Path, zf: zipfile.ZipFile, infos) -> Container:
    box = Container(path, "ods")
    budget = [MAX_TOTAL_BYTES]
    content = b""
    for info in infos:
        if info.filename.endswith(".xml"):
            data = _read_part(zf, info, budget)
            _check_xml(info.filename, data)
            if info.filename == "content.xml":
                content = data
    if not content:
        raise ReadError("damaged", "content.xml is missing")
    if b"manifest:encryption-data" in b"".join(_read_part(zf, i, [MAX_TOTAL_BYTES]) for i in infos
                                               if i.filename == "META-INF/manifest.xml"):
        raise ReadError("password-protected", "")
    t, o = _ODS["table"], _ODS["office"]
    root = _xml("content.xml", content)
    for table in root.iter(f"{{{t}}}table"):
        name = table.get(f"{{{t}}}name", "")
        found: dict[str, str] = {}
        r = max_r = max_c = 0
        for row in table.iter(f"{{{t}}}table-row"):
            rep_r = min(_count(row.get(f"{{{t}}}number-rows-repeated", "1"), name), 10 ** 7)
            c = 0
            filled = False
            for cell in row:
                if cell.tag not in (f"{{{t}}}table-cell", f"{{{t}}}covered-table-cell"):
                    continue
                rep_c = min(_count(cell.get(f"{{{t}}}number-columns-repeated", "1"), name), 10 ** 5)
                has = len(cell) > 0 or cell.get(f"{{{o}}}value-type") is not None
                if has:
                    filled = True
                    max_c = max(max_c, c + rep_c - 1)
                    formula = cell.get(f"{{{t}}}formula")
                    if formula:
                        found[a1(r, c)] = formula.split(":", 1)[1] if formula.startswith("of:") else formula
                c += rep_c
            if filled:
                max_r = max(max_r, r + rep_r - 1)
            r += rep_r
        box.extents[name] = (max_r, max_c)
        if max_r >= MAX_ROWS or max_c >= MAX_COLS:
            raise ReadError("too-large", f"the sheet '{name}' holds cells up to row {max_r + 1}, column {max_c + 1}; "
                                         "a return never reaches that far (cells far outside the template)",
                            sheet=name, cell=a1(min(max_r, 10**7), min(max_c, 10**5)))
        box.formulas[name] = found
    return box


def _count(text: str, sheet: str) -> int:
    """A repeat count of an .ods row or cell; anything but a positive whole number is damage."""
    if not (text.isascii() and text.isdigit()) or int(text[:10]) < 1:
        raise ReadError("damaged", f"the sheet '{sheet}' has a repeat count '{text[:20]}' that is not a number")
    return int(text[:10])
