"""tracker.xlsx: RAG and trend by each indicator's direction (higher / lower / none), worked out by the workbook's
own formulas recalculated in LibreOffice; group headings, sub-items and the lead commissioners' note; printing."""

from __future__ import annotations

import openpyxl
import pytest

from eif_xlsx import office
from eif_xlsx.domain.catalog import Catalog
from eif_xlsx.report.consolidate import IndicatorValue
from eif_xlsx.report.tracker import DIRECTIONS, write_tracker

from .conftest import INDICATORS_ID, need_soffice

PERIODS = ("2026 Q1", "2026 Q2")


@pytest.fixture(scope="module")
def iset():
    return Catalog.default().get(INDICATORS_ID)


def _value(ind: str, period: str, value: float) -> IndicatorValue:
    return IndicatorValue(ind, period, value, None, None, "", "", "P1", "Partner One", "p1.xlsx", "Indicators!E5")


# (indicator, its direction in the set, values per period, baseline, target, direction typed over it or None,
#  the RAG and trend expected)
CASES = [
    ("cp1-1-po1", "higher", (50.0, 55.0), 50, 60, None, "Amber", "improving"),  # better than baseline, short of target
    ("cp1-1-po2", "higher", (50.0, 61.0), 50, 60, None, "Green", "improving"),
    ("cp1-1-po3", "higher", (50.0, 45.0), 50, 60, None, "Red", "worsening"),
    ("cp2b-3-po9", "lower", (10.0, 8.0), 10, 5, None, "Amber", "improving"),  # fell, not yet to target
    ("cp2b-3-po10", "lower", (10.0, 4.0), 10, 5, None, "Green", "improving"),
    ("cp2b-3-po11", "lower", (10.0, 12.0), 10, 5, None, "Red", "worsening"),
    ("cp2b-3-po21", "none", (10.0, 12.0), 10, 5, None, "", ""),  # no direction: no RAG, no trend
    ("cp1-1-po4", "higher", (20.0, 30.0), 20, 25, "none", "", ""),  # set to none by the user
    ("cp1-1-po5", "higher", (20.0, 30.0), 20, 25, "lower", "Red", "worsening"),  # ... or turned round
    ("cp1-1-po6", "higher", (20.0, 20.0), 20, 25, None, "Red", "no change"),
]


@pytest.mark.slow
def test_rag_and_trend_follow_the_direction_through_the_formulas(iset, tmp_path):
    need_soffice()
    values = [_value(ind, p, v) for ind, _, vals, *_ in CASES for p, v in zip(PERIODS, vals, strict=True)]
    path = write_tracker(iset, values, tmp_path / "tracker.xlsx")
    wb = openpyxl.load_workbook(path)
    ws = wb["Tracker"]
    head = [c.value for c in ws[4]]
    col = {h: i + 1 for i, h in enumerate(head)}
    rows = {ws.cell(r, 5).value: r for r in range(5, ws.max_row + 1) if ws.cell(r, 5).value}
    for ind, direction, _, base, target, typed, *_ in CASES:
        r = rows[ind]
        assert ws.cell(r, col["Direction of improvement"]).value == direction, ind
        if typed:
            ws.cell(r, col["Direction of improvement"]).value = typed
        ws.cell(r, col["Baseline"]).value = base
        ws.cell(r, col["Target"]).value = target
    wb.save(tmp_path / "filled.xlsx")
    recalculated = office.convert(tmp_path / "filled.xlsx", "xlsx", tmp_path / "lo")
    got = openpyxl.load_workbook(recalculated, data_only=True)["Tracker"]
    for ind, _, vals, base, _, _, rag, trend in CASES:
        r = rows[ind]
        assert got.cell(r, col["Latest"]).value == vals[-1], ind
        assert got.cell(r, col["Change"]).value == pytest.approx(vals[-1] - base), ind
        assert (got.cell(r, col["RAG"]).value or "") == rag, ind
        assert (got.cell(r, col["Trend"]).value or "") == trend, ind


@pytest.mark.slow
def test_cached_values_are_what_libreoffice_calculates(iset, tmp_path):
    """Every formula of the tracker as written carries the value its formula gives (LibreOffice opens .xlsx without
    recalculating): Latest is the last period's value, skipping a period in conflict; text values too."""
    need_soffice()
    values = [_value(ind, p, v) for ind, _, vals, *_ in CASES for p, v in zip(PERIODS, vals, strict=True)]
    values += [_value("cp2a-1-po2", "2026 Q1", 7.0), _value("cp2a-1-po2", "2026 Q2", 8.0)]
    values += [IndicatorValue("cp2a-1-po2", "2026 Q2", 9.0, None, None, "", "", "P2", "Two", "p2.xlsx", "I!E5")]
    values += [IndicatorValue("cp1-2-sp1", "2026 Q1", "see report", None, None, "", "", "P1", "One", "p1.xlsx", "I!E6")]
    path = write_tracker(iset, values, tmp_path / "tracker.xlsx")
    ours = openpyxl.load_workbook(path, data_only=True)["Tracker"]
    theirs = openpyxl.load_workbook(office.convert(path, "xlsx", tmp_path / "lo"), data_only=True)["Tracker"]
    formulas = openpyxl.load_workbook(path)["Tracker"]
    head = [c.value for c in ours[4]]
    checked = 0
    for row in formulas.iter_rows(min_row=5):
        for cell in row:
            if isinstance(cell.value, str) and cell.value.startswith("="):
                mine, calculated = ours[cell.coordinate].value, theirs[cell.coordinate].value
                assert (mine if mine is not None else "") == (calculated if calculated is not None else ""), (
                    cell.coordinate,
                    head[cell.column - 1],
                )
                checked += 1
    latest = head.index("Latest") + 1
    rows = {ours.cell(r, 5).value: r for r in range(5, ours.max_row + 1) if ours.cell(r, 5).value}
    assert ours.cell(rows["cp1-1-po1"], latest).value == 55.0
    assert ours.cell(rows["cp2a-1-po2"], latest).value == 7.0  # Q2 is in conflict: left blank
    assert ours.cell(rows["cp1-2-sp1"], latest).value == "see report"
    assert checked >= 4 * len(rows)


def test_directions_dropdown_groups_sub_items_and_note(iset, tmp_path):
    path = write_tracker(iset, [], tmp_path / "tracker.xlsx")
    ws = openpyxl.load_workbook(path)["Tracker"]
    lists = {dv.formula1 for dv in ws.data_validations.dataValidation}
    assert lists == {'"' + ",".join(DIRECTIONS) + '"'} and DIRECTIONS == ["higher", "lower", "none"]
    indicators = {ind.id: ind for _, _, ind in iset.indicators()}
    by_id = {ws.cell(r, 5).value: r for r in range(5, ws.max_row + 1) if ws.cell(r, 5).value}
    assert set(by_id) == set(indicators)
    for ind_id, r in by_id.items():
        assert ws.cell(r, 9).value == indicators[ind_id].direction, ind_id
    # A group's heading on its own row right above its first indicator, verbatim; sub-items indented.
    first = by_id["cp2b-3-po8"]
    assert ws.cell(first - 1, 7).value == "Public Health Outcomes:" and ws.cell(first - 1, 5).value is None
    assert ws.cell(by_id["cp2b-3-po23"] - 1, 7).value == "Family Nurse Partnership:"
    assert ws.cell(by_id["cp2b-3-po24"] - 1, 7).value != "Family Nurse Partnership:"  # one heading per group
    for sub in ("cp2b-3-po24", "cp2b-3-po25", "cp2b-3-po26"):
        assert ws.cell(by_id[sub], 7).alignment.indent == 1, sub
    assert ws.cell(by_id["cp2b-3-po23"], 7).alignment.indent == 0
    headings = [ws.cell(r, 7).value for r in range(5, ws.max_row + 1) if ws.cell(r, 5).value is None]
    groups = {ind.group for ind in indicators.values() if ind.group}
    assert groups <= set(headings)
    # The note in the lead-commissioner column is a note, after the commissioners, on the intention's own row
    # (its indicators' rows name the commissioners only).
    noted = next(it for cp in iset.core_purposes for it in cp.intentions if it.lead_commissioners_note)
    own = [r for r in range(5, by_id[noted.indicators[0].id]) if ws.cell(r, 2).value == noted.commissioned]
    assert len(own) == 1 and ws.cell(own[0], 5).value is None
    assert ws.cell(own[0], 4).value == "; ".join(noted.lead_commissioners) + (
        f"\nNote: {noted.lead_commissioners_note}"
    )
    assert ws.cell(own[0], 3).value == noted.target_population  # in full
    assert ws.cell(by_id[noted.indicators[0].id], 4).value == "; ".join(noted.lead_commissioners)


def test_tracker_prints_by_core_purpose_with_the_indicator_repeated(iset, tmp_path):
    path = write_tracker(iset, [_value("cp1-1-po1", "2026 Q1", 50.0)], tmp_path / "tracker.xlsx")
    wb = openpyxl.load_workbook(path)
    ws = wb["Tracker"]
    assert ws.page_setup.paperSize == 9 and ws.page_setup.orientation == "landscape"
    assert ws.print_title_rows == "$4:$4" and ws.print_title_cols == "$E:$G"  # id, kind, indicator
    assert 80 <= (ws.page_setup.scale or 100) <= 100
    # Values, RAG and trend start a page of their own; each core purpose starts a page.
    assert [ws.cell(4, b.id + 1).value for b in ws.col_breaks.brk] == ["2026 Q1"]
    firsts = [ws.cell(b.id + 1, 1).value for b in ws.row_breaks.brk]
    assert firsts == [cp.title for cp in iset.core_purposes[1:]]
    assert ws.oddFooter.right.text == "Page &P of &N"
    for name in ("Values", "Conflicts"):
        assert wb[name].print_area and wb[name].print_title_rows == "$4:$4"


def test_an_ampersand_before_g_keeps_the_page_headers(iset, tmp_path):
    """An area (or organisation) like 'B&G' in the page header: XlsxWriter takes '&G' for an image, also doubled,
    and left every sheet's header out (with a warning only); it is written as the workbooks' footers write it."""
    path = write_tracker(iset, [], tmp_path / "tracker.xlsx", header="B&G Borough · round: baseline")
    wb = openpyxl.load_workbook(path)
    for ws in wb.worksheets:
        assert ws.oddHeader.left.text == "B＆G Borough · round: baseline", ws.title
        assert ws.oddHeader.right.text == "&A", ws.title
        assert ws.oddFooter.right.text == "Page &P of &N", ws.title


def test_tracker_is_deterministic(iset, tmp_path):
    values = [_value("cp1-1-po1", "2026 Q1", 50.0)]
    a = write_tracker(iset, values, tmp_path / "a.xlsx").read_bytes()
    assert a == write_tracker(iset, values, tmp_path / "b.xlsx").read_bytes()


def test_every_indicator_has_a_sparkline_over_its_own_periods(iset, tmp_path):
    """One sparkline per indicator, in the Sparkline column of its row, drawing that row's period cells (written as
    one group: openpyxl does not read sparklines, so the sheet's XML is read)."""
    import re
    import zipfile

    from eif_xlsx.cells import a1

    values = [_value("cp1-1-po1", p, v) for p, v in zip(PERIODS, (50.0, 55.0), strict=True)]
    path = write_tracker(iset, values, tmp_path / "tracker.xlsx")
    ws = openpyxl.load_workbook(path)["Tracker"]
    head = [c.value for c in ws[4]]
    spark, p0, p1 = head.index("Sparkline"), head.index(PERIODS[0]), head.index(PERIODS[-1])
    ids = {ind.id for _, _, ind in iset.indicators()}
    rows = [r for r in range(5, ws.max_row + 1) if ws.cell(r, 5).value in ids]
    assert len(rows) == len(ids)
    xml = zipfile.ZipFile(path).read("xl/worksheets/sheet1.xml").decode()
    got = re.findall(r"<x14:sparkline><xm:f>(.*?)</xm:f><xm:sqref>(.*?)</xm:sqref></x14:sparkline>", xml)
    assert sorted(got) == sorted((f"Tracker!{a1(r - 1, p0)}:{a1(r - 1, p1)}", a1(r - 1, spark)) for r in rows)
    assert 'markers="1"' in xml
