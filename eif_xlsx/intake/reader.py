"""A returned file -> every answer with its cell, read through the layout the file carries."""

from __future__ import annotations

import datetime as dt
import io
import re
from bisect import bisect_left
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import accumulate, chain, compress, count, islice
from operator import itemgetter, ne
from pathlib import Path
from types import MappingProxyType
from typing import cast

from python_calamine import (
    CalamineWorkbook,
    PasswordError,
    SheetTypeEnum,
    SheetVisibleEnum,
    XmlError,
    ZipError,
)

from eif_xlsx.cells import a1
from eif_xlsx.domain.catalog import Catalog
from eif_xlsx.domain.model import IndicatorSet
from eif_xlsx.errors import FINDINGS, Finding, ReadError, finding, log_debug
from eif_xlsx.intake.container import Container, inspect, saved_time, stored_zip
from eif_xlsx.normalise import as_text, choice, date, number, tick
from eif_xlsx.spool import Spooled
from eif_xlsx.template import layout as layout_mod
from eif_xlsx.template.layout import (
    META_FIRST_ROW,
    META_KEY_COL,
    META_SHEET,
    META_VALUE_COL,
    InputCell,
    Row,
    SheetLayout,
    WorkbookLayout,
)
from eif_xlsx.template.workbook import FIXED_TIME

META_CELL = a1(0, META_VALUE_COL)  # where a finding about the metadata sheet points


@dataclass(slots=True)
class Answer:
    """One input cell as read: where it is, what it answers, the raw value and the normalised value. Never changed
    once read: returns typed alike share their answers (see _RowPlan)."""

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
        # By position: the cheapest form to pickle and load (answers travel from the workers, and are read back
        # from the spool by every output).
        return (
            Answer,
            (
                self.sheet,
                self.cell,
                self.field,
                self.sub_element,
                self.item,
                self.column,
                self.kind,
                self.raw,
                self.value,
                self.formula,
                self.problem,
            ),
        )

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


_INDICATOR_FIELDS = frozenset(
    {
        "indicator_period",
        "indicator_value",
        "indicator_numerator",
        "indicator_denominator",
        "indicator_rag",
        "indicator_commentary",
    }
)


@dataclass(slots=True)
class Return:
    """Everything read from one file. `readable` is False when the file was refused (see findings). Slots: a round
    keeps one per return in memory."""

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
    # when that e-mail was sent (its Date header, UTC), and when the workbook says it was last saved (its core
    # properties, UTC; not the generator's fixed time): what tells a partner's later return (manifest.return_order)
    sent: dt.datetime | None = None
    saved: dt.datetime | None = None
    # indicator_values(), taken before the answers go to disk (batch.slim, which spools it too): consolidation
    # then need not read every answer back for them
    indicators: Sequence[tuple] | None = field(default=None, repr=False, compare=False)
    # what the summary takes from the answers (report/texts.py), also taken there, and spooled with them
    texts: Spooled | None = field(default=None, repr=False, compare=False)
    _idx: dict | None = field(default=None, init=False, repr=False, compare=False)  # answers by key (see _index)

    @property
    def matrix_id(self) -> str:
        return self.metadata.get("definition_id", "")

    @property
    def partner_id(self) -> str:
        return self.metadata.get("partner_id", "")

    def answer(self, field_: str, sub_element: str = "", item: str = "", column: str = "") -> Answer | None:
        return self._index().get((field_, sub_element, item, column))

    def indicator_values(self, typed: list[Answer] | None = None) -> Sequence[tuple]:
        """Each indicator given a value, in id order: (id, period, value, numerator, denominator, RAG,
        commentary, the value's Sheet!A1). The value must be filled; numbers are kept only where they read as
        numbers. As self.answer gives them: the last answer of each key.

        typed: the answers holding anything, in order (batch.slim has them). A blank answer counts only by hiding
        an earlier one of its key, so they give the same values where the layout has each key once."""
        if self.indicators is not None:
            return self.indicators
        answers = typed if typed is not None and self.layout is not None and self.layout.keys_unique() else self.answers
        by_id: dict[str, dict[str, Answer]] = {}
        for a in [a for a in answers if a.field in _INDICATOR_FIELDS]:  # a C-speed pass first: most are not
            if not a.sub_element and not a.column:
                got = by_id.get(a.item)
                if got is None:
                    got = by_id[a.item] = {}
                got[a.field] = a
        out = []
        for ind in sorted(by_id):
            got = by_id[ind]
            value = got.get("indicator_value")
            if value is None or not value.filled:
                continue
            period, rag, comment = (
                got.get("indicator_period"),
                got.get("indicator_rag"),
                got.get("indicator_commentary"),
            )
            num, den = got.get("indicator_numerator"), got.get("indicator_denominator")
            out.append(
                (
                    ind,
                    period.value_text().strip() if period else "",
                    value.value,
                    num.value if num and isinstance(num.value, float) else None,
                    den.value if den and isinstance(den.value, float) else None,
                    rag.value_text() if rag else "",
                    comment.value_text() if comment else "",
                    f"{value.sheet}!{value.cell}",
                )
            )
        return out

    def _index(self) -> dict:
        if isinstance(self.answers, Spooled):  # kept on disk: not cached here (see spool.py)
            return self.answers.by_key()
        if self._idx is None or len(self._idx) != len(self.answers):
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
        ret.saved = _saved_by_partner(box)
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


def _saved_by_partner(box: Container) -> dt.datetime | None:
    """When the workbook says it was last saved; None when it does not say, or says the time our generator writes
    in every workbook it makes (template.workbook.FIXED_TIME): such a workbook was not saved again by a partner."""
    when = saved_time(box)
    return None if when is None or when == _GENERATED else when


_GENERATED = FIXED_TIME.replace(tzinfo=dt.UTC)  # written as 'Z' (UTC) in docProps/core.xml


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
        return _first_rows(_column(self.rows, col))


def _column(rows: list[list], col: int) -> list:
    try:
        return list(map(itemgetter(col), rows))  # every row reaches the column: one step
    except IndexError:
        return [row[col] if col < len(row) else "" for row in rows]


def _first_rows(values: list) -> dict[str, int]:
    """Each text in a column, trimmed -> the first row holding it."""
    keys = [_key_text(v) for v in values]
    out: dict[str | None, int] = dict(zip(reversed(keys), range(len(keys) - 1, -1, -1), strict=True))  # first wins
    out.pop(None, None)
    return cast(dict[str, int], out)  # None (a cell holding no text) taken out


def _key_text(value: object) -> str | None:
    """A cell as a row's key is looked up by: its text, trimmed; None for an empty cell."""
    if value == "":
        return None
    return value.strip() if value.__class__ is str else as_text(value).strip()


def _calamine_failure(path: Path, exc: BaseException) -> str:
    """What a damaged file's finding says when the spreadsheet reader gives up on it: plain words for the
    coordinator; the reader's own message goes to the --debug log."""
    log_debug(str(path), exc)
    if isinstance(exc, ZipError):
        return "its zip structure is broken"
    if isinstance(exc, XmlError):
        return "a sheet's XML is broken"
    return "its cells could not be read"


def _load_values(path: Path, box: Container) -> dict[str, _Sheet]:
    try:
        back: dict[str, str] = {}
        if box.format == "ods":
            plain, back = _plain_ods(box)
            wb = CalamineWorkbook.from_filelike(io.BytesIO(plain))
        elif box.parts:  # exactly the bytes the safety pass checked, stored: calamine need not inflate them again
            wb = CalamineWorkbook.from_filelike(io.BytesIO(stored_zip(box)))
        else:
            with path.open("rb") as fh:  # by content: calamine would pick the format from the file name
                wb = CalamineWorkbook.from_filelike(fh)
    except (KeyboardInterrupt, SystemExit):
        raise
    except PasswordError as exc:
        raise ReadError("password-protected", "") from exc
    except BaseException as exc:  # calamine's errors (XmlError, ZipError, ...) and pyo3 panics
        raise ReadError("damaged", _calamine_failure(path, exc)) from exc
    sheets: dict[str, _Sheet] = {}
    try:
        for meta in wb.sheets_metadata:
            if meta.typ != SheetTypeEnum.WorkSheet:
                continue
            sheet = wb.get_sheet_by_name(meta.name)
            rows = sheet.to_python(skip_empty_area=False)
            if back:
                rows = _ods_text(rows, back)
            sheets[meta.name] = _Sheet(meta.name, rows, meta.visible == SheetVisibleEnum.Visible)
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:
        raise ReadError("damaged", _calamine_failure(path, exc)) from exc
    finally:
        wb.close()
    return sheets


_ODS_INDENT = re.compile(rb">[ \t\r\n]+(?=<(?:/?table:|/?office:|text:p[ >/]))")
_ODS_TAB = re.compile(rb"<text:tab(?:\s[^>]*)?/>")
_ODS_BREAK = re.compile(rb"<text:line-break(?:\s[^>]*)?/>")
_ODS_SPACES = re.compile(rb'<text:s(?:\s+text:c="([0-9]{1,4})")?\s*/>')


_NONCHARACTERS = [chr(c) for c in range(0xFDD0, 0xFDF0)]
_NONCHARACTER_LEAD = "\ufdd0".encode()[:2]  # the first two bytes of each of them in UTF-8


def _ods_text(rows: list[list], back: dict) -> list[list]:
    """The stand-ins put back; a text is searched for them first (one C call), and only one holding one is
    rebuilt."""
    table = str.maketrans(back)
    held = re.compile("[" + "".join(back) + "]").search
    return [[v.translate(table) if v.__class__ is str and v and held(v) else v for v in row] for row in rows]


def _plain_ods(box: Container) -> tuple[bytes, dict[str, str]]:
    """The .ods's checked parts (kept by the safety pass) as a stored zip, with content.xml put in the form calamine
    reads fully: no indentation between table elements (Gnumeric indents), and tabs, line breaks and runs of spaces
    held by stand-ins calamine cannot trim away (Unicode noncharacters that the file does not contain); returns the
    bytes and how to put them back."""
    back: dict[str, str] = {}
    data = _ODS_INDENT.sub(b">", box.parts["content.xml"])
    # the file holds none of them (nearly always): one search, of the first byte first (found by memchr: the
    # two-byte search of a 1 MB content.xml took ~1 ms)
    if b"\xef" not in data or _NONCHARACTER_LEAD not in data:
        free = _NONCHARACTERS[:3]
    else:
        free = list(islice((c for c in _NONCHARACTERS if c.encode() not in data), 3))
    if len(free) == 3:
        tab, space, brk = (c.encode() for c in free)
        back = {free[0]: "\t", free[1]: " ", free[2]: "\n"}
        data = _ODS_TAB.sub(tab, data)
        data = _ODS_BREAK.sub(brk, data)

        def spaces(m: re.Match[bytes]) -> bytes:
            return space * int(m.group(1) or 1)

        data = _ODS_SPACES.sub(spaces, data)
    return stored_zip(box, {"content.xml": data}), back


# --- metadata and layout -----------------------------------------------------------------------


def _metadata(grid: dict[str, _Sheet]) -> tuple[dict[str, str], str] | None:
    sheet = grid.get(META_SHEET)
    if sheet is None:
        sheet = next((s for s in grid.values() if as_text(s.get(0, 0)).startswith("eif-xlsx metadata")), None)
    if sheet is None:
        return None
    meta: dict[str, str] = {}
    for r in range(META_FIRST_ROW, len(sheet.rows)):
        key = as_text(sheet.get(r, META_KEY_COL)).strip()
        if key:
            meta[key] = as_text(sheet.get(r, META_VALUE_COL))
    return meta, sheet.name


def _read(ret: Return, box: Container, grid: dict[str, _Sheet], catalog, template=None) -> None:
    catalog = catalog or Catalog.default()
    found = _metadata(grid)
    lay: WorkbookLayout | None = None
    if found is not None:
        meta, meta_sheet = found
        ret.metadata = meta
        rows = [(k, v) for k, v in meta.items() if k != "checksum"]
        signed = meta.get("checksum") == layout_mod.metadata_checksum(rows)
        if not signed:
            ret.findings.append(
                finding("metadata-altered", ret.file, meta_sheet, META_CELL, detail="its checksum does not match")
            )
        chunks = [meta[k] for k in sorted((k for k in meta if k.startswith("layout_")), key=lambda k: int(k[7:] or 0))]
        try:
            lay = _unpack(tuple(chunks))
        except Exception:
            lay = None
        if lay is None:
            matrix_id = meta.get("definition_id", "")
            if matrix_id in catalog.entries and catalog.entries[matrix_id].kind == "matrix":
                ret.findings.append(
                    finding(
                        "metadata-altered",
                        ret.file,
                        meta_sheet,
                        META_CELL,
                        detail="the stored layout is unreadable; the current template's layout was used",
                    )
                )
                lay = layout_mod.build(catalog.matrix(matrix_id), catalog.indicator_set_for(meta))
            else:
                raise ReadError("metadata-missing", "")
        matrix_id = meta.get("definition_id", "")
        if matrix_id not in catalog.entries or catalog.entries[matrix_id].kind != "matrix":
            ret.findings.append(finding("unknown-matrix", ret.file, definition=matrix_id or "(none)"))
            raise ReadError("unknown-matrix", "")
        current = catalog.matrix(matrix_id)
        if not _is_current(meta, lay, current):
            ret.findings.append(finding("older-template", ret.file, detail=_older(matrix_id, meta, current)))
    else:
        signed = False
        lay, matrix_id, found_set = _match_by_structure(grid, catalog)
        if lay is None:
            raise ReadError("metadata-missing", "")
        current = catalog.matrix(matrix_id)
        # Matched against the current template: its identity is that template's.
        ret.metadata = {
            "definition_id": matrix_id,
            "definition_version": current.version,
            "definition_hash": current.content_hash,
            "template_version": lay.template_version,
        }
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
    if signed:
        _locked_baseline(ret, lay)


def _locked_baseline(ret: Return, lay: WorkbookLayout) -> None:
    """A 12-months workbook keeps its locked baseline in its signed metadata. A locked value found changed (the
    sheet unprotected and edited) is reported with the old and the new value, and the answer is the original
    one: scoring and the summary use the baseline as issued, and the finding keeps what was typed (a finding about
    the typed value itself is dropped: that value is not used). A baseline answer that does not read as what its
    cell asks for as the first round gave it ('maybe' for a tick) is reported for the record (baseline-as-issued),
    not as something to correct: the partner cannot change the cell."""
    stored = layout_mod.baseline_values(ret.metadata)
    if stored is None:
        return
    locked, values = stored
    cells = {(c.field, c.sub_element, c.item, c.column): c for _, _, c in lay.inputs() if c.column in locked}
    changed = False
    issued: dict[tuple[str, str], tuple[str, str]] = {}  # (sheet, cell) -> the value as issued, its finding code
    replaced: set[tuple[str, str]] = set()  # where a value typed over the baseline is not used
    for i, a in enumerate(ret.answers):
        cell = cells.get(a.key) if a.column in locked else None
        if cell is None:
            continue
        old = values.get(a.key, "")
        if old.strip() == a.raw_text.strip():
            if a.problem in _ASKS:
                issued[(a.sheet, a.cell)] = (a.raw_text, a.problem)
            continue
        if old:
            value, problem = _normalised(cell.kind, cell.choices, old)
        else:
            value, problem = (False if cell.kind == "tick" else None), ""
        if not a.formula and not a.problem and not problem and value == a.value:
            continue  # written otherwise, read the same (a date as text, "no" in an unticked cell)
        ret.findings.append(
            finding(
                "baseline-changed",
                ret.file,
                a.sheet,
                a.cell,
                detail=f"{a.field.replace('_', ' ')} {a.item or a.sub_element}".strip(),
                old=old,
                new=a.raw_text,
            )
        )
        ret.answers[i] = Answer(
            a.sheet, a.cell, a.field, a.sub_element, a.item, a.column, a.kind, old or None, value, "", problem
        )
        replaced.add((a.sheet, a.cell))
        if problem in _ASKS:
            issued[(a.sheet, a.cell)] = (old, problem)
        changed = True
    if changed:
        ret._idx = None
    if not (issued or replaced):
        return

    def as_issued(where: tuple[str, str]) -> Finding:
        value, code = issued[where]
        asks, counts = _ASKS[code]
        return finding("baseline-as-issued", ret.file, *where, value=value, asks=asks, counts=counts)

    kept: list[Finding] = []
    for f in ret.findings:
        where = (f.sheet, f.cell)
        if where in replaced and f.code in _VALUE_FINDINGS:
            continue  # about the value typed over the locked baseline, which is not used
        kept.append(as_issued(where) if where in issued and where not in replaced and f.code == issued[where][1] else f)
    kept += [as_issued(where) for where in issued if where in replaced]
    ret.findings = kept


# What a cell asks for and what an answer that is not one counts as (the findings of _normalised's codes).
_ASKS = {
    "unrecognised-tick": ("a tick", "not ticked"),
    "bad-date": ("a date", "no date"),
    "bad-number": ("a number", "no number"),
    "bad-choice": ("one of the cell's choices", "no choice"),
}
_VALUE_FINDINGS = frozenset({*_ASKS, "formula-in-input"})  # about an answer's value (_problem)


def _older(matrix_id: str, meta: dict[str, str], current) -> str:
    """What makes a workbook's template older than the current one, naming only what differs."""
    version, template = meta.get("definition_version", "?"), meta.get("template_version", "?")
    made = f"matrix '{matrix_id}' version {version}"
    differs = []
    if version != current.version:
        differs.append(f"the matrix is now version {current.version}")
    elif meta.get("definition_hash") != current.content_hash:
        differs.append(f"the matrix's text has changed (still version {version})")
    if template != layout_mod.TEMPLATE_VERSION:
        made += f", template {template}"
        differs.append(f"the template is now {layout_mod.TEMPLATE_VERSION}")
    if not differs:
        return f"{made}, with a layout of its own"
    return f"{made}; since then {' and '.join(differs)}"


def _is_current(meta: dict[str, str], lay: WorkbookLayout, matrix) -> bool:
    """Made from the current definition and template, as its metadata says."""
    return (
        meta.get("definition_hash") == matrix.content_hash
        and meta.get("template_version") == lay.template_version == layout_mod.TEMPLATE_VERSION
    )


@lru_cache(maxsize=16)
def _unpack(chunks: tuple[str, ...]) -> WorkbookLayout:
    # Every return of one round carries the same layout: decode it once. Its packed text is the file's own, kept
    # so that sending the layout to another process does not pack it again (~30 ms).
    lay = WorkbookLayout.unpack(list(chunks))
    object.__setattr__(lay, "_blob", "".join(chunks))
    return lay


def _match_by_structure(
    grid: dict[str, _Sheet], catalog: Catalog
) -> tuple[WorkbookLayout | None, str, IndicatorSet | None]:
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
                if isinstance(iset, IndicatorSet) and all(ind.id in ids for _, _, ind in iset.indicators()):
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
# Every return of a round carries the same layout, and most of its ~2,000 inputs are blank. What reading a layout
# row needs is worked out once per layout (a plan); a row's answers depend only on what was typed in it, so rows
# typed alike (blank above all) share their answers, which are never changed once read; and a sheet whose key cells
# are the blank template's is read by difference from the template: row by row only where a row differs.


@dataclass(frozen=True, slots=True)
class _RowPlan:
    """What reading one layout row needs."""

    row: Row
    sheet: str  # the layout's name for its sheet
    cols: frozenset[int]  # its input columns
    refs: tuple[str, ...]  # its input cells, where the template puts the row
    blanks: tuple[Answer, ...]  # its answers when nothing was typed
    pick: Callable[[list], tuple] | None  # a row's values -> those in its input cells; None: cell by cell
    width: int  # how many values `pick` needs
    empty: tuple  # the values of its input cells when nothing was typed
    label: str | None  # a criterion's own text, stripped (an edited criterion is reported); None on other rows
    # In place on the layout's sheet, without formulas: the row's answers (and those with a problem, with their
    # cells) by the texts typed in its inputs.
    alike: dict[tuple, tuple[tuple[Answer, ...], tuple[tuple[Answer, InputCell], ...]]]


_ALIKE = 16  # ways of typing a row that are kept per row (its blank answers aside)


@dataclass(frozen=True, slots=True)
class _Template:
    """How the blank template's own sheet reads through a plan, every layout key first found at its row. A sheet
    whose keys are in place too has every layout row where the template has it, and a row equal to the template's
    reads as the template's."""

    height: int
    # For every key column: the template's values in it, the layout's keys in it by their row and their rows by key.
    keys: tuple[tuple[int, list, dict[int, str], dict[str, int]], ...]
    at_row: MappingProxyType  # the layout rows (by index) at each row
    loud: tuple[int, ...]  # the layout rows (by index) whose template row does not read as blank and unedited
    inputs: MappingProxyType  # the input columns of each row
    # Per row: the cells the template leaves blank, other than inputs, as (pick, what pick gives when they are all
    # still blank, how many values pick needs).
    free: tuple[tuple[Callable[[list], tuple] | None, tuple, int], ...]
    # Per row: the cells holding the template's own text or formula, other than inputs, likewise (pick, what pick
    # gives in the template, how many values pick needs).
    kept: tuple[tuple[Callable[[list], tuple] | None, tuple, int], ...]

    def keys_in_place(self, rows: list[list]) -> bool:
        """Whether every key of the layout is first found at its row, as in the template: where a key column
        differs from the template's, no key was lost from its row nor appears above it."""
        if len(rows) != self.height:
            return False
        for col, values, key_at, row_of in self.keys:
            column = _column(rows, col)
            for r in compress(count(), map(ne, column, values)):
                text = _key_text(column[r])
                if (r in key_at and text != key_at[r]) or (text is not None and row_of.get(text, r) > r):
                    return False
        return True


@dataclass(frozen=True, slots=True, eq=False)
class _SheetPlan:
    rows: tuple[_RowPlan, ...]
    refs: frozenset[str]  # every input cell, where the template puts it
    blanks: tuple[Answer, ...]  # every row's blank answers, in order
    starts: tuple[int, ...]  # where each row's blank answers start in `blanks` (and where they end)
    templates: dict[int, tuple[list[list], _Template | None]]  # by id of a blank template's rows (kept alive here)

    def template(self, blank_rows: list[list]) -> _Template | None:
        got = self.templates.get(id(blank_rows))
        if got is None or got[0] is not blank_rows:
            if len(self.templates) >= 8:  # a caller making a new template grid per call: keep a few
                self.templates.clear()
            got = self.templates[id(blank_rows)] = (blank_rows, _as_template(self, blank_rows))
        return got[1]


def _plan(sheet: SheetLayout) -> _SheetPlan:
    """The sheet's plan, kept on the frozen layout object like its packed text (not one of its fields)."""
    plan = sheet.__dict__.get("_plan")
    if plan is None:
        rows = tuple(_row_plan(sheet.name, row) for row in sheet.rows if row.cells)  # a heading: no answer
        starts = tuple(accumulate((len(rp.blanks) for rp in rows), initial=0))
        plan = _SheetPlan(
            rows,
            frozenset(ref for rp in rows for ref in rp.refs),
            tuple(chain.from_iterable(rp.blanks for rp in rows)),
            starts,
            {},
        )
        object.__setattr__(sheet, "_plan", plan)
    return plan


def _row_plan(sheet: str, row: Row) -> _RowPlan:
    cols = tuple(c.col for c in row.cells)
    refs = tuple(a1(row.row, c) for c in cols)
    blanks = tuple(
        Answer(sheet, ref, c.field, c.sub_element, c.item, c.column, c.kind, None, False if c.kind == "tick" else None)
        for c, ref in zip(row.cells, refs, strict=True)
    )
    criterion = bool(row.label) and row.label_col >= 0 and bool(row.cells) and row.cells[0].field == "criterion"
    empty = ("",) * len(cols)
    return _RowPlan(
        row,
        sheet,
        frozenset(cols),
        refs,
        blanks,
        _picker(cols),
        max(cols, default=-1) + 1,
        empty,
        row.label.strip() if criterion else None,
        {empty: (blanks, ())},
    )


def _picker(cols: tuple[int, ...]) -> Callable[[list], tuple] | None:
    """values -> the values at cols, always a tuple (itemgetter gives a lone value for one column)."""
    if not cols or min(cols) < 0:  # a damaged layout
        return None
    if len(cols) == 1:
        only = cols[0]

        def one(values: list) -> tuple:
            return (values[only],)

        return one
    return itemgetter(*cols)


def _as_template(plan: _SheetPlan, blank_rows: list[list]) -> _Template | None:
    """None when the template's own sheet does not have every key at its row (or the layout is damaged)."""
    if any(rp.row.key_col < 0 for rp in plan.rows):
        return None
    columns = {col: _column(blank_rows, col) for col in {rp.row.key_col for rp in plan.rows}}
    indexes = {col: _first_rows(values) for col, values in columns.items()}
    if any(indexes[rp.row.key_col].get(rp.row.key) != rp.row.row for rp in plan.rows):
        return None
    keys = tuple(
        (
            col,
            values,
            {rp.row.row: rp.row.key for rp in plan.rows if rp.row.key_col == col},
            {rp.row.key: rp.row.row for rp in plan.rows if rp.row.key_col == col},
        )
        for col, values in columns.items()
    )
    inputs: dict[int, frozenset[int]] = {}
    at_row: dict[int, tuple[int, ...]] = {}
    for i, rp in enumerate(plan.rows):
        _add_inputs(inputs, rp.row.row, rp)
        at_row[rp.row.row] = (*at_row.get(rp.row.row, ()), i)
    loud = tuple(
        i
        for i, rp in enumerate(plan.rows)
        if _raws(rp, blank_rows[rp.row.row]) != rp.empty or not _label_kept(rp, blank_rows[rp.row.row])
    )
    free, kept = [], []
    for r, fixed in enumerate(blank_rows):
        own = inputs.get(r, ())
        cols = tuple(c for c, v in enumerate(fixed) if v == "" and c not in own)
        free.append((_picker(cols), ("",) * len(cols), max(cols, default=-1) + 1))
        cols = tuple(c for c, v in enumerate(fixed) if v != "" and c not in own)
        pick = _picker(cols)
        kept.append((pick, pick(fixed) if pick else (), max(cols, default=-1) + 1))
    return _Template(
        len(blank_rows), keys, MappingProxyType(at_row), loud, MappingProxyType(inputs), tuple(free), tuple(kept)
    )


def _read_answers(
    ret: Return,
    box: Container,
    grid: dict[str, _Sheet],
    lay: WorkbookLayout,
    blank: dict[str, list[list]] | None = None,
) -> None:
    used: set[str] = set()
    for sheet in lay.sheets:
        actual = _find_sheet(grid, sheet, used)
        if actual is None and not sheet.rows:
            continue  # a sheet of text only (the guidance): nothing to read, nothing lost
        if actual is None:
            first = sheet.rows[0] if sheet.rows else None
            ret.findings.append(
                finding("sheet-missing", ret.file, sheet.name, a1(first.row, first.key_col) if first else "A1")
            )
            for row in sheet.rows:
                for cell in row.cells:
                    ret.answers.append(_blank(sheet.name, row, cell))
            continue
        used.add(actual.name)
        if actual.name != sheet.name:
            ret.findings.append(finding("sheet-renamed", ret.file, actual.name, "A1", expected=sheet.name))
        formulas = box.formulas.get(actual.name, {})
        blank_rows = blank.get(sheet.name) if blank is not None else None
        if blank_rows is None:
            mapping, _ = _read_by_keys(ret, sheet, actual, formulas)
            _extra_content(ret, sheet, actual, set(mapping))  # the template's own text unknown: only beyond it
            continue
        changed = list(compress(count(), map(ne, actual.rows, blank_rows)))  # rows unlike the template's
        template = _plan(sheet).template(blank_rows)
        if template is not None and template.keys_in_place(actual.rows):
            _read_by_difference(ret, sheet, actual, formulas, template, changed)
            _extra_by_difference(ret, sheet, actual, formulas, template, blank_rows, changed)
        else:
            mapping, inputs = _read_by_keys(ret, sheet, actual, formulas, template, blank_rows)
            _extra_by_template(ret, sheet, actual, formulas, mapping, inputs, blank_rows, changed)


def _read_by_difference(
    ret: Return,
    sheet: SheetLayout,
    actual: _Sheet,
    formulas: Mapping[str, str],
    template: _Template,
    changed: list[int],
) -> None:
    """A sheet with the template's key cells: every row is where the layout says, and a row equal to the template's
    reads as the template's. Only the other rows are read; the rest take their blank answers in runs."""
    plan = _plan(sheet)
    quiet = not _formula_in_inputs(plan, formulas)
    if not quiet or actual.name != sheet.name:
        for rp in plan.rows:
            _read_row(ret, actual, rp, rp.row.row, formulas, quiet)
        return
    done = 0
    for i in sorted({*template.loud, *(i for r in changed for i in template.at_row.get(r, ()))}):
        ret.answers.extend(plan.blanks[plan.starts[done] : plan.starts[i]])
        rp = plan.rows[i]
        _read_row(ret, actual, rp, rp.row.row, formulas, quiet)
        done = i + 1
    ret.answers.extend(plan.blanks[plan.starts[done] :])


def _read_by_keys(
    ret: Return,
    sheet: SheetLayout,
    actual: _Sheet,
    formulas: Mapping[str, str],
    template: _Template | None = None,
    blank_rows: list[list] | None = None,
) -> tuple[dict[int, int], dict[int, frozenset[int]]]:
    """Every layout row found again by its key and read. Returns the template's row of each row found (by the
    sheet's row) and the input columns of each such row. With the blank template (and how it reads), a row in
    place and equal to the template's as a whole takes its blank answers without being looked at cell by cell."""
    plan = _plan(sheet)
    quiet = not _formula_in_inputs(plan, formulas)
    same = quiet and actual.name == sheet.name and template is not None and blank_rows is not None
    loud = frozenset(template.loud) if same and template is not None else frozenset()
    indexes: dict[int, dict[str, int]] = {}
    moved: list[tuple[Row, int]] = []
    mapping: dict[int, int] = {}
    inputs: dict[int, frozenset[int]] = {}
    wheres: list[int | None] = []
    for rp in plan.rows:
        keys = indexes.get(rp.row.key_col)
        if keys is None:
            keys = indexes[rp.row.key_col] = actual.column_index(rp.row.key_col)
        wheres.append(keys.get(rp.row.key))
    placed = _by_place(actual, plan, wheres) if None in wheres else frozenset()
    for i, (rp, where) in enumerate(zip(plan.rows, wheres, strict=True)):
        row = rp.row
        if where is None:
            _row_missing(ret, actual, row)
            continue
        if i in placed:
            _key_edited(ret, sheet, actual, row, where)
        mapping[where] = row.row
        _add_inputs(inputs, where, rp)
        if where != row.row:
            moved.append((row, where))
        elif (
            same
            and blank_rows is not None
            and i not in loud
            and where < len(blank_rows)
            and actual.rows[where] == blank_rows[where]
        ):
            ret.answers.extend(rp.blanks)
            continue
        _read_row(ret, actual, rp, where, formulas, quiet)
    if moved:
        row, where = moved[0]
        more = f" and {len(moved) - 1} more row(s)" if len(moved) > 1 else ""
        ret.findings.append(
            finding(
                "row-moved",
                ret.file,
                actual.name,
                a1(where, row.key_col),
                detail=f"{row.what[:1].upper()}{row.what[1:]}{more}",
                expected=row.row + 1,
                actual=where + 1,
            )
        )
    return mapping, inputs


def _by_place(actual: _Sheet, plan: _SheetPlan, wheres: list[int | None]) -> frozenset[int]:
    """The layout rows whose key was not found (None in wheres) but whose place is known: the nearest rows found
    above and below it (one of them at the sheet's first or last row) are both shifted alike, and the row there is
    no other row's and holds something. Sets their rows in wheres; returns their indexes."""
    found = [i for i, w in enumerate(wheres) if w is not None]
    if not found:
        return frozenset()
    taken = {w: plan.rows[i].row.row for i in found if (w := wheres[i]) is not None}
    keys = {rp.row.key for rp in plan.rows}
    placed = set()
    for i, rp in enumerate(plan.rows):
        if wheres[i] is not None or i in placed or rp.row.key_col < 0:
            continue
        k = bisect_left(found, i)
        near = [j for j in (found[k - 1] if k else None, found[k] if k < len(found) else None) if j is not None]
        offsets = {wheres[j] - plan.rows[j].row.row for j in near}  # type: ignore[operator]
        if len(offsets) != 1:
            continue
        r = rp.row.row + offsets.pop()
        if not 0 <= r < len(actual.rows) or taken.get(r, rp.row.row) != rp.row.row:
            continue
        values = actual.rows[r]
        text = _key_text(values[rp.row.key_col]) if rp.row.key_col < len(values) else None
        if text in keys or (text is None and all(v == "" or v is None for v in _raws(rp, values))):
            continue  # another row's key; or an empty row, where a deleted row's neighbour moved up
        wheres[i], taken[r] = r, rp.row.row
        placed.add(i)
    return frozenset(placed)


def _key_edited(ret: Return, sheet: SheetLayout, actual: _Sheet, row: Row, where: int) -> None:
    """A row found by its place although its key (the template's own label) was edited: reported, and the new
    label kept as extra content."""
    values = actual.rows[where]
    typed = values[row.key_col] if row.key_col < len(values) else ""
    ret.findings.append(
        finding(
            "template-text-changed",
            ret.file,
            actual.name,
            a1(where, row.key_col),
            old=row.key,
            value=_short(as_text(typed)),
            detail=" (the row's answers were read by its place)",
        )
    )
    if typed != "" and typed is not None:
        ret.extra.append(_extra(actual, sheet, where, row.key_col, typed))


def _short(text: str, limit: int = 100) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _formula_in_inputs(plan: _SheetPlan, formulas: Mapping[str, str]) -> bool:
    """Whether a formula sits where the template puts an input: rare, and only then is every cell looked up."""
    return bool(formulas) and not plan.refs.isdisjoint(formulas)


def _add_inputs(inputs: dict[int, frozenset[int]], where: int, rp: _RowPlan) -> None:
    """The row's input columns at `where` (two layout rows found at one row have the inputs of both)."""
    inputs[where] = inputs[where] | rp.cols if where in inputs else rp.cols


def _read_row(ret: Return, actual: _Sheet, rp: _RowPlan, where: int, formulas: Mapping[str, str], quiet: bool) -> None:
    """One layout row found at `where`; quiet: no formula where the template puts an input."""
    values = actual.rows[where]
    if not _label_kept(rp, values):
        ret.findings.append(
            finding("criterion-edited", ret.file, actual.name, a1(where, rp.row.label_col), item=rp.row.key)
        )
    raws = _raws(rp, values)
    if quiet and where == rp.row.row and actual.name == rp.sheet:
        answers, problems = _alike(rp, raws)
    else:
        refs = rp.refs if where == rp.row.row else tuple(a1(where, c.col) for c in rp.row.cells)
        answers, problems = _row_answers(actual.name, rp, refs, raws, formulas)
    ret.answers.extend(answers)
    for ans, cell in problems:
        ret.findings.append(_problem(ret.file, ans, cell))


def _label_kept(rp: _RowPlan, values: list) -> bool:
    """False when a criterion's text was edited."""
    if rp.label is None:
        return True
    got = values[rp.row.label_col] if rp.row.label_col < len(values) else None
    return got == rp.row.label or as_text(got).strip() == rp.label


def _raws(rp: _RowPlan, values: list) -> tuple:
    """The values of the row's input cells ("" for one beyond the row's end)."""
    if rp.pick is not None and len(values) >= rp.width:
        return rp.pick(values)
    return tuple(values[c.col] if 0 <= c.col < len(values) else "" for c in rp.row.cells)


def _alike(rp: _RowPlan, raws: tuple) -> tuple[tuple[Answer, ...], tuple[tuple[Answer, InputCell], ...]]:
    """The row's answers in place, shared with the returns that typed the same short texts in it."""
    got = rp.alike.get(raws)
    if got is None:
        got = _row_answers(rp.sheet, rp, rp.refs, raws, {})
        # Only text, and short: equal numbers or dates can still differ (-0.0, 1 and TRUE), long text rarely recurs.
        if len(rp.alike) <= _ALIKE and all(raw.__class__ is str and len(raw) <= 40 for raw in raws):
            rp.alike[raws] = got
    return got


def _moved(blank: Answer, sheet: str, ref: str) -> Answer:
    """A blank answer at another place."""
    return Answer(sheet, ref, blank.field, blank.sub_element, blank.item, blank.column, blank.kind, None, blank.value)


def _row_missing(ret: Return, actual: _Sheet, row: Row) -> None:
    code = "criterion-missing" if row.cells and row.cells[0].field == "criterion" else "row-missing"
    ret.findings.append(
        finding(
            code,
            ret.file,
            actual.name,
            a1(row.row, row.key_col),
            item=row.key,
            detail=row.what,
            expected_cell=f"{actual.name}!{a1(row.row, row.key_col)}",
        )
    )
    for cell in row.cells:
        ret.answers.append(_blank(actual.name, row, cell))


def _blank(sheet: str, row: Row, cell: InputCell) -> Answer:
    return Answer(
        sheet,
        a1(row.row, cell.col),
        cell.field,
        cell.sub_element,
        cell.item,
        cell.column,
        cell.kind,
        None,
        False if cell.kind == "tick" else None,
        problem="missing",
    )


def _row_answers(
    sheet: str, rp: _RowPlan, refs: tuple[str, ...], raws: tuple, formulas: Mapping[str, str]
) -> tuple[tuple[Answer, ...], tuple[tuple[Answer, InputCell], ...]]:
    """The row's answers at refs, and those with a problem (with their cells)."""
    answers: list[Answer] = []
    problems: list[tuple[Answer, InputCell]] = []
    for cell, ref, blank, raw in zip(rp.row.cells, refs, rp.blanks, raws, strict=True):
        formula = formulas.get(ref, "")
        if (raw == "" or raw is None) and not formula:
            answers.append(blank if blank.sheet == sheet and blank.cell == ref else _moved(blank, sheet, ref))
            continue
        ans = _answer(sheet, ref, cell, None if raw == "" else raw, formula)
        answers.append(ans)
        if ans.problem:
            problems.append((ans, cell))
    return tuple(answers), tuple(problems)


def _answer(sheet: str, ref: str, cell: InputCell, raw: object, formula: str) -> Answer:
    """A cell holding a value or a formula (raw None when it holds only a formula)."""
    value: object
    if formula:
        value = False if cell.kind == "tick" else "=" + formula
        return Answer(
            sheet,
            ref,
            cell.field,
            cell.sub_element,
            cell.item,
            cell.column,
            cell.kind,
            raw,
            value,
            formula,
            "formula-in-input",
        )
    value, code = _normalised(cell.kind, cell.choices, raw)
    return Answer(sheet, ref, cell.field, cell.sub_element, cell.item, cell.column, cell.kind, raw, value, "", code)


def _problem(file: str, ans: Answer, cell: InputCell) -> Finding:
    """The finding for an answer that could not be read: kept as typed (a tick that is not one counts as not
    ticked) and reported."""
    if ans.formula:
        return finding("formula-in-input", file, ans.sheet, ans.cell, value="=" + ans.formula)
    return finding(ans.problem, file, ans.sheet, ans.cell, value=as_text(ans.raw), choices=", ".join(cell.choices))


def _normalised(kind: str, choices: tuple[str, ...], raw: object) -> tuple[object, str]:
    """A typed value's normalised value and finding code ("" when it reads)."""
    text = as_text(raw)
    if kind not in _PARSE:
        return text, ""
    parse, code = _PARSE[kind]
    got = parse(raw, choices) if kind == "choice" else parse(raw)
    if got is None:
        return (False if kind == "tick" else text), code
    return got, ""


_PARSE: dict[str, tuple[Callable[..., object], str]] = {
    "tick": (tick, "unrecognised-tick"),
    "date": (date, "bad-date"),
    "choice": (choice, "bad-choice"),
    "number": (number, "bad-number"),
}


def _extra_content(ret: Return, sheet: SheetLayout, actual: _Sheet, seen_rows: set[int]) -> None:
    """Values typed outside the template's area (beyond its last row or its used columns) are kept and reported."""
    if sheet.role == "cover":
        return  # free-form text only; its inputs are read above
    last_row = max([sheet.marks.get("last", 0), *(r.row for r in sheet.rows)], default=0) + 1
    last_col = max(
        [c.col for r in sheet.rows for c in r.cells]
        + [r.label_col for r in sheet.rows]
        + [r.key_col for r in sheet.rows],
        default=0,
    )
    if sheet.role == "sub_element":
        last_col = layout_mod.COL_NOTE
    last_col = max(last_col, sheet.marks.get("last_col", 0))  # a sheet of text (the guidance) says how wide it is
    helper = range(layout_mod.HELPER_COL, layout_mod.HELPER_COL + 8) if sheet.role == "sub_element" else range(0)
    shift = max(0, max(seen_rows, default=0) - max((r.row for r in sheet.rows), default=0))
    extras: list[tuple[Answer, object]] = []
    for r, values in enumerate(actual.rows):
        for c, v in enumerate(values):
            if v == "" or v is None:
                continue
            if (r > last_row + shift + 1) or (c > last_col and c not in helper):
                extras.append((_extra(actual, sheet, r, c, v), None))
    _report_extra(ret, actual, extras)


def _extra(actual: _Sheet, sheet: SheetLayout, r: int, c: int, v: object) -> Answer:
    return Answer(actual.name, a1(r, c), "extra", sheet.sub_element, "", "", "text", v, as_text(v))


def _report_extra(ret: Return, actual: _Sheet, found: list[tuple[Answer, object]]) -> None:
    """Values found outside the inputs are kept as answers of their own, and reported once per sheet; each of the
    template's own texts typed over (found with the template's text, else None) is reported at its cell."""
    reported = {f.cell for f in ret.findings if f.sheet == actual.name and f.code in _REPORTED}
    extras = []
    for ans, old in found:
        if old is None:
            extras.append(ans)
        elif ans.cell not in reported:  # a criterion or a row's key already reported as edited
            ret.extra.append(ans)
            ret.findings.append(
                finding(
                    "template-text-changed",
                    ret.file,
                    actual.name,
                    ans.cell,
                    old=_short(as_text(old)),
                    value=_short(as_text(ans.raw)),
                    detail="",
                )
            )
    if extras:
        ret.extra.extend(extras)
        first = extras[0]
        ret.findings.append(
            finding(
                "extra-content", ret.file, actual.name, first.cell, detail=len(extras), value=as_text(first.raw)[:60]
            )
        )


_REPORTED = frozenset({"criterion-edited", "template-text-changed"})


def _extra_by_template(
    ret: Return,
    sheet: SheetLayout,
    actual: _Sheet,
    formulas: Mapping[str, str],
    mapping: dict[int, int],
    inputs: dict[int, frozenset[int]],
    blank: list[list],
    changed: list[int],
) -> None:
    """Every value in a cell that is neither an input nor filled by the template itself is kept and reported.
    changed: the rows unlike the template's row of the same number."""
    if sheet.role == "cover":
        return  # its text varies with the partner; its inputs are read above
    extras: list[tuple[Answer, object]] = []
    personal = _personal(sheet, blank)
    for r, fixed in _template_rows(actual.rows, mapping, blank, changed):
        extras.extend(_row_extras(actual, sheet, r, fixed, inputs.get(r, ()), formulas, personal))
    _report_extra(ret, actual, extras)


def _extra_by_difference(
    ret: Return,
    sheet: SheetLayout,
    actual: _Sheet,
    formulas: Mapping[str, str],
    template: _Template,
    blank: list[list],
    changed: list[int],
) -> None:
    """_extra_by_template for a sheet read by difference (nothing moved): only a changed row can hold an extra, and
    most changed rows differ from the template's only in their inputs."""
    if sheet.role == "cover":
        return  # as _extra_by_template
    extras: list[tuple[Answer, object]] = []
    personal = _personal(sheet, blank)
    for r in changed:
        values, fixed = actual.rows[r], blank[r]
        pick, empty, width = template.free[r]
        own, text, own_width = template.kept[r]
        if (
            max(width, own_width) <= len(values) <= len(fixed)
            and (pick is None or pick(values) == empty)
            and (own is None or own(values) == text)
        ):
            continue  # every cell other than an input is still as the template has it
        extras.extend(_row_extras(actual, sheet, r, fixed, template.inputs.get(r, ()), formulas, personal))
    _report_extra(ret, actual, extras)


def _personal(sheet: SheetLayout, blank: list[list]) -> frozenset[int]:
    """The template's rows (by id) whose text is each partner's own (the Overview's 'who' line): the blank
    template's text there is a stand-in's."""
    return frozenset(id(blank[r]) for name, r in sheet.marks.items() if name == "partner" and 0 <= r < len(blank))


def _row_extras(
    actual: _Sheet,
    sheet: SheetLayout,
    r: int,
    fixed: list,
    own: Collection[int],
    formulas: Mapping[str, str],
    personal: frozenset[int] = frozenset(),
) -> Iterator[tuple[Answer, object]]:
    """The values in row r of the sheet that are neither in an input (own: the row's input columns) nor the
    template's own (fixed: the template's row it stands for), each with None; and those typed over the template's
    own text, each with that text. A formula's value is the program's, not typed."""
    values = actual.rows[r]
    if values == fixed:  # the whole row first: one C comparison
        return
    # Only where the row differs from the template's can it hold a value the template does not.
    for c in chain(compress(count(), map(ne, values, fixed)), range(len(fixed), len(values))):
        v = values[c]
        if v == "" or v is None or c in own:
            continue
        if c < len(fixed) and fixed[c] != "":
            old = fixed[c]
            if old == _FORMULA or id(fixed) in personal or _key_text(v) == _key_text(old) or a1(r, c) in formulas:
                continue  # the template's own text (saved otherwise) or a formula's value
            yield _extra(actual, sheet, r, c, v), old
            continue
        yield _extra(actual, sheet, r, c, v), None


_FORMULA = "=formula"  # blank.py's stand-in for a template formula whose value is blank


def _template_rows(
    rows: list[list], mapping: dict[int, int], blank: list[list], changed: list[int]
) -> Iterator[tuple[int, list]]:
    """Each row of the sheet that may differ from the template, with the template's row it stands for (empty for a
    row the partner added among the template's rows); mapping: the template's row of each row found by its key."""
    if list(mapping) == list(mapping.values()):  # nothing moved: row r stands for the template's row r
        yield from ((r, blank[r]) for r in changed)
        yield from ((r, []) for r in range(len(blank), len(rows)))
        return
    anchors = sorted(mapping.items())
    key_rows = set(mapping.values())
    k = -1
    for r in range(len(rows)):
        while k + 1 < len(anchors) and anchors[k + 1][0] <= r:
            k += 1
        if r in mapping:
            expected, inserted = mapping[r], False
        else:
            expected = anchors[k][1] + (r - anchors[k][0]) if k >= 0 else r
            inserted = expected in key_rows  # a row the partner added among the template's rows
        yield r, blank[expected] if 0 <= expected < len(blank) and not inserted else []
