"""A returned file -> every answer with its cell, read through the layout the file carries."""

from __future__ import annotations

import datetime as dt
import io
import re
import sys
import zipfile
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from . import layout as layout_mod
from .cells import a1
from .container import Container, inspect
from .errors import FINDINGS, Finding, ReadError, finding
from .layout import META_SHEET, InputCell, Row, SheetLayout, WorkbookLayout
from .normalise import as_text, choice, date, number, tick
from .spool import Spooled


@dataclass(slots=True)
class Answer:
    """One input cell as read: where it is, what it answers, the raw value and the normalised value."""

    sheet: str
    cell: str
    field: str
    sub_element: str
    item: str
    column: str
    kind: str
    raw: object  # as stored by the spreadsheet program (str, float, bool, date, datetime)
    value: object  # normalised: bool (tick), date, float, choice name or text; raw text if unreadable
    formula: str = ""
    problem: str = ""  # finding code when the value could not be normalised

    def __reduce__(self):
        # Sheet names, fields, items and codes repeat across every return of a round: one copy each in memory.
        return (_rebuild_answer, (self.sheet, self.cell, self.field, self.sub_element, self.item, self.column, self.kind,
                          self.raw, self.value, self.formula, self.problem))

    @property
    def raw_text(self) -> str:
        return "=" + self.formula if self.formula else as_text(self.raw)

    @property
    def filled(self) -> bool:
        return self.raw_text.strip() != "" and self.value is not False

    @property
    def key(self) -> tuple[str, str, str, str]:
        return (self.field, self.sub_element, self.item, self.column)

    def value_text(self) -> str:
        if isinstance(self.value, bool):
            return "ticked" if self.value else ""
        if isinstance(self.value, dt.date):
            return self.value.isoformat()
        if isinstance(self.value, float):
            return as_text(self.value)
        return "" if self.value is None else str(self.value)


def _rebuild_answer(sheet, cell, field_, sub_element, item, column, kind, raw, value, formula, problem) -> Answer:
    i = sys.intern
    return Answer(i(sheet), i(cell), i(field_), i(sub_element), i(item), i(column), i(kind),
                  i(raw) if raw.__class__ is str and len(raw) < 40 else raw,
                  i(value) if value.__class__ is str and len(value) < 40 else value, formula, i(problem))


@dataclass
class Return:
    """Everything read from one file. `readable` is False when the file was refused (see findings)."""

    path: str
    file: str
    format: str = ""
    readable: bool = False
    metadata: dict[str, str] = field(default_factory=dict)
    layout: WorkbookLayout | None = None
    answers: list[Answer] = field(default_factory=list)
    extra: list[Answer] = field(default_factory=list)  # values found outside the template's inputs
    findings: list[Finding] = field(default_factory=list)
    sender: str = ""  # when the file came out of an email

    @property
    def matrix_id(self) -> str:
        return self.metadata.get("definition_id", "")

    @property
    def partner_id(self) -> str:
        return self.metadata.get("partner_id", "")

    def answer(self, field_: str, sub_element: str = "", item: str = "", column: str = "") -> Answer | None:
        return self._index().get((field_, sub_element, item, column))

    def _index(self) -> dict:
        if isinstance(self.answers, Spooled):  # kept on disk: not cached here (see spool.py)
            return self.answers.index()
        if getattr(self, "_idx", None) is None or len(self._idx) != len(self.answers):
            self._idx = {a.key: a for a in self.answers}
        return self._idx


def read_return(path: Path | str, catalog=None, display_name: str | None = None, template=None) -> Return:
    """Read one file. Never raises for a bad file: problems come back as findings on the Return.

    template(matrix, indicator_set) -> {sheet: rows of values} gives the blank template's own values, so that
    anything typed outside the input cells is found and kept (see blank.py); without it a coarser rule is used.
    """
    path = Path(path)
    ret = Return(str(path), display_name or path.name)
    try:
        box = inspect(path)  # by content, whatever the name says (.ods renamed .xlsx, .xlsx renamed .xls, ...)
        ret.format = box.format
        if box.macros:
            ret.findings.append(finding("macro-workbook", ret.file))
        grid = _load_values(path, box)
        _read(ret, box, grid, catalog, template)
    except ReadError as exc:
        ret.readable = False
        kind = FINDINGS[exc.code]
        detail = str(exc) or kind.title
        if not any(f.code == exc.code for f in ret.findings):
            ret.findings.append(finding(exc.code, ret.file, exc.sheet, exc.cell, detail=detail))
    return ret


# --- values ------------------------------------------------------------------------------------


class _Sheet:
    """A sheet's values by zero-based (row, col)."""

    def __init__(self, name: str, rows: list[list], visible: bool = True):
        self.name, self.rows, self.visible = name, rows, visible

    def get(self, r: int, c: int) -> object:
        if 0 <= r < len(self.rows):
            row = self.rows[r]
            if 0 <= c < len(row):
                v = row[c]
                return None if v == "" else v
        return None

    def column_index(self, col: int) -> dict[str, int]:
        out: dict[str, int] = {}
        for r, row in enumerate(self.rows):
            if col < len(row) and row[col] != "":
                out.setdefault(as_text(row[col]).strip(), r)
        return out


def _load_values(path: Path, box: Container) -> dict[str, _Sheet]:
    from python_calamine import CalamineWorkbook

    try:
        back: dict[str, str] = {}
        if box.format == "ods":
            plain, back = _plain_ods(path)
            wb = CalamineWorkbook.from_filelike(io.BytesIO(plain))
        else:
            with path.open("rb") as fh:  # by content: calamine would pick the format from the file name
                wb = CalamineWorkbook.from_filelike(fh)
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # calamine's errors (PasswordError, XmlError, ZipError, ...) and pyo3 panics
        name = type(exc).__name__
        if name == "PasswordError":
            raise ReadError("password-protected", "") from exc
        raise ReadError("damaged", f"{name}: {exc}") from exc
    sheets: dict[str, _Sheet] = {}
    try:
        for meta in wb.sheets_metadata:
            if str(meta.typ) not in ("SheetTypeEnum.WorkSheet", "WorkSheet") and "WorkSheet" not in str(meta.typ):
                continue
            sheet = wb.get_sheet_by_name(meta.name)
            rows = sheet.to_python(skip_empty_area=False)
            if back:
                rows = _ods_text(rows, back)
            sheets[meta.name] = _Sheet(meta.name, rows, "Visible" in str(meta.visible))
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:
        raise ReadError("damaged", f"{type(exc).__name__}: {exc}") from exc
    finally:
        wb.close()
    return sheets


_ODS_INDENT = re.compile(rb">[ \t\r\n]+(?=<(?:/?table:|/?office:|text:p[ >/]))")
_ODS_TAB = re.compile(rb"<text:tab(?:\s[^>]*)?/>")
_ODS_BREAK = re.compile(rb"<text:line-break(?:\s[^>]*)?/>")
_ODS_SPACES = re.compile(rb'<text:s(?:\s+text:c="([0-9]{1,4})")?\s*/>')


_NONCHARACTERS = [chr(c) for c in range(0xFDD0, 0xFDF0)]


def _ods_text(rows: list[list], back: dict) -> list[list]:
    table = str.maketrans(back)
    return [[v.translate(table) if isinstance(v, str) and v else v for v in row] for row in rows]


def _plain_ods(path: Path) -> tuple[bytes, dict[str, str]]:
    """The .ods with content.xml put in the form calamine reads fully: no indentation between table elements
    (Gnumeric indents), and tabs, line breaks and runs of spaces held by stand-ins calamine cannot trim away
    (Unicode noncharacters that the file does not contain); returns the bytes and how to put them back."""
    out = io.BytesIO()
    back: dict[str, str] = {}
    with zipfile.ZipFile(path) as zin, zipfile.ZipFile(out, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info)  # sizes and ratios were checked by the safety pass
            if info.filename == "content.xml":
                data = _ODS_INDENT.sub(b">", data)
                free = [c for c in _NONCHARACTERS if c.encode() not in data][:3]
                if len(free) == 3:
                    tab, space, brk = (c.encode() for c in free)
                    back = {free[0]: "\t", free[1]: " ", free[2]: "\n"}
                    data = _ODS_TAB.sub(tab, data)
                    data = _ODS_BREAK.sub(brk, data)
                    data = _ODS_SPACES.sub(lambda m, sp=space: sp * int(m.group(1) or 1), data)
            zout.writestr(info, data, compress_type=zipfile.ZIP_STORED)
    return out.getvalue(), back


# --- metadata and layout -----------------------------------------------------------------------


def _metadata(grid: dict[str, _Sheet]) -> tuple[dict[str, str], str] | None:
    sheet = grid.get(META_SHEET)
    if sheet is None:
        sheet = next((s for s in grid.values() if as_text(s.get(0, 0)).startswith("eif-xlsx metadata")), None)
    if sheet is None:
        return None
    meta: dict[str, str] = {}
    for r in range(1, len(sheet.rows)):
        key = as_text(sheet.get(r, 0)).strip()
        if key:
            meta[key] = as_text(sheet.get(r, 1))
    return meta, sheet.name


def _read(ret: Return, box: Container, grid: dict[str, _Sheet], catalog, template=None) -> None:
    from .catalog import Catalog
    from .writer.workbook import metadata_checksum

    catalog = catalog or Catalog.default()
    found = _metadata(grid)
    lay: WorkbookLayout | None = None
    if found is not None:
        meta, meta_sheet = found
        ret.metadata = meta
        rows = [(k, v) for k, v in meta.items() if k != "checksum"]
        if meta.get("checksum") != metadata_checksum(rows):
            ret.findings.append(finding("metadata-altered", ret.file, meta_sheet, "B1",
                                        detail="its checksum does not match"))
        chunks = [meta[k] for k in sorted((k for k in meta if k.startswith("layout_")), key=lambda k: int(k[7:] or 0))]
        try:
            lay = _unpack(tuple(chunks))
        except Exception:
            lay = None
        if lay is None:
            matrix_id = meta.get("definition_id", "")
            if matrix_id in catalog.entries and catalog.entries[matrix_id].kind == "matrix":
                ret.findings.append(finding("metadata-altered", ret.file, meta_sheet, "B1",
                                            detail="the stored layout is unreadable; the current template's layout "
                                                   "was used"))
                lay = layout_mod.build(catalog.matrix(matrix_id), catalog.indicator_set_for(meta))
            else:
                raise ReadError("metadata-missing", "")
        matrix_id = meta.get("definition_id", "")
        if matrix_id not in catalog.entries or catalog.entries[matrix_id].kind != "matrix":
            ret.findings.append(finding("unknown-matrix", ret.file, definition=matrix_id or "(none)"))
            raise ReadError("unknown-matrix", "")
        current = catalog.matrix(matrix_id)
        if not _is_current(meta, lay, current):
            ret.findings.append(finding("older-template", ret.file, detail=(
                f"matrix '{matrix_id}' version {meta.get('definition_version', '?')} "
                f"(template {meta.get('template_version', '?')}); the current one is version {current.version} "
                f"(template {layout_mod.TEMPLATE_VERSION})")))
    else:
        lay, matrix_id, found_set = _match_by_structure(grid, catalog)
        if lay is None:
            raise ReadError("metadata-missing", "")
        current = catalog.matrix(matrix_id)
        # Matched against the current template: its identity is that template's.
        ret.metadata = {"definition_id": matrix_id, "definition_version": current.version,
                        "definition_hash": current.content_hash, "template_version": lay.template_version}
        if found_set is not None:
            ret.metadata.update(indicators_id=found_set.id, indicators_hash=found_set.content_hash)
        ret.findings.append(finding("matched-by-structure", ret.file, definition=matrix_id))
    ret.layout = lay
    ret.readable = True
    meta, matrix = ret.metadata, catalog.matrix(ret.matrix_id)
    iset = catalog.indicator_set_for(meta)
    # The blank template's values say what the template itself filled in: only for a file of this very template.
    same = _is_current(meta, lay, matrix) and meta.get("indicators_hash", "") == (iset.content_hash if iset else "")
    blank = template(matrix, iset) if template is not None and same else None
    _read_answers(ret, box, grid, lay, blank)


def _is_current(meta: dict[str, str], lay: WorkbookLayout, matrix) -> bool:
    """Made from the current definition and template, as its metadata says."""
    return (meta.get("definition_hash") == matrix.content_hash
            and meta.get("template_version") == lay.template_version == layout_mod.TEMPLATE_VERSION)


@lru_cache(maxsize=16)
def _unpack(chunks: tuple[str, ...]) -> WorkbookLayout:
    # Every return of one round carries the same layout: decode it once.
    return WorkbookLayout.unpack(list(chunks))


def _match_by_structure(grid: dict[str, _Sheet], catalog) -> tuple[WorkbookLayout | None, str, object]:
    """A workbook without metadata: accept it only if every sub-element sheet and criterion is where it should be
    (and, where there is an Indicators sheet, every indicator of one known set)."""
    for matrix in catalog.matrices():
        lay = layout_mod.build(matrix)
        subs = lay.by_role("sub_element")
        ok = 0
        for sheet in subs:
            actual = _find_sheet(grid, sheet, set())
            if actual is None:
                break
            keys = actual.column_index(layout_mod.COL_KEY)
            if all(r.key in keys for r in sheet.rows if r.cells and r.cells[0].field == "criterion"):
                ok += 1
        if ok != len(subs):
            continue
        if layout_mod.INDICATORS_SHEET in grid:
            ids = grid[layout_mod.INDICATORS_SHEET].column_index(layout_mod.IND_ID)
            for entry in catalog.entries.values():
                iset = entry.definition
                if entry.kind == "indicators" and all(ind.id in ids for _, _, ind in iset.indicators()):
                    return layout_mod.build(matrix, iset), matrix.id, iset
        return lay, matrix.id, None
    return None, "", None


def _find_sheet(grid: dict[str, _Sheet], sheet: SheetLayout, used: set[str]) -> _Sheet | None:
    if sheet.name in grid and sheet.name not in used:
        return grid[sheet.name]
    for s in grid.values():
        if s.name not in used and as_text(s.get(0, 0)).strip() == sheet.title:
            return s
    return None


# --- answers -----------------------------------------------------------------------------------


def _read_answers(ret: Return, box: Container, grid: dict[str, _Sheet], lay: WorkbookLayout,
                  blank: dict[str, list[list]] | None = None) -> None:
    used: set[str] = set()
    for sheet in lay.sheets:
        actual = _find_sheet(grid, sheet, used)
        if actual is None:
            first = sheet.rows[0] if sheet.rows else None
            ret.findings.append(finding("sheet-missing", ret.file, sheet.name, a1(first.row, first.key_col) if first else "A1"))
            for row in sheet.rows:
                for cell in row.cells:
                    ret.answers.append(_blank(sheet.name, row, cell))
            continue
        used.add(actual.name)
        if actual.name != sheet.name:
            ret.findings.append(finding("sheet-renamed", ret.file, actual.name, "A1", expected=sheet.name))
        formulas = box.formulas.get(actual.name, {})
        indexes: dict[int, dict[str, int]] = {}
        moved: list[tuple[Row, int]] = []
        mapping: dict[int, int] = {}  # actual row -> the template's row
        inputs: set[tuple[int, int]] = set()
        for row in sheet.rows:
            keys = indexes.get(row.key_col)
            if keys is None:
                keys = indexes[row.key_col] = actual.column_index(row.key_col)
            where = keys.get(row.key)
            if where is None:
                code = "criterion-missing" if row.cells and row.cells[0].field == "criterion" else "row-missing"
                ret.findings.append(finding(code, ret.file, actual.name, a1(row.row, row.key_col), item=row.key,
                                            detail=row.what, expected_cell=f"{actual.name}!{a1(row.row, row.key_col)}"))
                for cell in row.cells:
                    ret.answers.append(_blank(actual.name, row, cell))
                continue
            mapping[where] = row.row
            inputs.update((where, c.col) for c in row.cells)
            if where != row.row:
                moved.append((row, where))
            if row.label and row.label_col >= 0:
                got = as_text(actual.get(where, row.label_col))
                if got.strip() != row.label.strip() and row.cells and row.cells[0].field == "criterion":
                    ret.findings.append(finding("criterion-edited", ret.file, actual.name, a1(where, row.label_col),
                                                item=row.key))
            for cell in row.cells:
                ret.answers.append(_answer(ret, actual, where, row, cell, formulas))
        if moved:
            row, where = moved[0]
            more = f" and {len(moved) - 1} more row(s)" if len(moved) > 1 else ""
            ret.findings.append(finding("row-moved", ret.file, actual.name, a1(where, row.key_col),
                                        detail=f"{row.what[:1].upper()}{row.what[1:]}{more}",
                                        expected=row.row + 1, actual=where + 1))
        if blank is not None and sheet.name in blank:
            _extra_by_template(ret, sheet, actual, mapping, inputs, blank[sheet.name])
        else:
            _extra_content(ret, sheet, actual, set(mapping))


def _blank(sheet: str, row: Row, cell: InputCell) -> Answer:
    return Answer(sheet, a1(row.row, cell.col), cell.field, cell.sub_element, cell.item, cell.column, cell.kind,
                  None, False if cell.kind == "tick" else None, problem="missing")


def _answer(ret: Return, sheet: _Sheet, r: int, row: Row, cell: InputCell, formulas) -> Answer:
    raw = sheet.get(r, cell.col)
    ref = a1(r, cell.col)
    formula = formulas.get(ref, "") if formulas else ""
    if raw is None and not formula:  # most inputs are blank: nothing to normalise
        return Answer(sheet.name, ref, cell.field, cell.sub_element, cell.item, cell.column, cell.kind, None,
                      False if cell.kind == "tick" else None)
    ans = Answer(sheet.name, ref, cell.field, cell.sub_element, cell.item, cell.column, cell.kind, raw, None)
    if formula:
        ans.formula = formula
        ans.value = "=" + formula
        ans.problem = "formula-in-input"
        ret.findings.append(finding("formula-in-input", ret.file, sheet.name, ref, value="=" + formula))
        if cell.kind == "tick":
            ans.value = False
        return ans
    text = as_text(raw)
    if cell.kind not in _PARSE:
        ans.value = text
        return ans
    parse, code = _PARSE[cell.kind]
    got = parse(raw, cell.choices) if cell.kind == "choice" else parse(raw)
    if got is None:
        # Kept as typed (a tick that is not one counts as not ticked) and reported.
        ans.value, ans.problem = (False if cell.kind == "tick" else text), code
        ret.findings.append(finding(code, ret.file, sheet.name, ref, value=text, choices=", ".join(cell.choices)))
    else:
        ans.value = got
    return ans


_PARSE = {"tick": (tick, "unrecognised-tick"), "date": (date, "bad-date"), "choice": (choice, "bad-choice"),
          "number": (number, "bad-number")}


def _extra_content(ret: Return, sheet: SheetLayout, actual: _Sheet, seen_rows: set[int]) -> None:
    """Values typed outside the template's area (beyond its last row or its used columns) are kept and reported."""
    if sheet.role == "cover":
        return  # free-form text only; its inputs are read above
    last_row = max([sheet.marks.get("last", 0), *(r.row for r in sheet.rows)], default=0) + 1
    last_col = max([c.col for r in sheet.rows for c in r.cells] + [r.label_col for r in sheet.rows] + [r.key_col for r in sheet.rows], default=0)
    if sheet.role == "sub_element":
        last_col = layout_mod.COL_NOTE
    helper = range(layout_mod.HELPER_COL, layout_mod.HELPER_COL + 8) if sheet.role == "sub_element" else range(0)
    shift = max(0, max(seen_rows, default=0) - max((r.row for r in sheet.rows), default=0))
    extras: list[Answer] = []
    for r, values in enumerate(actual.rows):
        for c, v in enumerate(values):
            if v == "" or v is None:
                continue
            if (r > last_row + shift + 1) or (c > last_col and c not in helper):
                extras.append(_extra(actual, sheet, r, c, v))
    _report_extra(ret, actual, extras)


def _extra(actual: _Sheet, sheet: SheetLayout, r: int, c: int, v: object) -> Answer:
    return Answer(actual.name, a1(r, c), "extra", sheet.sub_element, "", "", "text", v, as_text(v))


def _report_extra(ret: Return, actual: _Sheet, extras: list[Answer]) -> None:
    """Values found outside the inputs are kept as answers of their own, and reported once per sheet."""
    if extras:
        ret.extra.extend(extras)
        first = extras[0]
        ret.findings.append(finding("extra-content", ret.file, actual.name, first.cell, detail=len(extras),
                                    value=as_text(first.raw)[:60]))


def _extra_by_template(ret: Return, sheet: SheetLayout, actual: _Sheet, mapping: dict[int, int],
                       inputs: set[tuple[int, int]], blank: list[list]) -> None:
    """Every value in a cell that is neither an input nor filled by the template itself is kept and reported."""
    if sheet.role == "cover":
        return  # its text varies with the partner; its inputs are read above
    anchors = sorted(mapping.items())
    key_rows = set(mapping.values())
    extras: list[Answer] = []
    k = -1
    for r, values in enumerate(actual.rows):
        while k + 1 < len(anchors) and anchors[k + 1][0] <= r:
            k += 1
        if r in mapping:
            expected, inserted = mapping[r], False
        else:
            expected = anchors[k][1] + (r - anchors[k][0]) if k >= 0 else r
            inserted = expected in key_rows  # a row the partner added among the template's rows
        fixed = blank[expected] if 0 <= expected < len(blank) and not inserted else ()
        for c, v in enumerate(values):
            if v == "" or v is None or (r, c) in inputs:
                continue
            if c < len(fixed) and fixed[c] != "":
                continue  # the template's own text or formula
            extras.append(_extra(actual, sheet, r, c, v))
    _report_extra(ret, actual, extras)
