"""Workbooks pre-filled from returns: the 12-months round (baseline carried over and locked), feedback copies
marked up for a partner to correct, and re-issue across a changed matrix definition."""

from __future__ import annotations

import csv
import datetime as dt
import os
import shutil
from pathlib import Path

import openpyxl
import pytest
import yaml
from click.testing import CliRunner

from eif_xlsx.api import consolidate, validate
from eif_xlsx.cells import a1
from eif_xlsx.cli import main
from eif_xlsx.domain.catalog import Catalog
from eif_xlsx.domain.partners import Partner
from eif_xlsx.errors import Severity
from eif_xlsx.intake.reader import read_return
from eif_xlsx.rounds import reissue
from eif_xlsx.template import layout as layout_mod
from eif_xlsx.template.generate import generate_workbooks
from eif_xlsx.template.layout import BASELINE, TWELVE_MONTHS
from eif_xlsx.template.styles import INPUT_FILL

from .conftest import ANN, BOB, INDICATORS_ID, MATRIX_ID, make_workbook

GREY = "FFE5E7EB"  # the locked (earlier round) fill
YELLOW = "FF" + INPUT_FILL[1:]  # an input to fill in
FLAG = "FFFDBA74"  # a finding to correct
DEFINITION = Path(__file__).resolve().parent.parent / "definitions" / f"{MATRIX_ID}.yaml"

BASELINE_ANSWERS = {
    ("assessment_date", "", "", BASELINE): dt.date(2025, 3, 1),
    ("criterion", "1.1", "1.1a", BASELINE): "✓",
    ("criterion", "1.1", "1.1b", BASELINE): "✓",
    ("criterion", "1.1", "1.1c", BASELINE): "✓",
    ("criterion", "2", "2a", BASELINE): "✓",
    ("supporting_information", "1.1", "1.1-s01", BASELINE): "✓",
    ("supporting_information", "1.1", "1.1-s03", BASELINE): "✓",
    ("supporting_information", "2", "2-s01", BASELINE): "✓",
    ("supporting_other", "1.1", "Other 1", ""): "Local audit of the strategy, 2024",
    ("supporting_other_tick", "1.1", "Other 1", BASELINE): "✓",
    ("overall_rating", "1.1", "", BASELINE): "Early progress",
    ("overall_rating", "2", "", BASELINE): "Basic level",
    ("barrier", "1.1", "1", ""): "No shared budget",
    ("priority_action", "1.1", "1", ""): "Agree a pooled budget",
    ("timescale", "1.1", "1", ""): "Short",
    ("owner", "1.1", "1", ""): "Director of Public Health",
    ("action_notes", "1.1", "1", ""): "Raised at the board",
    ("barrier", "2", "2", ""): "Contracts end at different times",
    ("priority_action", "2", "2", ""): "Align contract end dates",
    ("timescale", "2", "2", ""): "Long",
    ("notes", "1.1", "", ""): "Between early and substantial progress.",
    ("notes", "2", "", ""): "Commissioning review due in spring.",
}


# --- helpers ---------------------------------------------------------------------------------------


def nonblank(ret) -> dict[tuple[str, str, str, str], str]:
    """Every answer a partner gave, as typed: key -> raw text (an unticked tick counts as blank)."""
    return {
        a.key: a.raw_text
        for a in ret.answers
        if a.raw_text.strip() and not (a.kind == "tick" and a.value is False and not a.problem)
    }


def position(lay, key) -> tuple[str, str]:
    """(sheet name, A1) of an input cell in a layout."""
    for sheet, row, cell in lay.inputs():
        if (cell.field, cell.sub_element, cell.item, cell.column) == key:
            return sheet.name, a1(row.row, cell.col)
    raise KeyError(key)


def validated_cells(ws) -> set[str]:
    out: set[str] = set()
    for dv in ws.data_validations.dataValidation:
        for rng in dv.sqref.ranges:
            for row in ws.iter_rows(min_row=rng.min_row, max_row=rng.max_row, min_col=rng.min_col, max_col=rng.max_col):
                out.update(c.coordinate for c in row)
    return out


def sheet_text(ws) -> str:
    return "\n".join(str(c.value) for row in ws.iter_rows() for c in row if c.value is not None)


def write_partners(path: Path, rows: list[tuple[str, str, str, str, str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "name", "organisation", "email", "role"])
        w.writerows(rows)
    return path


def manifest_rows(folder: Path) -> dict[str, dict[str, str]]:
    with (folder / "manifest.csv").open(encoding="utf-8-sig", newline="") as fh:
        return {r["partner_id"]: r for r in csv.DictReader(fh)}


# --- the 12-months round ---------------------------------------------------------------------------


@pytest.fixture
def twelve_months(tmp_path, matrix):
    """Ann's baseline return, then `generate --round 12-months`; Ann is listed under a new id (matched by email,
    typed in other case) and Bob, who sent nothing, is listed too."""
    returns = tmp_path / "returns"
    baseline = make_workbook(returns, matrix, BASELINE_ANSWERS)
    (returns / "manifest.csv").unlink()
    partners = write_partners(
        tmp_path / "partners.csv",
        [
            ("ANN-2026", ANN.name, ANN.organisation, "Ann@Example.org", ANN.role),
            (BOB.id, BOB.name, BOB.organisation, BOB.email, BOB.role),
        ],
    )
    out = tmp_path / "round2"
    result = CliRunner().invoke(
        main,
        [
            "generate",
            MATRIX_ID,
            "--round",
            "12-months",
            "--previous",
            str(returns),
            "--partners",
            str(partners),
            "--out",
            str(out),
            "--quiet",
        ],
    )
    assert result.exit_code == 0, result.output + result.stderr
    rows = manifest_rows(out)
    return {
        "baseline": baseline,
        "out": out,
        "result": result,
        "rows": rows,
        "ann": out / rows["ANN-2026"]["file"],
        "bob": out / rows[BOB.id]["file"],
    }


def test_the_baseline_return_reads_back_as_given(twelve_months):
    """The premise of the round trip: every baseline answer is in the return, as typed."""
    got = nonblank(read_return(twelve_months["baseline"]))
    for key, value in BASELINE_ANSWERS.items():
        assert got[key] == (value.isoformat() if isinstance(value, dt.date) else value)


def test_twelve_months_workbook_carries_every_baseline_answer(twelve_months):
    before = read_return(twelve_months["baseline"])
    after = read_return(twelve_months["ann"])
    assert after.readable and after.metadata["partner_id"] == "ANN-2026"
    assert after.metadata["round"] == TWELVE_MONTHS
    # ticks, ratings, dates, supporting info, barriers, actions, notes; the partner's details are the round-2
    # list's (Ann's email is given there as typed in it), not what round 1's cover held
    cover = {"respondent_name", "respondent_role", "respondent_organisation", "respondent_email"}
    assert {k: v for k, v in nonblank(after).items() if k[0] not in cover} == {
        k: v for k, v in nonblank(before).items() if k[0] not in cover
    }
    assert after.answer("respondent_email").raw_text == "Ann@Example.org"
    by_key = {a.key: a for a in after.answers}
    for a in before.answers:
        if a.key in nonblank(before) and a.field not in cover:
            assert by_key[a.key].value == a.value, a.key  # read back as the same value, not just the same text
            assert not by_key[a.key].formula
    assert not any(f.severity != Severity.INFO for f in after.findings)


def test_twelve_months_baseline_is_locked_grey_and_without_validation(twelve_months):
    ret = read_return(twelve_months["ann"])
    wb = openpyxl.load_workbook(twelve_months["ann"])
    checked = {BASELINE: 0, TWELVE_MONTHS: 0}
    for sheet in ret.layout.sheets:
        ws = wb[sheet.name]
        assert ws.protection.sheet, sheet.name
        validated = validated_cells(ws)
        for a in ret.answers:
            if a.sheet != sheet.name or a.column not in checked:
                continue
            cell = ws[a.cell]
            if a.column == BASELINE:
                assert cell.protection.locked is True, f"{a.sheet}!{a.cell} {a.key}"
                assert cell.fill.fgColor.rgb == GREY, f"{a.sheet}!{a.cell} {a.key}"
                assert a.cell not in validated, f"{a.sheet}!{a.cell} {a.key}"
            else:
                assert cell.protection.locked is False, f"{a.sheet}!{a.cell} {a.key}"
                assert cell.fill.fgColor.rgb == YELLOW, f"{a.sheet}!{a.cell} {a.key}"
                if a.kind in ("tick", "choice", "date"):
                    assert a.cell in validated, f"{a.sheet}!{a.cell} {a.key}"
            checked[a.column] += 1
    assert checked[BASELINE] > 100 and checked[TWELVE_MONTHS] == checked[BASELINE]
    # Barriers, actions and notes belong to no round: still open for recording progress.
    lay = ret.layout
    for key in (("action_notes", "1.1", "1", ""), ("notes", "1.1", "", ""), ("barrier", "1.1", "3", "")):
        name, ref = position(lay, key)
        assert wb[name][ref].protection.locked is False, key


def test_twelve_months_cover_lists_earlier_priority_actions(twelve_months):
    cover = sheet_text(openpyxl.load_workbook(twelve_months["ann"])["Cover"])
    assert "priority actions from last time" in cover
    assert "1.1 #1: Agree a pooled budget (Short)" in cover
    assert "2 #2: Align contract end dates (Long)" in cover


def test_partner_without_previous_return_gets_a_blank_workbook(twelve_months):
    rows, result = twelve_months["rows"], twelve_months["result"]
    assert rows["ANN-2026"]["prefilled_from"] == twelve_months["baseline"].name
    assert rows[BOB.id]["prefilled_from"] == ""
    assert {r["round"] for r in rows.values()} == {TWELVE_MONTHS}
    assert BOB.id in result.stderr and "blank" in result.stderr
    assert "ANN-2026" not in result.stderr
    bob = read_return(twelve_months["bob"])
    assert bob.metadata["partner_id"] == BOB.id
    assert set(nonblank(bob)) == {
        ("respondent_name", "", "", ""),
        ("respondent_role", "", "", ""),
        ("respondent_organisation", "", "", ""),
        ("respondent_email", "", "", ""),
    }
    wb = openpyxl.load_workbook(twelve_months["bob"])
    assert "from last time" not in sheet_text(wb["Cover"])
    name, ref = position(bob.layout, ("criterion", "1.1", "1.1a", BASELINE))
    assert wb[name][ref].protection.locked is False  # nothing to keep: a newcomer may give a baseline now


def fill_twelve_months(src: Path, dest: Path) -> None:
    """As a partner would: open the workbook, tick 12 months cells, give the date and a rating, save."""
    ret = read_return(src)
    wb = openpyxl.load_workbook(src)
    typed = {("criterion", "1.1", c, TWELVE_MONTHS): "✓" for c in ("1.1a", "1.1b", "1.1c", "1.1d", "1.1e", "1.1f")}
    typed[("supporting_information", "1.1", "1.1-s01", TWELVE_MONTHS)] = "✓"
    typed[("supporting_information", "1.1", "1.1-s12", TWELVE_MONTHS)] = "✓"
    typed[("overall_rating", "1.1", "", TWELVE_MONTHS)] = "Substantial progress"
    typed[("assessment_date", "", "", TWELVE_MONTHS)] = dt.datetime(2026, 3, 2)
    typed[("action_notes", "1.1", "1", "")] = "Pooled budget agreed in January"
    for key, value in typed.items():
        name, ref = position(ret.layout, key)
        wb[name][ref].value = value
    dest.parent.mkdir(parents=True, exist_ok=True)
    wb.save(dest)


@pytest.mark.slow
def test_filled_twelve_months_imports_with_both_columns_and_the_change(twelve_months, tmp_path, matrix):
    filled = tmp_path / "returns12" / twelve_months["ann"].name
    fill_twelve_months(twelve_months["ann"], filled)
    # The baseline alone, imported, for comparison.
    first = consolidate([twelve_months["baseline"]], tmp_path / "import1")
    second = consolidate([filled], tmp_path / "import2")
    assert first.rejected == 0 and second.rejected == 0
    assert [p.key for p in second.consolidation.participants] == ["ANN-2026"]

    def levels(folder: Path) -> dict:
        with (folder / "levels.csv").open(encoding="utf-8") as fh:
            return {(r["sub_element"], r["column"]): r for r in csv.DictReader(fh)}

    before, after = levels(tmp_path / "import1"), levels(tmp_path / "import2")
    compared = ("score", "level", "overall_rating", "criteria_ticked", "criteria_total")
    for code in [sub.code for _, _, sub in matrix.sub_elements()]:
        assert {k: after[(code, BASELINE)][k] for k in compared} == {
            k: before[(code, BASELINE)][k] for k in compared
        }, code  # the baseline is unchanged
    assert float(after[("1.1", BASELINE)]["score"]) == pytest.approx(2.25)  # a, b + 1 of 4 substantial
    assert after[("1.1", BASELINE)]["overall_rating"] == "Early progress"
    assert float(after[("1.1", TWELVE_MONTHS)]["score"]) == pytest.approx(3.0)  # a..f: substantial in full
    assert after[("1.1", TWELVE_MONTHS)]["level"].startswith("Substantial progress")
    assert after[("1.1", TWELVE_MONTHS)]["overall_rating"] == "Substantial progress"
    assert after[("1.1", TWELVE_MONTHS)]["criteria_ticked"] == "6"
    assert float(after[("2", BASELINE)]["score"]) == float(before[("2", BASELINE)]["score"]) > 0
    assert after[("2", TWELVE_MONTHS)]["level"] == "Not assessed"
    report = second.consolidation.participants[0].report
    assert report.dates == {BASELINE: dt.date(2025, 3, 1), TWELVE_MONTHS: dt.date(2026, 3, 2)}
    # The Change sheet shows the movement.
    ws = openpyxl.load_workbook(tmp_path / "import2" / "summary.xlsx")["Change"]
    rows = {(r[0].value, r[2].value): [c.value for c in r] for r in ws.iter_rows(min_row=5) if r[0].value}
    one = rows[("1.1", ANN.name)]
    assert one[4] == pytest.approx(2.25) and one[7] == pytest.approx(3.0) and one[10] == pytest.approx(0.75)
    assert one[6] == "Early progress" and one[9] == "Substantial progress"
    two = rows[("2", ANN.name)]
    assert two[7] is None and two[10] is None  # 12 months not assessed: no change shown


def test_twelve_months_without_partner_list_uses_the_returns_partners(tmp_path, matrix):
    returns = tmp_path / "returns"
    make_workbook(returns, matrix, BASELINE_ANSWERS)
    make_workbook(returns, matrix, {("criterion", "1.1", "1.1a", BASELINE): "✓"}, partner=BOB)
    (returns / "manifest.csv").unlink()
    out = tmp_path / "round2"
    result = CliRunner().invoke(
        main, ["generate", MATRIX_ID, "--round", "12-months", "--previous", str(returns), "--out", str(out), "--quiet"]
    )
    assert result.exit_code == 0, result.output + result.stderr
    rows = manifest_rows(out)
    assert set(rows) == {ANN.id, BOB.id}
    assert all(r["prefilled_from"] for r in rows.values())
    bob = read_return(out / rows[BOB.id]["file"])
    assert bob.answer("criterion", "1.1", "1.1a", BASELINE).value is True


def test_an_unreadable_baseline_answer_is_not_asked_for_again(tmp_path, matrix):
    """A baseline tick that is not one ('maybe') is carried as typed into the locked baseline, which the re-issue
    says; the 12-months return then reports it for the record (baseline-as-issued, info), not as something the
    partner should correct in a cell they cannot change: chase lists the partner as complete."""
    returns = tmp_path / "returns"
    answers = {**BASELINE_ANSWERS, ("criterion", "1.1", "1.1d", BASELINE): "maybe"}
    first = make_workbook(returns, matrix, answers)
    (returns / "manifest.csv").unlink()
    (cell,) = [f.cell for f in read_return(first).findings if f.code == "unrecognised-tick"]
    out = tmp_path / "round2"
    made = CliRunner().invoke(
        main, ["generate", MATRIX_ID, "--round", "12-months", "--previous", str(returns), "--out", str(out)]
    )
    assert made.exit_code == 0, made.output
    assert "1 baseline answer(s) that do not read as what their cell asks for are carried as typed" in made.output
    assert f"!{cell} 'maybe'" in made.output
    (issued,) = [p for p in out.glob("*.xlsx")]
    ret = read_return(issued)
    assert [(f.code, f.severity, f.cell) for f in ret.findings if f.cell == cell] == [
        ("baseline-as-issued", Severity.INFO, cell)
    ]
    assert nonblank(ret)[("criterion", "1.1", "1.1d", BASELINE)] == "maybe"  # kept as typed, locked
    chased = CliRunner().invoke(
        main, ["chase", str(issued), "--manifest", str(out / "manifest.csv"), "--sender", "c@example.org", "--dry-run"]
    )
    assert chased.exit_code == 0, chased.output
    assert "0 outstanding, 0 to correct, 1 complete" in chased.output


def _reissued_with(tmp_path, matrix, value) -> tuple[Path, str, str]:
    """A 12-months workbook issued from a baseline return whose 1.1d tick holds value; its sheet and cell."""
    returns = tmp_path / "returns"
    first = make_workbook(returns, matrix, {**BASELINE_ANSWERS, ("criterion", "1.1", "1.1d", BASELINE): "maybe"})
    (returns / "manifest.csv").unlink()
    a = read_return(first).answer("criterion", "1.1", "1.1d", BASELINE)
    if value != "maybe":
        wb = openpyxl.load_workbook(first)
        wb[a.sheet][a.cell] = value
        wb.save(first)
    out = tmp_path / "round2"
    made = CliRunner().invoke(
        main, ["generate", MATRIX_ID, "--round", "12-months", "--previous", str(returns), "--out", str(out)]
    )
    assert made.exit_code == 0, made.output
    (issued,) = out.glob("*.xlsx")
    return issued, a.sheet, a.cell


def _typed_over(path: Path, sheet: str, cell: str, value) -> None:
    wb = openpyxl.load_workbook(path)  # as a partner who unprotects the sheet and types over the baseline
    wb[sheet][cell] = value
    wb.save(path)


def test_a_value_typed_over_the_locked_baseline_is_not_asked_for(tmp_path, matrix):
    """The value typed over a locked baseline cell is not used, so nothing about it is to be corrected: only
    baseline-changed, and baseline-as-issued where the issued value itself does not read."""
    issued, sheet, cell = _reissued_with(tmp_path, matrix, "maybe")
    _typed_over(issued, sheet, cell, "sometimes")
    ticked = next(a for a in read_return(issued).answers if a.column == BASELINE and a.value is True)
    _typed_over(issued, ticked.sheet, ticked.cell, "perhaps")
    ret = read_return(issued)
    assert sorted(f.code for f in ret.findings if f.cell == cell) == ["baseline-as-issued", "baseline-changed"]
    assert [f.code for f in ret.findings if f.cell == ticked.cell] == ["baseline-changed"]
    assert ret.answer(*ticked.key).value is True  # the baseline as issued
    assert "'sometimes'" not in " ".join(f.message for f in ret.findings if f.code != "baseline-changed")


def test_a_formula_in_a_locked_baseline_cell_is_reported_not_raised(tmp_path, matrix):
    """A formula given in the first round is carried as its text; entered again as a formula over the locked cell
    it is reported as a formula in an input (the reader raised KeyError here, and the return was lost as an
    internal error)."""
    issued, sheet, cell = _reissued_with(tmp_path, matrix, "=TRUE()")
    _typed_over(issued, sheet, cell, "=TRUE()")
    ret = read_return(issued)
    assert ret.readable and [f.code for f in ret.findings if f.cell == cell] == ["formula-in-input"]
    assert not [f for f in ret.findings if f.code == "internal-error"]


def test_twelve_months_needs_previous_returns(tmp_path):
    result = CliRunner().invoke(main, ["generate", MATRIX_ID, "--round", "12-months", "--out", str(tmp_path / "o")])
    assert result.exit_code == 2 and "--previous" in result.stderr
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.txt").write_text("not a workbook")
    result = CliRunner().invoke(
        main, ["generate", MATRIX_ID, "--round", "12-months", "--previous", str(empty), "--out", str(tmp_path / "o")]
    )
    assert result.exit_code == 2 and "no readable returns" in result.stderr
    assert isinstance(result.exception, SystemExit)  # a message, not a traceback


def test_return_without_partner_id_is_not_dropped_silently(tmp_path, matrix):
    """A blank (partner-less) workbook returned filled in: without a partner list it cannot be re-issued, and
    the plan says so instead of leaving it out without a word."""
    returns = tmp_path / "returns"
    make_workbook(returns, matrix, {("criterion", "1.1", "1.1a", BASELINE): "✓"}, partner=None)
    make_workbook(returns, matrix, BASELINE_ANSWERS)
    (returns / "manifest.csv").unlink()
    p = reissue.plan(Catalog.default(), MATRIX_ID, [returns], None)
    assert [x.id for x in p.partners] == [ANN.id]
    assert any("maternity-early-years-blank.xlsx" in n for n in p.notes), p.notes


@pytest.mark.slow
def test_twelve_months_prefills_from_the_return_the_import_counts(tmp_path, matrix):
    """Two returns from Ann with the same date: the newer file is her latest, for the import and the re-issue."""
    previous = tmp_path / "previous"
    previous.mkdir()
    when = {("assessment_date", "", "", BASELINE): dt.date(2025, 3, 1)}
    draft = make_workbook(tmp_path / "g1", matrix, {**when, ("criterion", "1.1", "1.1a", BASELINE): "✓"})
    final = make_workbook(
        tmp_path / "g2",
        matrix,
        {**when, ("criterion", "1.1", "1.1a", BASELINE): "✓", ("criterion", "1.1", "1.1b", BASELINE): "✓"},
    )
    shutil.copy(draft, previous / "ann.xlsx")  # sorts after ann-final.xlsx by name ...
    shutil.copy(final, previous / "ann-final.xlsx")
    os.utime(previous / "ann.xlsx", (1_700_000_000, 1_700_000_000))  # ... but is the older file
    imported = consolidate([previous], tmp_path / "import")
    assert imported.consolidation.participants[0].report.file == "ann-final.xlsx"
    p = reissue.plan(Catalog.default(), MATRIX_ID, [previous], None)
    source, answers, _ = p.prefill[ANN.id]
    assert source == "ann-final.xlsx"
    assert answers[("criterion", "1.1", "1.1b", BASELINE)] == "✓"


def test_plan_lays_prefills_out_for_the_previous_indicator_set(tmp_path, matrix, indicator_set):
    """Through the library: the plan says which indicator set its pre-fills are for, and generating with it
    carries the indicator answers."""
    returns = tmp_path / "returns"
    make_workbook(
        returns,
        matrix,
        {
            ("criterion", "1.1", "1.1a", BASELINE): "✓",
            ("indicator_period", "", "cp1-1-po1", ""): "2026 Q1",
            ("indicator_value", "", "cp1-1-po1", ""): 50.0,
        },
        indicators=indicator_set,
    )
    (returns / "manifest.csv").unlink()
    p = reissue.plan(Catalog.default(), MATRIX_ID, [returns], None)
    assert p.indicators is not None and p.indicators.id == INDICATORS_ID
    gen = generate_workbooks(
        matrix, tmp_path / "out", p.partners, indicators=p.indicators, round=TWELVE_MONTHS, prefill=p.prefill
    )
    ret = read_return(gen.files[0])
    assert ret.answer("indicator_value", "", "cp1-1-po1", "").value == 50.0
    assert ret.answer("indicator_period", "", "cp1-1-po1", "").raw_text == "2026 Q1"


def test_twelve_months_carries_indicator_answers(tmp_path, matrix, indicator_set):
    returns = tmp_path / "returns"
    make_workbook(
        returns,
        matrix,
        {
            ("criterion", "1.1", "1.1a", BASELINE): "✓",
            ("indicator_period", "", "cp1-1-po1", ""): "2026 Q1",
            ("indicator_value", "", "cp1-1-po1", ""): 50.0,
        },
        indicators=indicator_set,
    )
    (returns / "manifest.csv").unlink()
    out = tmp_path / "round2"
    result = CliRunner().invoke(
        main, ["generate", MATRIX_ID, "--round", "12-months", "--previous", str(returns), "--out", str(out), "--quiet"]
    )
    assert result.exit_code == 0
    ret = read_return(next(out.glob("*.xlsx")))
    assert ret.metadata["indicators_id"] == INDICATORS_ID
    assert ret.answer("indicator_period", "", "cp1-1-po1", "").raw_text == "2026 Q1"
    assert ret.answer("indicator_value", "", "cp1-1-po1", "").value == 50.0


# --- feedback copies -------------------------------------------------------------------------------


@pytest.fixture
def feedback_round(tmp_path, matrix):
    """Ann's return with findings (an unrecognised tick, a formula typed in, a rating that differs), Bob's clean
    return and an unreadable file."""
    returns = tmp_path / "returns"
    answers = {
        **BASELINE_ANSWERS,
        ("criterion", "1.1", "1.1c", BASELINE): "maybe",  # not a tick
        ("overall_rating", "1.1", "", BASELINE): "Mature",
    }  # the criteria reach early progress
    ann = make_workbook(tmp_path / "gen", matrix, answers)
    lay = layout_mod.build(matrix)
    wb = openpyxl.load_workbook(ann)
    formula_at = position(lay, ("priority_action", "1.1", "2", ""))
    wb[formula_at[0]][formula_at[1]] = "=1+1"  # openpyxl stores a formula
    returns.mkdir()
    wb.save(returns / "ann.xlsx")
    bob = make_workbook(
        tmp_path / "gen2",
        matrix,
        {
            ("criterion", "1.1", "1.1a", BASELINE): "✓",
            ("supporting_information", "1.1", "1.1-s01", BASELINE): "✓",
            ("assessment_date", "", "", BASELINE): dt.date(2025, 3, 1),
            ("notes", "1.1", "", ""): "All fine.",
        },
        partner=BOB,
    )
    shutil.copy(bob, returns / "bob.xlsx")
    (returns / "broken.xlsx").write_bytes(b"PK\x03\x04 this is not really a workbook")
    return returns, formula_at


def test_feedback_copy_for_a_return_with_findings(feedback_round, tmp_path):
    returns, formula_at = feedback_round
    reports = {r.file: r for r in validate([returns])}
    ann = reports["ann.xlsx"]
    codes = {f.code for f in ann.findings}
    assert {"unrecognised-tick", "formula-in-input", "rating-differs"} <= codes
    assert not [f for f in reports["bob.xlsx"].findings if f.severity != Severity.INFO]  # the premise: clean
    assert not reports["broken.xlsx"].ret.readable

    fb = tmp_path / "feedback"
    result = CliRunner().invoke(main, ["validate", str(returns), "--feedback", str(fb)])
    assert result.exit_code == 1  # the broken file is rejected ...
    assert isinstance(result.exception, SystemExit)  # ... without a crash
    assert "Wrote 1 feedback copies" in result.output
    assert sorted(p.name for p in fb.iterdir()) == ["FEEDBACK ann.xlsx"]  # none for Bob, none for the broken file
    copy = fb / "FEEDBACK ann.xlsx"

    # Every answer of the original, as typed; the formula's text kept as text.
    before, after = read_return(returns / "ann.xlsx"), read_return(copy)
    assert after.readable and after.metadata["partner_id"] == ANN.id
    assert nonblank(after) == nonblank(before)
    typed = after.answer("priority_action", "1.1", "2", "")
    assert typed.raw_text == "=1+1" and typed.formula == "" and typed.value == "=1+1"
    assert "formula-in-input" not in {f.code for f in after.findings}
    assert after.answer("criterion", "1.1", "1.1c", BASELINE).raw_text == "maybe"

    wb = openpyxl.load_workbook(copy)
    cell = wb[formula_at[0]][formula_at[1]]
    assert cell.data_type == "s" and cell.value == "=1+1"
    # A comment and a highlight on each finding's cell; every finding listed on the cover.
    shown = [f for f in ann.findings if f.severity != Severity.INFO]
    cover = sheet_text(wb["Cover"])
    assert "PLEASE CORRECT AND RETURN" in cover
    for f in shown:
        assert f.message in cover, f.code
        if not f.cell:
            continue
        c = wb[f.sheet][f.cell]
        assert c.comment is not None and f.message in c.comment.text, f"{f.code} at {f.where}"
        assert c.fill.fgColor.rgb == FLAG, f"{f.code} at {f.where}"
        assert c.protection.locked is False, f"{f.code} at {f.where}"
    flagged = {(f.sheet, f.cell) for f in shown if f.cell}
    assert len(flagged) >= 3
    # Nothing else is flagged.
    name, ref = position(after.layout, ("criterion", "1.1", "1.1a", BASELINE))
    assert wb[name][ref].comment is None and wb[name][ref].fill.fgColor.rgb == YELLOW


def test_feedback_copy_of_a_twelve_months_return_keeps_the_baseline_locked(twelve_months, tmp_path):
    filled = tmp_path / "returns12" / "ann.xlsx"
    fill_twelve_months(twelve_months["ann"], filled)
    ret = read_return(filled)
    wb = openpyxl.load_workbook(filled)
    name, ref = position(ret.layout, ("criterion", "1.1", "1.1b", TWELVE_MONTHS))
    wb[name][ref] = "perhaps"
    wb.save(filled)
    written = reissue.write_feedback(validate([filled]), tmp_path / "fb")
    assert [p.name for p in written] == ["FEEDBACK ann.xlsx"]
    copy = read_return(written[0])
    assert nonblank(copy) == nonblank(read_return(filled))
    out = openpyxl.load_workbook(written[0])
    assert out[name][ref].comment is not None
    base_name, base_ref = position(copy.layout, ("criterion", "1.1", "1.1a", BASELINE))
    assert out[base_name][base_ref].protection.locked is True
    assert out[base_name][base_ref].fill.fgColor.rgb == GREY


def test_feedback_without_findings_writes_nothing(tmp_path, matrix):
    clean = make_workbook(
        tmp_path / "gen",
        matrix,
        {
            ("criterion", "1.1", "1.1a", BASELINE): "✓",
            ("supporting_information", "1.1", "1.1-s01", BASELINE): "✓",
            ("assessment_date", "", "", BASELINE): dt.date(2025, 3, 1),
        },
    )
    assert reissue.write_feedback(validate([clean]), tmp_path / "fb") == []
    assert not (tmp_path / "fb").exists() or not any((tmp_path / "fb").iterdir())


@pytest.mark.slow
def test_feedback_copies_of_same_named_and_partnerless_returns(tmp_path, matrix):
    """Two blank (partner-less) workbooks came back under the same file name: two copies, each its own, and
    neither given a made-up partner id (the import would take them for one partner and drop one)."""
    returns = tmp_path / "returns"
    for folder, note in (("a", "From the first"), ("b", "From the second")):
        f = make_workbook(
            tmp_path / "gen" / folder,
            matrix,
            {("criterion", "1.1", "1.1a", BASELINE): "maybe", ("notes", "1.1", "", ""): note},
            partner=None,
        )
        (returns / folder).mkdir(parents=True)
        shutil.copy(f, returns / folder / "return.xlsx")
    written = reissue.write_feedback(validate([returns]), tmp_path / "fb")
    assert sorted(p.name for p in written) == ["FEEDBACK return (2).xlsx", "FEEDBACK return.xlsx"]
    assert sorted(p.name for p in (tmp_path / "fb").iterdir()) == sorted(p.name for p in written)
    copies = [read_return(p) for p in written]
    assert sorted(c.answer("notes", "1.1").raw_text for c in copies) == ["From the first", "From the second"]
    assert [c.metadata["partner_id"] for c in copies] == ["", ""]
    result = consolidate(written, tmp_path / "import")
    assert len(result.consolidation.participants) == 2


# --- re-issue across a changed definition ------------------------------------------------------------

UPGRADE_ID = "maternity-upgrade-test"
REMOVED_CRITERION = "1.1f"
REMOVED_SUPPORT = 1  # index of "Named lead officer" (S2 in version 1)
NEW_SUPPORT = "Strategy signed off by the partnership board"


def write_versions(tmp_path: Path) -> tuple[Catalog, Catalog]:
    data = yaml.safe_load(DEFINITION.read_text(encoding="utf-8"))
    data["id"] = UPGRADE_ID
    v1 = tmp_path / "v1"
    v1.mkdir()
    (v1 / "matrix.yaml").write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    sub = data["dimensions"][0]["elements"][0]["sub_elements"][0]
    assert sub["code"] == "1.1"
    sub["criteria"] = [c for c in sub["criteria"] if c["code"] != REMOVED_CRITERION]
    del sub["supporting_information"][REMOVED_SUPPORT]
    sub["supporting_information"].append({"id": "1.1-s90", "text": NEW_SUPPORT})
    data["version"] = "2026-01"
    v2 = tmp_path / "v2"
    v2.mkdir()
    (v2 / "matrix.yaml").write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    cat1, cat2 = Catalog([v1]), Catalog([v2])
    assert cat1.problems == [] and cat2.problems == []
    return cat1, cat2


def test_reissue_on_a_changed_definition_carries_what_still_exists(tmp_path):
    cat1, cat2 = write_versions(tmp_path)
    m1, m2 = cat1.matrix(UPGRADE_ID), cat2.matrix(UPGRADE_ID)
    assert m1.content_hash != m2.content_hash
    old_items = [s.text for s in m1.sub_element("1.1").supporting_information]
    new_items = [s.text for s in m2.sub_element("1.1").supporting_information]
    assert new_items == [*old_items[:1], *old_items[2:], NEW_SUPPORT]
    answers = {
        **BASELINE_ANSWERS,
        ("criterion", "1.1", REMOVED_CRITERION, BASELINE): "✓",
        ("criterion", "1.1", "1.1g", BASELINE): "✓",
        ("criterion", "1.1", "1.1a", TWELVE_MONTHS): "✓",
        ("supporting_information", "1.1", "1.1-s02", BASELINE): "✓",  # removed in version 2
        ("supporting_information", "1.1", "1.1-s04", TWELVE_MONTHS): "✓",
        ("supporting_information", "1.1", "1.1-s17", BASELINE): "✓",
    }  # the last one
    returns = tmp_path / "returns"
    v1_return = make_workbook(returns, m1, answers)
    (returns / "manifest.csv").unlink()
    before = read_return(v1_return, cat1)
    given = nonblank(before)
    assert len(given) == len(answers) + 4  # + the cover's respondent details

    p = reissue.plan(cat2, UPGRADE_ID, [returns], None)
    assert [x.id for x in p.partners] == [ANN.id]
    source, carried, extra = p.prefill[ANN.id]
    assert source == v1_return.name
    # Supporting information is carried by its id: the rows below the removed one move up, their ids do not.
    lost_keys = {
        ("criterion", "1.1", REMOVED_CRITERION, BASELINE),
        ("supporting_information", "1.1", "1.1-s02", BASELINE),
    }
    expected = {k for k in given if k not in lost_keys}
    assert set(carried) == expected
    # Nothing lost silently: what is carried and what is listed as lost is everything that was given.
    direct = reissue.carry(before, layout_mod.build(m2))
    assert direct.answers == carried
    assert len(direct.answers) + len(direct.lost) == len(given)
    assert len(direct.lost) == 2
    assert any(REMOVED_CRITERION in x for x in direct.lost)
    assert any("1.1-s02" in x for x in direct.lost)
    note = " ".join(p.notes)
    assert "2 answer(s) could not be carried over" in note and REMOVED_CRITERION in note
    assert any("could not be carried over" in line and REMOVED_CRITERION in line for line in extra["notes_for_partner"])

    out = tmp_path / "v2-round"
    gen = generate_workbooks(m2, out, p.partners, round=TWELVE_MONTHS, prefill=p.prefill)
    assert manifest_rows(out)[ANN.id]["prefilled_from"] == v1_return.name
    after = read_return(gen.files[0], cat2)
    assert after.readable and after.metadata["definition_version"] == "2026-01"
    got = nonblank(after)
    for key, raw in given.items():
        if key in lost_keys:
            continue
        assert got[key] == raw, key
    assert set(got) == expected
    # The new supporting item is blank; each carried id is on the row of the same item.
    assert after.answer("supporting_information", "1.1", "1.1-s90", BASELINE).raw_text == ""
    row = next(r for r in after.layout.sub_element_sheet("1.1").rows if r.key == "1.1-s90")
    assert row.label == NEW_SUPPORT
    for item in ("1.1-s04", "1.1-s17"):
        old_row = next(r for r in before.layout.sub_element_sheet("1.1").rows if r.key == item)
        new_row = next(r for r in after.layout.sub_element_sheet("1.1").rows if r.key == item)
        assert old_row.label == new_row.label and old_row.row == new_row.row + 2  # a criterion and an item went
    # What was not carried over is on the cover.
    cover = sheet_text(openpyxl.load_workbook(gen.files[0])["Cover"])
    assert "could not be carried over" in cover
    assert f"criterion 1.1 {REMOVED_CRITERION} baseline" in cover
    assert "supporting information 1.1 1.1-s02 baseline" in cover
    assert "Agree a pooled budget" in cover  # the earlier priority actions are listed too


def test_reissue_matches_by_email_across_a_changed_definition(tmp_path):
    cat1, cat2 = write_versions(tmp_path)
    returns = tmp_path / "returns"
    make_workbook(returns, cat1.matrix(UPGRADE_ID), {("criterion", "1.1", "1.1a", BASELINE): "✓"})
    (returns / "manifest.csv").unlink()
    renamed = Partner("ANN-NEW", ANN.name, ANN.organisation, ANN.email.upper(), ANN.role)
    stranger = Partner("P-NEW", "New Person", "New Org", "new@example.org")
    p = reissue.plan(cat2, UPGRADE_ID, [returns], [renamed, stranger])
    assert set(p.prefill) == {"ANN-NEW"}
    assert p.prefill["ANN-NEW"][1][("criterion", "1.1", "1.1a", BASELINE)] == "✓"
    assert any("P-NEW" in n and "blank" in n for n in p.notes)
    assert p.prefill["ANN-NEW"][2]["locked_columns"] == {BASELINE}
    assert p.indicators is None  # the previous return had no Indicators sheet
    # The round named as the layout names it locks the baseline too.
    again = reissue.plan(cat2, UPGRADE_ID, [returns], [renamed], round_=TWELVE_MONTHS)
    assert again.prefill["ANN-NEW"][2]["locked_columns"] == {BASELINE}
