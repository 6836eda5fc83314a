"""The one CSV dialect eif-xlsx writes: every CSV (the import's files for analysts, manifest.csv, chase.csv) goes
through write_csv.

The dialect is fixed (no option; see README "Files for analysts"): UTF-8 with a byte-order mark (so Excel reads
"é" as "é"), comma-separated, fields quoted only when they hold a comma, a double quote or a line break (quotes
doubled), CRLF line ends (RFC 4180), a header row, an empty field for "no value", dates as ISO 8601 (2026-10-25).

Formula guard (OWASP "CSV injection"): a text field that starts with = + - @ a tab or a carriage return, and is not
a plain number such as -1.5, is written with one apostrophe in front, so that no spreadsheet runs it as a formula
(tested with LibreOffice, which then keeps the field as text and shows the apostrophe). A field that already starts
with an apostrophe gets one more, so the rule can be undone without ambiguity: **a field that starts with an
apostrophe had exactly one added; remove it** (`unguard`) and you have the text as the partner typed it.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Iterable
from itertools import islice
from pathlib import Path


class Dialect(csv.Dialect):
    """The one CSV dialect of every file written here (RFC 4180)."""

    delimiter = ","
    quotechar = '"'
    doublequote = True
    escapechar = None
    lineterminator = "\r\n"  # also makes csv quote a field holding a lone CR
    quoting = csv.QUOTE_MINIMAL
    skipinitialspace = False
    strict = True


BOM = "\ufeff"  # written first: UTF-8 with a byte-order mark (as "utf-8-sig" would, at a fraction of its cost)
_GUARDED = ("=", "+", "-", "@", "\t", "\r", "'")  # formula triggers (OWASP), and the guard itself
_FIRST = frozenset(_GUARDED)
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def guard(text: str) -> str:
    """A text field as written to a CSV: see the module docstring."""
    return "'" + text if text[:1] in _FIRST and not _NUMBER.fullmatch(text) else text


def unguard(field: str) -> str:
    """The text a CSV field was written from: guard undone."""
    return field[1:] if field.startswith("'") else field


def csv_row(row: Iterable) -> list:
    """A row as csv.writer takes it: None as an empty field, text guarded (as guard(), inline: it runs for every
    field of every row), a date as ISO 8601, numbers as themselves."""
    return [
        ("'" + v if v[:1] in _FIRST and not _NUMBER.fullmatch(v) else v)
        if v.__class__ is str
        else ("" if v is None else v.isoformat() if isinstance(v, dt.date) else v)
        for v in row
    ]


class Lines:
    """Rows as the CSV lines csv.writer (Dialect) writes for csv_row(row), byte for byte, at a fraction of its cost
    for a round's answers: the csv module renders each distinct value once (guarded, quoted as needed) and the
    rendering is kept, so a row is its cached fields joined. Most values recur (ids, fields, cells, ticks); a
    partner's text does not, so the cache is emptied when it reaches LIMIT values. Keys keep 1, 1.0, True and '1'
    apart (a str is its own key, another value (type, value))."""

    LIMIT = 8192

    def __init__(self) -> None:
        self.buf = io.StringIO()
        self.writer = csv.writer(self.buf, Dialect)
        self.cache: dict[object, str] = {}

    def field(self, key: object, value: object) -> str:
        """value's field as csv.writer writes it in a row: written beside an empty field (a row of one empty field
        would be written '""'), and that field and the line end taken off."""
        buf = self.buf
        buf.seek(0)
        buf.truncate()
        self.writer.writerow(csv_row((value, None)))
        text = buf.getvalue()[:-3]
        if len(self.cache) >= self.LIMIT:
            self.cache.clear()
        self.cache[key] = text
        return text

    def render(self, rows: Iterable[tuple]) -> str:
        cache, field = self.cache, self.field
        return "".join(
            [
                ",".join(
                    [
                        cache[k] if (k := v if v.__class__ is str else (v.__class__, v)) in cache else field(k, v)
                        for v in row
                    ]
                )
                + "\r\n"
                for row in rows
            ]
        )


class CsvFile:
    """A CSV being written, its byte-order mark and header first."""

    def __init__(self, path: Path, header: tuple[str, ...]) -> None:
        self.path, self.header = path, header

    def __enter__(self) -> CsvFile:
        self.stream = self.path.open("w", encoding="utf-8", newline="")
        self.stream.write(BOM)
        csv.writer(self.stream, Dialect).writerow(self.header)
        return self

    def __exit__(self, *exc) -> None:
        self.stream.close()


def write_csv(path: Path, header: tuple[str, ...], rows: Iterable[tuple]) -> Path:
    """A CSV for Excel and analysts: the byte-order mark, the header, then the rows in the fixed Dialect with text
    formula-guarded (csv_row), rendered by Lines and written CHUNK rows at a time. Every CSV eif-xlsx writes goes
    through here (the import's files, manifest.csv, chase.csv)."""
    lines, rows = Lines(), iter(rows)
    with CsvFile(path, header) as f:
        while chunk := list(islice(rows, CHUNK)):
            f.stream.write(lines.render(chunk))
    return path


CHUNK = 1024
