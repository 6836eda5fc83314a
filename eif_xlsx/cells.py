"""Cell addresses: A1 <-> zero-based (row, col), and the rules for sheet names."""

from __future__ import annotations

import re
from functools import lru_cache

_A1 = re.compile(r"^\$?([A-Za-z]{1,3})\$?([0-9]{1,7})$")
_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
MAX_SHEET_NAME = 31


@lru_cache(maxsize=1024)
def col_letter(col: int) -> str:
    """Zero-based column index -> letters (0 -> A)."""
    letters = ""
    col += 1
    while col:
        col, rem = divmod(col - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


BEYOND = 10**9  # stands for any row or column number too long to be worth computing (a hostile 'AAAAAAAAAA1')


def col_index(letters: str) -> int:
    """Letters -> zero-based column index (A -> 0); BEYOND for a run of letters longer than any sheet's columns."""
    if len(letters) > 5:
        return BEYOND
    n = 0
    for ch in letters.upper():
        n = n * 26 + (ord(ch) - 64)
    return n - 1


def a1(row: int, col: int) -> str:
    """Zero-based (row, col) -> 'A1'."""
    return f"{col_letter(col)}{row + 1}"


def parse_a1(ref: str) -> tuple[int, int]:
    """'B3' -> (2, 1). Raises ValueError on anything else."""
    m = _A1.match(ref.strip())
    if not m:
        raise ValueError(f"not a cell reference: {ref!r}")
    return int(m.group(2)) - 1, col_index(m.group(1))


def quote_sheet(name: str) -> str:
    """A sheet name as it must appear in a formula reference."""
    return "'" + name.replace("'", "''") + "'"


def ref(sheet: str, row: int, col: int, absolute: bool = False) -> str:
    cell = f"${col_letter(col)}${row + 1}" if absolute else a1(row, col)
    return f"{quote_sheet(sheet)}!{cell}"


def safe_sheet_name(name: str, taken: set[str] | None = None) -> str:
    """Excel's rules: at most 31 characters, none of []:*?/\\, no leading/trailing apostrophe, unique (case-blind)."""
    clean = _FORBIDDEN.sub("-", name).strip().strip("'").strip()
    clean = re.sub(r"\s+", " ", clean)
    if len(clean) > MAX_SHEET_NAME:
        clean = clean[: MAX_SHEET_NAME - 1].rstrip() + "…"
    taken_lower = {t.lower() for t in (taken or set())}
    base, n = clean, 2
    while clean.lower() in taken_lower:
        suffix = f" ({n})"
        clean = base[: MAX_SHEET_NAME - len(suffix)] + suffix
        n += 1
    return clean
