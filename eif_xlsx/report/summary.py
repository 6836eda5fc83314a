"""summary.xlsx: what the coordinator takes to the partnership board."""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from functools import lru_cache
from pathlib import Path

from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from ..cells import a1
from ..consolidate import Consolidation
from ..layout import BASELINE, COLUMN_LABEL, COLUMNS, TWELVE_MONTHS
from ..model import NOT_ASSESSED, NOT_YET_BASIC, natural_key
from ..scoring import median
from ..spool import SortedRows
from ..writer.styles import FONT, HEAD_FILL, LEVEL_FILLS, MUTED, colour_levels
from ..writer.text import write_text
from ..writer.workbook import FIXED_TIME
from .texts import NOTE_KINDS, texts_of

TIMESCALE_ORDER_LAST = "(none)"


class _Book:
    """A workbook where every piece of partner text goes in through write_string.

    Written in constant-memory mode, so that a round of thousands of returns never sits in memory as cells: each
    row goes to disk when the next one is started. Every sheet is therefore written top to bottom (a row's height
    is set before its cells; a cell of an earlier row would be lost), and lists are autofiltered ranges rather
    than Excel tables, which that mode cannot write.
    """

    def __init__(self, path: Path, title: str):
        self.wb = Workbook(str(path), {"strings_to_formulas": False, "strings_to_urls": False,
                                       "strings_to_numbers": False, "nan_inf_to_errors": True,
                                       "constant_memory": True})
        self.wb.set_properties({"title": title, "author": "eif-xlsx", "created": FIXED_TIME})
        base = {"font_name": FONT, "font_size": 10, "valign": "top"}
        f = self.wb.add_format
        self.f = {
            "title": f({**base, "bold": True, "font_size": 15, "font_color": HEAD_FILL}),
            "sub": f({**base, "font_color": MUTED, "italic": True, "text_wrap": False}),
            "head": f({**base, "bold": True, "font_color": "#FFFFFF", "bg_color": HEAD_FILL, "text_wrap": True,
                       "border": 1}),
            "text": f({**base, "text_wrap": True}),
            "plain": f({**base}),
            "bold": f({**base, "bold": True}),
            "score": f({**base, "num_format": "0.00", "align": "center"}),
            "num": f({**base, "num_format": "0", "align": "center"}),
            "pct": f({**base, "num_format": "0%", "align": "center"}),
            "date": f({**base, "num_format": "yyyy-mm-dd", "align": "left"}),
            "flag": f({**base, "bold": True, "font_color": "#9A3412"}),
        }
        self.levels = [f({"bg_color": c}) for c in LEVEL_FILLS]
        self._rows: dict[str, int] = {}  # sheet -> the last row row() wrote there

    def sheet(self, name: str, title: str, note: str = "") -> Worksheet:
        ws = self.wb.add_worksheet(name)
        ws.write_string(0, 0, title, self.f["title"])
        if note:
            ws.write_string(1, 0, note, self.f["sub"])
        ws.set_landscape()
        ws.set_paper(9)
        ws.fit_to_pages(1, 0)
        ws.set_footer(f"&L{name}&RPage &P of &N")
        return ws

    def put(self, ws: Worksheet, r: int, c: int, value: object, fmt: str = "text") -> None:
        """One cell, through xlsxwriter (for cells among others written so; whole rows go through row())."""
        if value is None or value == "":
            ws.write_blank(r, c, None, self.f[fmt])
        elif isinstance(value, bool):
            ws.write_string(r, c, "yes" if value else "", self.f[fmt])
        elif isinstance(value, int | float) and not (isinstance(value, float) and math.isnan(value)):
            ws.write_number(r, c, value, self.f["score" if fmt == "text" and isinstance(value, float) else fmt])
        elif isinstance(value, dt.date):
            ws.write_datetime(r, c, dt.datetime(value.year, value.month, value.day), self.f["date"])
        else:
            write_text(ws, r, c, str(value), self.f[fmt])

    def row(self, ws: Worksheet, r: int, values, fmts, c0: int = 0) -> None:
        """A whole row from column c0, each value as put() writes it. Rows go top to bottom, each once: in
        constant-memory mode xlsxwriter would drop a cell of a row already written, without a word."""
        if r <= self._rows.get(ws.name, -1):
            raise ValueError(f"{ws.name}: row {r + 1} is written already (rows go top to bottom, each once)")
        self._rows[ws.name] = r
        for c, (value, fmt) in enumerate(zip(values, fmts, strict=True), start=c0):
            self.put(ws, r, c, value, fmt)

    def table(self, ws: Worksheet, r0: int, headers: list[tuple[str, float]], rows, fmts: list[str] | None = None) -> int:
        """A header row and the rows below it (any iterable, written as it is consumed), with filter and sort
        arrows on the header; returns the row after the last."""
        for c, (head, width) in enumerate(headers):
            ws.set_column(c, c, width)
            ws.write_string(r0, c, head, self.f["head"])
        fmts = fmts or ["text"] * len(headers)
        last = r0
        for last, row in enumerate(rows, start=r0 + 1):
            self.row(ws, last, row, fmts)
        if last == r0:  # an empty list still shows an empty row under its header
            last += 1
            self.row(ws, last, [""] * len(headers), fmts)
        ws.autofilter(r0, 0, last, len(headers) - 1)
        ws.freeze_panes(r0 + 1, 0)
        return last + 1

    def level_colours(self, ws: Worksheet, r1: int, c1: int, r2: int, c2: int, *, text: bool, names) -> None:
        if r2 < r1 or c2 < c1:
            return
        if text:
            colour_levels(ws, r1, c1, r2, c2, [NOT_YET_BASIC, *names], self.levels)
            return
        bands = [(0, 0.9999), (1, 1.9999), (2, 2.9999), (3, 3.9999), (4, 4)]
        for i, (lo, hi) in enumerate(bands):
            ws.conditional_format(r1, c1, r2, c2, {"type": "cell", "criteria": "between", "minimum": lo,
                                                   "maximum": hi, "format": self.levels[i]})

    def close(self) -> None:
        self.wb.close()


def write_summary(cons: Consolidation, path: Path) -> Path:
    book = _Book(path, f"EIF maturity matrix summary: {cons.matrix.title}")
    texts = _Texts(cons)
    _register(book, cons)
    _heat_map(book, cons)
    _levels_grid(book, cons)
    _elements(book, cons)
    _change(book, cons)
    _criteria(book, cons)
    _support(book, cons, texts.support)
    _actions(book, cons, texts.actions)
    _notes(book, cons, texts.notes)
    _findings(book, cons)
    _charts(book, cons)
    book.close()
    return path


def _register(book: _Book, cons: Consolidation) -> None:
    reg = cons.register
    counts = {s: sum(1 for r in reg if r.status == s) for s in ("returned", "outstanding", "rejected", "superseded",
                                                               "unexpected")}
    ws = book.sheet("Register", "Returns register", "  ·  ".join(f"{n} {s}" for s, n in counts.items()))
    headers = [("Status", 12), ("Partner id", 12), ("Name", 22), ("Organisation", 26), ("Email", 26), ("File", 34),
               ("Reason / note", 50), ("Errors", 8), ("Warnings", 9), ("Info", 6), ("Sender", 24)]
    rows = [[r.status, r.partner_id, r.name, r.organisation, r.email, r.file, r.reason, r.errors, r.warnings,
             r.info, r.sender] for r in reg]
    book.table(ws, 3, headers, rows, ["text"] * 7 + ["num"] * 3 + ["text"])
    out = book.sheet("Outstanding", "Outstanding returns, ready for chasing",
                     f"{counts['outstanding']} partner(s) have not returned an accepted workbook")
    rows = [[r.name, r.organisation, r.email, r.partner_id, r.expected_file, r.reason] for r in reg
            if r.status == "outstanding"]
    book.table(out, 3, [("Name", 24), ("Organisation", 28), ("Email", 30), ("Partner id", 12), ("Workbook sent", 40),
                        ("Note", 36)], rows)


def _heat_map(book: _Book, cons: Consolidation) -> None:
    m = cons.matrix
    subs = [sub for _, _, sub in m.sub_elements()]
    ws = book.sheet("Heat map", "Scores by partner and sub-element (0–4: the whole number is the level reached)",
                    "Legend: 0 Not yet basic · 1 Basic level · 2 Early progress · 3 Substantial progress · 4 Mature. "
                    "Moderate = partners differ by two levels or more.")
    ws.set_column(0, 0, 26)
    ws.set_column(1, 1, 24)
    ws.set_column(2, 1 + 2 * len(subs), 7.5)
    top, head = 3, 4
    ws.set_row(top, 42)
    for i, sub in enumerate(subs):
        ws.merge_range(top, 2 + 2 * i, top, 3 + 2 * i, f"{sub.code} {sub.name}", book.f["head"])
    ws.write_string(head, 0, "Partner", book.f["head"])
    ws.write_string(head, 1, "Organisation", book.f["head"])
    for i in range(len(subs)):
        ws.write_string(head, 2 + 2 * i, "Base", book.f["head"])
        ws.write_string(head, 3 + 2 * i, "12m", book.f["head"])
    first = head + 1
    fmts = ["plain", "plain"] + ["score"] * (len(subs) * len(COLUMNS))
    for r, p in enumerate(cons.participants, start=first):
        score = p.scores.score
        book.row(ws, r, [p.name or p.key, p.organisation,
                         *(score(sub.code, column) for sub in subs for column in COLUMNS)], fmts)
    last = first + len(cons.participants) - 1
    book.level_colours(ws, first, 2, last, 1 + 2 * len(subs), text=False, names=m.level_names)
    stats_row = last + 2
    columns = [(2 + 2 * i + j, cons.stats(sub.code, column)) for i, sub in enumerate(subs)
               for j, column in enumerate(COLUMNS)]

    # One row at a time (constant-memory mode): a statistic's label, then its formula in every column.
    for k, label in enumerate(STAT_ROWS):
        ws.write_string(stats_row + k, 0, label, book.f["bold"])
        for c, st in columns:
            formula, fmt, value = _stat(label, f"{a1(first, c)}:{a1(max(last, first), c)}", a1(stats_row + 4, c), st)
            ws.write_formula(stats_row + k, c, formula, book.f[fmt], value)
    ws.set_row(stats_row + 6, 40)
    ws.write_string(stats_row + 6, 0, "Median level", book.f["bold"])
    for c, st in columns:
        ws.write_string(stats_row + 6, c, st["median_level"] if st["count"] else NOT_ASSESSED, book.f["text"])
    book.level_colours(ws, stats_row + 1, 2, stats_row + 3, 1 + 2 * len(subs), text=False, names=m.level_names)
    ws.freeze_panes(first, 2)


STAT_ROWS = ("Count", "Median", "Min", "Max", "Spread (levels)", "Moderate?")


def _stat(label: str, rng: str, spread: str, st: dict) -> tuple[str, str, object]:
    """One statistic of a column of scores: its formula, its number format, and its value as computed here (cached
    in the cell for programs that do not recalculate). spread is the cell of the column's spread."""
    if label == "Count":
        return f"=COUNT({rng})", "num", st["count"]
    if label in ("Median", "Min", "Max"):
        value = st[label.lower()]
        return f'=IF(COUNT({rng})=0,"",{label.upper()}({rng}))', "score", "" if value is None else value
    if label == "Spread (levels)":
        value = st["spread"]
        return f'=IF(COUNT({rng})=0,"",INT(MAX({rng}))-INT(MIN({rng})))', "num", "" if value is None else value
    return f'=IF({spread}="","",IF({spread}>=2,"Moderate",""))', "flag", "Moderate" if st["moderate"] else ""


def _levels_grid(book: _Book, cons: Consolidation) -> None:
    m = cons.matrix
    subs = [sub for _, _, sub in m.sub_elements()]
    ws = book.sheet("Levels", "Level by partner and sub-element, as words (from the ticked criteria)",
                    "Own overall ratings, where given, are in the Change sheet.")
    ws.set_column(0, 0, 26)
    ws.set_column(1, 1, 24)
    ws.set_column(2, 1 + 2 * len(subs), 18)
    ws.write_string(4, 0, "Partner", book.f["head"])
    ws.write_string(4, 1, "Organisation", book.f["head"])
    for i, sub in enumerate(subs):
        for j, column in enumerate(COLUMNS):
            ws.write_string(4, 2 + 2 * i + j, f"{sub.code} {COLUMN_LABEL[column]}", book.f["head"])
    fmts = ["plain", "plain"] + ["text"] * (len(subs) * len(COLUMNS))
    for r, p in enumerate(cons.participants, start=5):
        level = p.scores.level
        book.row(ws, r, [p.name or p.key, p.organisation,
                         *(level(sub.code, column) for sub in subs for column in COLUMNS)], fmts)
    book.level_colours(ws, 5, 2, 4 + len(cons.participants), 1 + 2 * len(subs), text=True, names=m.level_names)
    ws.freeze_panes(5, 2)


def _elements(book: _Book, cons: Consolidation) -> None:
    m = cons.matrix
    ws = book.sheet("Elements", "Key element and dimension roll-ups (mean of sub-element scores)")
    ws.set_column(0, 0, 26)
    ws.set_column(1, 1, 24)
    cols: list[tuple[str, object, str]] = []
    for dim in m.dimensions:
        for el in dim.elements:
            cols += [(f"{el.number} {el.name} · {COLUMN_LABEL[c]}", ("el", el), c) for c in COLUMNS]
        cols += [(f"{dim.name} · {COLUMN_LABEL[c]}", ("dim", dim), c) for c in COLUMNS]
    ws.set_column(2, 1 + len(cols), 11)
    ws.set_row(3, 54)
    ws.write_string(3, 0, "Partner", book.f["head"])
    ws.write_string(3, 1, "Organisation", book.f["head"])
    for i, (label, _, _) in enumerate(cols):
        ws.write_string(3, 2 + i, label, book.f["head"])
    fmts = ["plain", "plain"] + ["score"] * len(cols)
    for r, p in enumerate(cons.participants, start=4):
        book.row(ws, r, [p.name or p.key, p.organisation,
                         *(cons.element_score(p, obj, column) if kind == "el" else cons.dimension_score(p, obj, column)
                           for _, (kind, obj), column in cols)], fmts)
    last = 3 + len(cons.participants)
    ws.write_string(last + 2, 0, "Median", book.f["bold"])
    for i in range(len(cols)):
        c = 2 + i
        rng = f"{a1(4, c)}:{a1(max(last, 4), c)}"
        ws.write_formula(last + 2, c, f'=IF(COUNT({rng})=0,"",MEDIAN({rng}))', book.f["score"], "")
    book.level_colours(ws, 4, 2, last + 2, 1 + len(cols), text=False, names=m.level_names)
    ws.freeze_panes(4, 2)


def _change(book: _Book, cons: Consolidation) -> None:
    m = cons.matrix
    ws = book.sheet("Change", "Baseline → 12 months, per sub-element and partner",
                    "Change = 12 months score − baseline score, where both were assessed.")

    def rows():  # a row per sub-element and partner, made as they are written
        for _, _, sub in m.sub_elements():
            for p in cons.participants:
                sc = p.scores
                bs, ts = sc.score(sub.code, BASELINE), sc.score(sub.code, TWELVE_MONTHS)
                yield [sub.code, sub.name, p.name or p.key, p.organisation,
                       bs, sc.level(sub.code, BASELINE), sc.rating(sub.code, BASELINE),
                       ts, sc.level(sub.code, TWELVE_MONTHS), sc.rating(sub.code, TWELVE_MONTHS),
                       round(ts - bs, 4) if bs is not None and ts is not None else None]

    headers = [("Code", 7), ("Sub-element", 26), ("Partner", 22), ("Organisation", 24), ("Baseline score", 10),
               ("Baseline level", 30), ("Baseline own rating", 18), ("12 months score", 10), ("12 months level", 30),
               ("12 months own rating", 18), ("Change", 9)]
    end = book.table(ws, 3, headers, rows(), ["text"] * 4 + ["score", "text", "text", "score", "text", "text",
                                                                      "score"])
    book.level_colours(ws, 4, 5, end, 5, text=True, names=m.level_names)
    book.level_colours(ws, 4, 8, end, 8, text=True, names=m.level_names)
    r = end + 2
    ws.write_string(r, 0, "Per sub-element (medians)", book.f["bold"])
    r += 1
    for c, h in enumerate(("Code", "Sub-element", "Baseline median", "12 months median", "Median change",
                           "Partners with both")):
        ws.write_string(r, c, h, book.f["head"])
    for _, _, sub in m.sub_elements():
        r += 1
        both = [(b, t) for b, t in zip(cons.scores(sub.code, BASELINE), cons.scores(sub.code, TWELVE_MONTHS),
                                        strict=True) if b is not None and t is not None]
        book.put(ws, r, 0, sub.code)
        book.put(ws, r, 1, sub.name)
        book.put(ws, r, 2, cons.stats(sub.code, BASELINE)["median"], "score")
        book.put(ws, r, 3, cons.stats(sub.code, TWELVE_MONTHS)["median"], "score")
        book.put(ws, r, 4, median(t - b for b, t in both), "score")
        book.put(ws, r, 5, len(both), "num")


def _criteria(book: _Book, cons: Consolidation) -> None:
    counts = cons.criterion_counts()
    n = len(cons.participants)
    ws = book.sheet("Criteria", "How many partners ticked each criterion", f"{n} partner return(s) counted")
    rows = []
    for _, _, sub in cons.matrix.sub_elements():
        for crit in sub.criteria:
            b, t = counts.get((crit.code, BASELINE), 0), counts.get((crit.code, TWELVE_MONTHS), 0)
            rows.append([crit.code, sub.code, crit.level, crit.text, b, t, b / n if n else None, t / n if n else None])
    book.table(ws, 3, [("Code", 8), ("Sub-element", 10), ("Progress level", 18), ("Criterion", 70),
                       ("Baseline ticks", 10), ("12 months ticks", 10), ("Baseline %", 10), ("12 months %", 10)],
               rows, ["text", "text", "text", "text", "num", "num", "pct", "pct"])


def _support(book: _Book, cons: Consolidation, counts: dict[tuple[str, str, str], int]) -> None:
    n = len(cons.participants)
    ws = book.sheet("Supporting information", "Supporting information: coverage",
                    "How many partners hold each item; 'Other' items and levels claimed without evidence follow.")
    rows = []
    for _, _, sub in cons.matrix.sub_elements():
        for item in sub.supporting_information:
            if item.heading:  # a line introducing a list: nothing to tick
                continue
            b, t = counts.get((sub.code, item.id, BASELINE), 0), counts.get((sub.code, item.id, TWELVE_MONTHS), 0)
            rows.append([sub.code, item.id, item.level or "", item.text, b, t, b / n if n else None])
    end = book.table(ws, 3, [("Sub-element", 10), ("Ref", 10), ("Progress level", 16), ("Supporting information", 60),
                             ("Baseline", 9), ("12 months", 9), ("Baseline coverage", 10)], rows,
                     ["text"] * 4 + ["num", "num", "pct"])
    r = end + 2
    ws.write_string(r, 0, "Levels claimed without supporting information ticked", book.f["bold"])
    r += 1
    for c, h in enumerate(("Sub-element", "File", "Where", "Finding")):
        ws.write_string(r, c, h, book.f["head"])
    for f in cons.findings():
        if f.code == "no-evidence":
            r += 1
            book.put(ws, r, 0, f.message.split(" ", 1)[0])
            book.put(ws, r, 1, f.file)
            book.put(ws, r, 2, f.where)
            book.put(ws, r, 3, f.message)


def _timescale_rank(value: str, names: tuple[str, ...]) -> int:
    return names.index(value) if value in names else len(names)


class _Texts:
    """What the summary takes from the partners' answers (see texts.py): supporting-information counts,
    barrier/action rows by timescale, and notes. Taken by the reading processes where they could (Return.texts),
    else from the answers here."""

    def __init__(self, cons: Consolidation):
        self.support: dict[tuple[str, str, str], int] = defaultdict(int)
        self.actions, self.notes = SortedRows(), SortedRows()
        names = cons.matrix.timescale_names
        for p in cons.participants:
            ret = p.report.ret
            who = p.name or p.key
            support, groups, notes = ret.texts.load() if ret.texts else texts_of([*ret.answers, *ret.extra])
            for key in support:
                self.support[key] += 1
            for code, item, cell, g in groups:
                timescale = str(g.get("timescale", "")) or TIMESCALE_ORDER_LAST
                self.actions.add((_timescale_rank(timescale, names), _code_key(code), who.lower(), ret.file, int(item)),
                                 [timescale, code, who, p.organisation, g.get("barrier", ""),
                                  g.get("priority_action", ""), g.get("owner", ""), g.get("action_notes", ""),
                                  ret.file, cell])
            for code, field, where, text in notes:
                kind = NOTE_KINDS[field]
                self.notes.add((_code_key(code) if code else (999,), who.lower(), kind, where),
                               [code, who, p.organisation, kind, text, ret.file, where])


def _actions(book: _Book, cons: Consolidation, rows: SortedRows) -> None:
    ws = book.sheet("Barriers & actions", "Barriers to change and priority actions, by timescale",
                    "; ".join(f"{t.name}: {t.meaning}" for t in cons.matrix.timescales) + ". Filter with the arrows.")
    book.table(ws, 3, [("Timescale", 10), ("Sub-element", 9), ("Partner", 20), ("Organisation", 22),
                       ("Barrier to change", 40), ("Priority action", 40), ("Owner", 16), ("Notes", 30), ("File", 26),
                       ("Cell", 14)], rows)


@lru_cache(maxsize=1024)
def _code_key(code: str) -> tuple:
    return natural_key(code)


def _notes(book: _Book, cons: Consolidation, rows: SortedRows) -> None:
    ws = book.sheet("Notes", "Notes, 'Other' supporting information and anything typed outside the template")
    book.table(ws, 3, [("Sub-element", 9), ("Partner", 20), ("Organisation", 22), ("Kind", 18), ("Text", 80),
                       ("File", 26), ("Cell", 16)], rows)


def _findings(book: _Book, cons: Consolidation) -> None:
    ws = book.sheet("Findings", "Every finding of every file")
    rows = ([f.file, f.severity.value, f.code, f.sheet, f.cell, f.message] for f in cons.findings())
    book.table(ws, 3, [("File", 30), ("Severity", 9), ("Code", 22), ("Sheet", 22), ("Cell", 8), ("Message", 90)],
               rows)


def _charts(book: _Book, cons: Consolidation) -> None:
    m = cons.matrix
    ws = book.sheet("Charts", "Median level per sub-element, and the distribution of levels")
    subs = [sub for _, _, sub in m.sub_elements()]
    r0 = 3
    for c, h in enumerate(("Sub-element", "Baseline median", "12 months median")):
        ws.write_string(r0, c, h, book.f["head"])
    for i, sub in enumerate(subs, start=r0 + 1):
        ws.write_string(i, 0, sub.code, book.f["plain"])
        for j, column in enumerate(COLUMNS, start=1):
            book.put(ws, i, j, cons.stats(sub.code, column)["median"], "score")
    last = r0 + len(subs)
    chart = book.wb.add_chart({"type": "column"})
    for j in range(1, len(COLUMNS) + 1):
        chart.add_series({"name": ["Charts", r0, j], "categories": ["Charts", r0 + 1, 0, last, 0],
                          "values": ["Charts", r0 + 1, j, last, j], "fill": {"color": ("#6B8FB8", "#1F3A5F")[j - 1]}})
    chart.set_title({"name": "Median score per sub-element"})
    chart.set_y_axis({"min": 0, "max": 4, "major_unit": 1, "name": "Score (level)"})
    chart.set_size({"width": 900, "height": 380})
    ws.insert_chart(r0, 5, chart)
    # Distribution of levels at baseline.
    d0 = last + 3
    names = [NOT_YET_BASIC, *m.level_names]
    ws.write_string(d0 - 1, 0, "Partners at each level (baseline)", book.f["bold"])
    ws.write_string(d0, 0, "Sub-element", book.f["head"])
    for j, name in enumerate(names, start=1):
        ws.write_string(d0, j, name, book.f["head"])
    for i, sub in enumerate(subs, start=d0 + 1):
        ws.write_string(i, 0, sub.code, book.f["plain"])
        levels = [p.scores.full(sub.code, BASELINE) for p in cons.participants]
        for j in range(len(names)):
            ws.write_number(i, j + 1, levels.count(j), book.f["num"])
    dl = d0 + len(subs)
    bar = book.wb.add_chart({"type": "bar", "subtype": "stacked"})
    for j in range(1, len(names) + 1):
        bar.add_series({"name": ["Charts", d0, j], "categories": ["Charts", d0 + 1, 0, dl, 0],
                        "values": ["Charts", d0 + 1, j, dl, j], "fill": {"color": LEVEL_FILLS[j - 1]},
                        "border": {"color": "#6B7280"}})
    bar.set_title({"name": "Distribution of levels at baseline"})
    bar.set_x_axis({"name": "Partners"})
    bar.set_y_axis({"reverse": True})
    bar.set_size({"width": 900, "height": 480})
    ws.insert_chart(d0, len(names) + 2, bar)
    ws.set_column(0, 0, 12)
    ws.set_column(1, len(names), 14)
