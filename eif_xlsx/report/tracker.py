"""tracker.xlsx: the commissioning-indicator tracker, one row per indicator under its core purpose and intention."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from eif_xlsx.cells import a1
from eif_xlsx.domain.model import IndicatorSet
from eif_xlsx.normalise import period_key
from eif_xlsx.report.summary import _Book
from eif_xlsx.spool import SortedRows

EMPTY_PERIODS = ("Period 1", "Period 2", "Period 3", "Period 4")
HEAD = (
    "Core purpose",
    "Commissioning intention",
    "Target population",
    "Lead commissioner",
    "Id",
    "Kind",
    "Indicator",
    "Unit",
    "Direction of improvement",
    "Baseline",
    "Target",
)
WIDTHS = (14, 20, 16, 16, 11, 10, 29, 9, 10, 8, 8)
TAIL = ("Latest", "Change", "Trend", "RAG", "Sparkline")
DIRECTIONS = ["higher", "lower", "none"]  # which value is better (model.Direction); 'none': no RAG, no trend


def _shared(one: dict, indicator_id: str, period: str, *more: str) -> tuple:
    """A sort key (indicator, period in time order, *more) made of one shared copy of each of its parts."""
    when = one.get((period,))
    if when is None:
        when = one[(period,)] = period_key(period)
    return (one.setdefault(indicator_id, indicator_id), when, *(one.setdefault(x, x) for x in more))


def write_tracker(iset: IndicatorSet, values, path: Path, header: str = "") -> Path:
    """values: IndicatorValue records from returns (may be empty: a blank tracker to start from); any iterable (a
    round's are on disk, see spool.Rows): it is read once, and the lists that come out of it wait on disk for
    their turn to be written (spool.SortedRows). header: what each printed page says at its top left (the area and
    round), else the set's organisation."""
    book = _Book(path, f"Commissioning-indicator tracker: {iset.title}", header or iset.organisation or "")
    f = book.f
    heading = book.wb.add_format(
        {
            "font_name": "Arial",
            "font_size": 10,
            "bold": True,
            "italic": True,
            "text_wrap": True,
            "valign": "top",
            "bg_color": "#EEF2F7",
        }
    )
    heading_line = book.wb.add_format(
        {"font_name": "Arial", "font_size": 10, "bold": True, "italic": True, "valign": "top", "bg_color": "#EEF2F7"}
    )  # context on a heading's row
    locked_input = book.wb.add_format(
        {
            "font_name": "Arial",
            "font_size": 10,
            "bg_color": "#FFF9DB",
            "border": 1,
            "border_color": "#9CA3AF",
            "valign": "top",
        }
    )
    ws = book.sheet(
        "Tracker",
        f"{iset.organisation + ': ' if iset.organisation else ''}{iset.title}",
        f"Outcome: {iset.outcome}. The direction of improvement comes from the definitions (change it where yours differs); fill in baseline and target, and RAG, change and trend update themselves.",
    )
    # One pass: the distinct values of each indicator and period, where each value came from (the Values sheet),
    # and every value as the Conflicts sheet lists it, kept there if its indicator and period turn out in conflict.
    by_cell: dict[tuple[str, str], set] = defaultdict(set)
    per_cell: dict[tuple[str, str], int] = defaultdict(int)  # values given for an indicator and period
    one: dict = {}  # the sort keys' ids, periods, partners and files repeat: one copy of each is kept
    rows, reported = SortedRows(), SortedRows()
    for v in values:
        if v.period and v.value not in (None, ""):
            by_cell[(v.indicator_id, v.period)].add(v.value if isinstance(v.value, float) else str(v.value))
        per_cell[(v.indicator_id, v.period)] += 1
        rows.add(
            _shared(one, v.indicator_id, v.period, v.partner, v.file),
            [
                v.indicator_id,
                v.period,
                v.value,
                v.numerator,
                v.denominator,
                v.rag,
                v.commentary,
                v.partner,
                v.file,
                v.cell,
            ],
        )
        reported.add(
            _shared(one, v.indicator_id, v.period, v.partner),
            [v.indicator_id, v.period, v.partner, v.value, v.file, v.cell],
        )
    periods = sorted({p for (_, p) in by_cell}, key=period_key) or list(EMPTY_PERIODS)
    in_conflict = {cell for cell, got in by_cell.items() if len(got) > 1}
    conflicts = (row for row in reported if (row[0], row[1]) in in_conflict)
    n_conflicts = sum(per_cell[cell] for cell in in_conflict)
    head_row = 3
    cols = list(HEAD) + periods + list(TAIL)
    for c in range(len(cols)):
        book.width(ws, c, c, WIDTHS[c] if c < len(WIDTHS) else 9)
    book.fit(ws, head_row, cols, ["head"] * len(cols), least=32)  # before the row's cells (see summary._Book)
    for c, h in enumerate(cols):
        ws.write_string(head_row, c, h, f["head"])
    p0 = len(HEAD)
    latest_c, change_c, trend_c, rag_c, spark_c = range(p0 + len(periods), p0 + len(periods) + len(TAIL))
    r = head_row + 1
    first = r
    purpose_starts: list[int] = []  # a page break before each core purpose but the first
    sparklines: list[tuple[str, str]] = []  # (cell, the values it draws)
    seen: tuple = ()
    for cp, it, ind in iset.indicators():
        if seen and cp.id != seen[0]:
            purpose_starts.append(r)
        leads = "; ".join(it.lead_commissioners)
        if it.lead_commissioners_note:  # a note on the leads, not one more of them
            leads += f"\nNote: {it.lead_commissioners_note}"
        if (cp.id, it.id) != seen[:2]:
            # The intention in full once, on a row of its own; its indicators' rows repeat it unwrapped (for the
            # filter), so that a printed row is as tall as its indicator's wording, not the target population's.
            context = [cp.title, it.commissioned, it.target_population, leads]
            book.fit(ws, r, context, ["text"] * len(context))
            for c, text in enumerate(context):
                ws.write_string(r, c, text, heading)
            for c in range(len(context), len(HEAD)):
                ws.write_blank(r, c, None, heading)
            r += 1
        if ind.group is not None and (cp.id, it.id, ind.kind, ind.group) != seen:
            # The group's heading, as the seed prints it, on a row of its own above its indicators.
            context = [cp.title, it.commissioned.splitlines()[0], "", "", "", ind.kind.replace("-", " "), ind.group]
            book.fit(ws, r, context[5:], ["text"] * 2, 5)
            for c, text in enumerate(context):
                style = heading if c >= 5 else heading_line
                ws.write_string(r, c, text, style) if text else ws.write_blank(r, c, None, style)
            r += 1
        seen = (cp.id, it.id, ind.kind, ind.group)
        book.fit(ws, r, [ind.kind.replace("-", " "), ind.text], ["text", "indent" if ind.parent else "text"], 5)
        book.put(ws, r, 0, cp.title, "plain")
        book.put(ws, r, 1, it.commissioned.splitlines()[0], "plain")
        book.put(ws, r, 2, it.target_population.splitlines()[0], "plain")  # in full on the intention's row
        book.put(ws, r, 3, "; ".join(it.lead_commissioners), "plain")
        book.put(ws, r, 4, ind.id, "bold")
        book.put(ws, r, 5, ind.kind.replace("-", " "))
        book.put(ws, r, 6, ind.text, "indent" if ind.parent else "text")  # a sub-item, indented under its parent
        book.put(ws, r, 7, ind.unit)
        ws.write_string(r, 8, ind.direction, locked_input)
        ws.data_validation(r, 8, r, 8, {"validate": "list", "source": DIRECTIONS})
        ws.write_blank(r, 9, None, locked_input)
        ws.write_blank(r, 10, None, locked_input)
        shown: float | str = ""  # the latest period's value the row shows: Latest's formula gives it
        for j, period in enumerate(periods):
            got = by_cell.get((ind.id, period), set())
            c = p0 + j
            if len(got) == 1:
                shown = value = next(iter(got))
                book.put(ws, r, c, value, "score" if isinstance(value, float) else "text")
            elif len(got) > 1:
                ws.write_blank(r, c, None, f["text"])
                ws.write_comment(r, c, "Conflicting values from partners: see the Conflicts sheet.")
        rng = f"{a1(r, p0)}:{a1(r, p0 + len(periods) - 1)}"
        latest, base, target, direction = a1(r, latest_c), a1(r, 9), a1(r, 10), a1(r, 8)
        change = a1(r, change_c)
        ws.write_formula(r, latest_c, f'=IFERROR(LOOKUP(2,1/({rng}<>""),{rng}),"")', f["score"], shown)
        # Change, trend and RAG need the baseline and the target, which the tracker leaves for the commissioner:
        # their formulas give "" until then, and so do their cached values.
        ws.write_formula(
            r, change_c, f'=IF(OR({base}="",{latest}="",NOT(ISNUMBER({latest}))),"",{latest}-{base})', f["score"], ""
        )
        # Trend and RAG by the direction: 'higher' or 'lower' is better; 'none' (or no direction) gives neither.
        ws.write_formula(
            r,
            trend_c,
            f'=IF(OR({change}="",{direction}="none",{direction}=""),"",IF({change}=0,'
            f'"no change",IF(({change}>0)=({direction}="higher"),"improving",'
            f'"worsening")))',
            f["text"],
            "",
        )
        up = f'IF({latest}>={target},"Green",IF(AND({base}<>"",{latest}>{base}),"Amber","Red"))'
        down = f'IF({latest}<={target},"Green",IF(AND({base}<>"",{latest}<{base}),"Amber","Red"))'
        ws.write_formula(
            r,
            rag_c,
            f'=IF(OR({target}="",{latest}="",{direction}="",{direction}="none",'
            f'NOT(ISNUMBER({latest}))),"",IF({direction}="lower",{down},{up}))',
            f["bold"],
            "",
        )
        sparklines.append((a1(r, spark_c), f"Tracker!{rng}"))
        r += 1
    last = r - 1
    if sparklines:  # one group of sparklines, one per indicator: the same style for all, set up once
        ws.add_sparkline(
            first,
            spark_c,
            {"location": [cell for cell, _ in sparklines], "range": [rng for _, rng in sparklines], "markers": True},
        )
    for word, colour in (("Green", "#C6EFCE"), ("Amber", "#FFEB9C"), ("Red", "#FFC7CE")):
        ws.conditional_format(
            first,
            rag_c,
            last,
            rag_c,
            {
                "type": "cell",
                "criteria": "==",
                "value": f'"{word}"',
                "format": book.wb.add_format({"bg_color": colour}),
            },
        )
    ws.autofilter(head_row, 0, last, spark_c)
    ws.freeze_panes(head_row + 1, 7)
    # Printed in two runs of pages: the indicators with their context, then their values, RAG and trend beside
    # their id and wording (repeated); a core purpose starts a page.
    book.print(ws, last, spark_c, rows=(head_row, head_row), cols=(4, 6), h_breaks=purpose_starts, v_breaks=[p0])
    # Where each value came from.
    src = book.sheet("Values", "Every indicator value reported, with who reported it")
    book.table(
        src,
        3,
        [
            ("Id", 12),
            ("Period", 12),
            ("Value", 10),
            ("Numerator", 10),
            ("Denominator", 11),
            ("RAG (partner)", 10),
            ("Commentary", 40),
            ("Partner", 24),
            ("File", 30),
            ("Cell", 16),
        ],
        rows,
        ["text", "text", "text", "score", "score", "text", "text", "text", "text", "text"],
    )
    con = book.sheet(
        "Conflicts",
        "Conflicting values: two partners, one indicator and period (not resolved)",
        f"{n_conflicts} value(s) in conflict; the tracker leaves these cells blank until you decide.",
    )
    book.table(
        con, 3, [("Id", 12), ("Period", 12), ("Partner", 26), ("Value", 12), ("File", 30), ("Cell", 16)], conflicts
    )
    book.close()
    return path
