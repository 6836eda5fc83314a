"""Nothing a partner typed is lost: text typed over the template's own text (a label, a hint, a supporting
information item's wording, a row's key) is reported at its cell and kept; a row whose key label was edited is
still read by its place. On files filled with openpyxl and saved again by LibreOffice (xlsx and ods)."""

from __future__ import annotations

import datetime as dt

import openpyxl
import pytest

from eif_xlsx.api import read_return
from eif_xlsx.cells import a1
from eif_xlsx.office import convert
from eif_xlsx.template import layout as layout_mod
from eif_xlsx.template.layout import BASELINE

from .conftest import make_workbook, need_soffice

SUB = "1.1"


def _where(lay):
    """The cells the test types over, from the layout (the QA trial's 1.1 …!B38, B53, C20, A43 and Overview!A5)."""
    sheet = lay.sub_element_sheet(SUB)
    rows = {r.key: r for r in sheet.rows}
    other, action = rows["Other 1"], rows["#1"]
    support = next(r for r in sheet.rows if r.cells and r.cells[0].field == "supporting_information")
    overview = next(s for s in lay.sheets if s.role == "overview")
    date_row = next(r for r in overview.rows if r.key == "Baseline assessment date")
    return (
        {
            "other_label": (sheet.name, a1(other.row, other.cells[0].col - 1)),  # "Other (describe)", left of its input
            "notes_hint": (sheet.name, a1(sheet.marks["notes_hint"], 1)),
            "support_label": (sheet.name, a1(support.row, support.label_col)),
            "action_key": (sheet.name, a1(action.row, action.key_col)),
            "date_key": (overview.name, a1(date_row.row, date_row.key_col)),
            "barrier": (sheet.name, a1(action.row, action.cells[0].col)),
            "action": (sheet.name, a1(action.row, action.cells[1].col)),
            "timescale": (sheet.name, a1(action.row, action.cells[2].col)),
            "date": (overview.name, a1(date_row.row, date_row.cells[0].col)),
        },
        action,
        sheet,
    )


OVER = {
    "other_label": "Other: our own peer review group",
    "notes_hint": "We typed our notes over the hint",
    "support_label": "Our own wording for this item",
    "action_key": "1",
    "date_key": "Baseline date (agreed)",
}


@pytest.fixture(scope="module")
def typed_over(tmp_path_factory, matrix, catalog):
    """A generated workbook typed over with openpyxl: (layout, path, cells, the typed values by cell)."""
    tmp = tmp_path_factory.mktemp("over")
    path = make_workbook(tmp / "gen", matrix)
    lay = read_return(path, catalog).layout
    cells, action, _ = _where(lay)
    wb = openpyxl.load_workbook(path)
    typed: dict[tuple[str, str], object] = {}
    for name, value in OVER.items():
        typed[cells[name]] = value
    timescale = next(c for c in action.cells if c.field == "timescale").choices[0]
    typed[cells["barrier"]] = "No shared budget"
    typed[cells["action"]] = "Agree a pooled budget"
    typed[cells["timescale"]] = timescale
    typed[cells["date"]] = dt.date(2026, 3, 2)
    for (sheet, ref), value in typed.items():
        wb[sheet][ref] = value
    filled = tmp / "typed-over.xlsx"
    wb.save(filled)
    return lay, filled, cells, typed


def _check(ret, cells, typed):
    assert ret.readable, ret.findings
    changed = {(f.code, f.sheet, f.cell) for f in ret.findings if f.severity.value != "info"}
    assert changed == {("template-text-changed", *cells[name]) for name in OVER}
    for f in ret.findings:
        if f.code == "template-text-changed":
            assert OVER[next(n for n in OVER if cells[n] == (f.sheet, f.cell))] in f.message
    # Every typed value arrives: the texts typed over as extra answers at their cells, the rest as answers.
    extra = {(a.sheet, a.cell): a.value for a in ret.extra}
    assert extra == {cells[name]: OVER[name] for name in OVER}
    assert ret.answer("barrier", SUB, "1").value == typed[cells["barrier"]]
    assert ret.answer("priority_action", SUB, "1").value == typed[cells["action"]]
    assert ret.answer("timescale", SUB, "1").value == typed[cells["timescale"]]
    assert ret.answer("barrier", SUB, "1").cell == cells["barrier"][1]
    assert ret.answer("assessment_date", "", "", BASELINE).value == dt.date(2026, 3, 2)
    assert not [a for a in ret.answers if a.problem == "missing"]


def test_typed_over_with_openpyxl(typed_over, catalog):
    _, path, cells, typed = typed_over
    _check(read_return(path, catalog), cells, typed)


@pytest.mark.slow
@pytest.mark.libreoffice
@pytest.mark.parametrize("fmt", ["xlsx", "ods"])
def test_typed_over_then_saved_by_libreoffice(typed_over, catalog, tmp_path, fmt):
    need_soffice()
    _, path, cells, typed = typed_over
    resaved = convert(path, fmt, tmp_path)
    ret = read_return(resaved, catalog)
    assert ret.format == fmt
    _check(ret, cells, typed)


def test_edited_criterion_is_reported_once(tmp_path, matrix, catalog):
    path = make_workbook(tmp_path / "gen", matrix, {("criterion", SUB, "1.1a", BASELINE): "✓"})
    lay = read_return(path, catalog).layout
    sheet = lay.sub_element_sheet(SUB)
    row = next(r for r in sheet.rows if r.key == "1.1a")
    wb = openpyxl.load_workbook(path)
    wb[sheet.name][a1(row.row, row.label_col)] = "Our own wording of the criterion"
    wb.save(path)
    ret = read_return(path, catalog)
    assert [(f.code, f.sheet, f.cell) for f in ret.findings if f.severity.value != "info"] == [
        ("criterion-edited", sheet.name, a1(row.row, row.label_col))
    ]
    assert ret.answer("criterion", SUB, "1.1a", BASELINE).value is True


def test_deleted_row_is_still_missing(tmp_path, matrix, catalog):
    """A row deleted (the rows below moved up) is not read by place: its neighbours are no longer in place."""
    path = make_workbook(tmp_path / "gen", matrix)
    lay = read_return(path, catalog).layout
    _, action, sheet = _where(lay)
    wb = openpyxl.load_workbook(path)
    wb[sheet.name].delete_rows(action.row + 1)
    wb.save(path)
    ret = read_return(path, catalog)
    codes = {(f.code, f.sheet, f.cell) for f in ret.findings}
    assert ("row-missing", sheet.name, a1(action.row, action.key_col)) in codes
    assert not [f for f in ret.findings if f.code == "template-text-changed"]


def test_cleared_key_with_answers_is_read_by_place(tmp_path, matrix, catalog):
    path = make_workbook(tmp_path / "gen", matrix)
    lay = read_return(path, catalog).layout
    cells, action, sheet = _where(lay)
    wb = openpyxl.load_workbook(path)
    ws = wb[sheet.name]
    ws[cells["action_key"][1]] = None
    ws[cells["barrier"][1]] = "Typed where the key was cleared"
    wb.save(path)
    ret = read_return(path, catalog)
    assert [(f.code, f.sheet, f.cell) for f in ret.findings if f.severity.value != "info"] == [
        ("template-text-changed", *cells["action_key"])
    ]
    assert ret.answer("barrier", SUB, "1").value == "Typed where the key was cleared"
    assert layout_mod.COL_KEY == action.key_col
