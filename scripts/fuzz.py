"""The project's fuzz harness: mutated returns, mixed with good ones, through the real `eif-xlsx` command.

    python scripts/fuzz.py --seed 1 --n 10000            # the campaign of issue 18
    python scripts/fuzz.py --seed 1 --n 10000 --only 4711  # one mutant again (the reproduction of a failure)

Seeds come from tests/realworld.py (returns typed with openpyxl and saved by LibreOffice as .xlsx and .ods, by
Gnumeric, by openpyxl and by the project's own writer, some wrapped in .eml/.msg), each with the answers typed into
it. Mutant i of seed S is made from `random.Random(f"{S}:{i}")` alone, so any one can be made again on its own.
Mutants are mutated at byte, zip-entry, XML-part, cell-value and metadata level, and some are wrapped in a saved
e-mail (.eml, or an Outlook .msg, sometimes one inside another) under an odd attachment name, or in an e-mail
whose MIME structure is hostile (deep nesting, long forwarding chains, tens of thousands of parts, an unclosed
boundary, a header bomb).

Mutants go in batches, each with a few good returns whose answers are known, through `eif-xlsx validate --json`
and `eif-xlsx import` as subprocesses (a fresh TMPDIR each, a memory limit, a time limit). Counted:

- crashes: an exit code other than 0/1, or no report (validate's JSON, import's summary.json);
- tracebacks: a Python traceback in the output, or an exception name or raw library error text in a finding;
- hangs: a command over its time limit;
- unreported: an input missing from the report, or rejected without a reason;
- lost: a good return not accepted, or not imported with exactly the values typed into it;
- leftovers: anything left in the TMPDIR, or attachments left in the output folder, after a command.

The last line printed holds the counts. Every failure is saved (--keep) with the seed, and a one-line
reproduction goes to failures.txt there.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import email.policy
import io
import json
import os
import random
import re
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
import zipfile
import zlib
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

import realworld  # noqa: E402  (tests/realworld.py: the corpus of real returns)
from msgfile import build_msg  # noqa: E402  (tests/msgfile.py: a minimal Outlook .msg writer)

MEMORY = 3 * 1024**3  # address space of each command run
CATEGORIES = ("crashes", "tracebacks", "hangs", "unreported", "lost", "leftovers")
#: What never belongs in a finding: Python's own words, and library error texts passed through raw.
LEAKS = re.compile(
    r"Traceback \(most recent call last\)|\b[A-Z][A-Za-z]*(?:Error|Exception|Warning)\b(?::|\()|BadZipFile|"
    r"StopIteration|NotImplemented|PanicException|pyo3|\[Errno|<class '|object at 0x|"
    r"line \d+, column \d+|codec can't|while decompressing|invalid (?:stored block|distance|code|block type)|"
    r"incorrect header check|unclosed token|mismatched tag|junk after document|invalid token|"
    r"undefined entity|not a zip file|Bad magic number"
)
TICK_VALUE = "ticked"
_SURROGATE = re.compile("[\ud800-\udfff]")


# --- seeds -----------------------------------------------------------------------------------------


@dataclass
class Seed:
    path: Path
    source: str
    expected: dict
    data: bytes = field(repr=False, default=b"")


def corpus(folder: Path, n: int, seed: int, replace: bool = True) -> list[Seed]:
    """The seeds: real returns built once into folder (replace: a corpus of other parameters there is made again,
    else refused, as for a folder the caller named)."""
    out = []
    try:
        built = realworld.build(folder, n, seed, replace=replace)
    except ValueError as exc:
        raise SystemExit(f"fuzz: {exc}") from None
    for r in built:
        out.append(Seed(r.path, r.source, r.expected, r.path.read_bytes()))
    return out


# --- a zip of our own making (headers free to lie) -----------------------------------------------

_LOCAL = struct.Struct("<4s5H3I2H")
_CENTRAL = struct.Struct("<4s6H3I5H2I")
_END = struct.Struct("<4s4H2IH")


def deflate(data: bytes) -> bytes:
    c = zlib.compressobj(6, zlib.DEFLATED, -15)
    return c.compress(data) + c.flush()


def entries_of(data: bytes) -> list[dict] | None:
    """The parts of a zip as editable entries; None if it is not a readable zip."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            return [{"name": i.filename.encode(), "data": zf.read(i), "method": i.compress_type} for i in zf.infolist()]
    except Exception:
        return None


def build_zip(entries: list[dict], comment: bytes = b"") -> bytes:
    body, directory = [], []
    offset = 0
    for e in entries:
        name, data, method = e["name"], e["data"], e.get("method", zipfile.ZIP_DEFLATED)
        comp = e["comp"] if "comp" in e else (deflate(data) if method == zipfile.ZIP_DEFLATED else data)
        crc = e.get("crc", zlib.crc32(data))
        size, csize = e.get("size", len(data)), e.get("csize", len(comp))
        flags = e.get("flags", 0 if name.isascii() else 0x800)
        lname = e.get("local_name", name)
        lmethod = e.get("local_method", method)
        local = _LOCAL.pack(b"PK\x03\x04", 20, flags, lmethod, 0, 0x21, crc, csize, size, len(lname), 0) + lname
        body += [local, comp]
        directory.append(
            _CENTRAL.pack(
                b"PK\x01\x02",
                20,
                20,
                flags,
                method,
                0,
                0x21,
                crc,
                csize,
                size,
                len(name),
                0,
                0,
                0,
                0,
                0,
                e.get("offset", offset),
            )
            + name
        )
        offset += len(local) + len(comp)
    cd = b"".join(directory)
    end = _END.pack(b"PK\x05\x06", 0, 0, len(entries), len(entries), len(cd), offset, len(comment)) + comment
    return b"".join(body) + cd + end


_BOMB: dict[int, tuple[bytes, int]] = {}


def zeros_deflated(size: int) -> tuple[bytes, int]:
    """`size` zero bytes deflated, and their CRC (made once, streaming)."""
    if size not in _BOMB:
        c = zlib.compressobj(9, zlib.DEFLATED, -15)
        chunk = bytes(1 << 20)
        parts, crc = [], 0
        for _ in range(size >> 20):
            parts.append(c.compress(chunk))
            crc = zlib.crc32(chunk, crc)
        parts.append(c.flush())
        _BOMB[size] = (b"".join(parts), crc)
    return _BOMB[size]


# --- mutators --------------------------------------------------------------------------------------
# Each takes (rng, data, ext) and gives (data, ext, label); ext is the name's suffix the mutant is saved under.

WEIRD_TEXT = (
    "",
    " ",
    "\t",
    "x" * 40000,
    "é" * 5000,
    "😀👍🏽",
    "\u202etxet lanigiro",
    "=cmd|' /C calc'!A0",
    "+SUM(1,1)",
    "@IMPORT",
    "-1e309",
    "1e308",
    "NaN",
    "inf",
    "-0",
    "0x1F",
    "１２",
    "\u00a0\u200b",
    "line\nbreak",
    "\r",
    "_x0001_",
    "_x0000_",
    "_xD800_",
    "'",
    '"',
    "<>&",
    "]]>",
    "✓✓",
    "Ü",
    "þ",
    "9999-12-31",
    "0000-00-00",
    "31/02/2026",
    "2026-13-45",
    "TRUE",
    "#DIV/0!",
    "\\\\server\\share",
)
WEIRD_NUMBERS = (
    "1e308",
    "-1e308",
    "1e-320",
    "NaN",
    "INF",
    "-0",
    "2958466",
    "-1",
    "0",
    "1.7976931348623157e309",
    "99999999999999999999999999",
    "",
    " ",
    "abc",
    "1,5",
    "0x10",
    "1e",
    "--1",
)
BAD_XML_BITS = (
    b"\x01",
    b"&#1;",
    b"&#xD800;",
    b"&#55296;",
    b"&#xDFFF;",
    b"\xed\xa0\x80",
    b"\xff\xfe",
    b"\xc3",
    b"&#x110000;",
    b"&#0;",
    b"\x00",
    b"&bogus;",
    b"]]>",
    b"<![CDATA[x",
    b"<!-- x",
    b"<?pi x?>",
    b"&#xFFFE;",
    b"\xef\xbf\xbe",
)
ENTITIES = (
    b'<!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
    b'<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">]>',
    b'<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>',
    b'<!DOCTYPE r SYSTEM "http://example.invalid/x.dtd">',
    b'<!DOCTYPE r [<!ENTITY % p SYSTEM "file:///etc/hostname"> %p;]>',
)
ATTACHMENT_NAMES = (
    "x" * 300 + ".xlsx",
    "é" * 200 + ".xlsx",
    "../../../etc/return.xlsx",
    "..\\..\\return.xlsx",
    "a/b/c.xlsx",
    "/abs/path.xlsx",
    "C:\\Users\\x\\return.xlsx",
    "CON.xlsx",
    "nul.xlsx",
    "com1.xlsx",
    "aux.ods",
    "return\x00.xlsx",
    ".xlsx",
    "   .xlsx",
    ".",
    "..",
    "return.xlsx.",
    "return .xlsx ",
    "ret\nurn.xlsx",
    "ret\x7furn.xlsx",
    "😀.xlsx",
    "return.XLSX",
    "return.ods",
    "return.xlsm",
    "~$return.xlsx",
    ".hidden.xlsx",
    "summary.xlsx",
    "manifest.csv.xlsx",
    "return.xls",
    "a" * 255 + ".xlsx",
)
XLSX_PARTS = re.compile(rb"\.(?:xml|rels|vml)$")


def m_flip(rng, data, ext):
    buf = bytearray(data)
    for _ in range(rng.choice((1, 1, 2, 4, 16, 64))):
        buf[rng.randrange(len(buf))] ^= 1 << rng.randrange(8)
    return bytes(buf), ext, "byte-flip"


def m_truncate(rng, data, ext):
    return data[: rng.randrange(len(data))], ext, "truncate"


def m_insert(rng, data, ext):
    at = rng.randrange(len(data))
    junk = rng.choice((rng.randbytes(rng.randrange(1, 200)), b"PK\x03\x04", b"PK\x05\x06" + bytes(18), b"\x00" * 4096))
    return data[:at] + junk + data[at:], ext, "byte-insert"


def m_zero(rng, data, ext):
    at = rng.randrange(len(data))
    n = rng.randrange(1, 2000)
    return data[:at] + bytes(min(n, len(data) - at)) + data[at + n :], ext, "byte-zero"


def m_dup_slice(rng, data, ext):
    at = rng.randrange(len(data))
    n = rng.randrange(1, 5000)
    return data[:at] + data[at : at + n] * rng.randrange(2, 4) + data[at:], ext, "byte-dup"


def _with_entries(fn):
    def mutate(rng, data, ext):
        entries = entries_of(data)
        if not entries:
            return m_flip(rng, data, ext)
        label = fn(rng, entries)
        return build_zip(entries), ext, label

    mutate.__name__ = fn.__name__
    return mutate


@_with_entries
def z_rename(rng, entries):
    e = rng.choice(entries)
    e["name"] = rng.choice(
        (
            b"x" * 70000,
            b"../" + e["name"],
            b"/" + e["name"],
            e["name"] + b"\x00junk",
            e["name"].replace(b"/", b"\\"),
            e["name"].upper(),
            b"",
            "ë/ü.xml".encode(),
            b"\xff\xfe" + e["name"],
            e["name"] + b"/",
        )
    )[:65535]
    return "zip-rename"


@_with_entries
def z_size_lie(rng, entries):
    e = rng.choice(entries)
    key = rng.choice(("size", "csize", "crc"))
    e[key] = rng.choice((0, 1, len(e["data"]) // 2, len(e["data"]) + 1, 0xFFFFFFFF, rng.randrange(1 << 32)))
    return f"zip-{key}-lie"


@_with_entries
def z_method(rng, entries):
    e = rng.choice(entries)
    method = rng.choice((1, 6, 9, 12, 14, 93, 95, 98, 99, 0, 8, 65535))
    if method in (0, 8):
        e["comp"] = e["data"] if method == 8 else deflate(e["data"])  # the data the other way round
    if rng.random() < 0.3:
        e["local_method"] = rng.choice((0, 8, 12))
    e["method"] = method
    return "zip-method"


@_with_entries
def z_flags(rng, entries):
    e = rng.choice(entries)
    e["flags"] = rng.choice((0x1, 0x8, 0x40, 0x2000, 0xFFFF, 0x800 | 0x1, 0x6))
    return "zip-flags"


@_with_entries
def z_duplicate(rng, entries):
    e = rng.choice(entries)
    twin = dict(e)
    if rng.random() < 0.5:
        twin["data"] = twin["data"][::-1][:1000]
    entries.insert(rng.randrange(len(entries) + 1), twin)
    return "zip-duplicate"


@_with_entries
def z_drop(rng, entries):
    entries.pop(rng.randrange(len(entries)))
    return "zip-drop"


@_with_entries
def z_truncate_entry(rng, entries):
    e = rng.choice(entries)
    comp = deflate(e["data"]) if e.get("method", 8) == 8 else e["data"]
    e["comp"] = comp[: rng.randrange(max(1, len(comp)))]
    e["csize"] = len(comp)
    return "zip-truncate-entry"


@_with_entries
def z_local_name(rng, entries):
    e = rng.choice(entries)
    e["local_name"] = rng.choice(entries)["name"] if rng.random() < 0.5 else e["name"][::-1]
    return "zip-local-name"


@_with_entries
def z_many(rng, entries):
    for i in range(rng.choice((500, 2100, 5000))):
        entries.append({"name": f"customXml/item{i}.xml".encode(), "data": b"<a/>"})
    return "zip-many-entries"


@_with_entries
def z_bomb(rng, entries):
    size = rng.choice((64 << 20, 300 << 20))
    comp, crc = zeros_deflated(size)
    target = rng.choice(entries)
    lie = rng.random() < 0.3
    entries.append(
        {
            "name": target["name"] if rng.random() < 0.3 else b"xl/media/bomb.bin",
            "data": b"",
            "comp": comp,
            "crc": crc,
            "size": 1000 if lie else size,
            "method": 8,
        }
    )
    if rng.random() < 0.5:
        entries.remove(target)
        entries[-1]["name"] = target["name"]
    return "zip-bomb"


@_with_entries
def z_offset(rng, entries):
    e = rng.choice(entries)
    e["offset"] = rng.choice((0, 1, 0xFFFFFFFF, rng.randrange(1 << 20)))
    return "zip-offset"


@_with_entries
def z_shuffle(rng, entries):
    rng.shuffle(entries)
    return "zip-shuffle"


def _xml_part(rng, entries) -> dict | None:
    xml = [e for e in entries if XLSX_PARTS.search(e["name"]) and e["data"]]
    if not xml:
        return None
    sheets = [e for e in xml if b"sheet" in e["name"] or e["name"] in (b"content.xml", b"xl/sharedStrings.xml")]
    return rng.choice(sheets) if sheets and rng.random() < 0.7 else rng.choice(xml)


def _xml_edit(fn):
    def mutate(rng, entries):
        e = _xml_part(rng, entries)
        if e is None:
            return "xml-none"
        e["data"] = fn(rng, e["data"])
        return f"{fn.__name__.replace('_', '-')}:{e['name'].decode('utf-8', 'replace')[:40]}"

    mutate.__name__ = fn.__name__
    return _with_entries(mutate)


_TAG = re.compile(rb"<([A-Za-z][\w:.-]*)[^<>]*?(/?)>")


def _element(rng, data: bytes) -> tuple[int, int] | None:
    tags = list(_TAG.finditer(data))
    if not tags:
        return None
    m = rng.choice(tags)
    if m.group(2):
        return m.start(), m.end()
    end = data.find(b"</" + m.group(1) + b">", m.end())
    return (m.start(), end + len(m.group(1)) + 3) if end != -1 else (m.start(), m.end())


def xml_delete(rng, data):
    span = _element(rng, data)
    return data if span is None else data[: span[0]] + data[span[1] :]


def xml_dup(rng, data):
    span = _element(rng, data)
    if span is None:
        return data
    piece = data[span[0] : span[1]]
    return data[: span[1]] + piece * rng.choice((1, 2, 50)) + data[span[1] :]


def xml_entity(rng, data):
    decl = rng.choice(ENTITIES)
    head = data.find(b"?>") + 2 if data.startswith(b"<?xml") else 0
    out = data[:head] + decl + data[head:]
    if rng.random() < 0.5:  # and use it
        span = _element(rng, out[head + len(decl) :])
        if span:
            at = head + len(decl) + span[1]
            out = out[:at] + rng.choice((b"&d;", b"&x;", b"&a;")) + out[at:]
    return out


def xml_deep(rng, data):
    depth = rng.choice((1000, 100_000, 1_000_000))
    tag = rng.choice((b"a", b"c", b"row", b"si", b"table:table-row"))
    span = _element(rng, data)
    at = span[1] if span else len(data)
    return data[:at] + (b"<" + tag + b">") * depth + (b"</" + tag + b">") * depth + data[at:]


def xml_badchar(rng, data):
    at = rng.randrange(len(data))
    gt = data.rfind(b">", 0, at)
    at = gt + 1 if gt != -1 else at  # in text, mostly
    return data[:at] + rng.choice(BAD_XML_BITS) + data[at:]


def xml_encoding(rng, data):
    decl = rng.choice(
        (
            b'<?xml version="1.0" encoding="UTF-16"?>',
            b'<?xml version="1.0" encoding="bogus-8"?>',
            b'<?xml version="1.0" encoding="ISO-8859-1"?>',
            b'<?xml version="1.1"?>',
            b"\xef\xbb\xbf",
            b"",
        )
    )
    body = data.split(b"?>", 1)[1] if data.startswith(b"<?xml") else data
    if rng.random() < 0.3:
        return b"\xff\xfe" + (b'<?xml version="1.0" encoding="UTF-16"?>' + body).decode("utf-8", "replace").encode(
            "utf-16-le"
        )
    return decl + body


def xml_attr(rng, data):
    attrs = list(re.finditer(rb'\s([\w:]+)="([^"]*)"', data))
    if not attrs:
        return data
    m = rng.choice(attrs)
    value = rng.choice(
        (
            b"",
            b"0",
            b"-1",
            b"A0",
            b"XFD1048577",
            b"AAAAAAAAAAAA1",
            b"99999999999999",
            b"1048576",
            b"s",
            b"str",
            b"e",
            b"b",
            b"d",
            b"inlineStr",
            b"n",
            b"../../../etc/passwd",
            b"/xl/x.xml",
            b"\xc3\x28",
            b"&#xD800;",
            b"rId9999",
            b"x" * 5000,
            b"1:99999",
            b"A1:XFD1048576",
            b"shared",
            b"array",
            b"1e999",
            b"4294967296",
        )
    )
    return data[: m.start(2)] + value + data[m.end(2) :]


def xml_strings(rng, data):
    many = rng.choice((10_000, 200_000))
    item = rng.choice((b"<si><t>x</t></si>", b"<si><t>" + b"y" * 2000 + b"</t></si>", b"<si/>"))
    at = data.rfind(b"</")
    return data[:at] + item * many + data[at:] if at != -1 else data


def cell_value(rng, data):
    """A value in a sheet, the shared strings or an .ods cell replaced with something a partner could type."""
    choices = list(re.finditer(rb"<(t|v|text:p)(?:\s[^>]*)?>([^<]*)</\1>", data))
    if choices:
        m = rng.choice(choices)
        numeric = m.group(1) == b"v"
        text = rng.choice(WEIRD_NUMBERS if numeric and rng.random() < 0.7 else WEIRD_TEXT)
        value = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").encode("utf-8", "surrogatepass")
        data = data[: m.start(2)] + value + data[m.end(2) :]
    values = list(re.finditer(rb'office:(?:value|date-value|boolean-value)="([^"]*)"', data))
    if values and rng.random() < 0.5:
        m = rng.choice(values)
        data = data[: m.start(1)] + rng.choice(WEIRD_NUMBERS).encode() + data[m.end(1) :]
    types = list(re.finditer(rb'\bt="(\w+)"', data))
    if types and rng.random() < 0.3:
        m = rng.choice(types)
        data = (
            data[: m.start(1)]
            + rng.choice((b"s", b"str", b"b", b"e", b"d", b"n", b"inlineStr", b"z"))
            + data[m.end(1) :]
        )
    return data


def metadata(rng, data):
    """The hidden metadata and the file's properties: ids, versions, checksums, sheet names changed."""
    targets = [
        rb"maternity-early-years",
        rb"P00-\d{4}",
        rb"[0-9a-f]{16,64}",
        rb"eif-xlsx metadata",
        rb"definition_\w+",
        rb"layout_\w+",
        rb"template_\w+",
        rb"2020-11",
        rb"baseline",
        rb"Overview",
        rb"<dc:\w+>[^<]*",
        rb"<cp:\w+>[^<]*",
        rb'state="hidden"',
        rb'state="veryHidden"',
        rb"Cover",
    ]
    pattern = re.compile(rng.choice(targets))
    found = list(pattern.finditer(data))
    if not found:
        return cell_value(rng, data)
    m = rng.choice(found)
    repl = rng.choice(
        (
            b"",
            b"maternity-early-years-copy",
            b"P00-9999",
            b"0" * 64,
            b"x" * 300,
            b"\xc3\xa9" * 3,
            b'state="visible"',
            b"unknown-matrix",
            b"Cover ",
            b"2099-01",
        )
    )
    return data[: m.start()] + repl + data[m.end() :]


MUTATORS = {
    "byte": (m_flip, m_truncate, m_insert, m_zero, m_dup_slice),
    "zip": (
        z_rename,
        z_size_lie,
        z_method,
        z_flags,
        z_duplicate,
        z_drop,
        z_truncate_entry,
        z_local_name,
        z_many,
        z_bomb,
        z_offset,
        z_shuffle,
    ),
    "xml": tuple(
        _xml_edit(f)
        for f in (xml_delete, xml_dup, xml_entity, xml_deep, xml_badchar, xml_encoding, xml_attr, xml_strings)
    ),
    "cell": (_xml_edit(cell_value),),
    "metadata": (_xml_edit(metadata),),
}
LEVELS = (("byte", 0.18), ("zip", 0.22), ("xml", 0.25), ("cell", 0.17), ("metadata", 0.1), ("wrap", 0.08))


def wrap(rng, data: bytes, ext: str, name: str) -> tuple[bytes, str, str]:
    """The mutant inside a saved e-mail (.eml or .msg), under an odd attachment name, sometimes twice or nested."""
    att = rng.choice(ATTACHMENT_NAMES) if rng.random() < 0.7 else name + ext
    files = [(att, data)]
    if rng.random() < 0.2:
        files.append((att, data))  # the same name twice
    if rng.random() < 0.1:
        files += [(f"part{i}.xlsx", data[: rng.randrange(1, len(data) + 1)]) for i in range(rng.choice((3, 30)))]
    kind = rng.choice(("eml", "eml", "msg", "msg-in-msg", "eml-in-eml", "msg-in-eml", "mime", "mime"))
    if kind == "mime":
        return _mime_bomb(files, rng)
    if kind == "eml":
        return _eml(files, rng), ".eml", "wrap-eml"
    if kind == "msg":
        return build_msg("partner@example.org", files), ".msg", "wrap-msg"
    inner = build_msg("inner@example.org", files) if kind.startswith("msg") else _eml(files, rng)
    inner_name = "forwarded.msg" if kind.startswith("msg") else "forwarded.eml"
    if kind.endswith("in-msg"):
        return build_msg("outer@example.org", [(inner_name, inner)]), ".msg", f"wrap-{kind}"
    return _eml([(inner_name, inner)], rng, nested=kind == "eml-in-eml"), ".eml", f"wrap-{kind}"


def _mime_bomb(files, rng) -> tuple[bytes, str, str]:
    """The files in an e-mail whose MIME structure is hostile: multiparts nested deeper than any parser's stack,
    a chain of forwarded messages, tens of thousands of empty parts, a boundary never closed, a header of 200,000
    encoded words. Written by hand: the email package would not write most of them."""
    kind = rng.choice(("deep", "forwarded", "parts", "unclosed", "header"))
    leaves = "".join(
        f"--B\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n"
        f'Content-Disposition: attachment; filename="{re.sub(r"[^A-Za-z0-9 ._-]", "_", name) or "x.xlsx"}"\r\n\r\n'
        + base64.encodebytes(data).decode("ascii").replace("\n", "\r\n")
        + "\r\n"
        for name, data in files
    )
    body, headers = leaves + "--B--\r\n", "From: Partner <partner@example.org>\r\nMIME-Version: 1.0\r\n"
    if kind == "deep" or kind == "forwarded":
        depth = rng.choice((8, 60, 3000)) if kind == "deep" else rng.choice((3, 6, 12))
        body = f'Content-Type: multipart/mixed; boundary="B"\r\n\r\n{body}'
        if kind == "deep":  # the outermost first
            opened = (f'Content-Type: multipart/mixed; boundary="N{i}"\r\n\r\n--N{i}\r\n' for i in range(depth))
            closed = (f"\r\n--N{i}--\r\n" for i in reversed(range(depth)))
            body = "".join(opened) + body + "".join(closed)
        else:
            body = f"Content-Type: message/rfc822\r\n\r\n{headers}" * depth + body
        return (headers + body).encode("ascii"), ".eml", f"wrap-mime-{kind}-{depth}"
    if kind == "parts":
        empty = "--B\r\nContent-Type: text/plain\r\n\r\nx\r\n" * rng.choice((1000, 30000))
        body = empty + body
    elif kind == "unclosed":
        body = body[: -len("--B--\r\n")]
    else:
        headers += "Subject: " + "=?utf-8?q?a?= " * 200000 + "\r\n"
    return (
        (headers + 'Content-Type: multipart/mixed; boundary="B"\r\n\r\n' + body).encode("ascii"),
        ".eml",
        f"wrap-mime-{kind}",
    )


def _eml(files, rng, nested: bool = False) -> bytes:
    msg = EmailMessage(policy=email.policy.SMTP)
    msg["From"] = rng.choice(("Partner <partner@example.org>", "no-address", "", "=?utf-8?q?=C3=A9?= <e@x.org>"))
    msg["Subject"] = "Re: return"
    msg.set_content("Attached.")
    for name, data in files:
        if nested and name.endswith(".eml"):
            msg.add_attachment(email.message_from_bytes(data, policy=email.policy.default))
            continue
        safe = name.replace("\x00", "").replace("\n", " ")
        msg.add_attachment(data, maintype="application", subtype="octet-stream", filename=safe or "x.xlsx")
    msg.set_boundary(f"=={rng.randrange(1 << 62):016x}==")  # not the random one: a mutant is made again exactly
    raw = msg.as_bytes()
    if rng.random() < 0.1:  # damaged base64 or a cut message
        raw = raw[: rng.randrange(len(raw))] if rng.random() < 0.5 else raw.replace(b"\nUEsDB", b"\nU!!!", 1)
    return raw


def mutant(seed: int, index: int, seeds: list[Seed]) -> tuple[str, bytes, str, Seed]:
    """Mutant `index` of `seed`: its file name, bytes, what was done, and the seed it came from."""
    rng = random.Random(f"{seed}:{index}")
    base = rng.choice(seeds)
    data, ext = base.data, base.path.suffix.lower()
    level = rng.choices([lv for lv, _ in LEVELS], [w for _, w in LEVELS])[0]
    labels = []
    if ext in (".eml", ".msg") and level not in ("byte", "wrap"):
        level = "byte"
    rounds = 1 if rng.random() < 0.8 else rng.randrange(2, 4)
    for _ in range(rounds):
        lv = level if level != "wrap" else rng.choice(("byte", "zip", "xml", "cell"))
        if ext in (".eml", ".msg"):
            lv = "byte"
        data, ext, label = rng.choice(MUTATORS[lv])(rng, data, ext) if data else (data, ext, "empty")
        labels.append(label)
    if level == "wrap" and ext not in (".eml", ".msg"):
        data, ext, label = wrap(rng, data, ext, base.path.stem)
        labels.append(label)
    if rng.random() < 0.05:  # a suffix that lies
        ext = rng.choice((".xlsx", ".ods", ".xlsm", ".xls", ".eml", ".msg"))
        labels.append("suffix" + ext)
    slug = re.sub(r"[^a-z0-9]+", "-", labels[0].split(":")[0].lower()).strip("-")
    if rng.random() < 0.03:  # a name on disk as odd as a partner's: Latin-1 bytes, very long, spaces, a dash
        slug += rng.choice((os.fsdecode(b"-r\xe9ponse\xff"), "-" + "n" * 180, " spaced  name ", "--dash", "-ünï"))
        labels.append("odd-name")
    return f"m{index:05d}-{slug}{ext}", data, "+".join(labels), base


# --- running the command -----------------------------------------------------------------------------


def _limits() -> None:
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (MEMORY, MEMORY))
    os.setsid()


@dataclass
class Run:
    code: int | None  # None: over the time limit
    out: str
    err: str
    seconds: float


def cli(args: list[str], tmp: Path, seconds: float, cache: Path) -> Run:
    env = {**os.environ, "TMPDIR": str(tmp), "EIF_XLSX_CACHE": str(cache), "PYTHONHASHSEED": "0"}
    env.pop("CI", None)
    start = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-m", "eif_xlsx.cli", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        preexec_fn=_limits,
        cwd=str(tmp.parent),
    )
    try:
        out, err = proc.communicate(timeout=seconds)
        code = proc.returncode
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        code = None
    return Run(code, out.decode("utf-8", "replace"), err.decode("utf-8", "replace"), time.monotonic() - start)


def same(typed: object, answer: dict) -> bool:
    if isinstance(typed, dt.date):
        return answer["value"] == typed.isoformat()
    if isinstance(typed, float | int) and not isinstance(typed, bool):
        try:
            return float(answer["value"]) == float(typed)
        except (TypeError, ValueError):
            return False
    if answer["value"] == TICK_VALUE:
        return answer["raw_value"].strip() == typed
    return answer["raw_value"] == typed


def lost_values(answers: list[dict], expected: dict) -> list[str]:
    got = {(a["field"], a["sub_element"], a["item"], a["column"]): a for a in answers}
    out = [
        f"{k}: typed {v!r}, got {got[k]['raw_value'] if k in got else None!r}"
        for k, v in expected.items()
        if k not in got or not same(v, got[k])
    ]
    out += [f"{k}: got {a['raw_value']!r}, nothing typed" for k, a in got.items() if k not in expected]
    return out


# --- a batch -----------------------------------------------------------------------------------------


@dataclass
class Failure:
    category: str
    detail: str
    indexes: list[int]


def leftovers(tmp: Path, out: Path | None = None) -> list[str]:
    left = [str(p.relative_to(tmp)) for p in tmp.rglob("*")]
    if out is not None and (out / ".mail").exists():
        left += [f"{out.name}/.mail/{p.relative_to(out / '.mail')}" for p in (out / ".mail").rglob("*")]
    return left


def check_batch(
    folder: Path, inputs: dict[str, int | None], goods: dict[str, Seed], seconds: float, cache: Path
) -> list[Failure]:
    """Run validate and import on `folder/in`; the failures. inputs: file name -> mutant index (None: good)."""
    fails: list[Failure] = []
    mutants = [i for i in inputs.values() if i is not None]

    def fail(category: str, detail: str, who: list[int] | None = None) -> None:
        fails.append(Failure(category, detail[:2000], mutants if who is None else who))

    # names as the reports give them: one in another encoding than the system's is shown with U+FFFD
    shown = {name: _SURROGATE.sub("\ufffd", name) for name in inputs}
    by_shown = {v: inputs[k] for k, v in shown.items()}

    def of(name: str) -> list[int]:
        i = by_shown.get(name.split(" › ")[0])
        return [i] if i is not None else []

    src = folder / "in"
    for command in ("validate", "import"):
        tmp = folder / f"tmp-{command}"
        tmp.mkdir()
        out = folder / "out"
        debug = folder / f"debug-{command}.log"  # the details of an internal error, for the failure's record
        args = (
            ["validate", "--json", str(src)]
            if command == "validate"
            else ["import", str(src), "--out", str(out), "--no-pdf"]
        )
        args[1:1] = ["--debug", str(debug)]
        run = cli(args, tmp, seconds, cache)
        if run.code is None:
            fail("hangs", f"{command}: over {seconds:.0f} s")
            continue
        if "Traceback (most recent call last)" in run.out + run.err:
            fail("tracebacks", f"{command}: traceback in the output: {(run.err or run.out)[-1500:]}")
        details = debug.read_text(encoding="utf-8", errors="replace")[-1500:] if debug.exists() else ""
        if run.code not in (0, 1):
            fail("crashes", f"{command}: exit code {run.code}: {run.err.strip()[-800:]} {details}")
            continue
        left = leftovers(tmp, out if command == "import" else None)
        if left:
            fail("leftovers", f"{command}: left {len(left)} file(s) behind, e.g. {left[:3]}")
        if command == "validate":
            try:
                reports = json.loads(run.out)
            except ValueError:
                fail("crashes", f"validate: no JSON report: {run.out[:300]!r} {run.err[-300:]!r}")
                continue
            files = [r["file"] for r in reports]
            for name in shown.values():
                if not any(f == name or f.startswith(name + " › ") for f in files):
                    fail("unreported", f"validate: {name} is missing from the report", of(name))
            for r in reports:
                leak = next((f for f in r["findings"] if LEAKS.search(f["message"])), None)
                if leak is not None:
                    fail("tracebacks", f"validate: {r['file']}: {leak['code']}: {leak['message'][:300]}", of(r["file"]))
                if r["status"] == "rejected" and not any(
                    f["severity"] == "error" and f["message"].strip() for f in r["findings"]
                ):
                    fail("unreported", f"validate: {r['file']} rejected without a reason", of(r["file"]))
            for name in goods:
                mine = [r for r in reports if r["file"] == name or r["file"].startswith(name + " › ")]
                if len(mine) != 1 or mine[0]["status"] == "rejected":
                    fail(
                        "lost",
                        f"validate: good return {name} not accepted: "
                        f"{[(r['status'], [f['code'] for f in r['findings']]) for r in mine]}",
                        [],
                    )
        else:
            try:
                summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                fail("crashes", f"import: no summary.json ({exc}): {run.err.strip()[-800:]} {details}")
                continue
            registered = [r["file"] for r in summary["register"]]
            for name in shown.values():
                if not any(f == name or f.startswith(name + " › ") for f in registered):
                    fail("unreported", f"import: {name} is missing from the register", of(name))
            leaked: dict[str, dict] = {}
            for f in summary["findings"]:
                if LEAKS.search(f["message"]):
                    leaked.setdefault(f["file"], f)
            for name, f in leaked.items():
                fail("tracebacks", f"import: {name}: {f['code']}: {f['message'][:300]}", of(name))
            by_file: dict[str, list[dict]] = {}
            for a in summary["answers"]:
                by_file.setdefault(a["file"], []).append(a)
            for name, good in goods.items():
                mine = [f for f in by_file if f == name or f.startswith(name + " › ")]
                if len(mine) != 1:
                    fail("lost", f"import: good return {name} not imported ({mine})", [])
                    continue
                wrong = lost_values(by_file[mine[0]], good.expected)
                if wrong:
                    fail("lost", f"import: good return {name}: {len(wrong)} value(s) lost, e.g. {wrong[:3]}", [])
    return fails


def bisect(folder: Path, inputs: dict[str, int | None], failure: Failure, seconds: float, cache: Path) -> list[int]:
    """Which mutants of a batch give a batch-level failure (validate, then import), by halves; the whole batch
    when no part of it gives the failure alone (a failure of the combination, or one that does not repeat)."""
    if len(failure.indexes) <= 1:
        return failure.indexes
    tries = [0]

    def fails(names: list[str]) -> bool:
        tries[0] += 1
        one = folder / f"bisect-{tries[0]}"
        (one / "in").mkdir(parents=True)
        for name in names:
            shutil.copy(folder / "in" / name, one / "in" / name)
        again = check_batch(one, {n: inputs[n] for n in names}, {}, seconds, cache)
        shutil.rmtree(one, ignore_errors=True)
        return any(f.category == failure.category for f in again)

    def search(names: list[str]) -> list[str]:
        if len(names) == 1:
            return names
        half = len(names) // 2
        found = [n for part in (names[:half], names[half:]) if fails(part) for n in search(part)]
        return found

    mutants = [n for n, i in inputs.items() if i is not None]
    found = search(mutants) if fails(mutants) else []
    return sorted(inputs[n] for n in found) or failure.indexes


# --- the campaign ------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--n", type=int, default=500, help="mutants in all")
    ap.add_argument("--batch", type=int, default=60, help="mutants per batch")
    ap.add_argument("--goods", type=int, default=3, help="good returns per batch")
    ap.add_argument("--corpus", type=int, default=16, help="real returns to build the mutants from")
    ap.add_argument("--corpus-seed", type=int, default=0)
    ap.add_argument(
        "--corpus-dir",
        type=Path,
        default=None,
        help="where the corpus is built and kept (reused; a folder holding anything else, or a corpus of other "
        "parameters, is refused)",
    )
    ap.add_argument("--keep", type=Path, default=Path("fuzz-failures"), help="where failures are saved")
    ap.add_argument("--only", default="", help="comma-separated mutant indexes: run just these (a reproduction)")
    ap.add_argument("--seconds", type=float, default=0, help="time limit per command (default: by batch size)")
    ap.add_argument("--work", type=Path, default=None, help="scratch folder (default: a temporary one, removed)")
    args = ap.parse_args(argv)
    started = time.monotonic()
    corpus_dir = args.corpus_dir or Path(tempfile.gettempdir()) / f"eif-fuzz-corpus-{args.corpus}-{args.corpus_seed}"
    everything = corpus(corpus_dir, args.corpus, args.corpus_seed, replace=args.corpus_dir is None)
    # The good returns of every batch come from a pool of their own (one of each program, at most a quarter of the
    # corpus), never mutated: a mutant of the same partner would otherwise stand as that partner's later return.
    pool: list[Seed] = []
    for s in everything:
        if s.source not in {p.source for p in pool} and len(pool) < max(1, len(everything) // 4):
            pool.append(s)
    seeds = [s for s in everything if s not in pool]
    work = args.work or Path(tempfile.mkdtemp(prefix="eif-fuzz-"))
    work.mkdir(parents=True, exist_ok=True)
    cache = work / "cache"
    cache.mkdir(exist_ok=True)
    indexes = [int(x) for x in args.only.split(",") if x.strip()] if args.only else list(range(args.n))
    counts = dict.fromkeys(CATEGORIES, 0)
    failures: list[tuple[Failure, list[int]]] = []
    kinds: dict[str, int] = {}
    done = 0
    try:
        for b, start in enumerate(range(0, len(indexes), args.batch)):
            chunk = indexes[start : start + args.batch]
            rng = random.Random(f"{args.seed}:batch:{chunk[0]}")
            made = {i: mutant(args.seed, i, seeds) for i in chunk}
            goods = rng.sample(pool, min(args.goods, len(pool)))
            folder = work / f"batch-{b:04d}"
            (folder / "in").mkdir(parents=True)
            inputs: dict[str, int | None] = {}
            good_names: dict[str, Seed] = {}
            for g in goods:
                name = f"good-{g.path.name}"
                (folder / "in" / name).write_bytes(g.data)
                inputs[name] = None
                good_names[name] = g
            for i, (name, data, label, _) in made.items():
                (folder / "in" / name).write_bytes(data)
                inputs[name] = i
                kind = label.split("+")[0].split(":")[0]
                kinds[kind] = kinds.get(kind, 0) + 1
            seconds = args.seconds or 120 + 3 * len(inputs)
            fails = check_batch(folder, inputs, good_names, seconds, cache)
            for f in fails:
                culprits = f.indexes
                if f.category in ("crashes", "hangs") or (f.category == "tracebacks" and len(f.indexes) > 1):
                    culprits = bisect(folder, inputs, f, seconds, cache)
                elif f.category == "leftovers":  # attachments of saved e-mails
                    culprits = [i for n, i in inputs.items() if i is not None and n.endswith((".eml", ".msg"))]
                failures.append((f, culprits))
                counts[f.category] += 1
                save(args, f, culprits, made, folder)
            done += len(chunk)
            shutil.rmtree(folder, ignore_errors=True)
            print(
                f"batch {b}: {done}/{len(indexes)} mutants, {time.monotonic() - started:.0f} s, "
                + ", ".join(f"{k} {v}" for k, v in counts.items()),
                flush=True,
            )
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)
    for f, culprits in failures:
        print(f"FAIL {f.category}: mutants {culprits}: {f.detail[:400]}")
    print("mutants by kind: " + ", ".join(f"{k} {v}" for k, v in sorted(kinds.items())))
    print(
        f"fuzz seed={args.seed} n={done} time={time.monotonic() - started:.0f}s: "
        + ", ".join(f"{k} {v}" for k, v in counts.items())
    )
    return 1 if any(counts.values()) else 0


def save(args, failure: Failure, culprits: list[int], made: dict, folder: Path) -> None:
    keep = args.keep
    keep.mkdir(parents=True, exist_ok=True)
    for i in culprits:
        if i in made:
            name, data, label, base = made[i]
            (keep / f"seed{args.seed}-{name}").write_bytes(data)
    line = (
        f"{failure.category}\tseed={args.seed}\tmutants={culprits}\t"
        f"labels={[made[i][2] for i in culprits if i in made]}\t{failure.detail[:600]!r}\t"
        f"repro: .venv/bin/python scripts/fuzz.py --seed {args.seed} --corpus {args.corpus} "
        f"--corpus-seed {args.corpus_seed} --only {','.join(map(str, culprits))}\n"
    )
    with (keep / "failures.txt").open("a", encoding="utf-8") as fh:
        fh.write(line)


if __name__ == "__main__":
    sys.exit(main())
