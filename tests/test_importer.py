"""The importer: every input survives the round trip; ticks, dates and text are normalised as documented;
each finding comes from a small crafted file and names its cell."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import openpyxl
import pytest

from eif_xlsx.api import check, read_return
from eif_xlsx.cells import a1
from eif_xlsx.domain.catalog import Catalog
from eif_xlsx.office import convert
from eif_xlsx.template import layout as layout_mod
from eif_xlsx.template.layout import BASELINE, COL_BASE, TWELVE_MONTHS

from .conftest import ANN, BOB, make_workbook, need_soffice

TRICKY = [
    "=1+1 is not a formula here",
    "+44 20 7946 0000",
    "-minus first",
    "@mention",
    "two\nlines",
    "日本語のテキスト",
    "Ελληνικά και العربية",
    "  spaced  ",
    "'quoted'",
    "x" * 5000,
]


def full_answers(lay: layout_mod.WorkbookLayout, ticks: tuple[str, ...] = ("✓",), text=None) -> dict:
    """A value for every input cell of the layout, of the right kind; text(i) gives the i-th free text."""
    text = text or (lambda i: TRICKY[i % len(TRICKY)] + f" #{i}")
    answers = {}
    for i, (_, _, cell) in enumerate(lay.inputs()):
        key = (cell.field, cell.sub_element, cell.item, cell.column)
        if cell.kind == "tick":
            answers[key] = ticks[i % len(ticks)]
        elif cell.kind == "choice":
            answers[key] = cell.choices[i % len(cell.choices)]
        elif cell.kind == "date":
            answers[key] = dt.date(2026, 3, 1) + dt.timedelta(days=200 * (cell.column == TWELVE_MONTHS))
        elif cell.kind == "number":
            answers[key] = float(i) + 0.25
        else:
            answers[key] = text(i)
    return answers


def expected_value(value):
    return True if value == "✓" else value


def test_round_trip_every_input(tmp_path, matrix, indicator_set, catalog):
    lay = layout_mod.build(matrix, indicator_set)
    answers = full_answers(lay)
    path = make_workbook(tmp_path, matrix, answers, indicators=indicator_set)
    ret = read_return(path, catalog)
    assert ret.readable, ret.findings
    got = {a.key: a.value for a in ret.answers}
    assert set(got) == set(answers)  # the reader reads exactly the cells the writer made inputs
    for key, value in answers.items():
        assert got[key] == expected_value(value), key
    assert not [f for f in ret.findings if f.code != "macro-workbook"]
    text = next(a for a in ret.answers if a.kind == "text" and str(a.value).startswith("=1+1"))
    assert text.formula == "" and text.raw_text.startswith("=1+1")


def test_answers_name_their_cells(tmp_path, matrix, catalog):
    path = make_workbook(tmp_path, matrix, {("criterion", "1.1", "1.1c", BASELINE): "✓"})
    ret = read_return(path, catalog)
    a = ret.answer("criterion", "1.1", "1.1c", BASELINE)
    sheet = layout_mod.build(matrix).sub_element_sheet("1.1")
    row = next(r for r in sheet.rows if r.key == "1.1c")
    assert (a.sheet, a.cell) == ("1.1 Vision, strategy & plan", f"D{row.row + 1}")
    assert a.value is True


TICKED = ["✓", "✔", "☑", "√", "x", "X", "yes", "Y", "true", "TRUE", "1", " ✓ ", "  YES", "ü"]
UNTICKED = ["no", "NO", "false", "0", "n"]
UNRECOGNISED = ["maybe", "✗", "done?", "2"]


def test_tick_variants(tmp_path, matrix, catalog):
    subs = {c.code: code for code in ("7.1", "7.3", "9.1") for c in matrix.sub_element(code).criteria}
    codes = list(subs)
    values = TICKED + UNTICKED + UNRECOGNISED
    assert len(codes) >= len(values)
    answers = {("criterion", subs[code], code, BASELINE): v for code, v in zip(codes, values, strict=False)}
    path = make_workbook(tmp_path, matrix, answers)
    # Real numbers and booleans, as a spreadsheet stores them when typed.
    wb = openpyxl.load_workbook(path)
    ws = wb["7.1 Quality"]
    ws["E10"] = 1
    ws["E11"] = True
    ws["E12"] = 0
    ws["E13"] = False
    wb.save(path)
    ret = read_return(path, catalog)
    by_value = {}
    for code, v in zip(codes, values, strict=False):
        by_value[v] = ret.answer("criterion", subs[code], code, BASELINE)
    for v in TICKED:
        assert by_value[v].value is True, v
    for v in UNTICKED:
        assert by_value[v].value is False and not by_value[v].problem, v
    for v in UNRECOGNISED:
        a = by_value[v]
        assert a.value is False and a.problem == "unrecognised-tick" and a.raw_text == v
    found = {(f.code, f.cell) for f in ret.findings if f.code == "unrecognised-tick"}
    assert {by_value[v].cell for v in UNRECOGNISED} == {c for _, c in found}
    twelve = {a.cell: a.value for a in ret.answers if a.sheet == "7.1 Quality" and a.column == TWELVE_MONTHS}
    assert (twelve["E10"], twelve["E11"], twelve["E12"], twelve["E13"]) == (True, True, False, False)


def test_dates_in_any_stored_form(tmp_path, matrix, catalog):
    path = make_workbook(tmp_path, matrix, {("criterion", "1.1", "1.1a", BASELINE): "✓"})
    wb = openpyxl.load_workbook(path)
    ws = wb["Overview"]
    ws["D5"] = 46082  # an Excel serial number: 2026-03-01
    ws["D6"] = "01/09/2026"  # text, day first
    wb.save(path)
    ret = read_return(path, catalog)
    assert ret.answer("assessment_date", "", "", BASELINE).value == dt.date(2026, 3, 1)
    assert ret.answer("assessment_date", "", "", TWELVE_MONTHS).value == dt.date(2026, 9, 1)


def codes_of(report):
    return {(f.code, f.sheet, f.cell) for f in report.findings}


def test_findings_on_crafted_file(tmp_path, matrix, catalog):
    answers = {
        ("criterion", "2", "2a", BASELINE): "✓",
        ("criterion", "2", "2k", BASELINE): "✓",  # Mature, with only Basic complete: skips levels
        ("criterion", "3", "3a", TWELVE_MONTHS): "✓",  # 12 months with no baseline
        ("criterion", "1.1", "1.1a", BASELINE): "✓",
        ("criterion", "1.1", "1.1b", BASELINE): "✓",  # Early progress reached, no supporting information
        ("overall_rating", "1.1", "", BASELINE): "Mature",  # differs from the criteria
        ("assessment_date", "", "", BASELINE): dt.date(2026, 5, 1),
        ("assessment_date", "", "", TWELVE_MONTHS): dt.date(2026, 1, 1),  # before baseline
    }
    path = make_workbook(tmp_path, matrix, answers)
    report = check(read_return(path, catalog), catalog, today=dt.date(2026, 11, 24))
    codes = codes_of(report)
    assert ("skipped-level", "2 Commissioning", "D20") in codes
    assert ("twelve-months-without-baseline", "3 Workforce planning", "E10") in codes
    assert ("no-evidence", "1.1 Vision, strategy & plan", "D20") in codes
    assert ("rating-differs", "Overview", "G9") in codes
    assert ("dates-out-of-order", "Overview", "D6") in codes
    assert report.accepted  # warnings only
    res = report.results[("1.1", BASELINE)]
    assert (res.score.level_name, res.score.score, res.overall_rating) == ("Early progress", 2.0, "Mature")


def test_no_evidence_needs_supporting_information_at_the_level_claimed(tmp_path, matrix, catalog):
    """Sub-element 2's supporting information carries levels: reaching Early progress needs an item marked Early
    progress (or one under 'Other'); an item marked Mature does not count. 1.1's items carry none: any one counts."""
    sub = matrix.sub_element("2")
    reach = {c.code for c in sub.criteria if c.level in ("Basic level", "Early progress")}
    items = {lv: [i.id for i in sub.supporting_information if i.level == lv] for lv in ("Early progress", "Mature")}
    ticks = {("criterion", "2", code, BASELINE): "✓" for code in reach}
    lay = layout_mod.build(matrix).sub_element_sheet("2")
    first_early = next(r for r in lay.rows if r.key == items["Early progress"][0])

    def findings(extra: dict, name: str) -> list:
        path = make_workbook(tmp_path / name, matrix, {**ticks, **extra})
        report = check(read_return(path, catalog), catalog, today=dt.date(2026, 11, 24))
        assert report.results[("2", BASELINE)].score.level_name == "Early progress"
        return [f for f in report.findings if f.code == "no-evidence"]

    only_mature = findings({("supporting_information", "2", items["Mature"][0], BASELINE): "✓"}, "mature")
    assert [(f.sheet, f.cell) for f in only_mature] == [(lay.name, a1(first_early.row, COL_BASE))]
    assert only_mature[0].message == (
        "2 Baseline: the criteria reach Early progress but no supporting information is ticked at that level "
        "(an item marked Early progress, or one under 'Other')."
    )
    assert findings({("supporting_information", "2", items["Early progress"][-1], BASELINE): "✓"}, "early") == []
    assert (
        findings(
            {
                ("supporting_other_tick", "2", "Other 1", BASELINE): "✓",
                ("supporting_other", "2", "Other 1", ""): "Our own audit",
            },
            "other",
        )
        == []
    )
    # 1.1: no levels on its items, so any ticked item is evidence for any level.
    basic_early = {c.code for c in matrix.sub_element("1.1").criteria if c.level in ("Basic level", "Early progress")}
    path = make_workbook(
        tmp_path / "unlevelled",
        matrix,
        {
            **{("criterion", "1.1", code, BASELINE): "✓" for code in basic_early},
            ("supporting_information", "1.1", "1.1-s05", BASELINE): "✓",
        },
    )
    report = check(read_return(path, catalog), catalog, today=dt.date(2026, 11, 24))
    assert report.results[("1.1", BASELINE)].score.full >= 2
    assert [f for f in report.findings if f.code == "no-evidence"] == []


def test_date_missing_and_future(tmp_path, matrix, catalog):
    path = make_workbook(
        tmp_path,
        matrix,
        {
            ("criterion", "1.1", "1.1a", BASELINE): "✓",
            ("criterion", "1.1", "1.1a", TWELVE_MONTHS): "✓",
            ("assessment_date", "", "", TWELVE_MONTHS): dt.date(2030, 1, 1),
        },
    )
    report = check(read_return(path, catalog), catalog, today=dt.date(2026, 11, 24))
    codes = codes_of(report)
    assert ("date-missing", "Overview", "D5") in codes
    assert ("date-in-future", "Overview", "D6") in codes


def test_nothing_filled_is_rejected(tmp_path, matrix, catalog):
    report = check(read_return(make_workbook(tmp_path, matrix), catalog), catalog)
    assert ("nothing-filled", "", "") in codes_of(report)
    assert not report.accepted


def test_another_partners_workbook(tmp_path, matrix, catalog):
    path = make_workbook(tmp_path, matrix, {("criterion", "1.1", "1.1a", BASELINE): "✓"}, partner=ANN)
    ret = read_return(path, catalog)
    ret.sender = BOB.email  # Bob emailed Ann's workbook
    report = check(ret, catalog, partners_by_email={ANN.email: ANN.id, BOB.email: BOB.id})
    assert "other-partner" in {f.code for f in report.findings}
    assert not report.accepted


def test_rows_inserted_sheet_renamed_text_edited(tmp_path, matrix, catalog):
    answers = {("criterion", "1.1", code, BASELINE): "✓" for code in ("1.1a", "1.1b", "1.1c")}
    answers[("notes", "1.1", "", "")] = "our note"
    answers[("barrier", "1.1", "2", "")] = "a barrier"
    path = make_workbook(tmp_path, matrix, answers)
    wb = openpyxl.load_workbook(path)
    ws = wb["1.1 Vision, strategy & plan"]
    ws.insert_rows(9, 3)  # three rows inserted above the criteria
    ws["C15"] = "Edited wording of 1.1c"  # 1.1c now sits on row 15 (was 12)
    wb["1.2 Population needs"].title = "Needs"
    wb.save(path)
    ret = read_return(path, catalog)
    assert ret.answer("criterion", "1.1", "1.1c", BASELINE).value is True
    assert ret.answer("criterion", "1.1", "1.1c", BASELINE).cell == "D15"
    assert ret.answer("notes", "1.1", "", "").value == "our note"
    assert ret.answer("barrier", "1.1", "2", "").value == "a barrier"
    codes = {(f.code, f.sheet) for f in ret.findings}
    assert ("row-moved", "1.1 Vision, strategy & plan") in codes
    assert ("sheet-renamed", "Needs") in codes
    edited = [f for f in ret.findings if f.code == "criterion-edited"]
    assert [(f.sheet, f.cell) for f in edited] == [("1.1 Vision, strategy & plan", "C15")]


def test_criterion_deleted(tmp_path, matrix, catalog):
    path = make_workbook(tmp_path, matrix, {("criterion", "5", "5a", BASELINE): "✓"})
    wb = openpyxl.load_workbook(path)
    wb["5 Leadership"].delete_rows(11, 1)  # 5c
    wb.save(path)
    ret = read_return(path, catalog)
    missing = [(f.code, f.sheet, f.cell) for f in ret.findings if f.code == "criterion-missing"]
    assert missing == [("criterion-missing", "5 Leadership", "A11")]
    assert ret.answer("criterion", "5", "5a", BASELINE).value is True


def test_formula_typed_into_inputs(tmp_path, matrix, catalog):
    path = make_workbook(tmp_path, matrix, {("criterion", "1.1", "1.1a", BASELINE): "✓"})
    wb = openpyxl.load_workbook(path)
    wb["1.2 Population needs"]["D10"] = "=1+1"
    wb["1.2 Population needs"]["B" + str(layout_mod.build(matrix).sub_element_sheet("1.2").marks["notes"] + 1)] = (
        '=HYPERLINK("http://example.org","click")'
    )
    wb.save(path)
    ret = read_return(path, catalog)
    found = [(f.sheet, f.cell) for f in ret.findings if f.code == "formula-in-input"]
    assert ("1.2 Population needs", "D10") in found and len(found) == 2
    notes = ret.answer("notes", "1.2", "", "")
    assert notes.raw_text == '=HYPERLINK("http://example.org","click")'
    assert ret.answer("criterion", "1.2", "1.2a", BASELINE).value is False


def test_older_template_is_read_through_its_own_layout(tmp_path, matrix):
    source = Path(__file__).resolve().parent.parent / "definitions" / "maternity-early-years.yaml"
    text = source.read_text(encoding="utf-8").replace("id: maternity-early-years", "id: test-matrix", 1)
    v1, v2 = tmp_path / "v1", tmp_path / "v2"
    v1.mkdir()
    v2.mkdir()
    (v1 / "m.yaml").write_text(text, encoding="utf-8")
    (v2 / "m.yaml").write_text(text.replace('version: "2020-11"', 'version: "2021-06"'), encoding="utf-8")
    old = Catalog([v1]).matrix("test-matrix")
    path = make_workbook(tmp_path / "gen", old, {("criterion", "1.1", "1.1a", BASELINE): "✓"})
    cat2 = Catalog([v2])
    ret = read_return(path, cat2)
    assert ret.readable
    assert "older-template" in {f.code for f in ret.findings}
    assert ret.answer("criterion", "1.1", "1.1a", BASELINE).value is True


@pytest.mark.slow
@pytest.mark.libreoffice
@pytest.mark.parametrize("fmt", ["xlsx", "ods"])
def test_resaved_by_libreoffice(tmp_path, matrix, indicator_set, catalog, fmt):
    need_soffice()
    lay = layout_mod.build(matrix, indicator_set)
    answers = full_answers(lay)
    answers = {k: v for k, v in answers.items() if not (isinstance(v, str) and len(v) > 1000)}
    path = make_workbook(tmp_path / "gen", matrix, answers, indicators=indicator_set)
    original = {a.key: a.value for a in read_return(path, catalog).answers}
    resaved = convert(path, fmt, tmp_path / "lo")
    ret = read_return(resaved, catalog)
    assert ret.readable and ret.format == fmt, ret.findings
    got = {a.key: a.value for a in ret.answers}
    assert got == original
    assert not [f for f in ret.findings if f.severity.value != "info"]


def test_copy_keeps_name_in_findings(tmp_path, matrix, catalog):
    path = make_workbook(tmp_path, matrix, {("criterion", "1.1", "1.1a", BASELINE): "maybe"})
    copy = tmp_path / "Ann's return (final).xlsx"
    shutil.copy(path, copy)
    ret = read_return(copy, catalog)
    assert {f.file for f in ret.findings} == {"Ann's return (final).xlsx"}


def test_values_typed_outside_the_inputs_are_kept(tmp_path, matrix, catalog):
    path = make_workbook(tmp_path, matrix, {("criterion", "1.1", "1.1a", BASELINE): "✓"})
    wb = openpyxl.load_workbook(path)
    ws = wb["1.1 Vision, strategy & plan"]
    ws["F10"] = "comment beside 1.1a"  # a locked, empty cell in the template
    ws["Z3"] = "far to the right"
    ws.insert_rows(12, 1)
    ws["C12"] = "a row the partner added"
    wb["Overview"]["L9"] = "note on the overview"
    wb.save(path)
    ret = read_return(path, catalog)
    extra = {(a.sheet, a.cell): a.raw_text for a in ret.extra}
    assert extra == {
        ("1.1 Vision, strategy & plan", "F10"): "comment beside 1.1a",
        ("1.1 Vision, strategy & plan", "Z3"): "far to the right",
        ("1.1 Vision, strategy & plan", "C12"): "a row the partner added",
        ("Overview", "L9"): "note on the overview",
    }
    assert {(f.code, f.sheet) for f in ret.findings if f.code == "extra-content"} == {
        ("extra-content", "1.1 Vision, strategy & plan"),
        ("extra-content", "Overview"),
    }
    assert ret.answer("criterion", "1.1", "1.1a", BASELINE).value is True


def test_metadata_deleted_with_indicators_keeps_indicator_answers(tmp_path, matrix, indicator_set, catalog):
    answers = {
        ("criterion", "1.1", "1.1a", BASELINE): "✓",
        ("indicator_value", "", "cp1-1-po1", ""): 42.0,
        ("indicator_period", "", "cp1-1-po1", ""): "2026 Q1",
    }
    path = make_workbook(tmp_path, matrix, answers, indicators=indicator_set)
    wb = openpyxl.load_workbook(path)
    del wb["_eif"]
    wb.save(path)
    ret = read_return(path, catalog)
    assert "matched-by-structure" in {f.code for f in ret.findings}
    assert ret.answer("indicator_value", "", "cp1-1-po1", "").value == 42.0
    assert ret.answer("criterion", "1.1", "1.1a", BASELINE).value is True
