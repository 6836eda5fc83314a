"""Partner text into a cell through xlsxwriter, kept exactly as typed where xlsxwriter allows it.

xlsxwriter's write_string writes text shaped like its own rich-text XML ('<r>…</r>') raw, so that it vanishes or
turns into other content. Such text is written as two plain rich-text runs ('<' and the rest) instead. Runs are
escaped twice by xlsxwriter, so this is done only for text without control characters or '_xHHHH_' patterns;
those (and overlapping '_xHHHH_' patterns in any text, of which xlsxwriter escapes only the first) are not kept
exactly: see the strict xfail in tests/test_properties.py.

inline_text renders a text cell as xlsxwriter's constant-memory mode writes it, for rows written by hand
(summary._Book.row), without either flaw.
"""

from __future__ import annotations

import re

from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

MAX_TEXT = 32767  # UTF-16 units in one cell
_CONTROLS = r"[\x00-\x08\x0b-\x1f\ufffe\uffff]"  # characters XML cannot carry: written as '_xHHHH_'
_DOUBLE_ESCAPED = re.compile(_CONTROLS + r"|_x[0-9a-fA-F]{4}_")  # what runs would spoil
_CONTROL = re.compile(_CONTROLS)
_ESCAPED_ESCAPE = re.compile(r"_(?=x[0-9a-fA-F]{4}_)")  # an underscore that starts an escape is itself escaped
_PLAIN_TEXT = re.compile(r"[&<>]|" + _CONTROLS + r"|_x|^\s|\s$")  # none of these: the text goes in as it is
_XML = re.compile(r"[&<>]")
_EDGE_SPACE = re.compile(r"^\s|\s$")


def cut(text: str) -> str:
    """The text as far as a cell holds it (Excel counts UTF-16 units; a pair is never split)."""
    if len(text) > MAX_TEXT // 2 and len(text.encode("utf-16-le")) > 2 * MAX_TEXT:
        return text.encode("utf-16-le")[: 2 * MAX_TEXT].decode("utf-16-le", errors="ignore")
    return text


def write_text(ws: Worksheet, r: int, c: int, text: str, fmt: Format) -> None:
    if text.startswith("<r>") and text.endswith("</r>") and not _DOUBLE_ESCAPED.search(text):
        text = cut(text)
        ws.write_rich_string(r, c, fmt, text[:1], fmt, text[1:], fmt)
    else:
        ws.write_string(r, c, text, fmt)


def inline_text(text: str) -> str:
    """A text cell as xlsxwriter writes it in constant-memory mode (an inline string), from just after its
    reference and style (`<c r="A1" s="3"`): the same for the same text in any cell. Always as text: every
    '_xHHHH_' is escaped, overlapping ones too, and text that looks like rich-text XML is escaped like any other."""
    if len(text) <= MAX_TEXT // 2 and not _PLAIN_TEXT.search(text):
        return f' t="inlineStr"><is><t>{text}</t></is></c>'
    text = cut(text)
    if "_x" in text:
        text = _ESCAPED_ESCAPE.sub("_x005F_", text)
    if _CONTROL.search(text):
        text = _CONTROL.sub(lambda m: f"_x{ord(m.group()):04X}_", text)
    space = ' xml:space="preserve"' if _EDGE_SPACE.search(text) else ""
    if _XML.search(text):
        text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return f' t="inlineStr"><is><t{space}>{text}</t></is></c>'
