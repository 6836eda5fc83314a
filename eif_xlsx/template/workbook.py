"""Write one assessment workbook: cover, overview, a sheet per sub-element, indicators and hidden metadata."""

from __future__ import annotations

import datetime as dt
import io
import re
from dataclasses import dataclass, field

from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from eif_xlsx.cells import a1, col_letter, quote_sheet
from eif_xlsx.domain.model import NOT_ASSESSED, NOT_YET_BASIC, IndicatorSet, Matrix
from eif_xlsx.domain.scoring import Score, next_level, score_ticks
from eif_xlsx.normalise import TICK_WORDS, as_text, tick
from eif_xlsx.template.layout import (
    BASELINE,
    COL_12M,
    COL_BASE,
    COL_KEY,
    COL_LEVEL,
    COL_NOTE,
    COL_TEXT,
    COLUMN_LABEL,
    COLUMNS,
    COVER_LABEL_COL,
    COVER_VALUE_COL,
    GD_LAST,
    GD_MARK,
    GD_TEXT,
    HEADING,
    HELPER_COL,
    IND_COMMENT,
    IND_DEN,
    IND_ID,
    IND_KIND,
    IND_NUM,
    IND_PERIOD,
    IND_RAG,
    IND_TEXT,
    IND_UNIT,
    IND_VALUE,
    META_FIRST_ROW,
    META_KEY_COL,
    META_SHEET,
    META_VALUE_COL,
    OV_CODE,
    OV_DATE_COL,
    OV_DIM,
    OV_ELEMENT,
    OV_LEVEL,
    OV_NAME,
    OV_RATING,
    OV_SCORE,
    TICK,
    TICK_COL,
    InputCell,
    SheetLayout,
    WorkbookLayout,
    baseline_rows,
    metadata_checksum,
)
from eif_xlsx.template.styles import colour_levels, colour_scores, make_formats, row_height
from eif_xlsx.template.text import write_text
from eif_xlsx.version import __version__

FIXED_TIME = dt.datetime(2020, 11, 1, 0, 0, 0)  # document timestamps are fixed: same inputs, same bytes

AnswerKey = tuple[str, str, str, str]  # (field, sub_element, item, column)


@dataclass(frozen=True)
class WorkbookSpec:
    matrix: Matrix
    layout: WorkbookLayout
    indicators: IndicatorSet | None = None
    partner: dict[str, str] = field(default_factory=dict)  # id, name, organisation, email, role
    area: str = ""
    deadline: str = ""
    return_to: str = ""
    round: str = "baseline"
    password: str = ""
    answers: dict[AnswerKey, object] = field(default_factory=dict)  # pre-filled values (re-issue)
    locked_columns: frozenset[str] = frozenset()  # e.g. {"baseline"} in the 12-months round
    notes_for_partner: tuple[str, ...] = ()  # extra cover lines (earlier actions, findings to correct)
    comments: dict[tuple[str, int, int], str] = field(default_factory=dict)  # (sheet, row, col) -> comment


def metadata_rows(spec: WorkbookSpec) -> list[tuple[str, str]]:
    p = spec.partner
    rows = [
        ("definition_id", spec.matrix.id),
        ("definition_version", spec.matrix.version),
        ("definition_hash", spec.matrix.content_hash),
        ("template_version", spec.layout.template_version),
        ("generator", f"eif-xlsx {__version__}"),
        ("round", spec.round),
        ("partner_id", p.get("id", "")),
        ("partner_name", p.get("name", "")),
        ("partner_organisation", p.get("organisation", "")),
        ("partner_email", p.get("email", "")),
        ("partner_role", p.get("role", "")),
        ("area", spec.area),
        ("deadline", spec.deadline),
        ("return_to", spec.return_to),
        ("indicators_id", spec.indicators.id if spec.indicators else ""),
        ("indicators_version", spec.indicators.version if spec.indicators else ""),
        ("indicators_hash", spec.indicators.content_hash if spec.indicators else ""),
    ]
    rows += [(f"layout_{i + 1}", chunk) for i, chunk in enumerate(spec.layout.pack())]
    # The values written into locked columns, signed with the rest: a changed baseline is found (reader.py).
    rows += baseline_rows(spec.locked_columns, {k: as_text(_as_written(v)) for k, v in spec.answers.items()})
    rows.append(("checksum", metadata_checksum(rows)))
    return rows


def write_workbook(spec: WorkbookSpec) -> bytes:
    """The workbook's bytes (deterministic for the same spec)."""
    buf = io.BytesIO()
    wb = Workbook(
        buf, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False}
    )
    wb.set_properties(
        {
            "title": f"EIF maturity matrix: {spec.matrix.title}",
            "author": "eif-xlsx",
            "company": spec.area,
            "created": FIXED_TIME,
            "comments": f"Made by eif-xlsx {__version__}",
        }
    )
    wb.set_calc_mode("auto")
    fmt = make_formats(wb)
    _Builder(wb, fmt, spec).build()
    wb.close()
    return buf.getvalue()


class _Builder:
    def __init__(self, wb: Workbook, fmt: dict, spec: WorkbookSpec):
        self.wb, self.fmt, self.spec, self.m = wb, fmt, spec, spec.matrix
        self.partner = spec.partner
        self.answers = dict(spec.answers)
        self.validations: dict[tuple[str, tuple[str, ...], int], list[int]] = {}
        self.scores: dict[tuple[str, str], tuple[list[int], Score]] = {}  # (sub-element, column): see _column_score

    # -- common ---------------------------------------------------------------------------------

    def build(self) -> None:
        for sheet in self.spec.layout.sheets:
            ws = self.wb.add_worksheet(sheet.name)
            getattr(self, f"_{sheet.role}")(ws, sheet)
            self._finish(ws, sheet)
        self._metadata(self.wb.add_worksheet(META_SHEET))
        self.wb.worksheets()[0].activate()

    def _finish(self, ws: Worksheet, sheet: SheetLayout) -> None:
        self._validations(ws)
        who = " · ".join(x for x in (self.partner.get("name"), self.partner.get("organisation")) if x)
        ws.set_footer(page_footer(who or "EIF maturity matrix", sheet.name))
        if sheet.role == "guidance":
            ws.set_portrait()  # one column of prose reads best on an upright page
        else:
            ws.set_landscape()
        ws.set_paper(9)  # A4
        ws.fit_to_pages(1, 0)
        ws.set_margins(left=0.4, right=0.4, top=0.5, bottom=0.6)
        for (name, row, col), text in self.spec.comments.items():
            if name == sheet.name:
                ws.write_comment(row, col, text, {"x_scale": 2, "y_scale": 2, "font_name": "Arial"})
        ws.protect(
            self.spec.password,
            {
                "sort": True,
                "autofilter": True,
                "format_rows": True,
                "format_columns": True,
                "select_locked_cells": True,
                "select_unlocked_cells": True,
            },
        )

    def _value(self, cell: InputCell, default: object = None) -> object:
        return self.answers.get((cell.field, cell.sub_element, cell.item, cell.column), default)

    def _input(self, ws: Worksheet, row: int, cell: InputCell, fmt_name: str | None = None) -> None:
        """Write one input cell: unlocked, pre-filled where the spec says, always as text/number/date — never a formula."""
        locked = cell.column in self.spec.locked_columns
        name = fmt_name or _FMT[cell.kind]
        if (ws.name, row, cell.col) in self.spec.comments:
            name = "flag_" + name  # a finding to correct: highlighted, with its comment
        elif locked:
            name = "locked_" + name
        fmt = self.fmt[name]
        value = self._value(cell)
        if value is None or value == "":
            ws.write_blank(row, cell.col, None, fmt)
        elif isinstance(value, bool):
            ws.write_string(row, cell.col, "TRUE" if value else "FALSE", fmt)
        elif isinstance(value, dt.datetime | dt.date):
            ws.write_datetime(row, cell.col, _as_datetime(value), fmt)
        elif isinstance(value, int | float):
            ws.write_number(row, cell.col, value, fmt)
        else:
            write_text(ws, row, cell.col, str(value), fmt)
        if locked:
            return
        if cell.kind != "text":
            # Gathered and written per run of adjacent cells when the sheet is finished (_validations).
            self.validations.setdefault((cell.kind, cell.choices, cell.col), []).append(row)

    def _validations(self, ws: Worksheet) -> None:
        for (kind, choices, col), rows in sorted(self.validations.items()):
            rows.sort()
            start = prev = rows[0]
            for r in [*rows[1:], None]:
                if r is not None and r == prev + 1:
                    prev = r
                    continue
                ws.data_validation(start, col, prev, col, _validation(kind, choices))
                if r is not None:
                    start = prev = r
        self.validations = {}

    # -- sheets ---------------------------------------------------------------------------------

    def _cover(self, ws: Worksheet, sheet: SheetLayout) -> None:
        f, m, mk = self.fmt, self.m, sheet.marks
        ws.set_column(COVER_LABEL_COL, COVER_LABEL_COL, 24)
        ws.set_column(COVER_LABEL_COL + 1, COVER_VALUE_COL - 1, 2)  # a narrow gap between labels and values
        ws.set_column(COVER_VALUE_COL, COVER_VALUE_COL, 90)
        ws.hide_gridlines(2)
        ws.write_string(mk["title"], COVER_LABEL_COL, f"EIF maturity matrix: {m.title}", f["title"])
        ws.write_string(mk["subtitle"], COVER_LABEL_COL, m.subtitle or m.edition, f["subtitle"])
        ws.merge_range(
            mk["details_header"],
            COVER_LABEL_COL,
            mk["details_header"],
            COVER_VALUE_COL,
            "Your details (please check and correct)",
            f["section"],
        )
        values = {
            "respondent_name": self.partner.get("name", ""),
            "respondent_role": self.partner.get("role", ""),
            "respondent_organisation": self.partner.get("organisation", ""),
            "respondent_email": self.partner.get("email", ""),
        }
        for row in sheet.rows:
            ws.write_string(row.row, row.key_col, row.key, f["label"])
            cell = row.cells[0]
            key = (cell.field, cell.sub_element, cell.item, cell.column)
            if key not in self.answers and values.get(cell.field):
                self.answers[key] = values[cell.field]
            self._input(ws, row.row, cell)
        r = mk["partner_info"]
        info = [
            ("Local area", self.spec.area),
            ("Partner id", self.partner.get("id", "")),
            ("Round", COLUMN_LABEL.get(self.spec.round.replace("-", "_"), self.spec.round)),
            ("Return by", self.spec.deadline),
            ("Return to", self.spec.return_to),
            ("Matrix", f"{m.title} ({m.edition}, version {m.version})"),
        ]
        for label, value in info:
            if value:
                ws.write_string(r, COVER_LABEL_COL, label, f["label"])
                write_text(ws, r, COVER_VALUE_COL, value, f["text"])
                r += 1
        r = max(r + 1, mk["how_to"])
        ws.merge_range(r, COVER_LABEL_COL, r, COVER_VALUE_COL, "How to fill it in", f["section"])
        r += 1
        if self.spec.round == "12_months" and BASELINE in self.spec.locked_columns:
            # The matrix's own words say to ignore the 12 months column; this time it is the one to fill.
            steps = [t for t in m.how_to_use if "12 months column" not in t]
            steps.append(
                "This is the 12-months review. The grey Baseline column holds your answers from last time and cannot "
                f"be changed. Tick the criteria that describe your local area now by choosing {TICK} in the "
                "'12 months' column (press Delete to untick), tick the supporting information you hold now, and "
                "record progress on each earlier priority action in its 'Notes / progress' column."
            )
        else:
            steps = [
                *m.how_to_use,
                f"In this workbook: each sub-element has its own sheet. Tick a criterion by choosing {TICK} in its "
                "Baseline column (press Delete to untick).",
            ]
        if any("opposite page" in t for t in steps):
            steps.append(
                "In this workbook, 'the opposite page' is the Notes box at the foot of each sub-element's sheet."
            )
        if any(sh.role == "guidance" for sh in self.spec.layout.sheets):
            steps.append(
                "The Guidance sheet has the matrix's own guidance on using it, and what each of its dimensions covers."
            )
        steps += [
            "Tick the supporting information you hold, add your own under 'Other', and record barriers to change and "
            f"priority actions with a timescale ({', '.join(f'{t.name}: {t.meaning}' for t in m.timescales)}).",
            "The Overview sheet shows the level each sub-element reaches from your ticks. You can give your own "
            "overall rating there too, and the date of your assessment.",
            "Only the pale yellow cells can be changed. Please do not rename sheets, add sheets or delete rows.",
        ]
        for extra in self.spec.notes_for_partner:
            steps.append(extra)
        for text in steps:
            write_text(ws, r, COVER_VALUE_COL, text, f["text"])
            ws.set_row(r, row_height([(text, 90)]))
            r += 1
        r += 1
        ws.merge_range(r, COVER_LABEL_COL, r, COVER_VALUE_COL, "Returning it", f["section"])
        r += 1
        back = "Save the workbook (keep it as .xlsx; .ods is fine too) and email it back"
        if self.spec.return_to:
            back += f" to {self.spec.return_to}"
        if self.spec.deadline:
            back += f" by {self.spec.deadline}"
        ws.write_string(r, COVER_VALUE_COL, back + ". Please keep the file name.", f["text"])
        ws.set_row(r, row_height([(back, 90)]))
        r += 2
        ws.write_string(r, COVER_VALUE_COL, m.source, f["muted"])
        ws.set_row(r, row_height([(m.source, 90)]))

    def _guidance(self, ws: Worksheet, sheet: SheetLayout) -> None:
        """The matrix's guidance as the EIF wrote it, then its dimensions with what each one is: one column of
        wrapped text (bullets in a narrow column of their own), so that it prints on A4 at full width."""
        f, m, mk = self.fmt, self.m, sheet.marks
        widths = {GD_MARK: 3, GD_TEXT: 16, GD_LAST: 74}
        for col, w in widths.items():
            ws.set_column(col, col, w)
        full, indented = sum(widths.values()), widths[GD_TEXT] + widths[GD_LAST]
        ws.hide_gridlines(2)
        ws.write_string(mk["title"], GD_MARK, sheet.title, f["title"])
        ws.set_row(mk["title"], 24)
        intro = (
            f"The guidance published with the matrix ({m.edition}), in its own words. How to fill in this "
            "workbook is on the Cover."
        )
        ws.merge_range(mk["intro"], GD_MARK, mk["intro"], GD_LAST, intro, f["muted"])
        ws.set_row(mk["intro"], row_height([(intro, full)]))
        for i, section in enumerate(m.guidance):
            r = mk[f"section:{i}"]
            ws.merge_range(r, GD_MARK, r, GD_LAST, section.title, f["section"])
            for j, para in enumerate(section.paragraphs):
                r = mk[f"paragraph:{i}:{j}"]
                if para.bullet:
                    ws.write_string(r, GD_MARK, "•", f["text"])
                    ws.merge_range(r, GD_TEXT, r, GD_LAST, para.text, f["text"])
                    ws.set_row(r, row_height([(para.text, indented)]))
                else:
                    ws.merge_range(r, GD_MARK, r, GD_LAST, para.text, f["text"])
                    ws.set_row(r, row_height([(para.text, full)]))
        if "dimensions" in mk:
            r = mk["dimensions"]
            ws.merge_range(
                r,
                GD_MARK,
                r,
                GD_LAST,
                "The four dimensions of the matrix" if len(m.dimensions) == 4 else "The dimensions of the matrix",
                f["section"],
            )
            for k, dim in enumerate(m.dimensions):
                r = mk[f"dimension:{k}"]
                elements = "Key elements: " + "; ".join(f"{el.number} {el.name}" for el in dim.elements)
                ws.write_string(r, GD_TEXT, dim.name, f["label"])
                if dim.description:  # the seed's words in bold, the elements it holds under them
                    ws.write_rich_string(
                        r, GD_LAST, f["label"], dim.description, f["muted"], "\n" + elements, f["text"]
                    )
                else:
                    ws.write_string(r, GD_LAST, elements, f["muted"])
                ws.set_row(r, row_height([(f"{dim.description or ''}\n{elements}", widths[GD_LAST])]))
        r = mk["workbook"]
        where = (
            "In this workbook, 'the opposite page' is the Notes box at the foot of each sub-element's sheet: "
            "write there when your area falls between two levels."
        )
        ws.merge_range(r, GD_MARK, r, GD_LAST, where, f["muted"])
        ws.set_row(r, row_height([(where, full)]))
        ws.merge_range(mk["last"], GD_MARK, mk["last"], GD_LAST, m.source, f["muted"])
        ws.set_row(mk["last"], row_height([(m.source, full)]))
        ws.repeat_rows(mk["title"])

    def _overview(self, ws: Worksheet, sheet: SheetLayout) -> None:
        f, m, mk = self.fmt, self.m, sheet.marks
        ov_widths = {OV_DIM: 17, OV_ELEMENT: 22, OV_CODE: 7, OV_NAME: 30}
        for col, width in ov_widths.items():
            ws.set_column(col, col, width)
        for c in COLUMNS:
            ws.set_column(OV_SCORE[c], OV_SCORE[c], 9)
            ws.set_column(OV_LEVEL[c], OV_LEVEL[c], 34)
            ws.set_column(OV_RATING[c], OV_RATING[c], 20)
        ws.write_string(mk["title"], 0, sheet.title, f["title"])
        who = ", ".join(x for x in (self.partner.get("name"), self.partner.get("organisation"), self.spec.area) if x)
        write_text(ws, mk["partner"], 0, who or "Workshop copy", f["subtitle"])
        ws.write_string(
            mk["intro"],
            0,
            "Levels and scores (0–4) come from the criteria you tick on each "
            "sub-element's sheet. Give your own overall rating if you see it differently.",
            f["note"],
        )
        ws.write_string(mk["dates_header"], 0, "Dates of assessment", f["section"])
        for row in sheet.rows:
            if row.key_col != OV_CODE:
                ws.merge_range(row.row, 0, row.row, OV_DATE_COL - 1, row.key, f["label"])
                self._input(ws, row.row, row.cells[0])
        h = mk["header"]
        ws.write_string(h, OV_DIM, "Dimension", f["header"])
        ws.write_string(h, OV_ELEMENT, "Key element", f["header"])
        ws.write_string(h, OV_CODE, "Code", f["header"])
        ws.write_string(h, OV_NAME, "Sub-element", f["header"])
        for c in COLUMNS:
            lab = COLUMN_LABEL[c]
            ws.write_string(h, OV_SCORE[c], f"{lab} score", f["header"])
            ws.write_string(h, OV_LEVEL[c], f"{lab} level from criteria", f["header"])
            ws.write_string(h, OV_RATING[c], f"{lab} overall rating (yours)", f["header"])
        ws.set_row(h, 30)
        rows = {r.key: r for r in sheet.rows if r.key_col == OV_CODE}
        subs = self.spec.layout.by_role("sub_element")
        for dim, el, sub in m.sub_elements():
            row = rows[sub.code]
            target = next(s for s in subs if s.sub_element == sub.code)
            dim_text = f"{dim.name}\n{dim.description}" if dim.description else dim.name
            ws.write_string(row.row, OV_DIM, dim_text, f["cell"])
            ws.write_string(row.row, OV_ELEMENT, f"{el.number} {el.name}", f["cell"])
            ws.write_string(row.row, OV_CODE, sub.code, f["code"])
            ws.write_string(row.row, OV_NAME, sub.name, f["cell"])
            for c in COLUMNS:
                lr = target.marks[f"level_{c}"]
                sc = self._column_score(sub.code, c)[1]
                ws.write_formula(
                    row.row,
                    OV_SCORE[c],
                    f"={quote_sheet(target.name)}!{a1(lr, COL_BASE)}",
                    f["score"],
                    "" if sc.score is None else sc.score,
                )
                ws.write_formula(
                    row.row, OV_LEVEL[c], f"={quote_sheet(target.name)}!{a1(lr, COL_TEXT)}", f["formula"], sc.level
                )
            for cell in row.cells:
                self._input(ws, row.row, cell)
            ws.set_row(row.row, row_height([(dim_text, ov_widths[OV_DIM]), (sub.name, ov_widths[OV_NAME])], minimum=28))
        first, last = mk["first"], mk["last"]
        ranges = [(first, col, last, col) for c in COLUMNS for col in (OV_LEVEL[c], OV_RATING[c])]
        colour_levels(ws, *ranges[0], [NOT_YET_BASIC, *self.m.level_names], self.fmt["levels"], also=tuple(ranges[1:]))
        ws.freeze_panes(h + 1, OV_NAME + 1)
        ws.repeat_rows(h)
        ws.autofilter(h, OV_DIM, last, OV_RATING[COLUMNS[-1]])

    def _sub_element(self, ws: Worksheet, sheet: SheetLayout) -> None:
        f, m, mk = self.fmt, self.m, sheet.marks
        dim, el, sub = next(x for x in m.sub_elements() if x[2].code == sheet.sub_element)
        widths = {COL_KEY: 9, COL_LEVEL: 30, COL_TEXT: 62, COL_BASE: 12, COL_12M: 14, COL_NOTE: 30}
        for col, w in widths.items():
            ws.set_column(col, col, w)
        ws.set_column(HELPER_COL, HELPER_COL + 2, 10, None, {"hidden": True})
        ws.write_string(mk["title"], COL_KEY, sheet.title, f["title"])
        dim_text = f"{dim.name} ({dim.description})" if dim.description else dim.name
        ws.write_string(mk["context"], COL_KEY, f"{dim_text} · {el.number} {el.name}", f["subtitle"])
        ws.merge_range(mk["focus"], COL_KEY, mk["focus"], COL_NOTE, el.focus, f["focus"])
        ws.set_row(mk["focus"], row_height([(el.focus, sum(widths.values()))], line=15))
        # Live level block.
        ws.write_string(mk["level_header"], COL_LEVEL, "Column", f["header"])
        ws.write_string(mk["level_header"], COL_TEXT, "Level from the ticked criteria", f["header"])
        ws.write_string(mk["level_header"], COL_BASE, "Score (0–4)", f["header"])
        crit_rows = [r for r in sheet.rows if r.cells and r.cells[0].field == "criterion"]
        for c in COLUMNS:
            ws.write_string(mk[f"level_{c}"], COL_LEVEL, COLUMN_LABEL[c], f["label"])
            self._level_formulas(ws, sheet, c, crit_rows)
        colour_scores(
            ws, mk["level_baseline"], COL_BASE, mk["level_12_months"], COL_BASE, len(m.levels), self.fmt["levels"]
        )
        # Criteria.
        h = mk["criteria_header"]
        for col, text in (
            (COL_KEY, "Code"),
            (COL_LEVEL, "Progress level"),
            (COL_TEXT, "Criteria"),
            (COL_BASE, "Baseline"),
            (COL_12M, "12 months"),
        ):
            ws.write_string(h, col, text, f["header"])
        for row in crit_rows:
            ws.write_string(row.row, COL_KEY, row.key, f["code"])
            ws.write_string(row.row, COL_LEVEL, row.level, f["cell"])
            ws.write_string(row.row, COL_TEXT, row.label, f["cell"])
            for cell in row.cells:
                self._input(ws, row.row, cell)
            ws.set_row(row.row, row_height([(row.label, widths[COL_TEXT])]))
        # Supporting information.
        h = mk["support_header"]
        for col, text in (
            (COL_KEY, "Ref"),
            (COL_LEVEL, "Progress level"),
            (COL_TEXT, "Supporting information"),
            (COL_BASE, "Baseline"),
            (COL_12M, "12 months"),
        ):
            ws.write_string(h, col, text, f["header"])
        for row in sheet.rows:
            if not row.cells and row.what == HEADING:
                ws.write_string(row.row, COL_TEXT, row.label, f["label"])
                ws.set_row(row.row, row_height([(row.label, widths[COL_TEXT])]))
                continue
            if not row.cells or row.cells[0].field not in ("supporting_information", "supporting_other"):
                continue
            ws.write_string(row.row, COL_KEY, row.key, f["code"])
            if row.cells[0].field == "supporting_information":
                ws.write_string(row.row, COL_LEVEL, row.level, f["cell"])
                ws.write_string(row.row, COL_TEXT, row.label, f["cell"])
                ws.set_row(row.row, row_height([(row.label, widths[COL_TEXT])]))
            else:
                ws.write_string(row.row, COL_LEVEL, "Other (describe)", f["muted"])
                value = self._value(row.cells[0], "")
                ws.set_row(row.row, row_height([(str(value), widths[COL_TEXT])], minimum=30))
            for cell in row.cells:
                self._input(ws, row.row, cell)
        # Barriers to change and priority actions.
        h = mk["actions_header"]
        for col, text in (
            (COL_KEY, "#"),
            (COL_LEVEL, "Barrier to change"),
            (COL_TEXT, "Priority action"),
            (COL_BASE, "Timescale"),
            (COL_12M, "Owner"),
            (COL_NOTE, "Notes / progress"),
        ):
            ws.write_string(h, col, text, f["header"])
        ws.write_string(
            mk["actions_note"],
            COL_LEVEL,
            "Barriers to change and priority actions — timescale: "
            + "; ".join(f"{t.name} = {t.meaning}" for t in m.timescales),
            f["note"],
        )
        for row in sheet.rows:
            if row.cells and row.cells[0].field == "barrier":
                ws.write_string(row.row, COL_KEY, row.key, f["code"])
                for cell in row.cells:
                    self._input(ws, row.row, cell)
                texts = [(str(self._value(c, "")), widths[c.col]) for c in row.cells]
                ws.set_row(row.row, row_height(texts, minimum=32))
        # Notes.
        notes = next(r for r in sheet.rows if r.key == "Notes")
        ws.write_string(notes.row, COL_KEY, "Notes", f["section"])
        cell = notes.cells[0]
        fmt_name = "locked_input" if cell.column in self.spec.locked_columns else "input"
        value = self._value(cell, "")
        ws.merge_range(notes.row, COL_LEVEL, notes.row, COL_NOTE, "", self.fmt[fmt_name])
        self._input(ws, notes.row, cell)
        ws.set_row(notes.row, max(120, row_height([(str(value), 140)])))
        hint = (
            "Falling between two levels, or anything else to add? Write it here: this is the 'opposite page' of the "
            "matrix's guidance."
        )
        ws.write_string(mk["notes_hint"], COL_LEVEL, hint, f["note"])
        ws.freeze_panes(2, 0)
        ws.repeat_rows(0, 1)

    def _level_formulas(self, ws: Worksheet, sheet: SheetLayout, column: str, crit_rows) -> None:
        """The hidden helpers (tally of ticks per level, full level, ticks at the next level), then the level text
        and score: the rule in scoring.py, as formulas, each stored with the value it has for the ticks written (so
        that every program shows the right level unopened)."""
        mk = sheet.marks
        lr = mk[f"level_{column}"]
        levels = self.m.level_names
        totals = tuple(sum(1 for r in crit_rows if r.level == name) for name in levels)
        key = (lr, TICK_COL[column], mk["criteria_first"], mk["criteria_last"], totals, levels)
        formulas = _FORMULAS.get(key)
        if formulas is None:
            if len(_FORMULAS) > 4096:
                _FORMULAS.clear()
            formulas = _FORMULAS[key] = _level_formula_texts(*key)
        counts, sc = self._column_score(sheet.sub_element, column)
        tally, full, ticks_after, level, score = formulas
        after = next_level(totals, sc.full)
        ws.write_array_formula(lr, HELPER_COL, lr, HELPER_COL, "{" + tally + "}", None, tally_value(counts, totals))
        ws.write_formula(lr, HELPER_COL + 1, full, None, sc.full)
        ws.write_formula(lr, HELPER_COL + 2, ticks_after, None, 0 if after is None else counts[after - 1])
        ws.write_formula(lr, COL_TEXT, level, self.fmt["formula"], sc.level)
        ws.write_formula(lr, COL_BASE, score, self.fmt["score"], "" if sc.score is None else sc.score)

    def _column_score(self, code: str, column: str) -> tuple[list[int], Score]:
        """Ticks per progress level and the score of one sub-element's column, from the values written: what the
        workbook's formulas give, by the importer's own rule (normalise.tick, scoring.score_ticks)."""
        got = self.scores.get((code, column))
        if got is None:
            sheet = self.spec.layout.sub_element_sheet(code)
            levels = self.m.level_names
            criteria = [(r.key, r.level) for r in sheet.rows_of("criterion")]
            ticked = set()
            for r in sheet.rows_of("criterion"):
                cell = next((c for c in r.cells if c.column == column), None)
                if cell is not None and tick(_as_written(self._value(cell))) is True:
                    ticked.add(r.key)
            counts = [sum(1 for k, lv in criteria if lv == name and k in ticked) for name in levels]
            got = self.scores[(code, column)] = (counts, score_ticks(levels, criteria, ticked))
        return got

    def _indicators(self, ws: Worksheet, sheet: SheetLayout) -> None:
        f, mk, iset = self.fmt, sheet.marks, self.spec.indicators
        assert iset is not None
        widths = {
            IND_ID: 13,
            IND_KIND: 13,
            IND_TEXT: 55,
            IND_UNIT: 11,
            IND_PERIOD: 13,
            IND_VALUE: 11,
            IND_NUM: 11,
            IND_DEN: 11,
            IND_RAG: 9,
            IND_COMMENT: 40,
        }
        for col, w in widths.items():
            ws.set_column(col, col, w)
        ws.write_string(mk["title"], 0, sheet.title, f["title"])
        ws.write_string(mk["outcome"], 0, f"Outcome: {iset.outcome}", f["subtitle"])
        ws.write_string(
            mk["intro"],
            0,
            "For each indicator you report on: the reporting period (e.g. 2026 Q3), the "
            "value (for a percentage, the numerator and denominator too), a RAG status and any commentary. "
            "Leave indicators you do not hold blank.",
            f["note"],
        )
        heads = (
            (IND_ID, "Id"),
            (IND_KIND, "Kind"),
            (IND_TEXT, "Indicator"),
            (IND_UNIT, "Unit"),
            (IND_PERIOD, "Reporting period"),
            (IND_VALUE, "Value"),
            (IND_NUM, "Numerator"),
            (IND_DEN, "Denominator"),
            (IND_RAG, "RAG"),
            (IND_COMMENT, "Commentary"),
        )
        for col, text in heads:
            ws.write_string(mk["header"], col, text, f["header"])
        ws.set_row(mk["header"], 30)
        rows = {r.key: r for r in sheet.rows}
        for cp in iset.core_purposes:
            ws.merge_range(
                mk[f"cp:{cp.id}"], 0, mk[f"cp:{cp.id}"], IND_COMMENT, f"Core purpose {cp.title}", f["section"]
            )
            for it in cp.intentions:
                text = f"{it.commissioned}  —  Target population: {it.target_population}  —  Lead: " + "; ".join(
                    it.lead_commissioners
                )
                ws.merge_range(mk[f"it:{it.id}"], 0, mk[f"it:{it.id}"], IND_COMMENT, text, f["muted"])
                ws.set_row(mk[f"it:{it.id}"], row_height([(text, sum(widths.values()))]))
                for ind in it.indicators:
                    row = rows[ind.id]
                    ws.write_string(row.row, IND_ID, ind.id, f["code"])
                    ws.write_string(row.row, IND_KIND, ind.kind.replace("-", " "), f["cell"])
                    ws.write_string(row.row, IND_TEXT, ind.text, f["cell"])
                    ws.write_string(row.row, IND_UNIT, ind.unit, f["cell"])
                    for cell in row.cells:
                        self._input(ws, row.row, cell)
                    if ind.unit != "percentage":
                        ws.write_blank(row.row, IND_NUM, None, f["cell"])
                        ws.write_blank(row.row, IND_DEN, None, f["cell"])
                    ws.set_row(row.row, row_height([(ind.text, widths[IND_TEXT])]))
        ws.freeze_panes(mk["header"] + 1, IND_TEXT + 1)
        ws.repeat_rows(mk["header"])

    def _metadata(self, ws: Worksheet) -> None:
        ws.write_string(
            0, 0, "eif-xlsx metadata: used to read this workbook back. Please do not edit.", self.fmt["meta"]
        )
        for i, (key, value) in enumerate(metadata_rows(self.spec), start=META_FIRST_ROW):
            ws.write_string(i, META_KEY_COL, key, self.fmt["meta"])
            write_text(ws, i, META_VALUE_COL, value, self.fmt["meta"])  # a partner's name or organisation, as given
        ws.set_column(0, 0, 22)
        ws.set_column(1, 1, 60)
        ws.hide()
        ws.protect(self.spec.password)


def _validation(kind: str, choices: tuple[str, ...]) -> dict:
    """The data validation of an input of this kind: a dropdown of ticks or choices, a date or a number."""
    if kind == "tick":
        return {
            "validate": "list",
            "source": [TICK],
            "error_type": "warning",
            "input_title": "Tick",
            "input_message": f"Choose {TICK} to tick. Press Delete to clear.",
            "error_title": "Not a tick",
            "error_message": f"Choose {TICK} from the list, or leave blank.",
        }
    if kind == "choice":
        return {
            "validate": "list",
            "source": list(choices),
            "error_type": "warning",
            "input_title": "Choose",
            "input_message": "Pick one from the list.",
            "error_title": "Not in the list",
            "error_message": ("Choose one of: " + ", ".join(choices))[:255],
        }
    if kind == "date":
        return {
            "validate": "date",
            "criteria": "between",
            "minimum": dt.date(2000, 1, 1),
            "maximum": dt.date(2100, 12, 31),
            "error_type": "stop",
            "input_title": "Date",
            "input_message": "Type a date, e.g. 14/03/2026.",
            "error_title": "Not a date",
            "error_message": "Type a date such as 14/03/2026.",
        }
    return {
        "validate": "decimal",
        "criteria": ">=",
        "value": 0,
        "error_type": "warning",
        "input_title": "Number",
        "input_message": "Type a number.",
        "error_title": "Not a number",
        "error_message": "Type a number (no units).",
    }


_FORMULAS: dict[tuple, tuple] = {}  # the formula texts of a level block by where it is and what it counts


def tally_base(totals: tuple[int, ...]) -> int:
    """The base in which the hidden tally keeps the ticks per progress level, one digit (or more) per level: 10 while
    no level has ten criteria or more, so the tally reads as the counts (units = the first level, ...)."""
    return 10 ** len(str(max(totals, default=0)))


def tally_value(counts: list[int] | tuple[int, ...], totals: tuple[int, ...]) -> int:
    """The hidden tally's value for these ticks per level (what its formula gives)."""
    base = tally_base(totals)
    return sum(n * base**i for i, n in enumerate(counts))


def _level_formula_texts(
    lr: int, tick_col: int, first: int, last: int, totals: tuple[int, ...], levels: tuple[str, ...]
) -> tuple[str, str, str, str, str]:
    """The formulas of one level block: three hidden helpers (the tally of ticks per level, the full level, the
    ticks at the level after it) and the level text and score that read them.

    One SUMPRODUCT counts the ticked criteria of every level at once, each level in its own digit(s) of the tally
    (level k weighs base^(k-1)); a level's count is MOD(INT(tally/base^(k-1)),base). Five short formulas a column
    instead of a count per level plus totals: XlsxWriter spends a fixed amount of work on each formula and more on
    each character, and every program (Excel, LibreOffice, Gnumeric, Google Sheets) has SUMPRODUCT/MATCH/CHOOSE."""
    # A tick is found in one text of the tick words between bars, by FIND: literal in every program (MATCH would take
    # '?' and '*' typed in a cell as wildcards in Excel, and Gnumeric reads the array constants "true" and "1" as
    # TRUE and 1); a value holding a bar is no tick.
    assert not any("|" in w for w in TICK_WORDS)
    ticks_words = "|" + "|".join(TICK_WORDS) + "|"
    base = tally_base(totals)
    lvl_rng = f"${col_letter(COL_LEVEL)}${first + 1}:${col_letter(COL_LEVEL)}${last + 1}"
    tick_rng = f"{col_letter(tick_col)}${first + 1}:{col_letter(tick_col)}${last + 1}"
    # As normalise.tick: no-break and zero-width spaces, tabs and line breaks around a tick are ignored.
    cleaned = f'TRIM(CLEAN(SUBSTITUTE(SUBSTITUTE({tick_rng},"\u00a0"," "),"\u200b","")))'
    tally = (
        f"=SUMPRODUCT({base}^(MATCH({lvl_rng},{{{_texts(levels)}}},0)-1)"
        f'*ISNUMBER(FIND("|"&LOWER({cleaned})&"|","{ticks_words}"))*ISERROR(FIND("|",{tick_rng})))'
    )
    tally_cell, full_cell, next_cell = (a1(lr, HELPER_COL + i) for i in range(3))
    t = [f"MOD(INT({tally_cell}/{base**i}),{base})" if i else f"MOD({tally_cell},{base})" for i in range(len(levels))]
    full = "0"
    for i in range(len(levels)):
        if totals[i]:
            full = f"IF({t[i]}={totals[i]},{i + 1},{full})"
    # The level after each full level (None: none left), its ticks, criteria and name.
    after = [next_level(totals, k) for k in range(len(levels) + 1)]
    ticks_after = "=CHOOSE({}+1,{})".format(full_cell, ",".join("0" if j is None else t[j - 1] for j in after))
    of = ",".join("1" if j is None else str(totals[j - 1]) for j in after)
    name_after = _texts("" if j is None else levels[j - 1] for j in after)
    score = f'=IF({tally_cell}=0,"",{full_cell}+{next_cell}/CHOOSE({full_cell}+1,{of}))'
    level = (
        f'=IF({tally_cell}=0,"{NOT_ASSESSED}",CHOOSE({full_cell}+1,{_texts((NOT_YET_BASIC, *levels))})'
        f'&IF({next_cell}>0,", working towards "&CHOOSE({full_cell}+1,{name_after})&" ("&{next_cell}&" of "'
        f'&CHOOSE({full_cell}+1,{of})&")",""))'
    )
    return tally, "=" + full, ticks_after, level, score


def _texts(texts) -> str:
    """Formula text constants separated by commas."""
    return ",".join('"' + t + '"' for t in texts)


def _as_written(value: object) -> object:
    """An input's value as _input writes it, hence as a program reads it back."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, dt.datetime | dt.date):
        return _as_datetime(value)
    if isinstance(value, int | float):
        return float(value)
    return str(value)


_FMT = {"tick": "tick", "text": "input", "choice": "input", "date": "date", "number": "number"}


FOOTER_LIMIT = 255  # Excel's (and XlsxWriter's) limit, in UTF-16 units: XlsxWriter leaves a longer footer out


def utf16_len(text: str) -> int:
    """A text's length as Excel counts it (UTF-16 code units)."""
    return len(text.encode("utf-16-le")) // 2


def footer_text(text: str) -> str:
    """Text for a footer: '&' doubled (a literal '&' there). XlsxWriter counts '&G' (and '&[Picture]') as an image
    wherever it stands, also in '&&G', and leaves a footer without its images out: there such an '&' is written as
    the full-width '＆' (a partner 'A&G Care' still reads so on the printed page)."""
    doubled = text.replace("&", "&&")
    if "&G" in doubled or "&[Picture]" in doubled:
        doubled = re.sub(r"&(?=G|\[Picture\])", "＆", text).replace("&", "&&")
    return doubled


def page_footer(who: str, sheet_name: str) -> str:
    """Each sheet's footer: who it is for on the left (cut short with '…' to keep the footer within Excel's 255
    characters), the sheet in the centre, the page on the right."""
    centre, right = footer_text(sheet_name), "&RPage &P of &N"
    left = footer_text(who)
    room = FOOTER_LIMIT - utf16_len(f"&L&C{centre}{right}")
    if utf16_len(left) > room:
        cut = who[:room]  # a character is one UTF-16 unit or more, and '&' takes two
        while cut and utf16_len(footer_text(cut.rstrip() + "…")) > room:
            cut = cut[:-1]
        left = footer_text(cut.rstrip() + "…") if cut.strip() else ""
    return f"&L{left}&C{centre}{right}"


def _as_datetime(value: dt.date) -> dt.datetime:
    return value if isinstance(value, dt.datetime) else dt.datetime(value.year, value.month, value.day)
