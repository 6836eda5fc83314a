"""Partner text is data, never a formula or a link: helpers shared by every output."""

from __future__ import annotations

import re

_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n")
_FIRST = frozenset(_TRIGGERS)


def csv_cell(value: object) -> object:
    """Prefix text that a spreadsheet would run as a formula with an apostrophe (CSV formula injection)."""
    if value.__class__ is str and value[:1] in _FIRST and not _NUMBER.match(value):
        return "'" + value
    return value
