"""Partner text into a cell through xlsxwriter, kept exactly as typed.

Two kinds of text come out of xlsxwriter's write_string altered:

- text shaped like its own rich-text XML ('<r>…</r>') is written raw, so that it vanishes or turns into other
  content;
- of two '_xHHHH_' patterns sharing an underscore ('_x0041_x0042_'), only the first has its underscore escaped, so
  that a spreadsheet program reads the second as the character it names ('_x0041B').

Such text is written as plain rich-text runs of one format instead, cut so that no run holds a whole '_xHHHH_'
pattern (inside each pattern, before its closing underscore) and no run starts '<r>'. A reader undoes the escapes of
each run apart, so nothing is left to escape or undo, and the runs read back as the text. xlsxwriter escapes a
run's control characters as '_xHHHH_' and then the cell's runs together once more, which escapes those escapes; so
text with control characters is left to write_string, kept exactly unless it also holds overlapping '_xHHHH_'
patterns (strict xfail in tests/test_report_rendering.py); text shaped like rich-text XML goes in runs all the same
(write_string would write it as XML), its control characters then read back as their escapes.
"""

from __future__ import annotations

import re

from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

MAX_TEXT = 32767  # UTF-16 units in one cell
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\ufffe\uffff]")  # characters XML cannot carry: written as '_xHHHH_'
_ESCAPE = re.compile(r"_(?=x[0-9a-fA-F]{4}_)")  # where each '_xHHHH_' pattern starts, overlapping ones too
_OVERLAPPING = re.compile(r"_x[0-9a-fA-F]{4}_x[0-9a-fA-F]{4}_")  # two patterns sharing an underscore
_ESCAPE_CUT = 6  # a run ends inside each pattern, before its closing underscore


def cut(text: str) -> str:
    """The text as far as a cell holds it (Excel counts UTF-16 units; a pair is never split)."""
    if len(text) > MAX_TEXT // 2 and len(text.encode("utf-16-le")) > 2 * MAX_TEXT:
        return text.encode("utf-16-le")[: 2 * MAX_TEXT].decode("utf-16-le", errors="ignore")
    return text


def runs(text: str) -> list[str] | None:
    """The runs the text is written as, or None where write_string keeps it as it is (or as near as it can: text
    with control characters and overlapping patterns). Text shaped like rich-text XML always goes in runs, or
    write_string would write it as XML: with control characters too, which then read back as their '_xHHHH_'
    escapes, but the sheet stays well-formed."""
    rich = text.startswith("<r>") and text.endswith("</r>")
    if not (rich or ("_x" in text and _OVERLAPPING.search(text))) or (not rich and _CONTROL.search(text)):
        return None
    cuts = sorted({m.start() + _ESCAPE_CUT for m in _ESCAPE.finditer(text)} | ({1} if rich else set()))
    bounds = [0, *cuts, len(text)]
    return [text[a:b] for a, b in zip(bounds, bounds[1:], strict=False)]


def write_text(ws: Worksheet, r: int, c: int, text: str, fmt: Format) -> None:
    """The text into the cell, as write_string writes it, but kept exactly (see above)."""
    parts = runs(cut(text)) if text.startswith("<r>") or "_x" in text else None
    if parts:
        ws.write_rich_string(r, c, *[x for run in parts for x in (fmt, run)], fmt)
    else:
        ws.write_string(r, c, text, fmt)
