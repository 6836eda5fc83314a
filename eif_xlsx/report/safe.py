"""Partner text is data, never a formula or a link: helpers shared by every output."""

from __future__ import annotations

import re

_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n")
_FIRST = frozenset(_TRIGGERS)


def csv_row(row) -> list:
    """A row for csv.writer: None as empty; text that a spreadsheet would run as a formula gets an apostrophe in
    front (CSV formula injection). Written as one comprehension: it runs for every value of every row."""
    return [("'" + v if v[:1] in _FIRST and not _NUMBER.match(v) else v) if v.__class__ is str
            else ("" if v is None else v) for v in row]


_QUOTED = re.compile(r'[,"\r\n]')


def csv_text(text: str) -> str:
    """One text field exactly as csv.writer (QUOTE_MINIMAL, ',' and '"', CRLF lines) writes csv_row's form of it:
    for rows rendered by hand where csv.writer would cost too much (the answers)."""
    if text[:1] in _FIRST and not _NUMBER.match(text):
        text = "'" + text
    return '"' + text.replace('"', '""') + '"' if _QUOTED.search(text) else text


def csv_cell(value: object) -> object:
    """One value as csv_row writes it."""
    return csv_row((value,))[0]
