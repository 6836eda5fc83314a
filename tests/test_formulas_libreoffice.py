"""The level formulas, recalculated by LibreOffice and by Gnumeric, agree with scoring.score_ticks for a table of tick
patterns.

Every pattern goes into one workbook (one sub-element and column each), so a single run of each program checks them
all.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable

import openpyxl
import pytest

from eif_xlsx.domain.model import NOT_ASSESSED, NOT_YET_BASIC
from eif_xlsx.domain.scoring import score_ticks
from eif_xlsx.normalise import tick
from eif_xlsx.office import convert
from eif_xlsx.template import layout as layout_mod
from eif_xlsx.template.layout import BASELINE, COL_BASE, COL_TEXT, OV_LEVEL, OV_SCORE, TWELVE_MONTHS

from .conftest import make_workbook, need_soffice
from .test_gnumeric import TIMEOUT, need_ssconvert

pytestmark = [pytest.mark.libreoffice, pytest.mark.slow]

BASIC, EARLY, SUBST, MATURE = "Basic level", "Early progress", "Substantial progress", "Mature"
# Values a partner may type that count as a tick, and ones that must not.
TICKS = ("✓", "x", "X", " yes ", "TRUE", "1", "✔", 1, True, "Y", "√", "✅", "☑")
NOT_TICKS = ("no", "0", "NO", " false ", "n", 0, "-", "?", "tick", "*", "x|yes", "~", "|")  # '?', '*': no wildcards
# Spaces, tabs, no-break and zero-width spaces around a tick (as pasted from elsewhere) are ignored by the importer.
SPACED = ("  x", "Yes", "true  ", "✓ ", "\tX", "\u00a0✓", "x\u200b", "YES\u00a0\u00a0", " ✔\n")

Crits = list[tuple[str, str]]  # (code, level)
Pattern = Callable[[Crits], dict[str, object]]  # criteria -> {code: value typed}


def at(*levels: str, value: object = "✓") -> Pattern:
    """Tick every criterion at these levels."""
    return lambda crits: {code: value for code, lv in crits if lv in levels}


def first_of(level: str, n: int, value: object = "✓") -> Pattern:
    return lambda crits: {code: value for code, _ in [c for c in crits if c[1] == level][:n]}


def both(*patterns: Pattern) -> Pattern:
    def combined(crits: Crits) -> dict[str, object]:
        out: dict[str, object] = {}
        for p in patterns:
            out.update(p(crits))
        return out

    return combined


def cycle(values: tuple, levels: tuple[str, ...] | None = None) -> Pattern:
    """Tick the criteria (at `levels`, or all) with the given values in turn."""

    def make(crits: Crits) -> dict[str, object]:
        chosen = [code for code, lv in crits if levels is None or lv in levels]
        return {code: values[i % len(values)] for i, code in enumerate(chosen)}

    return make


def all_but_one(level: str) -> Pattern:
    def make(crits: Crits) -> dict[str, object]:
        skip = next(code for code, lv in crits if lv == level)
        return {code: "✓" for code, _ in crits if code != skip}

    return make


# (sub-element, column, description, pattern, the level text the workbook must show — also checked against
# score_ticks, so the table cannot drift from the rule)
CASES: list[tuple[str, str, str, Pattern, str]] = [
    ("1.1", BASELINE, "nothing ticked", at(), NOT_ASSESSED),
    (
        "1.1",
        TWELVE_MONTHS,
        "basic and all early, one of four substantial",
        both(at(BASIC, EARLY), first_of(SUBST, 1)),
        "Early progress, working towards Substantial progress (1 of 4)",
    ),
    ("1.2", BASELINE, "only basic", at(BASIC), BASIC),
    ("1.2", TWELVE_MONTHS, "the single mature criterion, nothing below", at(MATURE), MATURE),
    ("2", BASELINE, "basic and all early", at(BASIC, EARLY), EARLY),
    (
        "2",
        TWELVE_MONTHS,
        "basic and one of three early",
        both(at(BASIC), first_of(EARLY, 1)),
        "Basic level, working towards Early progress (1 of 3)",
    ),
    ("3", BASELINE, "all early but not basic", at(EARLY), EARLY),
    ("3", TWELVE_MONTHS, "everything ticked", at(BASIC, EARLY, SUBST, MATURE), MATURE),
    ("4", BASELINE, "x, X, yes, TRUE, 1, ✔ and ✓ count", cycle(("x", "X", " yes ", "TRUE", "1", "✔", "✓")), MATURE),
    ("4", TWELVE_MONTHS, "only 'no' and '0'", cycle(("no", "0")), NOT_ASSESSED),
    ("5", BASELINE, "basic ticked, the rest typed 'no'/'0'", both(cycle(("no", "0")), at(BASIC, value="x")), BASIC),
    ("5", TWELVE_MONTHS, "both substantial only", at(SUBST), SUBST),
    ("6.1", BASELINE, "tick values (1 of 3)", cycle(TICKS[0:5]), MATURE),
    ("6.1", TWELVE_MONTHS, "values that do not count (1 of 2)", cycle(NOT_TICKS[0:5]), NOT_ASSESSED),
    ("6.2", BASELINE, "one of three mature only", first_of(MATURE, 1), NOT_YET_BASIC),
    (
        "6.2",
        TWELVE_MONTHS,
        "basic, early, all substantial, two of three mature",
        both(at(BASIC, EARLY, SUBST), first_of(MATURE, 2)),
        "Substantial progress, working towards Mature (2 of 3)",
    ),
    ("7.1", BASELINE, "basic and all substantial, no early", at(BASIC, SUBST), SUBST),
    (
        "7.1",
        TWELVE_MONTHS,
        "basic and three of four early, in tick words",
        both(at(BASIC, value=" yes "), first_of(EARLY, 3, value="✔")),
        "Basic level, working towards Early progress (3 of 4)",
    ),
    ("7.3", BASELINE, "everything but the basic criterion", all_but_one(BASIC), MATURE),
    ("7.3", TWELVE_MONTHS, "two of four early only", first_of(EARLY, 2), NOT_YET_BASIC),
    ("8.1", TWELVE_MONTHS, "one of two mature, nothing below", first_of(MATURE, 1), NOT_YET_BASIC),
    ("8.2", BASELINE, "tick values (2 of 3)", cycle(TICKS[5:10]), MATURE),
    ("8.2", TWELVE_MONTHS, "values that do not count (2 of 2)", cycle(NOT_TICKS[4:]), NOT_ASSESSED),
    ("9.1", BASELINE, "one of two basic", first_of(BASIC, 1), "Not yet basic, working towards Basic level (1 of 2)"),
    ("9.1", TWELVE_MONTHS, "both basic, as TRUE and 1", cycle(("TRUE", 1), (BASIC,)), BASIC),
    (
        "9.2",
        BASELINE,
        "basic, early, substantial, one of three mature",
        both(at(BASIC, EARLY, SUBST), first_of(MATURE, 1)),
        "Substantial progress, working towards Mature (1 of 3)",
    ),
    ("10.1", BASELINE, "basic typed 'no', early ticked", both(at(BASIC, value="no"), at(EARLY)), EARLY),
    ("10.1", TWELVE_MONTHS, "tick values (3 of 3)", cycle(TICKS[9:]), MATURE),
    ("10.2", TWELVE_MONTHS, "ticks with odd spacing and case (1 of 2)", cycle(SPACED), MATURE),
    ("9.2", TWELVE_MONTHS, "ticks with odd spacing and case (2 of 2)", cycle(SPACED[4:]), MATURE),
]
COUNTING = (*TICKS, *SPACED)


def _counts(value: object) -> bool:
    """Whether a typed value is a tick, by the tables above (not by the code under test)."""
    return any(value == t and type(value) is type(t) for t in COUNTING)


@pytest.fixture(scope="module", params=["libreoffice", "gnumeric"])
def recalculated(request, tmp_path_factory, matrix):
    """The workbook with every case's ticks, recalculated by LibreOffice or Gnumeric (saved first by openpyxl, which
    keeps no cached values, so a program shows only what it computed); with the answers and expected scores."""
    program = request.param
    need_soffice() if program == "libreoffice" else need_ssconvert()
    levels = matrix.level_names
    answers: dict[tuple[str, str, str, str], object] = {}
    expected = {}
    seen = set()
    for code, column, what, pattern, _ in CASES:
        assert (code, column) not in seen, f"two cases for {code} {column}"
        seen.add((code, column))
        sub = matrix.sub_element(code)
        crits = [(c.code, c.level) for c in sub.criteria]
        typed = pattern(crits)
        for crit, value in typed.items():
            answers[("criterion", code, crit, column)] = value
        ticked = [crit for crit, value in typed.items() if _counts(value)]
        # The importer's reading of a tick agrees with this table.
        assert ticked == [crit for crit, value in typed.items() if tick(value)], what
        expected[(code, column)] = score_ticks(levels, crits, ticked)
    # Supporting information and 'Other' ticks sit outside the criteria: they must not move any level.
    for code in ("1.1", "2", "4"):
        for column in (BASELINE, TWELVE_MONTHS):
            answers[("supporting_information", code, f"{code}-s01", column)] = "✓"
            answers[("supporting_other_tick", code, "Other 1", column)] = "✓"
    tmp = tmp_path_factory.mktemp(program)
    path = make_workbook(tmp / "gen", matrix, answers)
    uncached = tmp / "uncached.xlsx"
    openpyxl.load_workbook(path).save(uncached)
    assert openpyxl.load_workbook(uncached, data_only=True)["Overview"].cell(9, OV_LEVEL[BASELINE] + 1).value is None
    if program == "libreoffice":
        out = convert(uncached, "xlsx", tmp / "recalc")
    else:  # ssconvert --recalc: Gnumeric computes every formula before saving
        out = tmp / "recalc.xlsx"
        proc = subprocess.run(
            [need_ssconvert(), "--recalc", str(uncached), str(out)],
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            env={**os.environ, "HOME": str(tmp)},
        )
        assert proc.returncode == 0 and out.exists(), proc.stderr
    wb = openpyxl.load_workbook(out, data_only=True)
    return wb, layout_mod.build(matrix), expected


def test_patterns_cover_the_rule(recalculated):
    """The table exercises what it claims to: unassessed, not yet basic, every level, partial and full 4.0."""
    _, _, expected = recalculated
    scores = list(expected.values())
    assert len(scores) >= 12
    assert any(not s.assessed for s in scores)
    assert {s.full for s in scores if s.assessed} == {0, 1, 2, 3, 4}
    assert any(s.score == 4.0 for s in scores)
    assert any(s.assessed and s.score % 1 for s in scores)  # a partial next level
    assert any(s.skipped for s in scores)  # ticks above the level reached
    assert any(s.assessed and s.full == 0 and s.score == 0 for s in scores)


@pytest.mark.parametrize("case", CASES, ids=[f"{c[0]}-{c[1]}-{c[2]}" for c in CASES])
def test_level_and_score(recalculated, case):
    wb, lay, expected = recalculated
    code, column, what, _, shown = case
    want = expected[(code, column)]
    assert want.level == shown, f"the case table and score_ticks disagree for {what}"
    sheet = lay.sub_element_sheet(code)
    ws = wb[sheet.name]
    lr = sheet.marks[f"level_{column}"] + 1
    _check(want, ws.cell(lr, COL_TEXT + 1).value, ws.cell(lr, COL_BASE + 1).value, f"{sheet.name} {column}")
    ov = lay.sheet("Overview")
    r = next(x.row for x in ov.rows if x.key == code) + 1
    ws = wb["Overview"]
    _check(
        want,
        ws.cell(r, OV_LEVEL[column] + 1).value,
        ws.cell(r, OV_SCORE[column] + 1).value,
        f"Overview {code} {column}",
    )


def test_columns_without_a_case_are_not_assessed(recalculated, matrix):
    wb, lay, expected = recalculated
    ws = wb["Overview"]
    ov = lay.sheet("Overview")
    empty = 0
    for _, _, sub in matrix.sub_elements():
        r = next(x.row for x in ov.rows if x.key == sub.code) + 1
        for column in (BASELINE, TWELVE_MONTHS):
            if (sub.code, column) in expected:
                continue
            empty += 1
            assert ws.cell(r, OV_LEVEL[column] + 1).value == NOT_ASSESSED
            assert ws.cell(r, OV_SCORE[column] + 1).value in (None, "")
    assert empty > 0


def _check(want, level, score, where: str) -> None:
    assert level == want.level, where
    if not want.assessed:
        assert level == NOT_ASSESSED
        assert score in (None, ""), f"{where}: score should be blank, not {score!r}"
        return
    assert isinstance(score, int | float) and not isinstance(score, bool), f"{where}: score {score!r}"
    assert abs(score - want.score) < 1e-9, f"{where}: {score} != {want.score}"
