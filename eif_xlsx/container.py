"""Open a returned file safely, before any spreadsheet parser sees it.

Sniffs what the file really is, checks the zip (entry count, sizes, compression ratio) and every XML part
(no DTDs or entities, bounded size), finds formulas and the extent of each sheet, so that nothing later can be
made to hang, explode or reach outside the file.
"""

from __future__ import annotations

import re
import zipfile
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from defusedxml import ElementTree as SafeET

from .cells import a1
from .errors import ReadError

MAX_FILE_BYTES = 50 * 1024 * 1024
MAX_ENTRIES = 2000
MAX_PART_BYTES = 64 * 1024 * 1024  # one uncompressed part
MAX_TOTAL_BYTES = 256 * 1024 * 1024  # all parts together
MAX_RATIO = 200  # uncompressed / compressed, for parts over 1 MiB
MAX_ROWS, MAX_COLS = 20000, 300  # extent a return's sheet may reach (the template uses far less)

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"
NS_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
NS_STRICT = "http://purl.oclc.org/ooxml/spreadsheetml/main"
NS_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
NS_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
_F_TAG = re.compile(rb"<f[ >/]")
_REF = re.compile(rb'\br="([A-Z]{1,3}[0-9]{1,7})"')
_ROW_NUM = re.compile(rb'<row r="([0-9]{1,9})"')
_WIDE_COL = re.compile(rb'<c r="([A-Z]{2,3})[0-9]')
_ENTITY = re.compile(r"&(#x[0-9a-fA-F]+|#[0-9]+|amp|lt|gt|quot|apos);")
_NAMED = {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "apos": "'"}


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
    """Formulas of one sheet by 'A1', decoded only when looked up (most are the template's own)."""

    def __init__(self, data: bytes):
        # Find each <f> and look back to its cell: far fewer formulas than cells.
        self._raw: dict[bytes, bytes] = {}
        for m in _F_TAG.finditer(data):
            pos = m.start()
            start = data.rfind(b"<c ", 0, pos)
            if start == -1:
                continue
            ref = _REF.search(data, start, data.find(b">", start))
            close = data.find(b">", pos)
            if not ref or close == -1:
                continue
            if data[close - 1:close] == b"/":
                self._raw[ref.group(1)] = b""
            else:
                end = data.find(b"</f>", close)
                self._raw[ref.group(1)] = data[close + 1:end] if end != -1 else b""

    def __getitem__(self, key: str) -> str:
        return _unescape(self._raw[key.encode()].decode("utf-8", errors="replace"))

    def __iter__(self):
        return (k.decode() for k in self._raw)

    def __len__(self) -> int:
        return len(self._raw)


def _unescape(text: str) -> str:
    def sub(m: re.Match) -> str:
        ent = m.group(1)
        if ent.startswith("#x"):
            return chr(int(ent[2:], 16))
        if ent.startswith("#"):
            return chr(int(ent[1:]))
        return _NAMED[ent]

    return _ENTITY.sub(sub, text)


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
    """Decompress one part in chunks, stopping at the limits whatever the zip headers claim."""
    if info.flag_bits & 0x1:
        raise ReadError("password-protected", "")
    limit = min(MAX_PART_BYTES, budget[0])
    out = bytearray()
    try:
        with zf.open(info) as fh:
            while True:
                chunk = fh.read(1024 * 1024)
                if not chunk:
                    break
                out += chunk
                if len(out) > limit:
                    raise ReadError("hostile", f"part '{info.filename}' expands beyond {limit // (1024 * 1024)} MB "
                                               "(a compression bomb?)")
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError) as exc:
        raise ReadError("damaged", f"part '{info.filename}' cannot be decompressed ({exc})") from exc
    budget[0] -= len(out)
    if len(out) > 1024 * 1024 and info.compress_size and len(out) / info.compress_size > MAX_RATIO:
        raise ReadError("hostile", f"part '{info.filename}' is compressed {len(out) // info.compress_size}:1 "
                                   "(a compression bomb?)")
    return bytes(out)


def _check_xml(name: str, data: bytes) -> None:
    head = data[:4]
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        data = data.decode("utf-16", errors="replace").encode()
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise ReadError("hostile", f"part '{name}' declares a DTD or entities (XML entity expansion / external "
                                   "entities are never part of a spreadsheet)")


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
    except (zipfile.BadZipFile, OSError) as exc:
        raise ReadError("damaged", f"the zip container is broken or truncated ({exc})") from exc
    with zf:
        infos = zf.infolist()
        if len(infos) > MAX_ENTRIES:
            raise ReadError("hostile", f"{len(infos)} parts in the zip (limit {MAX_ENTRIES})")
        names = {i.filename for i in infos}
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
    targets = {}
    for rel in _xml(rels_name, parts[rels_name]):
        target = rel.get("Target", "")
        target = target[1:] if target.startswith("/") else f"xl/{target}"
        targets[rel.get("Id")] = str(PurePosixPath(target))
    for sheet in wb.iter(f"{{{NS_MAIN}}}sheet"):
        part = targets.get(sheet.get(f"{{{NS_REL}}}id"), "")
        name = sheet.get("name", "")
        if part not in parts:
            if part.startswith("xl/worksheets/"):
                raise ReadError("damaged", f"the sheet '{name}' (part '{part}') is missing")
            continue
        box.sheet_parts[name] = part
        data = parts[part]
        # Rows are few, so every row number is looked at; columns past Z are rare, so only those are parsed.
        max_r = max((int(x) for x in _ROW_NUM.findall(data)), default=0) - 1
        max_c = 25
        for letters in _WIDE_COL.findall(data):
            c = 0
            for ch in letters:
                c = c * 26 + ch - 64
            max_c = max(max_c, c - 1)
        box.extents[name] = (max_r, max_c)
        if max_r >= MAX_ROWS or max_c >= MAX_COLS:
            raise ReadError("too-large", f"the sheet '{name}' holds cells up to row {max_r + 1}, column {max_c + 1}; "
                                         "a return never reaches that far (cells far outside the template)")
        box.formulas[name] = _XlsxFormulas(data) if b"<f" in data else {}
    return box


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
            rep_r = min(int(row.get(f"{{{t}}}number-rows-repeated", "1")), 10 ** 7)
            c = 0
            filled = False
            for cell in row:
                if cell.tag not in (f"{{{t}}}table-cell", f"{{{t}}}covered-table-cell"):
                    continue
                rep_c = min(int(cell.get(f"{{{t}}}number-columns-repeated", "1")), 10 ** 5)
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
                                         "a return never reaches that far (cells far outside the template)")
        box.formulas[name] = found
    return box
