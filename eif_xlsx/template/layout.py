"""THE single source of truth for where everything lives in an assessment workbook.

The writer walks a Layout to place every cell; the reader walks the layout stored in a returned file
to find every answer again. No other module computes a row or a column.
"""

from __future__ import annotations

import base64
import hashlib
import json
import zlib
from dataclasses import asdict, dataclass, field
from functools import cached_property, lru_cache

from eif_xlsx.cells import safe_sheet_name
from eif_xlsx.domain.model import NOT_YET_BASIC, IndicatorSet, Matrix

TEMPLATE_VERSION = "3"  # 2: supporting information keyed by its id, headings without inputs; 3: a Guidance sheet and
# dimension descriptions in the fixed text (input cells as in 2). A change of fixed text is a new template too: the
# reader compares a current return with the blank template (and blank.py caches that by this version).
TICK = "✓"
BASELINE, TWELVE_MONTHS = "baseline", "12_months"
COLUMNS = (BASELINE, TWELVE_MONTHS)
COLUMN_LABEL = {BASELINE: "Baseline", TWELVE_MONTHS: "12 months"}
OTHER_ROWS = 3
ACTION_ROWS = 8
RAG = ("Red", "Amber", "Green")
META_SHEET = "_eif"
COVER_SHEET, OVERVIEW_SHEET, INDICATORS_SHEET = "Cover", "Overview", "Indicators"
GUIDANCE_SHEET = "Guidance"  # the matrix's own guidance and its dimensions: text only, no inputs
HEADING = "supporting information heading"  # Row.what of a heading line: no inputs, no key

# Column positions (zero-based) on a sub-element sheet.
COL_KEY, COL_LEVEL, COL_TEXT, COL_BASE, COL_12M, COL_NOTE = 0, 1, 2, 3, 4, 5
TICK_COL = {BASELINE: COL_BASE, TWELVE_MONTHS: COL_12M}
HELPER_COL = 9  # hidden helpers of the level block: tally of ticks per level (J), full level (K), ticks after (L)
# Overview columns.
OV_DIM, OV_ELEMENT, OV_CODE, OV_NAME = 0, 1, 2, 3
OV_SCORE = {BASELINE: 4, TWELVE_MONTHS: 7}
OV_LEVEL = {BASELINE: 5, TWELVE_MONTHS: 8}
OV_RATING = {BASELINE: 6, TWELVE_MONTHS: 9}
OV_DATE_COL = 3
# Guidance columns: a bullet's mark, then the text (a paragraph spans both); a dimension's name, then what it is.
GD_MARK, GD_TEXT, GD_LAST = 0, 1, 2
# The hidden metadata sheet: a heading, then one row per entry of writer.metadata_rows (key, value), partner_id the
# 7th (a test checks it).
META_KEY_COL, META_VALUE_COL, META_FIRST_ROW = 0, 1, 1
META_PARTNER_ID_ROW = META_FIRST_ROW + 6
# Indicator sheet columns.
IND_ID, IND_KIND, IND_TEXT, IND_UNIT, IND_PERIOD, IND_VALUE, IND_NUM, IND_DEN, IND_RAG, IND_COMMENT = range(10)


@dataclass(frozen=True)
class InputCell:
    """One cell a partner may fill. `field`/`item`/`column` name the answer; `kind` says how to read it."""

    col: int
    field: str
    kind: str  # tick | text | choice | date | number
    sub_element: str = ""
    item: str = ""
    column: str = ""
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class Row:
    """A row found again by the text in its key cell; `label` is fixed text the partner should not change. A row
    without cells (a heading line of the supporting information) holds no answer and is not looked for."""

    key: str
    key_col: int
    row: int
    cells: tuple[InputCell, ...] = ()
    label: str = ""
    label_col: int = -1
    level: str = ""
    what: str = ""  # how a person would name the row in a message ("criterion 1.1a")


@dataclass(frozen=True)
class SheetLayout:
    role: str  # cover | overview | sub_element | indicators
    name: str
    title: str  # the text in A1, used to find a renamed sheet
    sub_element: str = ""
    rows: tuple[Row, ...] = ()
    # Positions of fixed parts, for the writer only.
    marks: dict[str, int] = field(default_factory=dict)

    def rows_of(self, field_: str) -> tuple[Row, ...]:
        """The rows whose first input answers field_ (every criterion, ...), in order."""
        return self._rows_by_field.get(field_, ())

    @cached_property
    def _rows_by_field(self) -> dict[str, tuple[Row, ...]]:
        # Worked out once per layout: the checks ask for every return of a round.
        out: dict[str, list[Row]] = {}
        for row in self.rows:
            if row.cells:
                out.setdefault(row.cells[0].field, []).append(row)
        return {f: tuple(rows) for f, rows in out.items()}


@dataclass(frozen=True)
class WorkbookLayout:
    template_version: str
    sheets: tuple[SheetLayout, ...]

    def sheet(self, name: str) -> SheetLayout:
        return next(s for s in self.sheets if s.name == name)

    def by_role(self, role: str) -> list[SheetLayout]:
        return [s for s in self.sheets if s.role == role]

    def sub_element_sheet(self, code: str) -> SheetLayout:
        return next(s for s in self.sheets if s.role == "sub_element" and s.sub_element == code)

    def inputs(self) -> list[tuple[SheetLayout, Row, InputCell]]:
        return [(s, r, c) for s in self.sheets for r in s.rows for c in r.cells]

    def keys_unique(self) -> bool:
        """Whether no two input cells answer the same (field, sub-element, item, column): a layout made from a
        definition never has two (kept once worked out)."""
        got = self.__dict__.get("_keys_unique")
        if got is None:
            keys = [(c.field, c.sub_element, c.item, c.column) for s in self.sheets for r in s.rows for c in r.cells]
            got = len(set(keys)) == len(keys)
            object.__setattr__(self, "_keys_unique", got)
        return got

    # -- storage in the hidden metadata sheet -----------------------------------------------------

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> WorkbookLayout:
        raw = json.loads(text)
        sheets = []
        for s in raw["sheets"]:
            rows = tuple(
                Row(**{**r, "cells": tuple(InputCell(**{**c, "choices": tuple(c["choices"])}) for c in r["cells"])})
                for r in s["rows"]
            )
            sheets.append(SheetLayout(**{**s, "rows": rows}))
        return cls(raw["template_version"], tuple(sheets))

    def pack(self, chunk: int = 30000) -> list[str]:
        """Compressed, base64 text in chunks that fit Excel's 32,767-character cell limit."""
        blob = self.__dict__.get("_blob")
        if blob is None:  # computed once per layout: every workbook of a round carries the same one
            blob = base64.b64encode(zlib.compress(self.to_json().encode(), 9)).decode()
            object.__setattr__(self, "_blob", blob)
        return [blob[i : i + chunk] for i in range(0, len(blob), chunk)] or [""]

    def __reduce__(self):
        # A round's returns share one layout: a process sends its packed text once, then only its digest (see
        # _SEEN). Either way the receiver ends up with one shared copy.
        digest = self.__dict__.get("_digest")
        if digest is None:
            digest = hashlib.sha256("".join(self.pack()).encode()).hexdigest()[:32]
            object.__setattr__(self, "_digest", digest)
        if _SEEN.get(digest) is self:
            return (_from_digest, (digest,))
        if len(_SEEN) < 64:
            _SEEN[digest] = self
        return (_from_digest, (digest, "".join(self.pack())))

    @classmethod
    def unpack(cls, chunks: list[str]) -> WorkbookLayout:
        data = zlib.decompressobj().decompress(base64.b64decode("".join(chunks), validate=True), 5_000_000)
        return cls.from_json(data.decode())


def metadata_checksum(rows: list[tuple[str, str]]) -> str:
    """The checksum of the hidden metadata sheet's rows (the generator writes it, the reader checks it)."""
    blob = json.dumps([[k, v] for k, v in rows if k != "checksum"], ensure_ascii=False).encode()
    return hashlib.sha256(blob).hexdigest()[:32]


def baseline_rows(
    locked: frozenset[str] | set[str], values: dict[tuple[str, str, str, str], str], chunk: int = 30000
) -> list[tuple[str, str]]:
    """The metadata rows that keep the values written into locked columns (the baseline of a 12-months workbook),
    so that a locked value changed later is found: `locked_columns`, then the values as JSON in chunks. Covered by
    metadata_checksum like every metadata row."""
    if not locked:
        return []
    blob = json.dumps(
        sorted([*key, text] for key, text in values.items() if key[3] in locked and text != ""),
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return [
        ("locked_columns", ",".join(sorted(locked))),
        *((f"baseline_{i // chunk + 1}", blob[i : i + chunk]) for i in range(0, len(blob), chunk)),
    ]


def baseline_values(meta: dict[str, str]) -> tuple[frozenset[str], dict[tuple[str, str, str, str], str]] | None:
    """What baseline_rows stored: the locked columns and each non-blank value written into them; None when the
    workbook has no locked columns or the stored values cannot be read."""
    locked = frozenset(c for c in meta.get("locked_columns", "").split(",") if c)
    if not locked:
        return None
    keys = sorted((k for k in meta if k.startswith("baseline_") and k[9:].isdigit()), key=lambda k: int(k[9:]))
    try:
        entries = json.loads("".join(meta[k] for k in keys) or "[]")
        return locked, {(f, s, i, c): t for f, s, i, c, t in entries}
    except (ValueError, TypeError):
        return None


# digest -> layout: each layout this process has sent or been sent whole. A worker sends a layout's text with its
# first return and only the digest after that; the process reading its results has kept the layout by then (one
# pipe, in order). A process forked from this one inherits what this one has, so what it sends by digest alone is
# known here too.
_SEEN: dict[str, WorkbookLayout] = {}


def _from_digest(digest: str, blob: str | None = None) -> WorkbookLayout:
    layout = _SEEN.get(digest)
    if layout is None:
        if blob is None:
            raise LookupError(f"layout {digest} was never sent to this process")
        layout = _SEEN[digest] = _from_blob(blob)  # kept whatever the count: a sender may name it next
        object.__setattr__(layout, "_digest", digest)
    return layout


@lru_cache(maxsize=16)
def _from_blob(blob: str) -> WorkbookLayout:
    layout = WorkbookLayout.unpack([blob])
    object.__setattr__(layout, "_blob", blob)
    return layout


def rating_choices(matrix: Matrix) -> tuple[str, ...]:
    return (NOT_YET_BASIC, *matrix.level_names)


_BUILT: dict[tuple[str, str, str], WorkbookLayout] = {}  # by the definitions' content: a layout is immutable


def build(matrix: Matrix, indicators: IndicatorSet | None = None) -> WorkbookLayout:
    """The layout of the workbook for one matrix (and optionally an indicator set): the same object for the same
    definitions, so that what is worked out from it once (its packed text, ~50 ms) is kept."""
    key = (TEMPLATE_VERSION, matrix.content_hash, indicators.content_hash if indicators is not None else "")
    layout = _BUILT.get(key)
    if layout is None:
        layout = _build(matrix, indicators)
        if len(_BUILT) < 64:
            _BUILT[key] = layout
    return layout


def _build(matrix: Matrix, indicators: IndicatorSet | None) -> WorkbookLayout:
    taken = {COVER_SHEET, GUIDANCE_SHEET, OVERVIEW_SHEET, INDICATORS_SHEET, META_SHEET}
    sub_names: dict[str, str] = {}
    for _, _, sub in matrix.sub_elements():
        sub_names[sub.code] = safe_sheet_name(sub.title, taken)
        taken.add(sub_names[sub.code])
    sheets = [_cover()]
    if matrix.guidance or any(d.description for d in matrix.dimensions):
        sheets.append(_guidance(matrix))
    sheets.append(_overview(matrix, sub_names))
    sheets += [_sub_element(matrix, dim.name, el, sub, sub_names[sub.code]) for dim, el, sub in matrix.sub_elements()]
    if indicators is not None:
        sheets.append(_indicators(indicators))
    return WorkbookLayout(TEMPLATE_VERSION, tuple(sheets))


COVER_FIELDS = (
    ("respondent_name", "Completed by"),
    ("respondent_role", "Role"),
    ("respondent_organisation", "Organisation"),
    ("respondent_email", "Email"),
)
COVER_FIELD_NAMES = frozenset(name for name, _ in COVER_FIELDS)  # the respondent's details typed on the cover
COVER_LABEL_COL, COVER_VALUE_COL = 0, 2  # the cover's labels, and beside them the details typed or written
COVER_INFO_ROWS = 8  # the partner information block (from the 'partner_info' mark) holds at most this many rows


def _cover() -> SheetLayout:
    first = 4
    rows = tuple(
        Row(
            key=label,
            key_col=COVER_LABEL_COL,
            row=first + i,
            what=label.lower(),
            cells=(InputCell(COVER_VALUE_COL, name, "text"),),
        )
        for i, (name, label) in enumerate(COVER_FIELDS)
    )
    marks = {
        "title": 0,
        "subtitle": 1,
        "details_header": 3,
        "details_first": first,
        "partner_info": first + len(COVER_FIELDS) + 1,
        "how_to": first + len(COVER_FIELDS) + 10,
    }
    return SheetLayout("cover", COVER_SHEET, "Cover", rows=rows, marks=marks)


def _guidance(matrix: Matrix) -> SheetLayout:
    """The matrix's own guidance, verbatim: a row per heading and paragraph, then the dimensions with what each is.
    Text only: no rows to read (marks place everything)."""
    marks = {"title": 0, "intro": 1}
    r = 3
    for i, section in enumerate(matrix.guidance):
        marks[f"section:{i}"] = r
        r += 1
        for j in range(len(section.paragraphs)):
            marks[f"paragraph:{i}:{j}"] = r
            r += 1
        r += 1
    if any(d.description for d in matrix.dimensions):
        marks["dimensions"] = r
        r += 1
        for k in range(len(matrix.dimensions)):
            marks[f"dimension:{k}"] = r
            r += 1
        r += 1
    marks["workbook"] = r
    marks["last"] = r + 2
    marks["last_col"] = GD_LAST
    return SheetLayout("guidance", GUIDANCE_SHEET, f"Guidance: {matrix.title}", marks=marks)


def _overview(matrix: Matrix, sub_names: dict[str, str]) -> SheetLayout:
    rows: list[Row] = []
    for i, column in enumerate(COLUMNS):
        label = f"{COLUMN_LABEL[column]} assessment date"
        rows.append(
            Row(
                key=label,
                key_col=0,
                row=4 + i,
                what=label,
                cells=(InputCell(OV_DATE_COL, "assessment_date", "date", column=column),),
            )
        )
    header = 7
    choices = rating_choices(matrix)
    for i, (_, _, sub) in enumerate(matrix.sub_elements()):
        cells = tuple(
            InputCell(OV_RATING[c], "overall_rating", "choice", sub.code, column=c, choices=choices) for c in COLUMNS
        )
        rows.append(
            Row(
                key=sub.code,
                key_col=OV_CODE,
                row=header + 1 + i,
                cells=cells,
                label=sub.name,
                label_col=OV_NAME,
                what=f"sub-element {sub.code}",
            )
        )
    marks = {
        "title": 0,
        "partner": 1,
        "intro": 2,
        "dates_header": 3,
        "header": header,
        "first": header + 1,
        "last": header + len(matrix.sub_elements()),
    }
    return SheetLayout("overview", OVERVIEW_SHEET, f"Overview: {matrix.title}", rows=tuple(rows), marks=marks)


def _sub_element(matrix: Matrix, dim: str, el, sub, name: str) -> SheetLayout:
    rows: list[Row] = []
    r = 8  # criteria header
    marks = {
        "title": 0,
        "context": 1,
        "focus": 2,
        "level_header": 4,
        "level_baseline": 5,
        "level_12_months": 6,
        "criteria_header": r,
    }
    r += 1
    marks["criteria_first"] = r
    for crit in sub.criteria:
        cells = tuple(InputCell(TICK_COL[c], "criterion", "tick", sub.code, crit.code, c) for c in COLUMNS)
        rows.append(
            Row(
                crit.code,
                COL_KEY,
                r,
                cells,
                label=crit.text,
                label_col=COL_TEXT,
                level=crit.level,
                what=f"criterion {crit.code}",
            )
        )
        r += 1
    marks["criteria_last"] = r - 1
    r += 1
    marks["support_header"] = r
    r += 1
    marks["support_first"] = r
    for item in sub.supporting_information:
        if item.heading or not item.id:  # "Strategy covers:": shown, not ticked
            rows.append(Row("", COL_KEY, r, (), label=item.text, label_col=COL_TEXT, what=HEADING))
        else:
            cells = tuple(
                InputCell(TICK_COL[c], "supporting_information", "tick", sub.code, item.id, c) for c in COLUMNS
            )
            rows.append(
                Row(
                    item.id,
                    COL_KEY,
                    r,
                    cells,
                    label=item.text,
                    label_col=COL_TEXT,
                    level=item.level or "",
                    what=f"supporting information {item.id}",
                )
            )
        r += 1
    for i in range(1, OTHER_ROWS + 1):
        cells = (
            InputCell(COL_TEXT, "supporting_other", "text", sub.code, f"Other {i}"),
            *(InputCell(TICK_COL[c], "supporting_other_tick", "tick", sub.code, f"Other {i}", c) for c in COLUMNS),
        )
        rows.append(Row(f"Other {i}", COL_KEY, r, cells, what=f"supporting information Other {i}"))
        r += 1
    marks["support_last"] = r - 1
    r += 1
    marks["actions_note"] = r - 1  # the timescales' meaning, above the header
    marks["actions_header"] = r
    r += 1
    marks["actions_first"] = r
    timescales = matrix.timescale_names
    for i in range(1, ACTION_ROWS + 1):
        item = str(i)
        cells = (
            InputCell(COL_LEVEL, "barrier", "text", sub.code, item),
            InputCell(COL_TEXT, "priority_action", "text", sub.code, item),
            InputCell(COL_BASE, "timescale", "choice", sub.code, item, choices=timescales),
            InputCell(COL_12M, "owner", "text", sub.code, item),
            InputCell(COL_NOTE, "action_notes", "text", sub.code, item),
        )
        rows.append(Row(f"#{i}", COL_KEY, r, cells, what=f"barrier/action row #{i}"))
        r += 1
    marks["actions_last"] = r - 1
    r += 1
    marks["notes"] = r
    rows.append(Row("Notes", COL_KEY, r, (InputCell(COL_LEVEL, "notes", "text", sub.code),), what="notes"))
    marks["notes_hint"] = r + 1  # the line under the notes box
    marks["last"] = r
    return SheetLayout("sub_element", name, sub.title, sub.code, tuple(rows), marks)


def _indicators(indicator_set: IndicatorSet) -> SheetLayout:
    rows: list[Row] = []
    r = 4
    marks: dict[str, int] = {"title": 0, "outcome": 1, "intro": 2, "header": 3}
    for cp in indicator_set.core_purposes:
        marks[f"cp:{cp.id}"] = r
        r += 1
        for it in cp.intentions:
            marks[f"it:{it.id}"] = r
            r += 1
            for ind in it.indicators:
                cells = [
                    InputCell(IND_PERIOD, "indicator_period", "text", item=ind.id),
                    InputCell(IND_VALUE, "indicator_value", "text" if ind.unit == "text" else "number", item=ind.id),
                ]
                if ind.unit == "percentage":
                    cells += [
                        InputCell(IND_NUM, "indicator_numerator", "number", item=ind.id),
                        InputCell(IND_DEN, "indicator_denominator", "number", item=ind.id),
                    ]
                cells += [
                    InputCell(IND_RAG, "indicator_rag", "choice", item=ind.id, choices=RAG),
                    InputCell(IND_COMMENT, "indicator_commentary", "text", item=ind.id),
                ]
                rows.append(
                    Row(ind.id, IND_ID, r, tuple(cells), label=ind.text, label_col=IND_TEXT, what=f"indicator {ind.id}")
                )
                r += 1
    marks["last"] = r - 1
    return SheetLayout(
        "indicators", INDICATORS_SHEET, f"Indicators: {indicator_set.title}", rows=tuple(rows), marks=marks
    )


def template_one_item_ids(old: WorkbookLayout | None, new: WorkbookLayout) -> dict[tuple[str, str], str | None]:
    """A return of template 1 keys its supporting information S1..Sn: every line of the sub-element's checklist in
    the definition it was made from, numbered in order (its headings, such as "Strategy covers:", were lines too).
    S<i> is the id of the i-th line of the current checklist, where that line is the same one: the label the
    return's own layout gives S<i> is that line's, word for word (a check of the position, not a search by text;
    repeated wording cannot move an answer). Otherwise, or where the line is now a heading, None: not placed."""
    if old is None or old.template_version != "1":
        return {}
    out: dict[tuple[str, str], str | None] = {}
    for sheet in old.by_role("sub_element"):
        try:
            target = new.sub_element_sheet(sheet.sub_element)
        except StopIteration:
            continue
        lines = [
            r for r in target.rows if r.what == HEADING or (r.cells and r.cells[0].field == "supporting_information")
        ]
        for r in sheet.rows_of("supporting_information"):
            if not (r.key[:1] == "S" and r.key[1:].isdigit()):
                continue
            i = int(r.key[1:])
            line = lines[i - 1] if 1 <= i <= len(lines) else None
            same = line is not None and line.cells and line.label == r.label
            out[(sheet.sub_element, r.key)] = line.key if line is not None and same else None
    return out
