"""Open a returned file safely, before any spreadsheet parser sees it.

Sniffs what the file really is, checks the zip (entry count, sizes, compression ratio, headers that agree) and
every XML part (no DTDs or entities, bounded size), finds formulas and the extent of each sheet, so that nothing
later can be made to hang, explode or reach outside the file. The file is read once; an .xlsx's parts are kept,
decompressed and checked, and `stored_zip` gives them back as a zip for the spreadsheet parser, so that it reads
exactly the bytes that were checked.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import posixpath
import re
import struct
import zipfile
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from itertools import compress
from pathlib import Path
from xml.etree import ElementTree
from xml.parsers import expat

from eif_xlsx.cells import BEYOND, a1, col_index, col_letter
from eif_xlsx.errors import ReadError, UsageError
from eif_xlsx.zipwriter import Member, write_zip

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
_XML_PARTS = (".xml", ".rels", ".vml")  # parts read as XML by name (a sheet is also read wherever it is stored)
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
    # sheet -> (max row, max col), zero-based, as far as its cells may reach (Z stands for any narrower width)
    extents: dict[str, tuple[int, int]] = field(default_factory=dict)
    # Every part, decompressed and checked, in zip order, and its CRC-32 (see stored_zip): the reader takes them
    # from here rather than inflating the file again.
    parts: dict[str, bytes] = field(default_factory=dict, repr=False)
    crcs: dict[str, int] = field(default_factory=dict, repr=False)


class _XlsxFormulas(Mapping):
    """Formulas of one sheet by 'A1'. Cells of a shared formula carry its master's text; every cell inside an
    array formula's range is looked up as holding that formula (ranges are kept, not expanded). A formula's text
    is kept as the sheet's bytes and read as text when looked up: most are the template's own, and never are."""

    def __init__(self, cells: dict[str, str | bytes], arrays: list[tuple[int, int, int, int, str]]):
        self._cells, self._arrays = cells, arrays

    def __getitem__(self, key: str) -> str:
        if key in self._cells:
            text = self._cells[key]
            return _text(text) if isinstance(text, bytes) else text
        if self._arrays:
            m = _CELL_REF.fullmatch(key)
            if m and m.group(1) and m.group(2):
                r, c = int(m.group(2)) - 1, col_index(m.group(1))
                for r0, c0, r1, c1, text in self._arrays:
                    if r0 <= r <= r1 and c0 <= c <= c1:
                        return text
        raise KeyError(key)

    def get(self, key: str, default=None):
        if key in self._cells:  # the common case, without raising KeyError
            return self[key]
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


def _unreadable(exc: OSError) -> ReadError:
    return ReadError("not-a-workbook", f"cannot open the file: {exc.strerror or exc}")


def _too_large(size: int) -> ReadError:
    return ReadError("too-large", f"{size / 1e6:.0f} MB is over the {MAX_FILE_BYTES / 1e6:.0f} MB limit")


def xml_guard() -> None:
    """Refuse to run if openpyxl would parse XML without defusedxml (entity expansion, external entities).

    Its switch is read as openpyxl reads it (openpyxl.xml.defusedxml_env_set), without importing openpyxl: reading
    returns does not use it, and importing it took a fifth of an import's start-up. defusedxml itself is imported
    here, so it is there."""
    if os.environ.get("OPENPYXL_DEFUSEDXML", "True") != "True":
        raise UsageError(
            "openpyxl is not using defusedxml (is OPENPYXL_DEFUSEDXML set to False?); "
            "refusing to read workbooks without XML hardening"
        )


def sniff(path: Path) -> str:
    """What the file is by its bytes, whatever its name says."""
    try:
        size = path.stat().st_size
        with path.open("rb") as fh:
            head = fh.read(4096)
    except OSError as exc:
        raise _unreadable(exc) from exc
    if size == 0:
        raise ReadError("not-a-workbook", "the file is empty (0 bytes)")
    if size > MAX_FILE_BYTES:
        raise _too_large(size)
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


def _read_file(path: Path) -> bytes:
    """The whole file, read once (sniff checked its size: at most one byte more is read, should it have grown)."""
    try:
        with path.open("rb", buffering=0) as fh:
            # Asked for the size it has (a read of the limit would first allocate the whole limit).
            raw = fh.read(min(os.fstat(fh.fileno()).st_size, MAX_FILE_BYTES) + 1)
    except OSError as exc:
        raise _unreadable(exc) from exc
    if len(raw) > MAX_FILE_BYTES:
        raise _too_large(len(raw))
    return raw


# --- the zip's parts -----------------------------------------------------------------------------

# signature, version, flags, method, time, date, CRC-32, compressed size, size, name length, extra length
_LOCAL = struct.Struct("<4s5H3I2H")
# signature, made by, version, flags, method, time, date, CRC-32, sizes, name/extra/comment lengths, disk,
# internal and external attributes, offset of the local header
_CENTRAL = struct.Struct("<4s6H3I5H2I")
_END = struct.Struct("<4s4H2IH")  # signature, disks, entries (this disk, all), directory size and offset, comment
_ENCRYPTED, _UTF8_NAME = 0x1, 0x800
_STRONG_ENCRYPTION, _PATCHED = 0x40, 0x20  # zip features no workbook uses, which zipfile refuses to read


def _compressed(raw: bytes, info: zipfile.ZipInfo) -> bytes:
    """The compressed bytes of a part, found through its local header (the zip's directory points there).

    A local header that disagrees with the directory about the name or the method is refused: a reader that goes
    by the local headers would read another part, or read it another way.
    """
    where = info.header_offset
    if not 0 <= where <= len(raw) - _LOCAL.size or not raw.startswith(ZIP_MAGIC, where):
        raise ReadError("damaged", f"part '{info.filename}' cannot be decompressed (its local header is missing)")
    _, _, flags, method, _, _, _, _, _, name_length, extra_length = _LOCAL.unpack_from(raw, where)
    if flags & (_ENCRYPTED | _STRONG_ENCRYPTION):
        raise ReadError("password-protected", "")
    if flags & _PATCHED:
        raise ReadError("damaged", f"part '{info.filename}' is stored as 'patched data', which no workbook uses")
    name = raw[where + _LOCAL.size : where + _LOCAL.size + name_length]
    if (
        name.decode("utf-8" if flags & _UTF8_NAME else "cp437", "replace") != info.orig_filename
        or method != info.compress_type
    ):
        raise ReadError(
            "damaged",
            f"part '{info.filename}' cannot be decompressed (its local header and the zip's "
            "directory disagree about it)",
        )
    start = where + _LOCAL.size + name_length + extra_length
    if start + info.compress_size > len(raw):
        raise ReadError(
            "damaged", f"part '{info.filename}' cannot be decompressed (its data runs past the end of the file)"
        )
    return raw[start : start + info.compress_size]


def _inflate(data: bytes, method: int, cap: int) -> tuple[bytes, str | None]:
    """The part's bytes in one C call, never more than `cap` of them, and why they are not all of it (None if they
    are: a stored part, or a deflate stream that ends within its compressed data)."""
    if method == zipfile.ZIP_STORED:
        return data, None
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    try:
        out = inflater.decompress(data, cap)
    except zlib.error:  # zlib's own words ('Error -3 while decompressing ...') mean nothing to a coordinator
        return b"", "its compressed data is corrupt"
    if not inflater.eof and len(out) < cap:
        return out, "its compressed data ends before the part does"
    return out, None


def _read_part(raw: bytes, info: zipfile.ZipInfo, budget: list[int]) -> bytes:
    """Decompress one part, stopping at the limits whatever the zip headers claim.

    The part is inflated to the real end of its compressed data (not to the size its header claims: zipfile would
    silently cut it there, while another reader may not), so a header that lies about the size is caught.
    """
    if info.flag_bits & (_ENCRYPTED | _STRONG_ENCRYPTION):
        raise ReadError("password-protected", "")
    if info.flag_bits & _PATCHED:
        raise ReadError("damaged", f"part '{info.filename}' is stored as 'patched data', which no workbook uses")
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise ReadError(
            "damaged",
            f"part '{info.filename}' cannot be decompressed (compression method "
            f"{info.compress_type} is not one a workbook uses)",
        )
    limit = min(MAX_PART_BYTES, budget[0])
    # Past this the part is compressed over MAX_RATIO: stop there rather than inflate a bomb up to the part limit.
    ceiling = max(1024 * 1024, MAX_RATIO * info.compress_size)
    out, failed = _inflate(_compressed(raw, info), info.compress_type, min(limit, ceiling) + 1)
    if len(out) > limit:
        if limit < MAX_PART_BYTES:  # the budget of all parts ran out first
            raise ReadError(
                "hostile",
                f"the parts together expand beyond {MAX_TOTAL_BYTES // (1024 * 1024)} MB "
                f"(at part '{info.filename}'; a compression bomb?)",
            )
        raise ReadError(
            "hostile", f"part '{info.filename}' expands beyond {limit // (1024 * 1024)} MB (a compression bomb?)"
        )
    if len(out) > ceiling:
        raise ReadError("hostile", f"part '{info.filename}' is compressed over {MAX_RATIO}:1 (a compression bomb?)")
    if len(out) > info.file_size or (failed is None and len(out) != info.file_size):
        raise ReadError(
            "hostile",
            f"part '{info.filename}' holds {len(out):,} bytes but the zip header says "
            f"{info.file_size:,} (the header lies about its size)",
        )
    if failed is not None:
        raise ReadError("damaged", f"part '{info.filename}' cannot be decompressed ({failed})")
    if zlib.crc32(out) != info.CRC:
        raise ReadError("damaged", f"part '{info.filename}' is corrupt (its checksum does not match)")
    budget[0] -= len(out)
    return out


def stored_zip(box: Container, replaced: Mapping[str, bytes] | None = None) -> bytes:
    """The checked parts of a workbook as a zip of their own, stored (not compressed), in their original order;
    replaced: parts given other bytes (the reader's plain .ods content), in their place.

    Handed to the spreadsheet parser instead of the file, it makes the parser read exactly the bytes that were
    checked (and spares it inflating them again). Built from the sizes and CRCs already known: no recompression.
    """
    replaced = replaced or {}
    members = []
    for name, data in box.parts.items():
        if name in replaced:
            data = replaced[name]
            crc = zlib.crc32(data)
        else:
            crc = box.crcs[name]
        members.append(Member(name, crc, len(data), (data,), stored=True))
    return write_zip(members)


# --- XML -----------------------------------------------------------------------------------------


def _dtd_refused(part: str) -> ReadError:
    return ReadError(
        "hostile",
        f"part '{part}' declares a DTD or entities (XML entity expansion / external "
        "entities are never part of a spreadsheet)",
    )


def _check_xml(name: str, data: bytes) -> None:
    if b"\x00" in data[:64]:
        # UTF-16 or UTF-32, with or without a byte-order mark: look at the ASCII text the NULs interleave.
        data = data.replace(b"\x00", b"")
    # A declaration starts '<!': most parts have no '!' at all, which one C search shows.
    if b"!" in data and (b"<!DOCTYPE" in data or b"<!ENTITY" in data):
        raise _dtd_refused(name)


# What expat raises for XML it cannot read: malformed, or in an encoding it does not know or cannot use.
_UNREADABLE_XML = (expat.ExpatError, LookupError, ValueError)


def _guarded_parser(part: str, **options) -> expat.XMLParserType:
    """An expat parser that refuses any DTD or entity declaration, whatever the bytes check above missed."""
    parser = expat.ParserCreate(**options)

    def refuse(*_args) -> None:
        raise _dtd_refused(part)

    parser.StartDoctypeDeclHandler = parser.EntityDeclHandler = refuse
    return parser


def _elements(part: str, data: bytes) -> list[tuple[int, str, dict[str, str]]]:
    """Every element of a small part as (depth, name, attributes), in order; a name in a namespace is written
    'namespace}name' (expat's own form), as are the attributes'.

    Read with expat directly: the workbook and its relationships need no tree (defusedxml builds one in Python).
    """
    found: list[tuple[int, str, dict[str, str]]] = []
    depth = 0

    def start(tag: str, attrs: dict[str, str]) -> None:
        nonlocal depth
        found.append((depth, tag, attrs))
        depth += 1

    def end(_tag: str) -> None:
        nonlocal depth
        depth -= 1

    parser = _guarded_parser(part, namespace_separator="}")
    parser.StartElementHandler, parser.EndElementHandler = start, end
    try:
        parser.Parse(data, True)
    except _UNREADABLE_XML as exc:
        raise ReadError("damaged", f"part '{part}' is not well-formed XML") from exc
    return found


def _xml(name: str, data: bytes):
    """A part as an element tree, parsed by the standard library's C parser. Safe because _check_xml refused any
    DTD first: with no DTD no entity can be declared, so there is nothing to expand and nothing outside the file to
    fetch (expat itself also caps entity amplification)."""
    _check_xml(name, data)
    try:
        return ElementTree.fromstring(data)
    except ElementTree.ParseError as exc:
        raise ReadError("damaged", f"part '{name}' is not well-formed XML") from exc
    except (LookupError, ValueError) as exc:  # an encoding expat cannot use
        raise ReadError("damaged", f"part '{name}' cannot be read as XML (its encoding is unknown)") from exc


def _element_text(part: str, data: bytes, name: str) -> str | None:
    """The text of the first element called name ('namespace}name', as _elements writes it) in a small part; None
    if there is none. Read with the guarded parser (no DTD, no entity) as _elements reads."""
    _check_xml(part, data)
    depth, inside, text = 0, -1, []

    def start(tag: str, _attrs: dict[str, str]) -> None:
        nonlocal depth, inside
        if inside < 0 and tag == name:
            inside = depth
        depth += 1

    def end(_tag: str) -> None:
        nonlocal depth
        depth -= 1
        if depth == inside:
            raise _Found

    def chars(chunk: str) -> None:
        if inside >= 0:
            text.append(chunk)

    parser = _guarded_parser(part, namespace_separator="}")
    parser.StartElementHandler, parser.EndElementHandler, parser.CharacterDataHandler = start, end, chars
    try:
        parser.Parse(data, True)
    except _Found:
        return "".join(text)
    except _UNREADABLE_XML as exc:
        raise ReadError("damaged", f"part '{part}' is not well-formed XML") from exc
    return None


class _Found(Exception):
    """_element_text has the element's text: the rest of the part is not read."""


# --- when the workbook says it was saved ---------------------------------------------------------

NS_DCTERMS = "http://purl.org/dc/terms/"
NS_DC = "http://purl.org/dc/elements/1.1/"
_CORE_PROPERTIES = "http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties"
_MAX_PROPERTIES_BYTES = 1024 * 1024  # a core.xml or meta.xml is a few hundred bytes
# W3CDTF (ISO 8601's profile that core.xml uses) and xsd:dateTime (ODF's meta.xml): a date, or a date and a time
# to the minute or the second (any fraction), with a zone ('Z', '+01:00') or none (read as UTC).
_W3CDTF = re.compile(
    r"(\d{4})(?:-(\d\d)(?:-(\d\d)(?:[Tt ](\d\d):(\d\d)(?::(\d\d)(?:[.,](\d+))?)?)?)?)?\s*([Zz]|[+-]\d\d:?\d\d)?",
    re.ASCII,
)


def parse_w3cdtf(text: str) -> dt.datetime | None:
    """A W3CDTF / ISO 8601 timestamp as a timezone-aware UTC datetime; None if it is not one (or out of range)."""
    m = _W3CDTF.fullmatch(text.strip())
    if m is None:
        return None
    year, month, day, hour, minute, second, fraction, zone = m.groups()
    try:
        tz = dt.UTC
        if zone and zone not in "Zz":
            sign = -1 if zone[0] == "-" else 1
            digits = zone[1:].replace(":", "")
            if int(digits[2:]) >= 60:
                return None
            tz = dt.timezone(sign * dt.timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))
        hours, seconds = int(hour or 0), min(int(second or 0), 59)  # a leap second (:60) read as :59
        midnight = hours == 24 and not int(minute or 0) and not seconds and not int(fraction or 0)  # 24:00 ends a day
        when = dt.datetime(
            int(year),
            int(month or 1),
            int(day or 1),
            0 if midnight else hours,
            int(minute or 0),
            seconds,
            int((fraction or "0")[:6].ljust(6, "0")),
            tzinfo=tz,
        ) + dt.timedelta(days=1 if midnight else 0)
        return when.astimezone(dt.UTC)
    except (ValueError, OverflowError):
        return None


def saved_time(box: Container) -> dt.datetime | None:
    """When the workbook says it was last saved, as a timezone-aware UTC datetime: an .xlsx's core properties
    (dcterms:modified, in docProps/core.xml or wherever the package's relationships put them), an .ods's meta.xml
    (dc:date). None when the file does not say, or says it in a form that is not a timestamp; never raises (the
    parts were checked by inspect, and a damaged properties part is not the return's problem)."""
    try:
        if box.format == "ods":
            part, name = "meta.xml", f"{NS_DC}}}date"
        else:
            part, name = "docProps/core.xml", f"{NS_DCTERMS}}}modified"
            rels = box.parts.get("_rels/.rels", b"")
            if 0 < len(rels) <= _MAX_PROPERTIES_BYTES:
                for depth, _, rel in _elements("_rels/.rels", rels):
                    target = rel.get("Target", "")
                    if (
                        depth == 1
                        and rel.get("Type") == _CORE_PROPERTIES
                        and target
                        and rel.get("TargetMode", "Internal") == "Internal"
                    ):
                        part = posixpath.normpath(target.lstrip("/"))
                        break
        data = box.parts.get(part, b"")
        if not data or len(data) > _MAX_PROPERTIES_BYTES:
            return None
        text = _element_text(part, data, name)
    except ReadError:
        return None
    return parse_w3cdtf(text) if text else None


# --- the file ------------------------------------------------------------------------------------


def inspect(path: Path) -> Container:
    """Run every safety check; raise ReadError (with a finding code) if the file must be refused."""
    path = Path(path)
    sniff(path)
    raw = _read_file(path)
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError) as exc:
        raise ReadError("damaged", "the zip container is broken or truncated") from exc
    if len(infos) > MAX_ENTRIES:
        raise ReadError("hostile", f"{len(infos)} parts in the zip (limit {MAX_ENTRIES})")
    names = {i.filename for i in infos}
    if len(names) != len(infos):
        twice = next(n for n in names if sum(i.filename == n for i in infos) > 1)
        raise ReadError(
            "hostile", f"the part '{twice}' is stored twice in the zip (readers would disagree about which copy to use)"
        )
    declared = sum(i.file_size for i in infos)
    if declared > MAX_TOTAL_BYTES:
        raise ReadError(
            "hostile",
            f"the parts claim {declared // (1024 * 1024)} MB uncompressed "
            f"(limit {MAX_TOTAL_BYTES // (1024 * 1024)} MB)",
        )
    for i in infos:
        if i.filename.startswith("/") or ".." in i.filename.split("/"):
            raise ReadError("hostile", f"part name '{i.filename}' points outside the file")
    if "mimetype" in names and "content.xml" in names:
        return _inspect_ods(path, raw, infos)
    if "EncryptionInfo" in names or "EncryptedPackage" in names:
        raise ReadError("password-protected", "")
    if "xl/workbook.xml" not in names:
        if "[Content_Types].xml" in names and "word/document.xml" in names:
            raise ReadError("not-a-workbook", "it is a Word document")
        if "[Content_Types].xml" in names and "ppt/presentation.xml" in names:
            raise ReadError("not-a-workbook", "it is a PowerPoint presentation")
        if "xl/workbook.bin" in names:
            raise ReadError(
                "not-a-workbook",
                "it is an Excel Binary Workbook (.xlsb); please save it as an Excel Workbook (.xlsx) and send it again",
            )
        if any(n.startswith("Index/") and n.endswith(".iwa") for n in names):
            raise ReadError(
                "not-a-workbook",
                "it is an Apple Numbers file; in Numbers choose File > Export To > Excel and send the .xlsx",
            )
        if "[Content_Types].xml" in names:
            raise ReadError("damaged", "the workbook part (xl/workbook.xml) is missing")
        raise ReadError("not-a-workbook", "it is a zip archive, not a spreadsheet")
    return _inspect_xlsx(path, raw, infos, names)


def _inspect_xlsx(path: Path, raw: bytes, infos: list[zipfile.ZipInfo], names: set[str]) -> Container:
    macros = "xl/vbaProject.bin" in names or path.suffix.lower() == ".xlsm"
    box = Container(path, "xlsm" if macros else "xlsx", macros=macros)
    budget = [MAX_TOTAL_BYTES]
    parts = box.parts
    for info in infos:
        parts[info.filename] = data = _read_part(raw, info, budget)
        box.crcs[info.filename] = info.CRC
        if info.filename.endswith(_XML_PARTS):
            _check_xml(info.filename, data)
    if "[Content_Types].xml" not in parts:
        raise ReadError("damaged", "the part list ([Content_Types].xml) is missing")
    wb = _elements("xl/workbook.xml", parts["xl/workbook.xml"])
    root = wb[0][1]
    if root == f"{NS_STRICT}}}workbook":
        raise ReadError(
            "not-a-workbook",
            "it is saved as 'Strict Open XML'; please save it as an ordinary Excel Workbook (.xlsx) and send it again",
        )
    if root != f"{NS_MAIN}}}workbook":
        clark = "{" + root if "}" in root else root  # as ElementTree writes it
        raise ReadError("damaged", f"xl/workbook.xml is not a workbook ({clark})")
    rels_name = "xl/_rels/workbook.xml.rels"
    if rels_name not in parts:
        raise ReadError("damaged", f"the part '{rels_name}' is missing")
    targets: dict[str | None, list[str]] = {}
    for depth, _, rel in _elements(rels_name, parts[rels_name]):
        if depth != 1:
            continue
        target = rel.get("Target", "")
        # Resolved as the format says (relative to xl/), and as some readers also accept (from the root): a
        # sheet is checked wherever a reader may find it.
        bare = posixpath.normpath(target.lstrip("/"))
        main = bare if target.startswith("/") else posixpath.normpath(f"xl/{target}")
        targets[rel.get("Id")] = [main] + ([bare] if bare != main else [])
    total_cells = 0
    for sheet in (attrs for _, tag, attrs in wb if tag == f"{NS_MAIN}}}sheet"):
        name = sheet.get("name", "")
        found = [t for t in targets.get(sheet.get(f"{NS_REL}}}id"), []) if t in names]
        if not found:
            part = (targets.get(sheet.get(f"{NS_REL}}}id")) or ["?"])[0]
            raise ReadError("damaged", f"the sheet '{name}' (part '{part}') is missing")
        for i, part in enumerate(found):
            if not part.endswith(_XML_PARTS):
                # Stored under a name that is not .xml: readers follow the relationship, so it is checked too.
                _check_xml(part, parts[part])
            max_r, max_c, formulas = _scan_sheet(name, part, parts[part])
            if i == 0:
                box.sheet_parts[name] = part
                box.extents[name] = (max_r, max_c)
                box.formulas[name] = formulas
                total_cells += (max_r + 1) * (max_c + 1)
        if total_cells > MAX_CELLS:
            raise ReadError(
                "too-large",
                f"the sheets up to '{name}' span {total_cells:,} cells together (limit "
                f"{MAX_CELLS:,}); a return never holds that much",
            )
    return box


# --- sheets --------------------------------------------------------------------------------------

# A sheet is proved well-formed by expat, then scanned as bytes, the same way whoever wrote it (in bulk when it is in
# the plain layout, see _plain_sheet): every start tag whose local name is 'row', 'c' or 'f' (any prefix, inside
# sheetData or not, in a comment or not) is a token, in document order. Counting tags a parser would skip (in a
# comment, a CDATA section, outside sheetData) only makes the extent larger, never smaller: no cell a reader places
# can lie beyond it. A tag that cannot be read to its end is damage. The proof is what makes a byte scan sound:
# calamine itself reads a cell with two 'r' attributes by the second, and a '<' inside an attribute, a row left
# open or a second root element without an error.
_PREFIX = rb"(?:[A-Za-z_][\w.\-]*+:)?"
_VALUE = rb"""(?:"[^"<]*+"|'[^'<]*+')"""
_OTHER_ATTR = rb"""\s++(?!r\s*+=)[^\s=/<>"']++\s*+=\s*+""" + _VALUE  # any attribute but 'r'
_ANY_ATTR = rb"""\s++[^\s=/<>"']++\s*+=\s*+""" + _VALUE
_TOKEN = re.compile(
    rb"<" + _PREFIX + rb"(?:(row|c)(?=[\s/>])(?:" + _OTHER_ATTR + rb")*+"
    rb"""(?:(\s++r\s*+=\s*+)(?:"([^"<]*+)"|'([^'<]*+)')(?:""" + _OTHER_ATTR + rb")*+)?\s*+(/?>)?"
    rb"|(f)(?=[\s/>])((?:" + _ANY_ATTR + rb")*+)\s*+(?:(/>)|(>)([^<]*+))?)"
)
_F_ATTR = re.compile(rb"""(?<![^\s])(t|ref|si)\s*+=\s*+(?:"([^"<]*+)"|'([^'<]*+)')""")
_REFS: dict[bytes, tuple[int, int] | None] = {}  # a cell reference -> (row or -1, column or -1), None if not one


# The plain layout every producer in the corpus writes: each cell's reference first, in full, double-quoted; each
# row numbered; a formula first in its cell. One pass finds every tag of a cell, a row or a formula, in the plain
# form or not (a prefixed one too), and any comment, CDATA section, DTD or processing instruction (a tag might hide
# there): if all are plain, the cells are placed by their references alone, in bulk.
_PLAIN = re.compile(
    rb'<(?:c r="([A-Z]{1,3})([1-9][0-9]{0,6})"'
    rb"""(?:[^>]*+(?<!/)>\s*+(<f)((?:\s++[^\s=/<>"']++\s*+=\s*+(?:"[^"<]*+"|'[^'<]*+'))*+)\s*+"""
    rb"(?:/>|>([^<]*+)</f\s*+>))?"
    rb'|row r="[0-9]{1,9}"[\s/>]'
    rb"|((?:c|row|f)(?=[\s/>])|[!?]|[^\s/<>!?:]++:(?:c|row|f)(?=[\s/>])))"
)


def _plain_sheet(data: bytes) -> tuple[int, int, Mapping[str, str]] | None:
    """_scan_sheet's result for a sheet in the plain layout, found in bulk; None if the sheet is in any other layout
    or reaches beyond the limits (the scan then says where)."""
    start = data.find(b"?>") + 2 if data.startswith(b"<?xml") else 0
    tags = _PLAIN.findall(data, start)
    if not tags:
        return -1, -1, {}
    letters, digits, fs, f_attrs, f_texts, other = zip(*tags, strict=True)
    if any(other):
        return None
    rows, columns = set(digits), set(letters)  # a few distinct ones (a row's tag gives b'' to both)
    rows.discard(b"")
    columns.discard(b"")
    max_r = max(map(int, rows), default=0) - 1
    max_c = col_index(max(columns, key=lambda col: (len(col), col)).decode()) if columns else -1
    if max_r >= MAX_ROWS or max_c >= MAX_COLS:
        return None
    cells: dict[str, str | bytes] = {}
    arrays: list[tuple[int, int, int, int, str]] = []
    shared: dict[str, str] = {}
    children: list[tuple[str, str]] = []
    for i in compress(range(len(fs)), fs):
        where, attrs = (letters[i] + digits[i]).decode(), f_attrs[i]
        if b"t" in attrs:
            _formula(
                (int(digits[i]) - 1, col_index(letters[i].decode())),
                attrs,
                _text(f_texts[i]),
                cells,
                arrays,
                shared,
                children,
            )
        else:
            cells[where] = f_texts[i]
    for where, si in children:
        if si in shared:
            cells.setdefault(where, shared[si])
    return max_r, max_c, (_XlsxFormulas(cells, arrays) if cells or arrays else {})


def _scan_sheet(name: str, part: str, data: bytes) -> tuple[int, int, Mapping[str, str]]:
    """Where a sheet's cells reach, worked out as a spreadsheet reader places them, and its formulas.

    A row or cell without an 'r' follows the one before it (as every reader places it); a cell reference may give
    only its column or its row. Returns (max row, max col) zero-based and the formulas by cell; raises 'too-large'
    at the first cell beyond MAX_ROWS x MAX_COLS, before a reader would allocate a grid that big.
    """
    parser = _guarded_parser(part)  # no handlers but the DTD's: expat proves the XML well-formed at C speed
    try:
        parser.Parse(data, True)
    except _UNREADABLE_XML as exc:
        raise ReadError("damaged", f"the sheet '{name}' (part '{part}'): not well-formed XML") from exc
    data = _as_utf8(part, data)
    plain = _plain_sheet(data)
    return plain if plain is not None else _scan_tags(name, part, data)


def _scan_tags(name: str, part: str, data: bytes) -> tuple[int, int, Mapping[str, str]]:
    """_scan_sheet's work on a sheet in any layout, tag by tag (the sheet proved well-formed, in UTF-8)."""
    row = col = max_r = max_c = -1
    cell: tuple[int, int] | None = None
    cells: dict[str, str | bytes] = {}
    arrays: list[tuple[int, int, int, int, str]] = []
    shared: dict[str, str] = {}
    children: list[tuple[str, str]] = []

    def bad(what: str) -> ReadError:
        return ReadError("damaged", f"the sheet '{name}' (part '{part}'): {what}")

    for tag, has_r, ref_dq, ref_sq, end, f, f_attrs, f_empty, f_open, f_text in _TOKEN.findall(data):
        if tag == b"c":
            if not end:
                raise bad("a cell's tag is not well-formed XML")
            if has_r:
                ref = ref_dq or ref_sq
                if ref in _REFS:
                    place = _REFS[ref]
                else:
                    place = _cell_ref(ref)
                    if len(_REFS) < 65536:
                        _REFS[ref] = place
                if place is None:
                    raise bad(f"cell reference '{_text(ref)[:20]}' is not valid")
                r, c = place
                col = c if c >= 0 else col + 1
                cell_row = r if r >= 0 else row
            else:
                col += 1
                cell_row = row
            if cell_row >= MAX_ROWS or col >= MAX_COLS:
                where = _text(ref_dq or ref_sq)[:20] if has_r else f"{col_letter(col)}{cell_row + 1}"
                raise ReadError(
                    "too-large",
                    f"the sheet '{name}' has a cell at {where} (row {cell_row + 1:,}, column "
                    f"{col + 1:,}); a return never reaches that far (cells far outside "
                    "the template)",
                    sheet=name,
                    cell=where if len(where) <= 10 else "",
                )
            cell = (cell_row, col) if end == b">" else None
            if cell_row > max_r:
                max_r = cell_row
            if col > max_c:
                max_c = col
        elif tag == b"row":
            if not end:
                raise bad("a row's tag is not well-formed XML")
            if has_r:
                number = _text(ref_dq or ref_sq)
                if not (number.isdigit() and number.isascii()):
                    raise bad(f"row number '{number[:20]}' is not valid")
                row = int(number) - 1 if len(number) < 10 else BEYOND
            else:
                row += 1
            col, cell = -1, None
        elif f:
            if not (f_empty or f_open):
                raise bad("a formula's tag is not well-formed XML")
            if cell is None:  # not inside a cell (an extension's formula, or a cell already closed)
                continue
            if b"t" in f_attrs:  # perhaps shared or an array ('t'): its attributes are read
                _formula(cell, f_attrs, _text(f_text), cells, arrays, shared, children)
            else:
                cells[f"{col_letter(cell[1])}{cell[0] + 1}"] = f_text
            cell = None  # a cell holds one formula
    for where, si in children:
        if si in shared:
            cells.setdefault(where, shared[si])
    return max_r, max_c, (_XlsxFormulas(cells, arrays) if cells or arrays else {})


def _formula(
    cell: tuple[int, int],
    attrs: bytes,
    text: str,
    cells: dict[str, str | bytes],
    arrays: list[tuple[int, int, int, int, str]],
    shared: dict[str, str],
    children: list[tuple[str, str]],
) -> None:
    """Record a cell's formula: a shared one's master text is kept for the cells that refer to it; an array formula
    covers its range."""
    found = {k.decode(): _text(dq or sq) for k, dq, sq in _F_ATTR.findall(attrs)} if attrs else {}
    row, col = cell
    where = f"{col_letter(col)}{row + 1}"
    kind = found.get("t", "")
    if kind == "shared" and not text:
        children.append((where, found.get("si", "")))
        return
    if kind == "shared":
        shared.setdefault(found.get("si", ""), text)
    cells[where] = text
    m = _RANGE_REF.fullmatch(found.get("ref", "")) if kind == "array" else None
    if m and m.group(3):
        arrays.append((int(m.group(2)) - 1, col_index(m.group(1)), int(m.group(4)) - 1, col_index(m.group(3)), text))


def _cell_ref(raw: bytes) -> tuple[int, int] | None:
    """(row, column) zero-based of a cell reference as an 'r' attribute holds it, -1 for a part it leaves out."""
    m = _CELL_REF.fullmatch(_text(raw))
    if not m or not (m.group(1) or m.group(2)) or not m.group(0).isascii():
        return None
    digits = m.group(2)
    return (int(digits) - 1 if len(digits) < 10 else BEYOND) if digits else -1, col_index(m.group(1)) if m.group(
        1
    ) else -1


def _text(raw: bytes) -> str:
    """An attribute's value or an element's text as XML means it (entity and character references replaced)."""
    text = raw.decode("utf-8", errors="replace")
    return _unescaped(text) if "&" in text else text


# The references a well-formed part without a DTD can hold (expat refuses any other): the five predefined entities
# and character references.
_XML_REFERENCE = re.compile(r"&(?:#x([0-9a-fA-F]+)|#([0-9]+)|(amp|lt|gt|quot|apos));")
_XML_ENTITIES = {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "apos": "'"}


def _xml_reference(m: re.Match) -> str:
    if m.group(3):
        return _XML_ENTITIES[m.group(3)]
    return chr(int(m.group(1), 16) if m.group(1) else int(m.group(2)))


def _unescaped(text: str) -> str:
    if "&#" in text:
        return _XML_REFERENCE.sub(_xml_reference, text)
    return (
        text.replace("&quot;", '"')
        .replace("&apos;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
    )  # '&amp;' last: '&amp;lt;' is '&lt;'


def _as_utf8(part: str, data: bytes) -> bytes:
    """A part in UTF-16 or UTF-32 (which XML allows), as UTF-8, so that its tags can be found as bytes."""
    if b"\x00" not in data[:64] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data
    boms = (
        (b"\xff\xfe\x00\x00", "utf-32"),
        (b"\x00\x00\xfe\xff", "utf-32"),
        (b"\xff\xfe", "utf-16"),
        (b"\xfe\xff", "utf-16"),
    )
    codec = next((name for bom, name in boms if data.startswith(bom)), None)
    if codec is None:  # no byte-order mark: the zero bytes around the first '<' say which
        codec = {
            b"<\x00\x00\x00": "utf-32-le",
            b"\x00\x00\x00<": "utf-32-be",
            b"<\x00": "utf-16-le",
            b"\x00<": "utf-16-be",
        }.get(data[:4]) or {b"<\x00": "utf-16-le", b"\x00<": "utf-16-be"}.get(data[:2])
        if codec is None:
            raise ReadError("damaged", f"part '{part}' is in an encoding XML does not allow")
    try:
        return data.decode(codec).encode("utf-8")
    except UnicodeError as exc:
        raise ReadError("damaged", f"part '{part}' cannot be decoded (it is not in the encoding it declares)") from exc


_ODS_TABLE_NS = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
_ODS_OFFICE_NS = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"
# A cell calamine reads as holding something: any of these attributes (not only office:value-type: a cell with
# only office:value or table:formula is read as a value too), or content (an element that is not closed at once).
# The tag scan goes by the words 'value' and 'formula' anywhere in a cell's tag (never fewer cells); the tree reading
# by these names.
_ODS_FILLED = frozenset(
    {
        b"office:value-type",
        b"office:value",
        b"office:string-value",
        b"office:date-value",
        b"office:time-value",
        b"office:boolean-value",
        b"table:formula",
    }
)
# The start tags of tables, rows and cells (their attributes: any text, quoted values holding '/' or '>' too; a cell
# whose end tag follows at once holds nothing) and the end tags of tables.
_ODS_TOKEN = re.compile(
    rb"<table:(table-row|table-cell|covered-table-cell|table)(?=[\s/>])"
    rb"""((?:[^/>"']++|"[^"]*+"|'[^']*+'|/(?!>))*+)(/>|>(?:\s*+</table:(?:covered-)?table-cell\s*+>)?)"""
    rb"|</table:table\s*+>"
)
_ODS_ATTR = re.compile(rb"""([^\s=/<>"']++)\s*+=\s*+(?:"([^"<]*+)"|'([^'<]*+)')""")
_ODS_SKIPPED = re.compile(rb"<!--.*?-->|<!\[CDATA\[.*?\]\]>|<\?.*?\?>", re.DOTALL)  # no element tags inside
_ODS_DECLARATION = re.compile(rb"""<\?xml[^>]*?encoding\s*=\s*["']([^"']*)""")
_XMLNS = re.compile(rb"""xmlns(?::([^\s=/<>"']+))?\s*=\s*(?:"([^"<]*)"|'([^'<]*)')""")


def _attribute(raw: bytes) -> str:
    """An attribute's value as an XML parser gives it (expat has proved it well-formed): line ends and other white
    space normalised to spaces, then character and entity references replaced."""
    text = raw.decode("utf-8", errors="replace")
    if "\r" in text or "\n" in text or "\t" in text:
        text = text.replace("\r\n", " ").translate({9: 32, 10: 32, 13: 32})
    return _unescaped(text) if "&" in text else text


def _inspect_ods(path: Path, raw: bytes, infos: list[zipfile.ZipInfo]) -> Container:
    box = Container(path, "ods")
    budget = [MAX_TOTAL_BYTES]
    xml: dict[str, bytes] = {}
    for info in infos:
        # Every part, as for an .xlsx: its method, sizes, ratio and checksum; kept for the reader.
        box.parts[info.filename] = data = _read_part(raw, info, budget)
        box.crcs[info.filename] = info.CRC
        if info.filename.endswith(".xml"):
            xml[info.filename] = data
            _check_xml(info.filename, data)
    content = xml.get("content.xml", b"")
    if not content:
        raise ReadError("damaged", "content.xml is missing")
    if b"manifest:encryption-data" in xml.get("META-INF/manifest.xml", b""):
        raise ReadError("password-protected", "")
    # expat proves it well-formed at C speed, with no handlers but the DTD's and those of the text that may look like
    # tags (comments, CDATA sections, processing instructions: called only if there are any)
    parser = _guarded_parser("content.xml")
    hidden: list[bool] = []

    def hiding(*_: str) -> None:
        hidden.append(True)

    parser.CommentHandler = parser.StartCdataSectionHandler = parser.ProcessingInstructionHandler = hiding
    try:
        parser.Parse(content, True)
    except expat.ExpatError as exc:
        raise ReadError("damaged", "part 'content.xml' is not well-formed XML") from exc
    except (LookupError, ValueError) as exc:  # an encoding expat cannot use
        raise ReadError("damaged", "part 'content.xml' cannot be read as XML (its encoding is unknown)") from exc
    text = _as_utf8("content.xml", content)  # as it was (UTF-8 or ASCII), or from UTF-16 or UTF-32
    declared = _ODS_DECLARATION.match(content.removeprefix(b"\xef\xbb\xbf"))
    encoding = declared.group(1).lower() if declared and text is content else b"utf-8"
    usual = encoding in (b"utf-8", b"utf8") and _usual_names(text)
    found = _ods_tables(text, bool(hidden))
    if not usual:
        # Prefixes bound otherwise than every producer binds them, or another encoding: the tables are also read
        # by their namespaces, as a namespace-aware reader would, and each table bounded by both readings.
        for name, (extent, formulas) in _ods_tables_by_tree(content).items():
            seen, more = found.get(name, ((0, 0), {}))
            found[name] = ((max(extent[0], seen[0]), max(extent[1], seen[1])), {**more, **formulas})
    for name, ((max_r, max_c), formulas) in found.items():
        box.extents[name] = (max_r, max_c)
        box.formulas[name] = formulas
    return box


def _usual_names(data: bytes) -> bool:
    """Whether the prefixes table: and office: are bound to the ODF namespaces wherever they are declared, and those
    namespaces to no other prefix (as every producer writes them): then the names calamine goes by (it matches
    'table:table-row', not a namespace) are those a namespace-aware parser sees. A declaration-like text in a cell
    only makes this False (both readings are then made)."""
    for prefix, dq, sq in _XMLNS.findall(data):
        uri = _attribute(dq or sq)
        if prefix in (b"table", b"office") or uri in (_ODS_TABLE_NS, _ODS_OFFICE_NS):
            if (prefix, uri) not in ((b"table", _ODS_TABLE_NS), (b"office", _ODS_OFFICE_NS)):
                return False
    return True


def _too_far(name: str, max_r: int, max_c: int) -> ReadError:
    return ReadError(
        "too-large",
        f"the sheet '{name}' holds cells up to row {max_r + 1}, column {max_c + 1}; "
        "a return never reaches that far (cells far outside the template)",
        sheet=name,
        cell=a1(min(max_r, 10**7), min(max_c, 10**5)),
    )


def _ods_tables(data: bytes, hidden: bool | None = None) -> dict[str, tuple[tuple[int, int], dict[str, str]]]:
    """Each table of an .ods's content.xml: (max row, max col) zero-based that its cells reach, and its formulas by
    cell; raises 'too-large' at the first table reaching beyond MAX_ROWS x MAX_COLS.

    Read from the tags as calamine reads them, by their qualified names, without building a tree: expat has proved
    the part well-formed (so no '<' stands in an attribute or in text, and every tag is found), and comments, CDATA
    sections and processing instructions, which may hold tag-like text, are taken out first (hidden: whether there
    are any, as expat found; None: looked for here). A cell counts as filled as calamine counts it (any value or
    formula attribute) or when it has content; repeats count in full (up to a cap far beyond the limits). A row
    without a filled cell moves the next rows down but reaches nothing itself.
    """
    if hidden or (hidden is None and (b"<!" in data or data.find(b"<?", 1) != -1)):
        data = _ODS_SKIPPED.sub(b"", data)
    tables: dict[str, tuple[tuple[int, int], dict[str, str]]] = {}
    name: str | None = None  # the table being read
    found: dict[str, str] = {}
    r = max_r = max_c = row = rows = 0
    c = -1  # the next cell's column in the current row; -1 outside a row
    filled_row = False
    cells: dict[bytes, tuple[int, bool, bool]] = {}  # a cell's attributes -> (repeat, filled by them, formula)

    def damaged(what: str) -> ReadError:
        return ReadError("damaged", f"the sheet '{name}': {what}" if name is not None else f"content.xml: {what}")

    for tag, attrs, end in _ODS_TOKEN.findall(data):
        if tag == b"table-cell" or tag == b"covered-table-cell":
            if c < 0:
                continue  # not in a row of a table: no reader places it
            if not end:
                raise damaged("a cell's tag is not well-formed XML")
            known = cells.get(attrs)  # a producer writes the same few attribute sets again and again
            if known is None:
                value = _ods_attribute(attrs, b"table:number-columns-repeated") if b"repeated" in attrs else None
                # A value or formula attribute fills the cell (a tag holding 'value' or 'formula' anywhere counts:
                # never fewer cells than calamine reads).
                known = cells[attrs] = (
                    1 if value is None else min(_count(_attribute(value), name), 10**5),
                    b"value" in attrs or b"formula" in attrs,
                    b"formula" in attrs,
                )
            repeat, filled, formula = known
            if filled or len(end) == 1:  # or it has content: '>' and no end tag at once
                filled_row = True
                if c + repeat - 1 > max_c:
                    max_c = c + repeat - 1
                if formula and (raw := _ods_attribute(attrs, b"table:formula")):
                    text = _attribute(raw)
                    found[a1(row, c)] = text.split(":", 1)[1] if text.startswith("of:") else text
            c += repeat
        elif tag == b"table-row":
            if name is None:
                continue
            if not end:
                raise damaged("a row's tag is not well-formed XML")
            if filled_row and row + rows - 1 > max_r:
                max_r = row + rows - 1
            value = _ods_attribute(attrs, b"table:number-rows-repeated") if b"repeated" in attrs else None
            rows = 1 if value is None else min(_count(_attribute(value), name), 10**7)
            row, r, c, filled_row = r, r + rows, 0, False
        elif tag == b"table":
            if name is not None:
                raise damaged("a table inside a table, which no spreadsheet program writes")
            if not end:
                raise damaged("a table's tag is not well-formed XML")
            name = _attribute(_ods_attribute(attrs, b"table:name") or b"")
            found, r, max_r, max_c, row, rows, c, filled_row = {}, 0, 0, 0, 0, 0, -1, False
            if end == b"/>":
                tables[name] = ((0, 0), found)
                name = None
        elif name is not None:  # the table's end
            if filled_row and row + rows - 1 > max_r:
                max_r = row + rows - 1
            tables[name] = ((max_r, max_c), found)
            if max_r >= MAX_ROWS or max_c >= MAX_COLS:
                raise _too_far(name, max_r, max_c)
            name, c = None, -1
    return tables


def _ods_attribute(attrs: bytes, key: bytes) -> bytes | None:
    """The raw value of one attribute of a tag, read attribute by attribute (a value may hold any text but '<')."""
    for name, dq, sq in _ODS_ATTR.findall(attrs):
        if name == key:
            return dq or sq
    return None


def _ods_tables_by_tree(content: bytes) -> dict[str, tuple[tuple[int, int], dict[str, str]]]:
    """The same as _ods_tables, read by namespaces from an element tree (only for files whose prefixes are bound
    unusually, or not in UTF-8)."""
    t, o = f"{{{_ODS_TABLE_NS}}}", f"{{{_ODS_OFFICE_NS}}}"
    cell_tags = {f"{t}table-cell", f"{t}covered-table-cell"}
    rows_repeated, columns_repeated = f"{t}number-rows-repeated", f"{t}number-columns-repeated"
    filled_keys = [
        f"{o}{key[7:].decode()}" if key.startswith(b"office:") else f"{t}{key[6:].decode()}" for key in _ODS_FILLED
    ]
    formula_key = f"{t}formula"
    tables: dict[str, tuple[tuple[int, int], dict[str, str]]] = {}
    for table in _xml("content.xml", content).iter(f"{t}table"):
        name = table.get(f"{t}name", "")
        found: dict[str, str] = {}
        r = max_r = max_c = 0
        for row in table.iter(f"{t}table-row"):
            repeat = row.get(rows_repeated)
            rep_r = 1 if repeat is None else min(_count(repeat, name), 10**7)
            c = 0
            filled = False
            for cell in row:
                if cell.tag not in cell_tags:
                    continue
                repeat = cell.get(columns_repeated)
                rep_c = 1 if repeat is None else min(_count(repeat, name), 10**5)
                text = cell.text
                if len(cell) or (text and not text.isspace()) or any(key in cell.attrib for key in filled_keys):
                    filled = True
                    if c + rep_c - 1 > max_c:
                        max_c = c + rep_c - 1
                    formula = cell.get(formula_key)
                    if formula:
                        found[a1(r, c)] = formula.split(":", 1)[1] if formula.startswith("of:") else formula
                c += rep_c
            if filled:
                max_r = max(max_r, r + rep_r - 1)
            r += rep_r
        tables[name] = ((max_r, max_c), found)
        if max_r >= MAX_ROWS or max_c >= MAX_COLS:
            raise _too_far(name, max_r, max_c)
    return tables


def _count(text: str, sheet: str | None) -> int:
    """A repeat count of an .ods row or cell; anything but a positive whole number is damage."""
    if not (text.isascii() and text.isdigit()) or int(text[:10]) < 1:
        raise ReadError("damaged", f"the sheet '{sheet}' has a repeat count '{text[:20]}' that is not a number")
    return int(text[:10])
