"""summary.xlsx: what the coordinator takes to the partnership board."""

from __future__ import annotations

import datetime as dt
import math
import textwrap
from collections import defaultdict
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

from xlsxwriter.exceptions import FileCreateError
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from eif_xlsx import spool
from eif_xlsx.cells import a1
from eif_xlsx.domain.model import NOT_ASSESSED, NOT_YET_BASIC, Dimension, Element, natural_key
from eif_xlsx.domain.scoring import median
from eif_xlsx.report.consolidate import Consolidation
from eif_xlsx.spool import SortedRows
from eif_xlsx.template import layout as layout_mod
from eif_xlsx.template.layout import BASELINE, COLUMN_LABEL, COLUMNS, TWELVE_MONTHS
from eif_xlsx.template.styles import FONT, HEAD_FILL, LEVEL_FILLS, MUTED, colour_levels
from eif_xlsx.template.text import write_text
from eif_xlsx.template.workbook import FIXED_TIME, footer_text
from eif_xlsx.texts import NOTE_KINDS, texts_of

TIMESCALE_ORDER_LAST = "(none)"

# Printing: A4 with narrow side margins (inches). A page's printable width in pixels at 100 % (96 dpi), landscape
# and portrait; a sheet printed at a scale keeps its 10 pt text at MIN_SCALE % or more (8 pt), so wide sheets are
# split across pages (print titles repeated) rather than squeezed onto one.
MARGIN = 0.4
PAGE_PX = {True: (11.69 - 2 * MARGIN) * 96 * 0.88, False: (8.27 - 2 * MARGIN) * 96 * 0.88}  # LibreOffice needs ~10 %
MIN_SCALE = 80
LINE_PT = 12.75  # a line of 10 pt Arial, for row heights that show wrapped text whole
DEFAULT_WIDTH = 8.43
_WRAPPED = {"text": 0, "head": 0, "indent": 2}  # formats whose text wraps: characters of the width it loses


def _px(width: float) -> int:
    """A column's width in pixels, as Excel and xlsxwriter reckon it."""
    return 0 if width <= 0 else int(width * 7 + 0.5) + 5


def _lines(text: str, width: float) -> int:
    """How many lines a wrapped text takes in a column `width` characters wide (on the safe side: a character
    counted as wide as a digit, so a row is never too short for its text)."""
    # Levels, names and codes repeat on every row: remembered. A partner's long text seldom repeats, and 4,096 of
    # them would be megabytes kept.
    return _short_lines(text, width) if len(text) <= _CACHED else _count_lines(text, width)


_CACHED = 120  # characters: texts as long as this at most are remembered by _short_lines


def _count_lines(text: str, width: float) -> int:
    per = max(1, int(width) - 1)
    if len(text) <= per and "\n" not in text:
        return 1
    return sum(max(1, len(textwrap.wrap(part, per, break_long_words=True))) for part in text.split("\n"))


_short_lines = lru_cache(maxsize=4096)(_count_lines)


def _hf(text: str) -> str:
    """Text for a page header or footer (its first 80 characters), as a workbook's footer has it
    (workbook.footer_text: '&' doubled, and an '&' before 'G' that XlsxWriter would take for an image made '＆')."""
    return footer_text(text[:80])


class _Book:
    """A workbook where every piece of partner text goes in through write_string.

    Written in constant-memory mode, so that a round of thousands of returns never sits in memory as cells: each
    row goes to disk when the next one is started. Every sheet is therefore written top to bottom (a row's height
    is set before its cells; a cell of an earlier row would be lost), and lists are autofiltered ranges rather
    than Excel tables, which that mode cannot write.
    """

    def __init__(self, path: Path, title: str, header: str = ""):
        self.title, self.header = title, header  # header: what every printed page says at its top left
        self.widths: dict[str, dict[int, float]] = {}  # sheet -> column -> width, for row heights and print scale
        self.wb = Workbook(
            str(path),
            {
                "strings_to_formulas": False,
                "strings_to_urls": False,
                "strings_to_numbers": False,
                "nan_inf_to_errors": True,
                "constant_memory": True,
                "tmpdir": spool.scratch_folder(),  # its rows on disk until it is closed: removed with the run's
                # Arial 10 throughout, so column widths are reckoned in its digits (a
                # program without Calibri would otherwise widen every column)
                "default_format_properties": {"font_name": FONT, "font_size": 10},
                "default_row_height": 17,
                "default_column_width": 64,
            },
        )
        self.wb.set_properties({"title": title, "author": "eif-xlsx", "created": FIXED_TIME})
        base = {"font_name": FONT, "font_size": 10, "valign": "top"}
        f = self.wb.add_format
        self.f = {
            "title": f({**base, "bold": True, "font_size": 15, "font_color": HEAD_FILL}),
            "sub": f({**base, "font_color": MUTED, "italic": True, "text_wrap": False}),
            "head": f(
                {**base, "bold": True, "font_color": "#FFFFFF", "bg_color": HEAD_FILL, "text_wrap": True, "border": 1}
            ),
            "text": f({**base, "text_wrap": True}),
            "plain": f({**base}),
            "bold": f({**base, "bold": True}),
            "score": f({**base, "num_format": "0.00", "align": "center"}),
            "indent": f({**base, "text_wrap": True, "indent": 1}),
            "num": f({**base, "num_format": "0", "align": "center"}),
            "pct": f({**base, "num_format": "0%", "align": "center"}),
            "date": f({**base, "num_format": "yyyy-mm-dd", "align": "left"}),
            "flag": f({**base, "bold": True, "font_color": "#9A3412"}),
        }
        self.levels = [f({"bg_color": c}) for c in LEVEL_FILLS]
        self._rows: dict[str, int] = {}  # sheet -> the last row row() wrote there
        self._plans: dict[tuple, tuple] = {}  # format names -> their formats (see _formats)

    def sheet(self, name: str, title: str, note: str = "", *, landscape: bool = True) -> Worksheet:
        """A sheet with its title (and a note under it), printed on A4 fitted to the page width with the area, the
        round and the page number on every page (print() sets its print area, titles and breaks)."""
        ws = self.wb.add_worksheet(name)
        self.widths[name] = {}
        ws.set_row(0, 21)  # the 15 pt title clear of the note under it
        ws.write_string(0, 0, title, self.f["title"])
        if note:
            ws.write_string(1, 0, note, self.f["sub"])
        if landscape:
            ws.set_landscape()
        else:
            ws.set_portrait()
        ws.set_paper(9)
        ws.set_margins(left=MARGIN, right=MARGIN, top=0.7, bottom=0.7)
        ws.fit_to_pages(1, 0)
        ws.set_header(f"&L{_hf(self.header)}&R&A")
        ws.set_footer(f"&L{_hf(self.title)}&RPage &P of &N")
        return ws

    def width(self, ws: Worksheet, c1: int, c2: int, width: float) -> None:
        """Columns c1..c2 `width` characters wide (kept, for row heights and the print scale)."""
        ws.set_column(c1, c2, width)
        for c in range(c1, c2 + 1):
            self.widths[ws.name][c] = width

    def height(self, ws: Worksheet, values, fmts, c0: int = 0) -> float | None:
        """The height a row needs to show its wrapped texts whole, or None when one line will do."""
        widths, lines = self.widths[ws.name], 1
        for c, (value, fmt) in enumerate(zip(values, fmts, strict=True), start=c0):
            if isinstance(value, str) and fmt in ("text", "head", "indent") and value:
                lines = max(lines, _lines(value, widths.get(c, DEFAULT_WIDTH) - (2 if fmt == "indent" else 0)))
        return None if lines == 1 else round(LINE_PT * lines + 3, 2)

    def fit(self, ws: Worksheet, r: int, values, fmts, c0: int = 0, least: float | None = None) -> None:
        """Row r tall enough for its wrapped texts (before its cells: rows are written top to bottom)."""
        h = self.height(ws, values, fmts, c0)
        if h is not None or least is not None:
            ws.set_row(r, max(h or 0, least or 0))

    def print(
        self,
        ws: Worksheet,
        last_row: int,
        last_col: int,
        *,
        rows: tuple[int, int] | None = None,
        cols: tuple[int, int] | None = None,
        h_breaks=(),
        v_breaks=(),
        landscape: bool = True,
        one_page: bool = False,
    ) -> None:
        """Print area A1 to (last_row, last_col), title rows and columns repeated on every page, and page breaks
        before the given rows and columns. Without breaks the sheet is fitted to the page width (or to one page);
        with them (a fitted sheet ignores breaks) it is printed at the largest scale at which every page's columns
        fit, never below MIN_SCALE unless one column alone is wider."""
        ws.print_area(0, 0, max(last_row, 0), max(last_col, 0))
        if rows:
            ws.repeat_rows(*rows)
        if cols:
            ws.repeat_columns(*cols)
        if one_page:
            ws.fit_to_pages(1, 1)
        h_breaks = sorted({r for r in h_breaks if 0 < r <= last_row})
        v_breaks = sorted({c for c in v_breaks if 0 < c <= last_col})
        if h_breaks:
            ws.set_h_pagebreaks(h_breaks)
        if v_breaks:
            ws.set_v_pagebreaks(v_breaks)
        if (h_breaks or v_breaks) and not one_page:
            ws.set_print_scale(self.scale(ws, last_col, cols, v_breaks, landscape))

    def scale(self, ws: Worksheet, last_col: int, cols: tuple[int, int] | None, v_breaks, landscape: bool) -> int:
        """The print scale (%) at which the widest page of columns fits the page width."""
        widths = self.widths[ws.name]
        titles = set(range(cols[0], cols[1] + 1)) if cols else set()
        px = sum(_px(widths.get(c, DEFAULT_WIDTH)) for c in titles)
        edges = [0, *v_breaks, last_col + 1]
        widest = max(
            px + sum(_px(widths.get(c, DEFAULT_WIDTH)) for c in range(a, b) if c not in titles)
            for a, b in zip(edges, edges[1:], strict=False)
        )
        return max(10, min(100, int(100 * PAGE_PX[landscape] / max(widest, 1))))

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

    def row(self, ws: Worksheet, r: int, values, fmts, c0: int = 0, fit: bool = False) -> None:
        """A whole row from column c0, each value as put() writes it; fit: as tall as its wrapped texts need.
        Rows go top to bottom, each once: in constant-memory mode xlsxwriter would drop a cell of a row already
        written, without a word.

        The formats of a list of format names are looked up once (rows of a table share theirs) and the common
        values (text, whole numbers, fractions, blanks) go straight to xlsxwriter's public writers, as put() writes
        them (text shaped like rich-text XML or holding '_x' through write_text); put() writes the rest (yes/no, dates, NaN, any
        other value as its text)."""
        if r <= self._rows.get(ws.name, -1):
            raise ValueError(f"{ws.name}: row {r + 1} is written already (rows go top to bottom, each once)")
        self._rows[ws.name] = r
        values = values if isinstance(values, list | tuple) else list(values)
        cells, scored, wrapped = self._formats(fmts, len(values))
        if fit:
            widths, lines = self.widths[ws.name], 1
            for i, less in wrapped:
                value = values[i]
                if value and isinstance(value, str):
                    lines = max(lines, _lines(value, widths.get(c0 + i, DEFAULT_WIDTH) - less))
            if lines > 1:
                ws.set_row(r, round(LINE_PT * lines + 3, 2))  # as fit() sets it, before the row's cells
        write_string, write_number, write_blank = ws.write_string, ws.write_number, ws.write_blank
        for i, value in enumerate(values):
            kind = value.__class__
            if kind is str:
                if not value:
                    write_blank(r, c0 + i, None, cells[i])
                elif value.startswith("<r>") or "_x" in value:
                    write_text(ws, r, c0 + i, value, cells[i])
                else:
                    write_string(r, c0 + i, value, cells[i])
            elif value is None:
                write_blank(r, c0 + i, None, cells[i])
            elif kind is int:
                write_number(r, c0 + i, value, cells[i])
            elif kind is float and value == value:
                write_number(r, c0 + i, value, scored[i])
            else:
                self.put(ws, r, c0 + i, value, fmts[i])

    def _formats(self, fmts, n: int) -> tuple[list, list, list[tuple[int, int]]]:
        """For a list of format names: each column's format, its format for a fraction (a float in a 'text' column
        is shown as a score, as put() shows it), and the columns whose text wraps (with what an indent takes)."""
        key = tuple(fmts)
        if len(key) != n:
            raise ValueError(f"{n} values for {len(key)} formats")
        got = self._plans.get(key)
        if got is None:
            f = self.f
            got = self._plans[key] = (
                [f[x] for x in key],
                [f["score" if x == "text" else x] for x in key],
                [(i, _WRAPPED[x]) for i, x in enumerate(key) if x in _WRAPPED],
            )
        return got

    def table(
        self,
        ws: Worksheet,
        r0: int,
        headers: Sequence[tuple[str, float]],
        rows,
        fmts: list[str] | None = None,
        starts: list[int] | None = None,
    ) -> int:
        """A header row and the rows below it (any iterable, written as it is consumed), with filter and sort
        arrows on the header, each row as tall as its wrapped texts need; returns the row after the last.
        starts: filled with the rows that begin each group of rows the iterable marks (a row given as
        (True, values) starts a group: a dimension, for the page breaks)."""
        for c, (_, width) in enumerate(headers):
            self.width(ws, c, c, width)
        self.fit(ws, r0, [h for h, _ in headers], ["head"] * len(headers))
        for c, (head, _) in enumerate(headers):
            ws.write_string(r0, c, head, self.f["head"])
        fmts = fmts or ["text"] * len(headers)
        last = r0
        for last, row in enumerate(rows, start=r0 + 1):
            if isinstance(row, tuple) and len(row) == 2 and row[0] is True:
                row = row[1]
                if starts is not None:
                    starts.append(last)
            self.row(ws, last, row, fmts, fit=True)
        if last == r0:  # an empty list still shows an empty row under its header
            last += 1
            self.row(ws, last, [""] * len(headers), fmts)
        ws.autofilter(r0, 0, last, len(headers) - 1)
        ws.freeze_panes(r0 + 1, 0)
        self.print(ws, last, len(headers) - 1, rows=(r0, r0), h_breaks=starts or ())
        return last + 1

    def level_colours(self, ws: Worksheet, r1: int, c1: int, r2: int, c2: int, *, text: bool, names) -> None:
        if r2 < r1 or c2 < c1:
            return
        if text:
            colour_levels(ws, r1, c1, r2, c2, [NOT_YET_BASIC, *names], self.levels)
            return
        bands = [(0, 0.9999), (1, 1.9999), (2, 2.9999), (3, 3.9999), (4, 4)]
        for i, (lo, hi) in enumerate(bands):
            ws.conditional_format(
                r1,
                c1,
                r2,
                c2,
                {"type": "cell", "criteria": "between", "minimum": lo, "maximum": hi, "format": self.levels[i]},
            )

    def close(self) -> None:
        try:
            self.wb.close()
        except FileCreateError as exc:  # the file could not be written (a folder, no permission, open elsewhere)
            cause = exc.args[0] if exc.args else None
            if isinstance(cause, OSError):
                raise cause from None  # as any file an import cannot write: its name and why
            raise


def write_summary(cons: Consolidation, path: Path) -> Path:
    book = _Book(path, f"EIF maturity matrix summary: {cons.matrix.title}", page_header(cons))
    texts = _Texts(cons)
    _register(book, cons)
    _heat_map(book, cons)
    _sectors(book, cons)
    _levels_grid(book, cons)
    _elements(book, cons)
    _change(book, cons)
    _criteria(book, cons)
    _support(book, cons, texts.support, texts.others)
    _actions(book, cons, texts.actions)
    _notes(book, cons, texts.notes)
    _findings(book, cons)
    _charts(book, cons)
    book.close()
    return path


def page_header(cons: Consolidation) -> str:
    """'<area> · round: <round>' from the returns' own metadata (the area and round they were sent for)."""
    meta = [p.report.ret.metadata for p in cons.participants]
    areas = sorted({m.get("area", "").strip() for m in meta} - {""})
    rounds = sorted({m.get("round", "").strip() for m in meta} - {""})
    return " · ".join(x for x in (", ".join(areas), "round: " + ", ".join(rounds) if rounds else "") if x)


def _dimension_starts(cons: Consolidation) -> list[int]:
    """The index, among the matrix's sub-elements, of the first sub-element of each dimension but the first."""
    starts, i = [], 0
    for dim in cons.matrix.dimensions:
        if i:
            starts.append(i)
        i += sum(len(el.assessed) for el in dim.elements)
    return starts


def _by_dimension(cons: Consolidation, rows_of):
    """Rows for book.table, grouped by dimension: the first row of each dimension marked (see _Book.table)."""
    for d, dim in enumerate(cons.matrix.dimensions):
        first = d > 0  # the first dimension starts under the header: no break there
        for el in dim.elements:
            for sub in el.assessed:
                for row in rows_of(sub):
                    yield (True, row) if first else row
                    first = False


def _register(book: _Book, cons: Consolidation) -> None:
    reg = cons.register
    counts = {
        s: sum(1 for r in reg if r.status == s)
        for s in ("returned", "outstanding", "rejected", "superseded", "unexpected")
    }
    ws = book.sheet("Register", "Returns register", "  ·  ".join(f"{n} {s}" for s, n in counts.items()))
    headers = [
        ("Status", 11),
        ("Partner id", 10),
        ("Name", 18),
        ("Organisation", 20),
        ("Email", 22),
        ("File", 22),
        ("Reason / note", 34),
        ("Errors", 7),
        ("Warnings", 8),
        ("Info", 5),
        ("Sender", 18),
    ]
    rows = [list(r.row()) for r in reg]
    book.table(ws, 3, headers, rows, ["text"] * 7 + ["num"] * 3 + ["text"])
    out = book.sheet(
        "Outstanding",
        "Outstanding returns, ready for chasing",
        f"{counts['outstanding']} partner(s) have not returned an accepted workbook",
    )
    rows = [
        [r.name, r.organisation, r.email, r.partner_id, r.expected_file, r.reason]
        for r in reg
        if r.status == "outstanding"
    ]
    book.table(
        out,
        3,
        [("Name", 22), ("Organisation", 26), ("Email", 28), ("Partner id", 11), ("Workbook sent", 36), ("Note", 34)],
        rows,
    )


def _heat_map(book: _Book, cons: Consolidation) -> None:
    m = cons.matrix
    subs = [sub for _, _, sub in m.sub_elements()]
    ws = book.sheet(
        "Heat map",
        "Scores by partner and sub-element (0–4: the whole number is the level reached)",
        "Legend: 0 Not yet basic · 1 Basic level · 2 Early progress · 3 Substantial progress · 4 Mature. "
        "Moderate = partners differ by two levels or more.",
    )
    book.width(ws, 0, 0, 24)
    book.width(ws, 1, 1, 22)
    book.width(ws, 2, 1 + 2 * len(subs), 7.5)
    top, head = 3, 4
    ws.set_row(top, max(42, *(LINE_PT * _lines(f"{sub.code} {sub.name}", 15) + 3 for sub in subs)))
    for i, sub in enumerate(subs):
        ws.merge_range(top, 2 + 2 * i, top, 3 + 2 * i, f"{sub.code} {sub.name}", book.f["head"])
    ws.write_string(head, 0, "Partner", book.f["head"])
    ws.write_string(head, 1, "Organisation", book.f["head"])
    for i in range(len(subs)):
        ws.write_string(head, 2 + 2 * i, "Base", book.f["head"])
        ws.write_string(head, 3 + 2 * i, "12m", book.f["head"])
    first = head + 1
    fmts = ["text", "text"] + ["score"] * (len(subs) * len(COLUMNS))
    for r, p in enumerate(cons.participants, start=first):
        score = p.scores.score
        book.row(
            ws,
            r,
            [p.name or p.key, p.organisation, *(score(sub.code, column) for sub in subs for column in COLUMNS)],
            fmts,
            fit=True,
        )
    last = first + len(cons.participants) - 1
    book.level_colours(ws, first, 2, last, 1 + 2 * len(subs), text=False, names=m.level_names)
    stats_row = last + 2
    columns = [
        (2 + 2 * i + j, cons.stats(sub.code, column)) for i, sub in enumerate(subs) for j, column in enumerate(COLUMNS)
    ]

    # One row at a time (constant-memory mode): a statistic's label, then its formula in every column.
    for k, label in enumerate(STAT_ROWS):
        ws.write_string(stats_row + k, 0, label, book.f["bold"])
        for c, st in columns:
            formula, fmt, value = _stat(label, f"{a1(first, c)}:{a1(max(last, first), c)}", a1(stats_row + 4, c), st)
            ws.write_formula(stats_row + k, c, formula, book.f[fmt], value)
    medians = {c: st["median_level"] if st["count"] else NOT_ASSESSED for c, st in columns}
    book.fit(ws, stats_row + 6, list(medians.values()), ["text"] * len(medians), 2, least=40)
    ws.write_string(stats_row + 6, 0, "Median level", book.f["bold"])
    for c, text in medians.items():
        ws.write_string(stats_row + 6, c, text, book.f["text"])
    book.level_colours(ws, stats_row + 1, 2, stats_row + 3, 1 + 2 * len(subs), text=False, names=m.level_names)
    ws.freeze_panes(first, 2)
    book.print(
        ws,
        stats_row + 6,
        1 + 2 * len(subs),
        rows=(top, head),
        cols=(0, 1),
        v_breaks=[2 + 2 * i for i in _dimension_starts(cons)],
    )


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
    ws = book.sheet(
        "Levels",
        "Level by partner and sub-element, as words (from the ticked criteria)",
        "Own overall ratings, where given, are in the Change sheet.",
    )
    book.width(ws, 0, 0, 16)
    book.width(ws, 1, 1, 16)
    book.width(ws, 2, 1 + 2 * len(subs), 12)
    heads = [f"{sub.code} {COLUMN_LABEL[column]}" for sub in subs for column in COLUMNS]
    book.fit(ws, 4, heads, ["head"] * len(heads), 2)
    ws.write_string(4, 0, "Partner", book.f["head"])
    ws.write_string(4, 1, "Organisation", book.f["head"])
    for c, head in enumerate(heads, start=2):
        ws.write_string(4, c, head, book.f["head"])
    fmts = ["text", "text"] + ["text"] * (len(subs) * len(COLUMNS))
    for r, p in enumerate(cons.participants, start=5):
        level = p.scores.level
        book.row(
            ws,
            r,
            [p.name or p.key, p.organisation, *(level(sub.code, column) for sub in subs for column in COLUMNS)],
            fmts,
            fit=True,
        )
    last = 4 + len(cons.participants)
    book.level_colours(ws, 5, 2, last, 1 + 2 * len(subs), text=True, names=m.level_names)
    ws.freeze_panes(5, 2)
    book.print(
        ws,
        max(last, 5),
        1 + 2 * len(subs),
        rows=(4, 4),
        cols=(0, 1),
        v_breaks=[2 + 2 * i for i in _dimension_starts(cons)],
    )


def _elements(book: _Book, cons: Consolidation) -> None:
    m = cons.matrix
    ws = book.sheet("Elements", "Key element and dimension roll-ups (mean of sub-element scores)")
    book.width(ws, 0, 0, 20)
    book.width(ws, 1, 1, 20)
    cols: list[tuple[str, tuple[str, Element | Dimension], str]] = []
    dim_starts = []
    for dim in m.dimensions:
        if cols:
            dim_starts.append(2 + len(cols))
        for el in dim.elements:
            cols += [(f"{el.number} {el.name} · {COLUMN_LABEL[c]}", ("el", el), c) for c in COLUMNS]
        cols += [(f"{dim.name} · {COLUMN_LABEL[c]}", ("dim", dim), c) for c in COLUMNS]
    book.width(ws, 2, 1 + len(cols), 11)
    book.fit(ws, 3, [label for label, _, _ in cols], ["head"] * len(cols), 2, least=54)
    ws.write_string(3, 0, "Partner", book.f["head"])
    ws.write_string(3, 1, "Organisation", book.f["head"])
    for i, (label, _, _) in enumerate(cols):
        ws.write_string(3, 2 + i, label, book.f["head"])
    fmts = ["plain", "plain"] + ["score"] * len(cols)
    scored: list[list[float]] = [[] for _ in cols]  # each column's scores: its median's formula gives theirs
    for r, p in enumerate(cons.participants, start=4):
        scores = [
            cons.element_score(p, obj, column) if kind == "el" else cons.dimension_score(p, obj, column)
            for _, (kind, obj), column in cols
        ]
        for i, score in enumerate(scores):
            if score is not None:
                scored[i].append(score)
        book.row(ws, r, [p.name or p.key, p.organisation, *scores], fmts, fit=True)
    last = 3 + len(cons.participants)
    ws.write_string(last + 2, 0, "Median", book.f["bold"])
    for i in range(len(cols)):
        c = 2 + i
        rng = f"{a1(4, c)}:{a1(max(last, 4), c)}"
        ws.write_formula(
            last + 2,
            c,
            f'=IF(COUNT({rng})=0,"",MEDIAN({rng}))',
            book.f["score"],
            median(scored[i]) if scored[i] else "",
        )
    book.level_colours(ws, 4, 2, last + 2, 1 + len(cols), text=False, names=m.level_names)
    ws.freeze_panes(4, 2)
    book.print(ws, last + 2, 1 + len(cols), rows=(3, 3), cols=(0, 1), v_breaks=dim_starts)


def _change(book: _Book, cons: Consolidation) -> None:
    m = cons.matrix
    ws = book.sheet(
        "Change",
        "Baseline → 12 months, per sub-element and partner",
        "Change = 12 months score − baseline score, where both were assessed.",
    )

    def rows(sub):  # a row per partner, made as they are written
        for p in cons.participants:
            sc = p.scores
            bs, ts = sc.score(sub.code, BASELINE), sc.score(sub.code, TWELVE_MONTHS)
            yield [
                sub.code,
                sub.name,
                p.name or p.key,
                p.organisation,
                bs,
                sc.level(sub.code, BASELINE),
                sc.rating(sub.code, BASELINE),
                ts,
                sc.level(sub.code, TWELVE_MONTHS),
                sc.rating(sub.code, TWELVE_MONTHS),
                round(ts - bs, 4) if bs is not None and ts is not None else None,
            ]

    headers = [
        ("Code", 6),
        ("Sub-element", 18),
        ("Partner", 16),
        ("Organisation", 18),
        ("Baseline score", 9),
        ("Baseline level", 21),
        ("Baseline own rating", 14),
        ("12 months score", 9),
        ("12 months level", 21),
        ("12 months own rating", 14),
        ("Change", 8),
    ]
    starts: list[int] = []
    end = book.table(
        ws,
        3,
        headers,
        _by_dimension(cons, rows),
        ["text"] * 4 + ["score", "text", "text", "score", "text", "text", "score"],
        starts,
    )
    book.level_colours(ws, 4, 5, end, 5, text=True, names=m.level_names)
    book.level_colours(ws, 4, 8, end, 8, text=True, names=m.level_names)
    r = end + 2
    ws.write_string(r, 0, "Per sub-element (medians)", book.f["bold"])
    r += 1
    for c, h in enumerate(
        ("Code", "Sub-element", "Baseline median", "12 months median", "Median change", "Partners with both")
    ):
        ws.write_string(r, c, h, book.f["head"])
    for _, _, sub in m.sub_elements():
        r += 1
        both = [
            (b, t)
            for b, t in zip(cons.scores(sub.code, BASELINE), cons.scores(sub.code, TWELVE_MONTHS), strict=True)
            if b is not None and t is not None
        ]
        book.put(ws, r, 0, sub.code)
        book.put(ws, r, 1, sub.name)
        book.put(ws, r, 2, cons.stats(sub.code, BASELINE)["median"], "score")
        book.put(ws, r, 3, cons.stats(sub.code, TWELVE_MONTHS)["median"], "score")
        book.put(ws, r, 4, median(t - b for b, t in both), "score")
        book.put(ws, r, 5, len(both), "num")
    book.print(ws, r, len(headers) - 1, rows=(3, 3), h_breaks=[*starts, end + 2])


def _criteria(book: _Book, cons: Consolidation) -> None:
    counts = cons.criterion_counts()
    n = len(cons.participants)
    ws = book.sheet("Criteria", "How many partners ticked each criterion", f"{n} partner return(s) counted")

    def rows(sub):
        for crit in sub.criteria:
            b, t = counts.get((crit.code, BASELINE), 0), counts.get((crit.code, TWELVE_MONTHS), 0)
            yield [crit.code, sub.code, crit.level, crit.text, b, t, b / n if n else None, t / n if n else None]

    book.table(
        ws,
        3,
        [
            ("Code", 8),
            ("Sub-element", 10),
            ("Progress level", 18),
            ("Criterion", 70),
            ("Baseline ticks", 10),
            ("12 months ticks", 10),
            ("Baseline %", 10),
            ("12 months %", 10),
        ],
        _by_dimension(cons, rows),
        ["text", "text", "text", "text", "num", "num", "pct", "pct"],
        [],
    )


def _support(book: _Book, cons: Consolidation, counts: dict[tuple[str, str, str], int], others: SortedRows) -> None:
    """The checklist with each item's progress level beside it and how many partners hold it, then the 'Other'
    items partners added (their text, and whether ticked), then the levels claimed without evidence."""
    n = len(cons.participants)
    ws = book.sheet(
        "Supporting information",
        "Supporting information: coverage",
        "How many partners hold each item; 'Other' items and levels claimed without evidence follow.",
    )

    def rows(sub):
        for item in sub.supporting_information:
            if item.heading:  # a line introducing a list: nothing to tick
                continue
            b, t = counts.get((sub.code, item.id, BASELINE), 0), counts.get((sub.code, item.id, TWELVE_MONTHS), 0)
            yield [sub.code, item.id, item.level or "", item.text, b, t, b / n if n else None]

    starts: list[int] = []
    end = book.table(
        ws,
        3,
        [
            ("Sub-element", 10),
            ("Ref", 10),
            ("Progress level", 16),
            ("Supporting information", 60),
            ("Baseline", 9),
            ("12 months", 9),
            ("Baseline coverage", 10),
        ],
        _by_dimension(cons, rows),
        ["text"] * 4 + ["num", "num", "pct"],
        starts,
    )
    r = end + 1
    section = [r]
    ws.write_string(r, 0, "'Other' supporting information added by partners", book.f["bold"])
    r += 1
    heads = ["Sub-element", "Item", "Partner", "Text", "Baseline", "12 months", "File · cell"]
    book.fit(ws, r, heads, ["head"] * len(heads))
    for c, h in enumerate(heads):
        ws.write_string(r, c, h, book.f["head"])
    fmts = ["text", "text", "text", "text", "plain", "plain", "text"]
    for row in others:
        r += 1
        book.row(ws, r, row, fmts, fit=True)
    r += 2
    section.append(r)
    ws.write_string(r, 0, "Levels claimed without supporting information ticked", book.f["bold"])
    r += 1
    for c, h in enumerate(("Sub-element", "File", "Where", "Finding")):
        ws.write_string(r, c, h, book.f["head"])
    for f in cons.findings():
        if f.code == "no-evidence":
            r += 1
            values = [f.message.split(" ", 1)[0], f.file, f.where, f.message]
            book.row(ws, r, values, ["text"] * 4, fit=True)
    book.print(ws, r, 6, rows=(3, 3), h_breaks=[*starts, *section])


def _timescale_rank(value: str, names: tuple[str, ...]) -> int:
    return names.index(value) if value in names else len(names)


class _Texts:
    """What the summary takes from the partners' answers (see texts.py): supporting-information counts,
    barrier/action rows by timescale, and notes. Taken by the reading processes where they could (Return.texts),
    else from the answers here."""

    def __init__(self, cons: Consolidation):
        self.support: dict[tuple[str, str, str], int] = defaultdict(int)
        self.actions, self.notes, self.others = SortedRows(), SortedRows(), SortedRows()
        names = cons.matrix.timescale_names
        current = None
        for p in cons.participants:
            ret = p.report.ret
            who = p.name or p.key
            support, groups, notes, others = ret.texts.load() if ret.texts else texts_of([*ret.answers, *ret.extra])
            if ret.layout is not None and ret.layout.template_version == "1":
                # Template 1 keyed its supporting information by position (S1, S2…): counted under the item's
                # id where the line is still the same one (as the 12-months re-issue places it), else not at all.
                current = current or layout_mod.build(cons.matrix)
                ids = layout_mod.template_one_item_ids(ret.layout, current)
                support = [(code, ids.get((code, item), item) or "", column) for code, item, column in support]
            for code, item, where, text, ticked in others:
                self.others.add(
                    (_code_key(code), who.lower(), ret.file, _code_key(item)),
                    [
                        code,
                        item,
                        who,
                        text,
                        "✓" if BASELINE in ticked else "",
                        "✓" if TWELVE_MONTHS in ticked else "",
                        f"{ret.file} · {where}",
                    ],
                )
            for key in support:
                self.support[key] += 1
            for code, item, cell, g in groups:
                timescale = str(g.get("timescale", "")) or TIMESCALE_ORDER_LAST
                self.actions.add(
                    (_timescale_rank(timescale, names), _code_key(code), who.lower(), ret.file, int(item)),
                    [
                        timescale,
                        code,
                        who,
                        p.organisation,
                        g.get("barrier", ""),
                        g.get("priority_action", ""),
                        g.get("owner", ""),
                        g.get("action_notes", ""),
                        ret.file,
                        cell,
                    ],
                )
            for code, field, where, text in notes:
                kind = NOTE_KINDS[field]
                self.notes.add(
                    (_code_key(code) if code else (999,), who.lower(), kind, where),
                    [code, who, p.organisation, kind, text, ret.file, where],
                )


def _actions(book: _Book, cons: Consolidation, rows: SortedRows) -> None:
    ws = book.sheet(
        "Barriers & actions",
        "Barriers to change and priority actions, by timescale",
        "; ".join(f"{t.name}: {t.meaning}" for t in cons.matrix.timescales) + ". Filter with the arrows.",
    )
    book.table(
        ws,
        3,
        [
            ("Timescale", 10),
            ("Sub-element", 8),
            ("Partner", 16),
            ("Organisation", 17),
            ("Barrier to change", 34),
            ("Priority action", 34),
            ("Owner", 13),
            ("Notes", 24),
            ("File", 17),
            ("Cell", 13),
        ],
        rows,
    )


@lru_cache(maxsize=1024)
def _code_key(code: str) -> tuple:
    return natural_key(code)


def _notes(book: _Book, cons: Consolidation, rows: SortedRows) -> None:
    ws = book.sheet("Notes", "Notes, 'Other' supporting information and anything typed outside the template")
    book.table(
        ws,
        3,
        [
            ("Sub-element", 9),
            ("Partner", 18),
            ("Organisation", 20),
            ("Kind", 14),
            ("Text", 70),
            ("File", 22),
            ("Cell", 16),
        ],
        rows,
    )


def _findings(book: _Book, cons: Consolidation) -> None:
    ws = book.sheet("Findings", "Every finding of every file")
    rows = ([f.file, f.severity.value, f.code, f.sheet, f.cell, f.message] for f in cons.findings())
    book.table(ws, 3, [("File", 26), ("Severity", 9), ("Code", 20), ("Sheet", 20), ("Cell", 8), ("Message", 88)], rows)


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
        chart.add_series(
            {
                "name": ["Charts", r0, j],
                "categories": ["Charts", r0 + 1, 0, last, 0],
                "values": ["Charts", r0 + 1, j, last, j],
                "fill": {"color": ("#6B8FB8", "#1F3A5F")[j - 1]},
            }
        )
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
        bar.add_series(
            {
                "name": ["Charts", d0, j],
                "categories": ["Charts", d0 + 1, 0, dl, 0],
                "values": ["Charts", d0 + 1, j, dl, j],
                "fill": {"color": LEVEL_FILLS[j - 1]},
                "border": {"color": "#6B7280"},
            }
        )
    bar.set_title({"name": "Distribution of levels at baseline"})
    bar.set_x_axis({"name": "Partners"})
    bar.set_y_axis({"reverse": True})
    bar.set_size({"width": 900, "height": 480})
    ws.insert_chart(d0, len(names) + 2, bar)
    book.width(ws, 0, 0, 12)
    book.width(ws, 1, len(names), 14)
    # The charts reach about 900 pixels right of their column and 480 down from their row.
    book.print(ws, max(dl, d0 + 25), len(names) + 2 + 14)


def sector_of(participant) -> str:
    """The partner's sector: its role in the partners list, as the workbook's metadata keeps it; 'Other' where
    there is none (a blank workbook, an unlisted partner)."""
    return participant.report.ret.metadata.get("partner_role", "").strip() or OTHER_SECTOR


OTHER_SECTOR = "Other"


def _sectors(book: _Book, cons: Consolidation) -> None:
    """One printable page: per sub-element (rows, by dimension), the median score per partner sector (columns),
    baseline and 12 months, coloured by the level it reaches."""
    m = cons.matrix
    groups: dict[str, list] = defaultdict(list)
    for p in cons.participants:
        groups[sector_of(p)].append(p)
    sectors = sorted(groups, key=lambda s: (s == OTHER_SECTOR, s.lower(), s))
    ws = book.sheet(
        "Sectors",
        "Median score by partner sector",
        "Sector: the partner's role in the partners list; without one, 'Other'. (n) = partners.",
    )
    ws.write_string(
        2, 0, "0 Not yet basic · 1 Basic level · 2 Early progress · 3 Substantial progress · 4 Mature", book.f["sub"]
    )
    book.width(ws, 0, 0, 6)
    book.width(ws, 1, 1, 42)  # the longest name on one line
    book.width(ws, 2, 1 + 2 * max(len(sectors), 1), 7)
    top, head = 3, 4
    labels = [f"{s} ({len(groups[s])})" for s in sectors]
    ws.set_row(top, max(30, *(LINE_PT * _lines(label, 14) + 3 for label in labels or [""])))
    ws.write_string(top, 0, "", book.f["head"])
    ws.write_string(top, 1, "Sector (partners)", book.f["head"])
    for i, label in enumerate(labels):
        ws.merge_range(top, 2 + 2 * i, top, 3 + 2 * i, label, book.f["head"])
    ws.write_string(head, 0, "Code", book.f["head"])
    ws.write_string(head, 1, "Sub-element", book.f["head"])
    for i in range(len(sectors)):
        ws.write_string(head, 2 + 2 * i, "Base", book.f["head"])
        ws.write_string(head, 3 + 2 * i, "12m", book.f["head"])
    r = head
    fmts = ["text", "text"] + ["score"] * (2 * len(sectors))
    for dim in m.dimensions:
        r += 1
        ws.write_string(r, 0, dim.name, book.f["bold"])
        for el in dim.elements:
            for sub in el.assessed:
                r += 1
                book.row(
                    ws,
                    r,
                    [
                        sub.code,
                        sub.name,
                        *(
                            median(v for p in groups[s] if (v := p.scores.score(sub.code, column)) is not None)
                            for s in sectors
                            for column in COLUMNS
                        ),
                    ],
                    fmts,
                    fit=True,
                )
    book.level_colours(ws, head + 1, 2, r, 1 + 2 * len(sectors), text=False, names=m.level_names)
    landscape = len(sectors) > 3
    if not landscape:
        ws.set_portrait()
    ws.freeze_panes(head + 1, 2)
    book.print(ws, r, 1 + 2 * max(len(sectors), 1), one_page=True, landscape=landscape)
