"""Every formula a workbook holds carries its correct cached value: what a program that does not recalculate
(previewers, Protected View, phones, our own reader of cached values) shows must be the level the importer
computes from the same ticks. Checked for every kind of workbook eif-xlsx writes, as written and again after
LibreOffice has recalculated and re-saved it."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
from python_calamine import CalamineWorkbook

from eif_xlsx.api import validate
from eif_xlsx.domain.model import NOT_ASSESSED
from eif_xlsx.domain.scoring import next_level
from eif_xlsx.intake.checks import check
from eif_xlsx.intake.reader import read_return
from eif_xlsx.office import convert
from eif_xlsx.rounds import reissue
from eif_xlsx.template.generate import generate_workbooks
from eif_xlsx.template.layout import (
    BASELINE,
    COL_BASE,
    COL_TEXT,
    COLUMNS,
    HELPER_COL,
    OV_LEVEL,
    OV_SCORE,
    TWELVE_MONTHS,
)
from eif_xlsx.template.workbook import tally_base

from .conftest import ANN, make_workbook, need_soffice

FILLED = {
    ("assessment_date", "", "", BASELINE): dt.date(2025, 3, 1),
    # 1.1: every basic criterion and one above (working towards), typed as partners do.
    **{
        ("criterion", "1.1", code, BASELINE): tick
        for code, tick in (("1.1a", "✓"), ("1.1b", "x"), ("1.1c", " Yes "), ("1.1d", "✓"))
    },
    ("criterion", "1.1", "1.1a", TWELVE_MONTHS): "✓",
    ("criterion", "2", "2a", BASELINE): "✓",
    ("criterion", "2", "2b", BASELINE): "maybe",  # not a tick: a finding, and not counted
    ("supporting_information", "1.1", "1.1-s01", BASELINE): "✓",
    ("notes", "1.1", "", ""): "Between two levels.",
}


def cached(path: Path) -> dict[str, list[list]]:
    wb = CalamineWorkbook.from_path(str(path))
    try:
        return {name: wb.get_sheet_by_name(name).to_python(skip_empty_area=False) for name in wb.sheet_names}
    finally:
        wb.close()


def at(grid: dict[str, list[list]], sheet: str, row: int, col: int) -> object:
    rows = grid[sheet]
    return rows[row][col] if row < len(rows) and col < len(rows[row]) else ""


def assert_cached_values_match(path: Path, catalog, expected=None) -> dict:
    """Every formula's cached value in `path` equals what the importer computes from its answers (or from the
    report `expected`, for a re-saved copy). Returns the levels seen, by (sub-element, column)."""
    report = check(read_return(path, catalog), catalog)
    assert report.ret.readable, report.findings
    report = expected or report
    grid = cached(path)
    lay = report.ret.layout
    matrix = report.matrix
    overview = lay.by_role("overview")[0]
    ov_rows = {r.key: r.row for r in overview.rows if r.key_col != 0}
    seen = {}
    for sheet in lay.by_role("sub_element"):
        code = sheet.sub_element
        crit_levels = {r.key: r.level for r in sheet.rows_of("criterion")}
        for column in COLUMNS:
            result = report.results[(code, column)]
            sc = result.score
            lr = sheet.marks[f"level_{column}"]
            where = f"{path.name} {sheet.name} {column}"
            assert at(grid, sheet.name, lr, COL_TEXT) == sc.level, where
            score = at(grid, sheet.name, lr, COL_BASE)
            if sc.score is None:
                assert score == "", where
            else:
                assert score == pytest.approx(sc.score), where
            # The hidden helpers: the tally of ticks per level (one digit a level) and the full level reached.
            counts = [sum(1 for c in result.criteria_ticked if crit_levels[c] == name) for name in matrix.level_names]
            totals = tuple(sum(1 for r in sheet.rows_of("criterion") if r.level == name) for name in matrix.level_names)
            base = tally_base(totals)
            tally = at(grid, sheet.name, lr, HELPER_COL)
            assert [int(tally) // base**i % base for i in range(len(counts))] == counts, where
            assert at(grid, sheet.name, lr, HELPER_COL + 1) == float(sc.full), where
            after = next_level(totals, sc.full)
            assert at(grid, sheet.name, lr, HELPER_COL + 2) == float(counts[after - 1] if after else 0), where
            # The overview repeats both.
            assert at(grid, overview.name, ov_rows[code], OV_LEVEL[column]) == sc.level, where
            ov_score = at(grid, overview.name, ov_rows[code], OV_SCORE[column])
            assert ov_score == ("" if sc.score is None else pytest.approx(sc.score)), where
            seen[(code, column)] = sc.level
    return seen


def resaved(path: Path, tmp_path: Path, catalog, report_of_original) -> None:
    """LibreOffice recalculates every formula on load and saves: the values must still match."""
    need_soffice()
    out = convert(path, "xlsx", tmp_path / "lo")
    assert_cached_values_match(out, catalog)
    # and they are the values of the original's answers
    assert_cached_values_match(out, catalog, expected=report_of_original)


@pytest.fixture
def kinds(tmp_path, matrix, catalog) -> dict[str, Path]:
    """One workbook of each kind eif-xlsx writes."""
    out: dict[str, Path] = {}
    out["blank"] = make_workbook(tmp_path / "blank", matrix, partner=None)
    out["personalised"] = make_workbook(tmp_path / "personal", matrix, FILLED)
    # The partner returns it; the 12-months round is issued pre-filled from it.
    returns = tmp_path / "returns"
    returns.mkdir()
    shutil.copy(out["personalised"], returns / "ann.xlsx")
    p = reissue.plan(catalog, matrix.id, [returns], None)
    gen = generate_workbooks(matrix, tmp_path / "round2", p.partners, round=TWELVE_MONTHS, prefill=p.prefill)
    out["twelve_months"] = gen.files[0]
    # Its return has a finding (a tick that is not one): a feedback copy is written.
    feedback = reissue.write_feedback(validate([returns]), tmp_path / "feedback", catalog)
    assert len(feedback) == 1
    out["feedback"] = feedback[0]
    return out


def test_every_kind_of_workbook_carries_the_right_cached_values(kinds, catalog):
    seen = {kind: assert_cached_values_match(path, catalog) for kind, path in kinds.items()}
    assert set(seen["blank"].values()) == {NOT_ASSESSED}
    # Not only "Not assessed": the filled workbooks show real levels without being recalculated, the same in each
    # (the 12-months workbook and the feedback copy carry the return's ticks).
    filled = {k: v for k, v in seen["personalised"].items() if v != NOT_ASSESSED}
    assert set(filled) == {("1.1", BASELINE), ("1.1", TWELVE_MONTHS), ("2", BASELINE)}
    assert "working towards" in filled[("1.1", BASELINE)]
    for kind in ("twelve_months", "feedback"):
        assert seen[kind] == seen["personalised"], kind


@pytest.fixture
def upgraded(tmp_path) -> tuple[Path, object]:
    """A 12-months workbook of a newer definition (a criterion and a supporting item gone, one added), pre-filled
    from a return of the older one; with the catalog that knows the newer one."""
    from .test_reissue import UPGRADE_ID, write_versions

    cat1, cat2 = write_versions(tmp_path)
    returns = tmp_path / "returns"
    make_workbook(returns, cat1.matrix(UPGRADE_ID), FILLED)
    (returns / "manifest.csv").unlink()
    p = reissue.plan(cat2, UPGRADE_ID, [returns], None)
    gen = generate_workbooks(
        cat2.matrix(UPGRADE_ID), tmp_path / "v2", p.partners, round=TWELVE_MONTHS, prefill=p.prefill
    )
    return gen.files[0], cat2


def test_upgraded_workbook_carries_the_right_cached_values(upgraded):
    path, cat2 = upgraded
    seen = assert_cached_values_match(path, cat2)
    assert seen[("2", BASELINE)] != NOT_ASSESSED and seen[("1.1", BASELINE)] != NOT_ASSESSED


@pytest.mark.slow
@pytest.mark.libreoffice
def test_upgraded_cached_values_agree_with_libreoffice_recalculation(upgraded, tmp_path):
    path, cat2 = upgraded
    resaved(path, tmp_path, cat2, check(read_return(path, cat2), cat2))


@pytest.mark.slow
@pytest.mark.libreoffice
def test_cached_values_agree_with_libreoffice_recalculation(kinds, catalog, tmp_path):
    for kind, path in kinds.items():
        report = check(read_return(path, catalog), catalog)
        resaved(path, tmp_path / kind, catalog, report)


@pytest.mark.parametrize("ticks", [{}, {"1.1a": "✓"}, {"1.1a": "✓", "1.1b": "✓", "1.1c": "✓", "1.1d": "✓"}])
def test_cached_level_follows_the_ticks(tmp_path, matrix, catalog, ticks):
    answers = {("criterion", "1.1", code, BASELINE): v for code, v in ticks.items()}
    path = make_workbook(tmp_path, matrix, answers, partner=ANN)
    seen = assert_cached_values_match(path, catalog)
    assert (seen[("1.1", BASELINE)] == NOT_ASSESSED) == (not ticks)
