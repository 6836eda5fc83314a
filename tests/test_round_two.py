"""The 12-months round: every baseline answer carried by its id, never by its wording (supporting information
repeats its wording within a sub-element), whatever program saved the return; notes typed outside the answer
cells carried with their Sheet!A1; the round-2 deadline, return address and partner details; the locked
baseline, and a changed baseline found."""

from __future__ import annotations

import csv
import datetime as dt
import shutil
from collections import defaultdict
from pathlib import Path

import openpyxl
import pytest

from eif_xlsx.api import validate
from eif_xlsx.cells import a1
from eif_xlsx.domain.partners import Partner
from eif_xlsx.intake.checks import check
from eif_xlsx.intake.reader import read_return
from eif_xlsx.office import convert
from eif_xlsx.rounds import reissue
from eif_xlsx.template.generate import generate_workbooks
from eif_xlsx.template.layout import (
    BASELINE,
    GUIDANCE_SHEET,
    TEMPLATE_VERSION,
    TWELVE_MONTHS,
    WorkbookLayout,
    build,
)
from eif_xlsx.template.workbook import WorkbookSpec, write_workbook

from .conftest import ANN, need_soffice

SAMPLES = Path(__file__).resolve().parent.parent / "samples" / "returns"
ROUND1 = {"deadline": "2026-12-12", "return_to": "round1@northshire.example"}
ROUND2 = {"deadline": "2027-12-10", "return_to": "round2@northshire.example"}
ANN_NOW = Partner(ANN.id, "Ann Newname", "Northshire Maternity Services", "ann.new@example.org", "Director")
MARGIN = ("9.2", 11, 7, "Ask Jo about the parent survey")  # sub-element, row, col (H12), text
NOTE_91 = "Data group meets monthly."
SAVED_BY = [
    "openpyxl",
    *(pytest.param(f"libreoffice-{fmt}", marks=[pytest.mark.libreoffice, pytest.mark.slow]) for fmt in ("xlsx", "ods")),
]


def repeated(matrix) -> dict[str, list[list[str]]]:
    """Per sub-element, the ids of the supporting items whose wording repeats there (one list per wording)."""
    out: dict[str, list[list[str]]] = {}
    for _, _, sub in matrix.sub_elements():
        by_text: dict[str, list[str]] = defaultdict(list)
        for item in sub.supporting_information:
            if not item.heading:
                by_text[item.text].append(item.id)
        groups = [ids for ids in by_text.values() if len(ids) > 1]
        if groups:
            out[sub.code] = groups
    return out


def baseline_answers(matrix, indicator_set) -> dict:
    """Ticks on each repeated wording, a different subset for each (never all, never none), and an answer of
    every other kind."""
    answers: dict = {}
    n = 0
    for code, groups in repeated(matrix).items():
        for ids in groups:
            for i, item in enumerate(ids):
                if (i + n) % 2 == 0:
                    answers[("supporting_information", code, item, BASELINE)] = "✓"
            n += 1
    ind = next(i for _, _, i in indicator_set.indicators() if i.unit == "percentage")
    answers.update(
        {
            ("assessment_date", "", "", BASELINE): dt.datetime(2025, 3, 1),
            ("criterion", "4", "4a", BASELINE): "✓",
            ("criterion", "4", "4b", BASELINE): "x",
            ("criterion", "9.2", "9.2a", BASELINE): "✓",
            ("overall_rating", "4", "", BASELINE): "Early progress",
            ("supporting_other", "9.2", "Other 2", ""): "Parent panel minutes",
            ("supporting_other_tick", "9.2", "Other 2", BASELINE): "✓",
            ("barrier", "10.2", "3", ""): "No evaluation budget",
            ("priority_action", "10.2", "3", ""): "Bid for evaluation funds",
            ("timescale", "10.2", "3", ""): "Medium",
            ("notes", "9.1", "", ""): NOTE_91,
            ("indicator_period", "", ind.id, ""): "2025 Q1",
            ("indicator_value", "", ind.id, ""): 61.5,
            ("indicator_numerator", "", ind.id, ""): 123,
            ("indicator_denominator", "", ind.id, ""): 200,
        }
    )
    return answers


def position(lay, key) -> tuple[str, int, int]:
    for sheet, row, cell in lay.inputs():
        if (cell.field, cell.sub_element, cell.item, cell.column) == key:
            return sheet.name, row.row, cell.col
    raise KeyError(key)


def fill(src: Path, dest: Path, answers: dict, margin=MARGIN) -> Path:
    """As a partner would: open the issued workbook, type each answer into the cell the layout gives it, write a
    note in a margin, save (openpyxl keeps no cached formula values: the reader needs none)."""
    lay = read_return(src).layout
    wb = openpyxl.load_workbook(src)
    for key, value in answers.items():
        name, r, c = position(lay, key)
        wb[name].cell(r + 1, c + 1).value = value
    if margin:
        code, r, c, text = margin
        wb[lay.sub_element_sheet(code).name].cell(r + 1, c + 1).value = text
    dest.parent.mkdir(parents=True, exist_ok=True)
    wb.save(dest)
    return dest


def typed(ret) -> dict:
    return {
        a.key: a
        for a in ret.answers
        if a.raw_text.strip() and not (a.kind == "tick" and a.value is False and not a.problem)
    }


def cover_text(path: Path) -> str:
    ws = openpyxl.load_workbook(path)["Cover"]
    return "\n".join(str(c.value) for row in ws.iter_rows() for c in row if c.value is not None)


@pytest.fixture(scope="module")
def round_one(tmp_path_factory, matrix, indicator_set):
    """Ann's round-1 workbook, filled and saved by openpyxl; the answers typed into it."""
    tmp = tmp_path_factory.mktemp("round1")
    issued = generate_workbooks(
        matrix, tmp / "issued", [ANN], indicators=indicator_set, area="Northshire", **ROUND1
    ).files[0]
    answers = baseline_answers(matrix, indicator_set)
    return fill(issued, tmp / "returns" / "ann.xlsx", answers), answers


def reissued(ret_file: Path, out: Path, catalog, matrix, partners=(ANN_NOW,)) -> tuple[reissue.Plan, Path]:
    folder = out / "previous"
    folder.mkdir(parents=True)
    shutil.copy(ret_file, folder / ret_file.name)
    p = reissue.plan(catalog, matrix.id, [folder], list(partners) if partners else None, round_="12-months")
    gen = generate_workbooks(
        matrix, out / "round2", p.partners, indicators=p.indicators, round=TWELVE_MONTHS, prefill=p.prefill, **ROUND2
    )
    return p, gen.files[0]


def test_repeated_wording_is_there_to_test(matrix):
    groups = repeated(matrix)
    assert {"4", "9.2", "10.2"} <= set(groups)
    assert any(len(ids) >= 2 for ids in groups["9.2"])


@pytest.mark.parametrize("saved_by", SAVED_BY)
def test_round_two_carries_every_answer_by_id(round_one, saved_by, tmp_path, catalog, matrix):
    filled, answers = round_one
    if saved_by != "openpyxl":
        need_soffice()
        filled = convert(filled, saved_by.split("-")[1], tmp_path / "lo")
    before = read_return(filled, catalog)
    assert before.readable and before.format == ("ods" if saved_by.endswith("ods") else "xlsx")
    p, new = reissued(filled, tmp_path, catalog, matrix)
    assert not any("could not be carried" in n for n in p.notes), p.notes
    after = read_return(new, catalog)
    assert after.readable and after.metadata["round"] == TWELVE_MONTHS
    got = typed(after)
    # Each supporting item ticked on exactly its own id: no repeated wording merged or moved.
    ticked = {k for k in got if k[0] == "supporting_information"}
    assert ticked == {k for k in answers if k[0] == "supporting_information"}
    for code, groups in repeated(matrix).items():
        for ids in groups:
            on = {i for i in ids if ("supporting_information", code, i, BASELINE) in got}
            assert on and on != set(ids), (code, ids)  # a true subset: the test would see a merge
    # Every other answer, as typed.
    for key, value in answers.items():
        if key[0] in ("supporting_information", "notes"):
            continue
        a = got[key]
        if a.kind == "tick":
            assert a.value is True, key  # carried as the tick it read as ("x" comes back as ✓)
        elif isinstance(value, dt.datetime):
            assert a.value == value.date(), key
        elif isinstance(value, int | float):
            assert a.value == float(value), key
        else:
            assert a.raw_text == value, key
    # The note written in a margin is in the notes of its sub-element, with where it was written.
    code, r, c, text = MARGIN
    notes = got[("notes", code, "", "")].raw_text
    sheet = before.layout.sub_element_sheet(code).name
    assert f"{sheet}!{a1(r, c)}" in notes and text in notes
    assert got[("notes", "9.1", "", "")].raw_text == NOTE_91
    # Round 2's deadline and return address, and the partner's details from the round-2 list.
    cover = cover_text(new)
    assert "10 December 2027" in cover and ROUND2["return_to"] in cover
    assert "12 December 2026" not in cover and ROUND1["return_to"] not in cover
    assert after.answer("respondent_name").raw_text == ANN_NOW.name
    assert after.answer("respondent_email").raw_text == ANN_NOW.email
    assert after.metadata["partner_email"] == ANN_NOW.email and after.metadata["deadline"] == "10 December 2027"
    assert after.metadata["return_to"] == ROUND2["return_to"]


def test_a_margin_note_on_another_sheet_is_reported(tmp_path, catalog, matrix, round_one):
    filled, _ = round_one
    wb = openpyxl.load_workbook(filled)
    wb["Overview"]["N3"] = "Sent late, sorry"
    wb.save(tmp_path / "ann.xlsx")
    p, new = reissued(tmp_path / "ann.xlsx", tmp_path, catalog, matrix)
    assert any("Overview!N3" in n and "Sent late, sorry" in n for n in p.notes)
    assert "Overview!N3" in cover_text(new)


@pytest.mark.parametrize("sample", sorted(p.name for p in SAMPLES.glob("*")))
def test_a_template_one_return_is_carried_by_position_not_wording(sample, tmp_path, catalog, matrix):
    """Template 1 keyed supporting information S1..Sn, every line of the checklist counted (headings too): S<i>
    is carried to the id of the i-th line; a tick on a line that is now a heading is reported, never dropped."""
    before = read_return(SAMPLES / sample, catalog)
    assert before.metadata["template_version"] == "1"
    expected, lost = set(), set()
    for a in before.answers:
        if a.field == "supporting_information" and a.value is True:
            line = matrix.sub_element(a.sub_element).supporting_information[int(a.item[1:]) - 1]
            old_label = next(r.label for r in before.layout.sub_element_sheet(a.sub_element).rows if r.key == a.item)
            assert old_label == line.text
            if line.heading:
                lost.add(f"{a.sheet}!{a.cell}")
            else:
                expected.add(("supporting_information", a.sub_element, line.id, a.column))
    assert expected
    p, new = reissued(SAMPLES / sample, tmp_path, catalog, matrix, partners=None)
    after = read_return(new, catalog)
    assert {k for k in typed(after) if k[0] == "supporting_information"} == expected
    for where in lost:
        assert any(where in n for n in p.notes), where


def test_older_template_says_what_differs(catalog, matrix):
    """The samples are template 1 of the current matrix version, made before its supporting information had ids
    and levels: the message says what changed (the text under the same version, the template)."""
    for path in sorted(SAMPLES.glob("*")):
        ret = read_return(path, catalog)
        (older,) = [f.message for f in ret.findings if f.code == "older-template"]
        assert older == (
            f"The workbook was made from matrix '{matrix.id}' version {matrix.version}, template 1; since "
            f"then the matrix's text has changed (still version {matrix.version}) and the template is now "
            f"{TEMPLATE_VERSION}; it was read through the layout it carries."
        ), path


def template_two(matrix, indicator_set) -> WorkbookLayout:
    """The layout of template 2 (issued before the Guidance sheet): every input cell where template 3 has it."""
    lay = build(matrix, indicator_set)
    return WorkbookLayout("2", tuple(s for s in lay.sheets if s.name != GUIDANCE_SHEET))


def test_template_three_moves_no_input_cell(matrix, indicator_set):
    now = build(matrix, indicator_set)
    assert TEMPLATE_VERSION == "3" and now.sheet(GUIDANCE_SHEET).rows == ()
    assert [(s.name, r, c) for s, r, c in now.inputs()] == [
        (s.name, r, c) for s, r, c in template_two(matrix, indicator_set).inputs()
    ]


@pytest.mark.parametrize("saved_by", SAVED_BY)
def test_a_template_two_return_reads_and_carries(saved_by, tmp_path, catalog, matrix, indicator_set):
    """A return of template 2 (no Guidance sheet) reads through its own layout with every answer and no finding
    but older-template; it is re-issued on template 3 with every answer. And a template-3 return whose Guidance sheet
    was deleted loses nothing and is not reported."""
    answers = baseline_answers(matrix, indicator_set)
    spec = WorkbookSpec(
        matrix=matrix,
        layout=template_two(matrix, indicator_set),
        indicators=indicator_set,
        partner=ANN.as_dict(),
        area="Northshire",
        **ROUND1,
    )
    issued = tmp_path / "issued" / "ann.xlsx"
    issued.parent.mkdir()
    issued.write_bytes(write_workbook(spec))
    filled = fill(issued, tmp_path / "filled" / "ann.xlsx", answers, margin=None)
    if saved_by != "openpyxl":
        need_soffice()
        filled = convert(filled, saved_by.split("-")[1], tmp_path / "lo")
    ret = read_return(filled, catalog)
    assert ret.metadata["template_version"] == "2" and GUIDANCE_SHEET not in [s.name for s in ret.layout.sheets]
    report = check(ret, catalog, today=dt.date(2026, 11, 24))
    assert {f.code for f in report.findings if f.severity != "warning"} == {"older-template"}, report.findings
    got = typed(ret)
    assert set(answers) <= set(got), set(answers) - set(got)
    _, new = reissued(filled, tmp_path, catalog, matrix)
    after = read_return(new, catalog)
    assert after.metadata["template_version"] == TEMPLATE_VERSION
    assert GUIDANCE_SHEET in openpyxl.load_workbook(new, read_only=True).sheetnames
    carried = typed(after)
    for key in answers:
        if key[3] == BASELINE or key[0] in ("supporting_other", "notes", "barrier", "priority_action", "timescale"):
            assert key in carried, key


def test_a_deleted_guidance_sheet_loses_nothing(tmp_path, catalog, matrix, round_one):
    filled, answers = round_one
    wb = openpyxl.load_workbook(filled)
    del wb[GUIDANCE_SHEET]
    wb.save(tmp_path / "no-guidance.xlsx")
    ret = read_return(tmp_path / "no-guidance.xlsx", catalog)
    assert not [f for f in ret.findings if f.code in ("sheet-missing", "extra-content") and GUIDANCE_SHEET in f.message]
    assert set(answers) <= set(typed(ret))


# --- section 4: the locked baseline -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def twelve(tmp_path_factory, round_one, catalog, matrix):
    filled, answers = round_one
    tmp = tmp_path_factory.mktemp("twelve")
    _, new = reissued(filled, tmp, catalog, matrix)
    return new


EDITS = {
    ("criterion", "4", "4a", BASELINE): None,  # unticked
    ("criterion", "4", "4c", BASELINE): "✓",  # ticked
    ("overall_rating", "4", "", BASELINE): "Mature",
}


def edited(src: Path, dest: Path) -> tuple[Path, dict]:
    """A partner unprotects the sheets and changes baseline cells (openpyxl does not enforce protection); and
    ticks a 12 months cell, as they should."""
    lay = read_return(src).layout
    wb = openpyxl.load_workbook(src)
    where = {}
    for key, value in EDITS.items():
        name, r, c = position(lay, key)
        wb[name].protection.sheet = False
        wb[name].cell(r + 1, c + 1).value = value
        where[key] = (name, a1(r, c))
    name, r, c = position(lay, ("criterion", "4", "4a", TWELVE_MONTHS))
    wb[name].cell(r + 1, c + 1).value = "✓"
    dest.parent.mkdir(parents=True, exist_ok=True)
    wb.save(dest)
    return dest, where


def baseline_changes(report) -> dict[tuple[str, str], str]:
    return {(f.sheet, f.cell): f.message for f in report.findings if f.code == "baseline-changed"}


def test_the_baseline_is_signed_in_the_metadata(twelve, catalog):
    ret = read_return(twelve, catalog)
    assert ret.metadata["locked_columns"] == BASELINE
    assert "baseline_1" in ret.metadata
    assert not any(f.code in ("baseline-changed", "metadata-altered") for f in ret.findings)


@pytest.mark.parametrize("saved_by", SAVED_BY)
def test_a_changed_baseline_is_found_and_the_original_used(twelve, saved_by, tmp_path, catalog):
    original = check(read_return(twelve, catalog), catalog)
    path, where = edited(twelve, tmp_path / "edited.xlsx")
    if saved_by != "openpyxl":
        need_soffice()
        path = convert(path, saved_by.split("-")[1], tmp_path / "lo")
    report = check(read_return(path, catalog), catalog)
    found = baseline_changes(report)
    assert set(found) == set(where.values())
    assert all(f.severity.value == "warning" for f in report.findings if f.code == "baseline-changed")
    msg = found[where[("criterion", "4", "4a", BASELINE)]]
    assert "from '✓' to ''" in msg
    assert "from '' to '✓'" in found[where[("criterion", "4", "4c", BASELINE)]]
    assert "from 'Early progress' to 'Mature'" in found[where[("overall_rating", "4", "", BASELINE)]]
    # Scored on the baseline as issued; the 12 months tick counts.
    for code in ("4", "9.2"):
        assert report.results[(code, BASELINE)].score == original.results[(code, BASELINE)].score
        assert report.results[(code, BASELINE)].overall_rating == original.results[(code, BASELINE)].overall_rating
    assert report.results[("4", TWELVE_MONTHS)].score.assessed
    assert report.ret.answer("criterion", "4", "4a", BASELINE).value is True


@pytest.mark.slow
@pytest.mark.libreoffice
def test_an_untouched_twelve_months_workbook_resaved_reports_no_change(twelve, tmp_path, catalog):
    need_soffice()
    for fmt in ("xlsx", "ods"):
        report = check(read_return(convert(twelve, fmt, tmp_path / fmt), catalog), catalog)
        assert baseline_changes(report) == {}, fmt


def test_validate_reports_baseline_changed(twelve, tmp_path):
    path, where = edited(twelve, tmp_path / "returns" / "edited.xlsx")
    (report,) = validate([path])
    assert {(f.sheet, f.cell) for f in report.findings if f.code == "baseline-changed"} == set(where.values())


def test_the_import_scores_the_original_baseline_and_lists_the_change(twelve, tmp_path):
    from eif_xlsx.api import consolidate

    path, where = edited(twelve, tmp_path / "returns" / "edited.xlsx")
    result = consolidate([path], tmp_path / "out", pdf=False)
    levels = {
        (r["sub_element"], r["column"]): r
        for r in csv.DictReader((tmp_path / "out" / "levels.csv").open(encoding="utf-8-sig"))
    }
    original = check(read_return(twelve))
    assert levels[("4", BASELINE)]["level"] == original.results[("4", BASELINE)].score.level
    findings = list(csv.DictReader((tmp_path / "out" / "findings.csv").open(encoding="utf-8-sig")))
    changed = {(f["sheet"], f["cell"]) for f in findings if f["code"] == "baseline-changed"}
    assert changed == set(where.values())
    assert result.consolidation.participants
