"""The report's charts as inline SVG: stacked bars (levels per sub-element), dumbbells (median baseline -> 12
months) and share bars (evidence coverage). Why our own SVG and not a charting library: see board.py.

Each chart is a label column and a plot on a fixed scale; text stays text; every number is written with a fixed
number of decimals, so the same data give the same bytes."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from html import escape

WIDTH = 1000
LABEL = 330  # the label column
ROW = 22
TOP = 26
INK, MUTED, RULE, ACCENT = "#1F2937", "#4B5563", "#9CA3AF", "#1F3A5F"
FONT = 'font-family="DejaVu Sans, Liberation Sans, Arial, sans-serif"'


def _n(x: float) -> str:
    return f"{x:.1f}"


SCORE_PLACES = 2  # as summary.xlsx shows a score (number format 0.00)


def fixed(x: float, places: int) -> str:
    """x with places decimals, half rounded up as Excel and LibreOffice show a number in a format such as 0.00 or
    0% (2.125 -> "2.13", 0.125 as a percentage -> "13"), not Python's half-to-even of the binary value: x to 15
    significant digits, as a spreadsheet keeps it (100 * 0.285 -> "29", not 28.499999999999996's "28"), is
    rounded. flat.py rounds the scores in the CSVs and summary.json by the same rule (to 4 places)."""
    return str(round_half_up(x, places))


def round_half_up(x: float, places: int) -> Decimal:
    return Decimal(f"{x:.15g}").quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def score_text(score: float | None) -> str:
    """A score (0-4) as every part of the report shows it: the same text summary.xlsx shows; '–' for none."""
    return "–" if score is None else fixed(score, SCORE_PLACES)


def _svg(height: float, title: str, body: list[str]) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {_n(height)}" width="{WIDTH}" '
        f'height="{_n(height)}" role="img" aria-label="{escape(title)}" {FONT} font-size="11">'
        f"<title>{escape(title)}</title>" + "".join(body) + "</svg>"
    )


def _label(y: float, text: str) -> str:
    short = text if len(text) <= 52 else text[:51].rstrip() + "…"
    return f'<text x="0" y="{_n(y + 15)}" fill="{INK}">{escape(short)}</text>'


def _axis(plot: float, ticks: list[tuple[float, str]], height: float) -> list[str]:
    out = []
    for frac, text in ticks:
        x = LABEL + frac * plot
        out.append(
            f'<line x1="{_n(x)}" y1="{TOP - 4}" x2="{_n(x)}" y2="{_n(height - 4)}" stroke="{RULE}" stroke-width="0.5"/>'
        )
        out.append(
            f'<text x="{_n(x)}" y="{TOP - 8}" fill="{MUTED}" font-size="10" text-anchor="middle">{escape(text)}</text>'
        )
    return out


@dataclass
class StackRow:
    label: str
    counts: list[int]  # per level, lowest first
    median: float | None  # 0-4
    flag: str = ""


def stacked_bars(rows: list[StackRow], names: list[str], fills: list[str], title: str) -> str:
    """Per row, the partners at each level as a bar of segments (all rows on the same count scale)."""
    plot = WIDTH - LABEL - 90
    most = max((sum(r.counts) for r in rows), default=0) or 1
    height = TOP + ROW * len(rows) + 6
    body = _axis(plot, [(k / most, str(k)) for k in _count_ticks(most)], height)
    for i, r in enumerate(rows):
        y = TOP + i * ROW
        body.append(_label(y, r.label))
        x = float(LABEL)
        for level, count in enumerate(r.counts):
            if not count:
                continue
            w = plot * count / most
            body.append(
                f'<rect x="{_n(x)}" y="{_n(y + 3)}" width="{_n(w)}" height="{ROW - 6}" fill="{fills[level]}" '
                f'stroke="{MUTED}" stroke-width="0.5"><title>{escape(names[level])}: {count}</title></rect>'
            )
            if w >= 14:
                body.append(
                    f'<text x="{_n(x + w / 2)}" y="{_n(y + 15)}" fill="{INK}" font-size="10" '
                    f'text-anchor="middle">{count}</text>'
                )
            x += w
        total = sum(r.counts)
        if r.median is not None and total:
            # where the median partner falls along the bar: the partners below the median's level, and half of those
            # at it
            mx = LABEL + plot * _median_position(r.counts, r.median) / most
            body.append(
                f'<path d="M{_n(mx - 5)} {_n(y - 2)} h10 l-5 7 z" fill="{ACCENT}">'
                f"<title>median {score_text(r.median)}</title></path>"
            )
        tail = f"{total}" + (f"  {r.flag}" if r.flag else "")
        body.append(
            f'<text x="{_n(LABEL + plot + 8)}" y="{_n(y + 15)}" fill="{MUTED}" font-size="10">{escape(tail)}</text>'
        )
    return _svg(height, title, body)


def _median_position(counts: list[int], median: float) -> float:
    level = min(len(counts) - 1, int(median + 1e-9))
    return sum(counts[:level]) + counts[level] * 0.5 if counts[level] else float(sum(counts[:level]))


def _count_ticks(most: int) -> list[int]:
    step = next(s for s in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 10**9) if most / s <= 10)
    return list(range(0, most + 1, step))


@dataclass
class Move:
    label: str
    baseline: float | None
    twelve_months: float | None
    note: str = ""  # written at the right end of the row (how many partners the medians are of)


def dumbbells(rows: list[Move], names: list[str], title: str) -> str:
    """Per row, the baseline (open circle) and 12-months (filled) medians on the 0-4 scale, joined by a line."""
    plot = WIDTH - LABEL - 80
    height = TOP + ROW * len(rows) + 6
    top = len(names) - 1
    body = _axis(plot, [(k / top, f"{k} {names[k]}") for k in range(top + 1)], height)
    for i, r in enumerate(rows):
        y = TOP + i * ROW + ROW / 2
        body.append(_label(y - ROW / 2, r.label))
        xs = [None if v is None else LABEL + plot * v / top for v in (r.baseline, r.twelve_months)]
        if xs[0] is not None and xs[1] is not None:
            colour = "#15803D" if xs[1] > xs[0] + 0.01 else ("#B91C1C" if xs[1] < xs[0] - 0.01 else MUTED)
            body.append(
                f'<line x1="{_n(xs[0])}" y1="{_n(y)}" x2="{_n(xs[1])}" y2="{_n(y)}" stroke="{colour}" '
                'stroke-width="3"/>'
            )
        if xs[0] is not None:
            body.append(
                f'<circle cx="{_n(xs[0])}" cy="{_n(y)}" r="5" fill="#FFFFFF" stroke="{ACCENT}" '
                f'stroke-width="2"><title>baseline median {score_text(r.baseline)}</title></circle>'
            )
        if xs[1] is not None:
            body.append(
                f'<circle cx="{_n(xs[1])}" cy="{_n(y)}" r="5" fill="{ACCENT}">'
                f"<title>12 months median {score_text(r.twelve_months)}</title></circle>"
            )
        if r.note:
            body.append(
                f'<text x="{_n(LABEL + plot + 14)}" y="{_n(y + 4)}" fill="{MUTED}" font-size="10">'
                f"{escape(r.note)}</text>"
            )
    return _svg(height, title, body)


@dataclass
class Share:
    label: str
    share: float | None  # 0-1
    text: str


def share_bars(rows: list[Share], title: str) -> str:
    """Per row, a bar of the share (0-100 %) with its count written beside."""
    plot = WIDTH - LABEL - 110
    height = TOP + ROW * len(rows) + 6
    body = _axis(plot, [(k / 4, f"{25 * k} %") for k in range(5)], height)
    for i, r in enumerate(rows):
        y = TOP + i * ROW
        body.append(_label(y, r.label))
        body.append(f'<rect x="{LABEL}" y="{_n(y + 3)}" width="{_n(plot)}" height="{ROW - 6}" fill="#F3F4F6"/>')
        if r.share:
            body.append(
                f'<rect x="{LABEL}" y="{_n(y + 3)}" width="{_n(plot * r.share)}" height="{ROW - 6}" fill="#6B8FB8"/>'
            )
        pct = "–" if r.share is None else f"{fixed(100 * r.share, 0)} %"
        body.append(
            f'<text x="{_n(LABEL + plot + 8)}" y="{_n(y + 15)}" fill="{INK}" font-size="10">'
            f"{escape(pct)} ({escape(r.text)})</text>"
        )
    return _svg(height, title, body)
