"""summary.xlsx prints: print areas, titles, page breaks at dimension boundaries, headers and footers read back with
openpyxl, and the workbook printed to PDF by LibreOffice holds every sub-element and partner on a sane number of
pages. Also what the summary lists of supporting information: each item's level, and the partners' 'Other' items
with their text (issue 17 s1, s7), from the sample returns and from a LibreOffice re-save of one."""

from __future__ import annotations

import csv
import re
import shutil
import statistics
import subprocess
from pathlib import Path

import openpyxl
import pytest

from eif_xlsx import office
from eif_xlsx.api import consolidate
from eif_xlsx.domain.catalog import Catalog

from .conftest import MATRIX_ID, need_soffice

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples" / "returns"
MANIFEST = ROOT / "samples" / "returns-manifest.csv"
WIDE = {"Heat map": "$A:$B", "Levels": "$A:$B", "Elements": "$A:$B"}  # sheets split across pages, names repeated


@pytest.fixture(scope="module")
def matrix():
    return Catalog.default().get(MATRIX_ID)


@pytest.fixture(scope="module")
def imported(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("print") / "out"
    consolidate([SAMPLES], out, manifest=MANIFEST, pdf=False)
    return out


def _subs(matrix):
    return [sub for _, _, sub in matrix.sub_elements()]


def _dimension_firsts(matrix) -> list[str]:
    """The code of the first sub-element of each dimension but the first."""
    return [dim.elements[0].assessed[0].code for dim in matrix.dimensions[1:]]


def _partners(out: Path) -> list[dict]:
    return [r for r in csv.DictReader((out / "register.csv").open(encoding="utf-8-sig")) if r["status"] == "returned"]


def test_every_sheet_prints_on_a4_with_area_round_and_page_numbers(imported):
    wb = openpyxl.load_workbook(imported / "summary.xlsx")
    assert wb.sheetnames[:3] == ["Register", "Outstanding", "Heat map"] and "Sectors" in wb.sheetnames
    for ws in wb.worksheets:
        assert ws.print_area, ws.title
        assert ws.page_setup.paperSize == 9, ws.title  # A4
        assert ws.oddHeader.left.text == "Northshire (demo) · round: baseline", ws.title
        assert ws.oddHeader.right.text == "&A", ws.title  # the sheet's name
        assert ws.oddFooter.right.text == "Page &P of &N", ws.title
        assert "Maternity" in ws.oddFooter.left.text, ws.title
        fitted = ws.sheet_properties.pageSetUpPr is not None and ws.sheet_properties.pageSetUpPr.fitToPage
        breaks = bool(ws.row_breaks.brk or ws.col_breaks.brk)
        if fitted:  # fitted to the page width (a fitted sheet would ignore page breaks: it has none)
            assert not breaks, ws.title
            assert ws.page_setup.fitToWidth in (1, None), ws.title  # None: openpyxl's reading of the default 1
            assert ws.page_setup.fitToHeight in ((1, None) if ws.title == "Sectors" else (0,)), ws.title
        else:  # printed at a scale that keeps 10 pt text at 8 pt or more, split at its breaks
            scale = ws.page_setup.scale or 100  # None: not written, 100
            assert breaks and 80 <= scale <= 100, (ws.title, scale)
        if ws.title in WIDE:
            assert ws.page_setup.orientation == "landscape"
            assert ws.print_title_cols == WIDE[ws.title], ws.title
            assert ws.print_title_rows, ws.title
        elif ws.title not in ("Charts", "Sectors"):
            assert ws.print_title_rows == "$4:$4", ws.title  # a list's header row on every page


def test_wide_sheets_split_at_dimension_boundaries(imported, matrix):
    wb = openpyxl.load_workbook(imported / "summary.xlsx")
    firsts = _dimension_firsts(matrix)
    for name in ("Heat map", "Levels"):
        ws = wb[name]
        # A column break after column N (1-based): the next page starts with a dimension's first sub-element.
        starts = [ws.cell(row=4 if name == "Heat map" else 5, column=b.id + 1).value for b in ws.col_breaks.brk]
        assert [s.split(" ")[0] for s in starts] == firsts, name
    assert len(wb["Elements"].col_breaks.brk) == len(matrix.dimensions) - 1
    for name, column in (("Change", 1), ("Criteria", 2), ("Supporting information", 1)):
        ws = wb[name]
        # A row break after row N: row N+1 is the first row of the next dimension.
        first_rows = [ws.cell(row=b.id + 1, column=column).value for b in ws.row_breaks.brk]
        assert first_rows[: len(firsts)] == firsts, name


def test_scores_and_percentages_rounded_by_format_not_in_the_cell(imported):
    wb = openpyxl.load_workbook(imported / "summary.xlsx")
    ws = wb["Heat map"]
    scores = [c for row in ws.iter_rows(min_row=6, max_row=8, min_col=3) for c in row if isinstance(c.value, float)]
    assert scores and all(c.number_format == "0.00" for c in scores)
    assert any(round(c.value, 2) != c.value for c in scores)  # e.g. 2.3333…: full precision kept
    crit = wb["Criteria"]
    pct = [c for row in crit.iter_rows(min_row=5, min_col=7, max_col=8) for c in row if isinstance(c.value, float)]
    assert pct and all(c.number_format == "0%" for c in pct)
    assert any(round(c.value, 2) != c.value for c in pct)  # 1/3, 2/3


def test_wrapped_level_texts_get_rows_tall_enough(imported):
    """'Early progress, working towards Substantial progress (1 of 4)' wraps in its column: the row is set tall
    enough for every line (LibreOffice would otherwise print it over the next row)."""
    wb = openpyxl.load_workbook(imported / "summary.xlsx")
    for name, first in (("Levels", 6), ("Change", 5)):
        ws = wb[name]
        checked = 0
        for r in range(first, ws.max_row + 1):
            longest = max(
                (len(c.value) for c in ws[r] if isinstance(c.value, str) and "working towards" in c.value), default=0
            )
            if longest:
                height = ws.row_dimensions[r].height
                assert height is not None and height >= 12.75 * 3, (name, r, height)
                checked += 1
        assert checked >= 3, name


def test_sector_heat_map_holds_the_median_per_sector(imported, matrix):
    wb = openpyxl.load_workbook(imported / "summary.xlsx")
    ws = wb["Sectors"]
    roles = {r["partner_id"]: r["role"] for r in csv.DictReader(MANIFEST.open(encoding="utf-8-sig"))}
    levels = list(csv.DictReader((imported / "levels.csv").open(encoding="utf-8-sig")))
    heads = [c.value for c in ws[4]]
    by_code = {row[0].value: row for row in ws.iter_rows(min_row=6) if row[0].value}
    checked = 0
    for i, head in enumerate(heads[2:], start=2):
        if not head:
            continue
        role = head.rsplit(" (", 1)[0]
        for sub in _subs(matrix):
            got = [
                float(r["score"])
                for r in levels
                if r["sub_element"] == sub.code
                and r["column"] == "baseline"
                and roles.get(r["partner_id"]) == role
                and r["score"] != ""
            ]
            cell = by_code[sub.code][i]
            want = statistics.median(got) if got else None
            assert cell.value == (pytest.approx(want, abs=1e-4) if got else None), (role, sub.code)  # CSV: 4 places
            checked += 1
    assert checked == 17 * len(set(roles[p["partner_id"]] for p in _partners(imported)))


def _pdftotext(pdf: Path, *pages: int) -> str:
    args = ["pdftotext", "-layout"]
    if pages:
        args += ["-f", str(pages[0]), "-l", str(pages[-1])]
    return subprocess.run([*args, str(pdf), "-"], capture_output=True, text=True, check=True).stdout


@pytest.mark.slow
def test_summary_prints_to_pdf_with_every_sub_element_and_partner(imported, matrix, tmp_path):
    need_soffice()
    if not shutil.which("pdftotext"):
        pytest.skip("poppler-utils (pdftotext) is not installed")
    pdf = office.convert(imported / "summary.xlsx", "pdf", tmp_path)
    text = _pdftotext(pdf)
    flat = re.sub(r"\s+", " ", text)
    pages = text.split("\f")[:-1]
    for sub in _subs(matrix):
        # On the Sectors page each sub-element's code and name stand on one line.
        assert re.search(rf"^\s*{re.escape(sub.code)}\s+{re.escape(sub.name)}", text, re.M), sub.code
    for p in _partners(imported):
        assert p["name"] in flat, p["name"]
        assert all(word in flat for word in p["organisation"].split()), p["organisation"]  # it may wrap
    # Sane: 3 returns give about 50 pages (the criteria and the supporting-information checklist are long);
    # the heat map is one page per dimension, the sector heat map one page.
    assert 20 <= len(pages) <= 70, len(pages)
    heat = [pg for pg in pages if "Scores by partner and sub-element" in pg]
    assert len(heat) == len(matrix.dimensions)
    for pg, dim in zip(heat, matrix.dimensions, strict=True):
        codes = [sub.code for el in dim.elements for sub in el.assessed]
        assert all(re.search(rf"(^|\s){re.escape(c)} ", pg) for c in codes), dim.name
        assert all(p["name"] in pg for p in _partners(imported))  # the names repeated on each page
    assert sum("Median score by partner sector" in pg for pg in pages) == 1
    for pg in pages:
        assert "Northshire (demo) · round: baseline" in pg
    assert re.search(rf"Page {len(pages)} of {len(pages)}", pages[-1])


def _other_rows(path: Path) -> list[tuple]:
    ws = openpyxl.load_workbook(path)["Supporting information"]
    rows = [tuple(c.value for c in row) for row in ws.iter_rows()]
    start = next(i for i, r in enumerate(rows) if r[0] == "'Other' supporting information added by partners")
    end = next(i for i, r in enumerate(rows) if r[0] == "Levels claimed without supporting information ticked")
    return [r[:7] for r in rows[start + 2 : end] if r[0]]


def _others_typed(out: Path) -> set[tuple]:
    answers = list(csv.DictReader((out / "answers.csv").open(encoding="utf-8-sig")))
    names = {p["partner_id"]: p["name"] for p in _partners(out)}
    return {
        (a["sub_element"], a["item"], names[a["partner_id"]], a["raw_value"])
        for a in answers
        if a["field"] == "supporting_other" and a["raw_value"].strip()
    }


def test_summary_lists_supporting_items_with_their_level_and_partners_other_items(imported, matrix):
    ws = openpyxl.load_workbook(imported / "summary.xlsx")["Supporting information"]
    listed = {row[1].value: row[2].value for row in ws.iter_rows(min_row=5) if row[1].value}
    items = [item for sub in _subs(matrix) for item in sub.supporting_information if not item.heading]
    assert sum(1 for i in items if i.level) > 20
    for item in items:
        assert listed[item.id] == (item.level or None), item.id
    # The samples are template-1 returns, which keyed the checklist S1, S2… by position: counted under the ids
    # (1.1's first four lines are the same lines today).
    answers = list(csv.DictReader((imported / "answers.csv").open(encoding="utf-8-sig")))
    ticks = [a for a in answers if a["field"] == "supporting_information" and a["value"] == "ticked"]
    assert ticks and all(a["item"].startswith("S") for a in ticks)
    counts = {row[1].value: row[4].value for row in ws.iter_rows(min_row=5) if row[1].value}
    for i in range(1, 5):
        partners = {
            a["partner_id"] for a in ticks if (a["sub_element"], a["item"], a["column"]) == ("1.1", f"S{i}", "baseline")
        }
        assert counts[f"1.1-s0{i}"] == len(partners), i
    assert 0.9 * len(ticks) <= sum(v for k, v in counts.items() if "-s" in k) <= len(ticks)
    others = _other_rows(imported / "summary.xlsx")
    typed = _others_typed(imported)
    assert len(typed) >= 5
    assert {r[:4] for r in others} == typed
    ticked = {
        (a["sub_element"], a["item"], a["file"], a["column"])
        for a in answers
        if a["field"] == "supporting_other_tick" and a["value"] == "ticked"
    }
    for code, item, _who, _text, base, twelve, where in others:
        file = where.split(" · ")[0]
        assert (base == "✓") == ((code, item, file, "baseline") in ticked)
        assert (twelve == "✓") == ((code, item, file, "12_months") in ticked)


@pytest.mark.slow
def test_other_items_survive_a_libreoffice_resave(tmp_path):
    need_soffice()
    returns = tmp_path / "returns"
    returns.mkdir()
    source = next(SAMPLES.glob("northshire-maternity-*.xlsx"))
    office.convert(source, "xlsx", returns)
    consolidate([returns], tmp_path / "out", manifest=MANIFEST, pdf=False)
    others = _other_rows(tmp_path / "out" / "summary.xlsx")
    typed = _others_typed(tmp_path / "out")
    assert others and {r[:4] for r in others} == typed
    assert {r[3] for r in others} >= {"Parent forum feedback report"}


def test_summary_is_deterministic(imported, tmp_path):
    consolidate([SAMPLES], tmp_path / "again", manifest=MANIFEST, pdf=False)
    assert (tmp_path / "again" / "summary.xlsx").read_bytes() == (imported / "summary.xlsx").read_bytes()
