"""How partner-typed values are read: ticks, dates, numbers and choices. The workbook formulas share TICK_WORDS."""

from __future__ import annotations

import datetime as dt
import math
import re

# Lower-cased, trimmed values that count as ticked. 'ü' and 'þ' are ticks typed in the Wingdings symbol font.
TICK_WORDS = ("✓", "✔", "☑", "√", "✅", "x", "yes", "y", "true", "1", "ü", "þ")
UNTICK_WORDS = ("", "no", "n", "false", "0")
_SPACES = re.compile(r"[\s\u00a0\u200b]+")
# A UTF-16 surrogate on its own (an XML character reference such as &#xD800;, a _xD800_ escape, undecodable bytes
# kept by surrogateescape): no UTF-8 file can hold one, so it is read as U+FFFD (see as_text, lone_surrogates).
_SURROGATE = re.compile("[\ud800-\udfff]")
REPLACEMENT = "\ufffd"

EXCEL_EPOCH = dt.datetime(1899, 12, 30)
_DATE_FORMATS = (
    "%Y-%m-%d",
    "%d/%m/%Y",
    "%d/%m/%y",
    "%d-%m-%Y",
    "%d.%m.%Y",
    "%d %B %Y",
    "%d %b %Y",
    "%B %d, %Y",
    "%b %d, %Y",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M:%S",
    "%d %B, %Y",
)


def lone_surrogates(text: str) -> int:
    """How many lone surrogates a text holds (0 for nearly every text: one C search, none for ASCII)."""
    return 0 if text.isascii() else len(_SURROGATE.findall(text))


def without_surrogates(text: str) -> str:
    """The text with each lone surrogate read as U+FFFD, so that it can be written to any output."""
    return text if text.isascii() or not _SURROGATE.search(text) else _SURROGATE.sub(REPLACEMENT, text)


def as_text(value: object) -> str:
    """The value as a partner would see it typed: numbers without a spurious '.0', booleans as TRUE/FALSE; a lone
    surrogate as U+FFFD (see without_surrogates)."""
    if value.__class__ is str:
        return without_surrogates(value)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    if isinstance(value, dt.datetime):
        return (
            value.isoformat(sep=" ")
            if (value.hour, value.minute, value.second) != (0, 0, 0)
            else value.date().isoformat()
        )
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return without_surrogates(str(value))


def tick(value: object) -> bool | None:
    """True when ticked, False when clearly not, None when the value is not a tick at all."""
    text = _SPACES.sub(" ", as_text(value)).strip().lower()
    if text in TICK_WORDS:
        return True
    if text in UNTICK_WORDS:
        return False
    return None


def date(value: object) -> dt.date | None:
    """A date from whatever a spreadsheet stored: a date/datetime, an Excel serial number, or text."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        if 1 <= value < 2958466:  # Excel's serial range (1900-01-01 .. 9999-12-31)
            return (EXCEL_EPOCH + dt.timedelta(days=float(value))).date()
        return None
    text = _SPACES.sub(" ", as_text(value)).strip()
    if not text:
        return None
    for fmt in _DATE_FORMATS:
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None


def number(value: object) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    text = as_text(value).strip().replace(",", "")
    if text.endswith("%"):
        text = text[:-1].strip()
    try:
        return float(text) if text and math.isfinite(float(text)) else None  # not 'nan', 'inf', '1e999'
    except ValueError:
        return None


def choice(value: object, choices: tuple[str, ...]) -> str | None:
    """The matching choice, forgiving case and spaces; None when it matches none."""
    text = _SPACES.sub(" ", as_text(value)).strip().lower()
    for c in choices:
        if c.lower() == text:
            return c
    return None


_MONTHS = {
    m: i
    for i, m in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), start=1)
}


def period_key(period: str) -> tuple:
    """Reporting periods in time order whatever their spelling ('2026 Q1', 'Q2 2026', 'March 2026', '2025/26');
    anything without a year sorts after, alphabetically. Every key has the same shape, so any mix sorts."""
    text = period.strip().lower()
    year = re.search(r"(?<!\d)(\d{4})(?!\d)", text)
    if not year:
        return (1, 0, 0, text)
    quarter = re.search(r"\bq([1-4])\b", text)
    month = next((n for name, n in _MONTHS.items() if re.search(rf"\b{name}", text)), 0)
    sub = int(quarter.group(1)) * 3 if quarter else month
    return (0, int(year.group(1)), sub, text)
