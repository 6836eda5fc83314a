"""One consistent, accessible style: formats created once per workbook and looked up by name."""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import lru_cache

from xlsxwriter.utility import xl_range
from xlsxwriter.workbook import Workbook

FONT = "Arial"
INK, MUTED, RULE = "#1F2937", "#4B5563", "#9CA3AF"
HEAD_FILL, INPUT_FILL, SECTION_FILL = "#1F3A5F", "#FFF9DB", "#E8EEF6"
# Level colours: a light ramp; the level name is always written beside, so colour is never the only signal.
LEVEL_FILLS = ("#E5E7EB", "#FDE2C4", "#FDF1B8", "#D4EDC9", "#A7D7A0")  # not yet basic .. mature


def make_formats(wb: Workbook) -> dict:
    base = {"font_name": FONT, "font_size": 10, "valign": "top", "font_color": INK}

    def f(**kw):
        return wb.add_format({**base, **kw})

    border = {"border": 1, "border_color": RULE}
    fmt = {
        "title": f(bold=True, font_size=16, font_color=HEAD_FILL),
        "subtitle": f(font_size=11, font_color=MUTED),
        "note": f(font_color=MUTED, italic=True),
        "section": f(bold=True, font_size=11, bg_color=SECTION_FILL, **border),
        "header": f(bold=True, font_color="#FFFFFF", bg_color=HEAD_FILL, text_wrap=True, **border),
        "text": f(text_wrap=True),
        "muted": f(text_wrap=True, font_color=MUTED, italic=True),
        "cell": f(text_wrap=True, **border),
        "code": f(bold=True, **border),
        "label": f(bold=True, text_wrap=True),
        "focus": f(text_wrap=True, italic=True, font_size=11, bg_color=SECTION_FILL, **border),
        "formula": f(text_wrap=True, bold=True, **border),
        "score": f(bold=True, num_format="0.00", align="center", **border),
        "input": f(text_wrap=True, locked=False, bg_color=INPUT_FILL, **border),
        "tick": f(
            locked=False, bg_color=INPUT_FILL, align="center", valign="vcenter", font_size=12, bold=True, **border
        ),
        "date": f(locked=False, bg_color=INPUT_FILL, num_format="dd mmm yyyy", align="left", **border),
        "number": f(locked=False, bg_color=INPUT_FILL, num_format="General", **border),
        "meta": wb.add_format({"font_name": FONT, "font_size": 9}),
    }
    locked = {"locked": True, "bg_color": "#E5E7EB", "font_color": MUTED}
    fmt["locked_tick"] = f(align="center", valign="vcenter", font_size=12, bold=True, **border, **locked)
    fmt["locked_input"] = f(text_wrap=True, **border, **locked)
    fmt["locked_date"] = f(num_format="dd mmm yyyy", align="left", **border, **locked)
    fmt["locked_number"] = f(**border, **locked)
    flag = {"bg_color": "#FDBA74", "border": 2, "border_color": "#C2410C", "locked": False}
    fmt["flag_tick"] = f(align="center", valign="vcenter", font_size=12, bold=True, **flag)
    fmt["flag_input"] = f(text_wrap=True, **flag)
    fmt["flag_date"] = f(num_format="dd mmm yyyy", align="left", **flag)
    fmt["flag_number"] = f(**flag)
    fmt["levels"] = [wb.add_format({"bg_color": c}) for c in LEVEL_FILLS]
    return fmt


def row_height(texts_and_widths: Sequence[tuple[str, float]], line: float = 13.0, minimum: float = 15.0) -> float:
    """A row height that fits wrapped text: the tallest cell, estimating characters per line from the width."""
    lines = max((_lines(str(text), width) for text, width in texts_and_widths), default=1)
    return max(minimum, round(max(lines, 1) * line + 4, 1))


@lru_cache(maxsize=4096)
def _lines(text: str, width: float) -> int:
    # The same labels come back for every partner of a round: counted once.
    per_line = max(int(width * 1.15), 1)
    return sum(max(1, math.ceil(len(part) / per_line)) for part in text.split("\n"))


def colour_levels(
    ws,
    r1: int,
    c1: int,
    r2: int,
    c2: int,
    names: list[str],
    fills: list,
    also: tuple[tuple[int, int, int, int], ...] = (),
) -> None:
    """Colour cells by the level written in them (the words stay, so colour is never the only signal): one rule per
    level, over the range and any others given in `also` (a rule's formula is costly for XlsxWriter to write: it
    expands every future function name in it, so one rule over many ranges is cheaper than one per range)."""
    multi = " ".join(xl_range(*r) for r in ((r1, c1, r2, c2), *also))
    for i, name in enumerate(names):
        options = {"type": "text", "criteria": "begins with", "value": name, "format": fills[min(i, len(fills) - 1)]}
        if also:
            options["multi_range"] = multi
        ws.conditional_format(r1, c1, r2, c2, options)


def colour_scores(ws, r1: int, c1: int, r2: int, c2: int, levels: int, fills: list) -> None:
    """Colour score cells (0 .. levels) by the level they reach: full level k is a score from k to under k + 1.
    Rules on numbers: Excel, LibreOffice and Gnumeric leave a blank or text score (not assessed) uncoloured."""
    for k in range(levels + 1):
        rule = (
            {"criteria": "between", "minimum": k, "maximum": k + 0.999999}
            if k < levels
            else {"criteria": "==", "value": levels}
        )
        ws.conditional_format(r1, c1, r2, c2, {"type": "cell", **rule, "format": fills[min(k, len(fills) - 1)]})
