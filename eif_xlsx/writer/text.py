"""Partner text into a cell through xlsxwriter, kept exactly as typed where xlsxwriter allows it.

xlsxwriter's write_string writes text shaped like its own rich-text XML ('<r>…</r>') raw, so that it vanishes or
turns into other content. Such text is written as two plain rich-text runs ('<' and the rest) instead. Runs are
escaped twice by xlsxwriter, so this is done only for text without control characters or '_xHHHH_' patterns;
those (and overlapping '_xHHHH_' patterns in any text, of which xlsxwriter escapes only the first) are not kept
exactly: see the strict xfail in tests/test_properties.py. summary._inline renders its rows without either flaw.
"""

from __future__ import annotations

import re

from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

MAX_TEXT = 32767  # UTF-16 units in one cell
_DOUBLE_ESCAPED = re.compile(r"[\x00-\x08\x0b-\x1f\ufffe\uffff]|_x[0-9a-fA-F]{4}_")  # what runs would spoil


def cut(text: str) -> str:
    """The text as far as a cell holds it (Excel counts UTF-16 units; a pair is never split)."""
    if len(text) > MAX_TEXT // 2 and len(text.encode("utf-16-le")) > 2 * MAX_TEXT:
        return text.encode("utf-16-le")[:2 * MAX_TEXT].decode("utf-16-le", errors="ignore")
    return text


def write_text(ws: Worksheet, r: int, c: int, text: str, fmt: Format) -> None:
    if text.startswith("<r>") and text.endswith("</r>") and not _DOUBLE_ESCAPED.search(text):
        text = cut(text)
        ws.write_rich_string(r, c, fmt, text[:1], fmt, text[1:], fmt)
    else:
        ws.write_string(r, c, text, fmt)
