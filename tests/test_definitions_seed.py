"""Stable ids, headings and levels of the supporting information, read against the matrix's source document."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from eif_xlsx.domain.catalog import builtin_dir, load_file
from eif_xlsx.errors import DefinitionError

MATRIX_FILE = builtin_dir() / "maternity-early-years.yaml"
INDICATORS_SEED = Path("/work/shared/seeds/004_1500a9b8b2d4d9c8.txt")


@pytest.fixture(scope="module")
def indicators_seed() -> str:
    """Seed 004 as plain text: tags dropped, '&amp;' decoded, whitespace collapsed."""
    if not INDICATORS_SEED.exists():
        pytest.skip(f"source document not available: {INDICATORS_SEED}")
    raw = re.sub(r"<[^>]+>", " ", INDICATORS_SEED.read_text(encoding="utf-8")).replace("&amp;", "&")
    return " ".join(raw.split())


HEADINGS = {  # sub-element -> the lines that introduce a bullet list in the seed
    "1.1": ["Strategy covers:"],
    "1.2": ["Needs assessment covers:"],
    "2": ["Commissioning plan covers:"],
    "8.1": ["Information sharing agreement/ protocol covering:"],
}


def items(matrix):
    return [(sub.code, item) for _, _, sub in matrix.sub_elements() for item in sub.supporting_information]


def test_every_tickable_item_has_a_stable_id_in_document_order(matrix):
    ids = [item.id for _, item in items(matrix) if not item.heading]
    assert len(ids) == len(set(ids))
    for _, _, sub in matrix.sub_elements():
        numbered = [item.id for item in sub.supporting_information if not item.heading]
        assert numbered == [f"{sub.code}-s{n:02d}" for n in range(1, len(numbered) + 1)], sub.code


def test_ids_are_written_in_the_file_not_computed(matrix):
    text = MATRIX_FILE.read_text(encoding="utf-8")
    written = re.findall(r'^\s*- id: "(\d+(?:\.\d+)?-s\d\d)"$', text, flags=re.M)
    assert written == [item.id for _, item in items(matrix) if not item.heading]


def test_headings_are_not_tickable(matrix):
    found: dict[str, list[str]] = {}
    for code, item in items(matrix):
        if item.heading:
            assert item.id is None
            found.setdefault(code, []).append(item.text)
    assert found == HEADINGS
    # every heading introduces bullet items, which are tickable
    for _, _, sub in matrix.sub_elements():
        for i, item in enumerate(sub.supporting_information):
            if item.heading:
                after = sub.supporting_information[i + 1]
                assert after.text.startswith("• ") and not after.heading, sub.code


# How the seed was read (000, the criteria pages 1.1 to 10.2). Where the supporting information stands in a side
# column beside the criteria (2, 3, 4, 5, 7.1, 7.3, 8.1, 9.1), each item is on the extracted line of a criterion row
# or on a continuation line after it; a level label holds from its row until the next label (the reading notes), so
# an item takes the level of the row it is on or last followed; the 'Supporting information' header line itself is
# beside the first Basic or Early row, so no item is at Basic level ("examples of supporting information for progress
# levels from 'early' to 'mature'", the introduction says). Shifted cells (2k, 8.2c/d, 9.1d/e/f) keep the level of
# their criterion. Where the checklist is one block (an HTML table in the Basic row's cell, then the same list after
# the criteria: 1.1, 1.2, 6.1, 6.2, 7.2, 8.2, 9.2, 10.1, 10.2), the text does not show a level: none is given.
# Per sub-element: tickable items, and the level of every line in document order (headings included):
# B/E/S/M = Basic level/Early progress/Substantial progress/Mature, '-' = none. Duplicates are kept.
# Doubtful, as the text shows it: in 5 the EIF's own example ("only tick the supporting information box for 5d if …
# your staff and stakeholder feedback …") suggests a 'Staff & stakeholder feedback' at Substantial progress, but
# the three in the extraction stand beside 5b (Early) and 5e and after (Mature); in 9.1 'Valid and reliable
# measurement tools' and 'Data is routinely collected and reported' stand beside 9.1f (Mature), although they echo
# 9.1e (Substantial).
SUPPORTING_LEVELS = {
    "1.1": (17, "------------------"),
    "1.2": (10, "-----------"),
    "2": (18, "EESSSSMMMMMMMMMMMMM"),
    "3": (12, "EESSSSMMMMMM"),
    "4": (9, "EESSSSSMM"),
    "5": (9, "EESSMMMMM"),
    "6.1": (6, "------"),
    "6.2": (8, "--------"),
    "7.1": (18, "EEESSSSSMMMMMMMMMM"),
    "7.2": (7, "-------"),
    "7.3": (16, "EEESSSSSMMMMMMMM"),
    "8.1": (7, "EEEESSMM"),
    "8.2": (11, "-----------"),
    "9.1": (12, "ESSSMMMMMMMM"),
    "9.2": (12, "------------"),
    "10.1": (5, "-----"),
    "10.2": (7, "-------"),
}
LEVEL_LETTER = {None: "-", "Basic level": "B", "Early progress": "E", "Substantial progress": "S", "Mature": "M"}


def test_supporting_information_levels_as_the_seed_shows_them(matrix):
    found = {
        sub.code: (
            sum(not i.heading for i in sub.supporting_information),
            "".join(LEVEL_LETTER[i.level] for i in sub.supporting_information),
        )
        for _, _, sub in matrix.sub_elements()
    }
    assert found == SUPPORTING_LEVELS


def test_supporting_items_beside_a_criterion_row(matrix):
    # spot checks, line by line against the seed
    def level_of(code: str, text: str, nth: int = 0) -> str | None:
        return [i.level for i in matrix.sub_element(code).supporting_information if i.text == text][nth]

    assert level_of("2", "Set out in commissioning plan(s)") == "Substantial progress"  # beside 2h
    assert level_of("2", "Set out in commissioning plan(s)", 1) == "Mature"  # beside 2i
    assert level_of("2", "• health visiting") == "Mature"  # beside 2k, its label shifted
    assert level_of("4", "Terms of Reference") == level_of("4", "Terms of Reference", 1) == "Substantial progress"
    assert level_of("8.1", "• Midwifery") == "Early progress"
    assert level_of("9.1", "Timescale for development") == "Substantial progress"  # beside 9.1d
    assert level_of("9.1", "Scorecard") == "Mature"


SMALL = """\
kind: matrix
id: tiny-items
title: "Tiny"
edition: "test"
version: "1"
source: "test"
levels:
  - name: "Basic level"
    meaning: "b"
  - name: "Mature"
    meaning: "m"
dimensions:
  - name: "PLAN"
    elements:
      - number: 1
        name: "Strategy"
        focus: "This element focuses on x."
        criteria:
          - code: "1a"
            level: "Basic level"
            text: "First."
        supporting_information:
          - text: "Plan covers:"
            heading: true
          - id: "1-s01"
            text: "• a"
          - id: "1-s02"
            text: "• b"
"""


def problems(tmp_path: Path, text: str) -> tuple[Path, list[str]]:
    path = tmp_path / "m.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DefinitionError) as info:
        load_file(path)
    return path, info.value.problems


def test_the_small_matrix_loads(tmp_path):
    path = tmp_path / "m.yaml"
    path.write_text(SMALL, encoding="utf-8")
    sub = load_file(path).sub_element("1")
    assert [(i.id, i.heading) for i in sub.supporting_information] == [(None, True), ("1-s01", False), ("1-s02", False)]


def test_an_item_without_an_id(tmp_path):
    path, found = problems(
        tmp_path, SMALL.replace('          - id: "1-s02"\n            text: "• b"', '          - text: "• b"')
    )
    assert found == [
        f"{path}:27: dimensions[0].elements[0].supporting_information[2].id: a supporting-information "
        "item needs an id (e.g. '1.1-s01'); only a line with 'heading: true' has none"
    ]


def test_a_heading_with_an_id(tmp_path):
    path, found = problems(
        tmp_path,
        SMALL.replace(
            '          - text: "Plan covers:"\n', '          - id: "1-s09"\n            text: "Plan covers:"\n'
        ),
    )
    assert found == [
        f"{path}:23: dimensions[0].elements[0].supporting_information[0].id: a heading is not ticked and has no id"
    ]


def test_a_repeated_item_id(tmp_path):
    path, found = problems(tmp_path, SMALL.replace('id: "1-s02"', 'id: "1-s01"'))
    assert found == [
        f"{path}:27: dimensions[0].elements[0].supporting_information[2].id: "
        "duplicate supporting-information id '1-s01' (also line 25)"
    ]


def test_an_item_id_of_another_sub_element(tmp_path):
    path, found = problems(tmp_path, SMALL.replace('id: "1-s02"', 'id: "2-s02"'))
    assert found == [
        f"{path}:27: dimensions[0].elements[0].supporting_information[2].id: supporting-information "
        "id '2-s02' must start with the sub-element code: '1-s01', '1-s02'…"
    ]


# --- the matrix's own words around the criteria ---------------------------------------------------------------

MATRIX_SEED = Path("/work/shared/seeds/000_9f7d155af84321e2.txt")


@pytest.fixture(scope="module")
def matrix_seed_lines() -> list[str]:
    """Seed 000's lines, a list item's '- ' and the bold '**' markup removed (formatting, not words)."""
    if not MATRIX_SEED.exists():
        pytest.skip(f"source document not available: {MATRIX_SEED}")
    lines = MATRIX_SEED.read_text(encoding="utf-8").split("\n")
    return [line.removeprefix("- ").replace("**", "").strip() for line in lines]


def test_guidance_is_the_seeds_using_the_matrix_page_verbatim(matrix, matrix_seed_lines):
    assert [s.title for s in matrix.guidance] == ["Using the matrix", "Early childhood services"]
    for section in matrix.guidance:
        start = matrix_seed_lines.index(section.title)
        body = [line for line in matrix_seed_lines[start + 1 : start + 30] if line]
        # each section is the seed's paragraphs under its heading, whole and in order
        assert [p.text for p in section.paragraphs] == body[: len(section.paragraphs)]
    bullets = [p.text.split(":")[0] for p in matrix.guidance[0].paragraphs if p.bullet]
    assert bullets == ["Group discussion", "Individual assessment"]
    assert sum(p.bullet for p in matrix.guidance[1].paragraphs) == 5


def test_how_to_use_is_verbatim_and_keeps_the_opposite_page(matrix, matrix_seed_lines):
    assert len(matrix.how_to_use) == 6
    for step in matrix.how_to_use:
        assert step in matrix_seed_lines
    assert "that's fine, just make a note on the opposite page." in matrix.how_to_use[0]


def test_dimension_descriptions(matrix, matrix_seed_lines):
    # "… effective arrangements for strategy and planning, leading change, delivering effective support, and
    # evaluating progress. These four dimensions (PLAN, LEAD, DELIVER, EVALUATE) form the structure of the matrix."
    assert [(d.name, d.description) for d in matrix.dimensions] == [
        ("PLAN", "strategy and planning"),
        ("LEAD", "leading change"),
        ("DELIVER", "delivering effective support"),
        ("EVALUATE", "evaluating progress"),
    ]
    sentence = next(line for line in matrix_seed_lines if "These four dimensions" in line)
    assert (
        "effective arrangements for strategy and planning, leading change, delivering effective support, "
        "and evaluating progress. These four dimensions (PLAN, LEAD, DELIVER, EVALUATE)"
    ) in sentence


# --- the Staffordshire indicator set (seed 004) -----------------------------------------------------------------

# Every indicator has a direction read from its wording; all not listed here are "higher" (a % achieving, taking up,
# satisfied; "Increase…", "Improving…"; "% reduction of referrals" measures the reduction itself).
# "lower": the wording reduces the thing counted ("Reducing…", "Reduction in…", "Fewer…", "Decrease in…") or counts
# something bad (out-of-work households, admissions, mortality, smoking in pregnancy, children at risk or overweight).
LOWER = {
    "cp2a-1-po3",
    "cp2a-1-po4",
    "cp2a-1-po5",
    "cp2a-1-po6",
    "cp2a-2-po2",
    "cp2a-2-po3",
    "cp2a-2-po4",
    "cp2a-2-po5",
    "cp2a-2-sp5",
    "cp2b-1-po1",
    "cp2b-2-po2",
    "cp2b-2-po3",
    "cp2b-2-po4",
    "cp2b-2-po5",
    "cp2b-2-po6",
    "cp2b-2-po7",
    "cp2b-2-po8",
    "cp2b-3-po9",
    "cp2b-3-po10",
    "cp2b-3-po11",
    "cp2b-3-po15",
    "cp2b-3-po17",
    "cp2b-3-po18",
    "cp2b-3-po19",
    "cp2b-3-po22",
    "cp2b-3-po23",
    "cp2b-3-po28",
    "cp2b-3-po29",
    "cp2b-3-po33",
    "cp2b-3-po34",
    "cp2b-3-po36",
    "cp2b-3-po37",
    "cp2b-3-po38",
    "cp2b-3-po39",
    "cp2b-3-po43",
    "cp2b-3-sp7",
    "cp2b-4-po1",
    "cp4-1-po4",
    "cp4-1-po5",
}
# "none": the wording does not say which way is better: narrative aims and statements ("To develop…", "Case
# studies…", "… is graded Good or Outstanding"), "currently being decided" / "to be agreed", the six High Impact
# Areas (topics), and volumes that could rise for good or bad reasons (children accessing emotional health services,
# number of looked after children or on a safeguarding plan, adoptions, personal health budgets, referrals received,
# service users accessing further support after case closure, clients whose children are deemed at risk).
NONE = {
    "cp2a-1-sp4",
    "cp2a-2-sp4",
    "cp2b-1-po2",
    "cp2b-1-po3",
    "cp2b-1-po4",
    "cp2b-1-po5",
    "cp2b-1-po6",
    "cp2b-1-sp6",
    "cp2b-2-sp3",
    "cp2b-2-sp4",
    "cp2b-2-sp5",
    "cp2b-2-sp8",
    "cp2b-2-sp10",
    "cp2b-3-po1",
    "cp2b-3-po2",
    "cp2b-3-po3",
    "cp2b-3-po4",
    "cp2b-3-po5",
    "cp2b-3-po6",
    "cp2b-3-po7",
    "cp2b-3-po21",
    "cp2b-3-sp1",
    "cp2b-4-sp2",
    "cp2b-5-po1",
    "cp2b-5-sp1",
    "cp3-1-sp1",
    "cp3-1-sp3",
    "cp3-1-sp4",
    "cp3-1-sp5",
    "cp4-1-po2",
    "cp4-1-sp9",
}


def test_every_indicator_has_the_direction_its_wording_gives(indicator_set):
    found = {ind.id: ind.direction for _, _, ind in indicator_set.indicators()}
    assert len(found) == 172
    assert {i for i, d in found.items() if d == "lower"} == LOWER
    assert {i for i, d in found.items() if d == "none"} == NONE
    assert found["cp4-1-sp4"] == "higher"  # "% reduction of referrals into the public sector"
    text = {ind.id: ind.text for _, _, ind in indicator_set.indicators()}
    assert all(found[i] == "lower" for i in text if text[i].startswith(("Reducing", "Reduction", "Fewer")))
    assert all(found[i] == "higher" for i in text if text[i].startswith(("Increase", "Improving", "Improved")))
    assert all(found[i] == "none" for i in text if "currently being decided" in text[i])


# cp2b-3's population outcome column, as the seed prints it: a first line, then four headed lists. The screening list
# is read as its three "Reducing…" lines; the weight and activity indicators after it belong to the prevention
# programmes, not to screening, and have no heading. FNP's three "○" aims are nested under "Reduction in second
# pregnancies for first time teenage parents".
CP2B3_GROUPS = {
    None: ["po1", "po39", "po40", "po41", "po42", "po43"],
    "Outcomes include: 6 High Impact Areas:": [f"po{n}" for n in range(2, 8)],
    "Public Health Outcomes:": [f"po{n}" for n in range(8, 23)],
    "Family Nurse Partnership:": [f"po{n}" for n in range(23, 36)],
    "Screening programmes (as above and):": ["po36", "po37", "po38"],
}


def test_cp2b3_groups_as_the_seed_shows_them(indicator_set, indicators_seed):
    (it,) = [it for cp in indicator_set.core_purposes for it in cp.intentions if it.id == "cp2b-3"]
    groups: dict = {}
    for ind in it.indicators:
        if ind.kind == "population-outcome":
            groups.setdefault(ind.group, []).append(ind.id.removeprefix("cp2b-3-"))
        else:
            assert ind.group is None and ind.parent is None
    assert groups == CP2B3_GROUPS
    for heading in CP2B3_GROUPS:
        assert heading is None or heading in indicators_seed
    assert {ind.id: ind.parent for ind in it.indicators if ind.parent} == {
        "cp2b-3-po24": "cp2b-3-po23",
        "cp2b-3-po25": "cp2b-3-po23",
        "cp2b-3-po26": "cp2b-3-po23",
    }
    # no other intention has groups
    others = [ind for cp, i, ind in indicator_set.indicators() if i.id != "cp2b-3"]
    assert all(ind.group is None and ind.parent is None for ind in others)


def test_a_note_in_the_lead_commissioner_column_is_a_note(indicator_set, indicators_seed):
    intentions = {it.id: it for cp in indicator_set.core_purposes for it in cp.intentions}
    cp2b2 = intentions["cp2b-2"]
    assert cp2b2.lead_commissioners == (
        "Anna Hammond, Clinical Commissioning Group (CCG) Lead (South)",
        "Denise Tolson, County Commissioner for Children's Care, SCC",
        "Marcus Warnes, Clinical Commissioning Group (CCG) Lead (North)",
    )
    assert cp2b2.lead_commissioners_note == (
        "(North Staffordshire CCG and the integrated children's commissioning team (South Staffordshire CCGs and SCC))"
    )
    # split by a page break in the seed, after "commissioning"
    assert "(North Staffordshire CCG and the integrated children's commissioning" in indicators_seed
    assert "team (South Staffordshire CCGs and SCC))" in indicators_seed
    assert [i for i, it in intentions.items() if it.lead_commissioners_note] == ["cp2b-2"]
    assert not any(name.startswith("(") for it in intentions.values() for name in it.lead_commissioners)


GROUPED = """\
kind: indicators
id: tiny-groups
title: "Tiny"
outcome: "Better"
version: "1"
source: "test"
core_purposes:
  - id: "cp1"
    name: "First"
    intentions:
      - id: "cp1-1"
        commissioned: "Something"
        target_population: "Everyone"
        lead_commissioners: ["A Person"]
        indicators:
          - {id: "po1", kind: "population-outcome", text: "Reducing a", unit: "number", direction: "lower", group: "G:"}
          - {id: "po2", kind: "population-outcome", text: "b", unit: "text", direction: "none", group: "G:",
             parent: "po1"}
          - {id: "po3", kind: "population-outcome", text: "c", unit: "text", direction: "none"}
"""


def test_a_small_grouped_set_loads(tmp_path):
    path = tmp_path / "i.yaml"
    path.write_text(GROUPED, encoding="utf-8")
    inds = [ind for _, _, ind in load_file(path).indicators()]
    assert [(i.group, i.parent, i.direction) for i in inds] == [
        ("G:", None, "lower"),
        ("G:", "po1", "none"),
        (None, None, "none"),
    ]


@pytest.mark.parametrize(
    ("old", "new", "line", "field", "message"),
    [
        ('direction: "lower", ', "", 16, "direction", "required field is missing"),
        (
            'direction: "lower"',
            'direction: "decrease"',
            16,
            "direction",
            "'decrease': Input should be 'higher', 'lower' or 'none'",
        ),
        ('parent: "po1"', 'parent: "po3"', 18, "parent", "'po3' is not an earlier indicator of this intention"),
        (
            'text: "c", unit: "text", direction: "none"}',
            'text: "c", unit: "text", direction: "none", group: "G:", parent: "po2"}',
            19,
            "parent",
            "'po2' is itself a sub-item (one level only)",
        ),
    ],
)
def test_indicator_rules(tmp_path, old, new, line, field, message):
    text = GROUPED.replace(old, new, 1)
    assert text != GROUPED
    path, found = problems(tmp_path, text)
    index = {16: 0, 18: 1, 19: 2}[line]  # a flow mapping's fields are on its line (po2's parent on the next)
    assert found == [f"{path}:{line}: core_purposes[0].intentions[0].indicators[{index}].{field}: {message}"]


def test_a_split_group(tmp_path):
    text = GROUPED.replace('direction: "none"}', 'direction: "none", group: "G:"}').replace(
        'group: "G:",\n             parent: "po1"}', 'group: "H:"}'
    )
    path, found = problems(tmp_path, text)
    assert found == [
        f"{path}:18: core_purposes[0].intentions[0].indicators[2].group: "
        "group 'G:' is split: its indicators must be consecutive"
    ]


def test_supporting_items_and_lookup_by_id(matrix):
    sub = matrix.sub_element("1.2")
    assert len(sub.supporting_information) == 11 and len(sub.supporting_items) == 10
    assert "Needs assessment covers:" not in [i.text for i in sub.supporting_items]
    found_sub, item = matrix.supporting_item("1.2-s04")
    assert found_sub.code == "1.2" and item.text == "• key lifecourse points"
    # the same wording five times in one sub-element: five items, five ids
    assert [i.id for i in matrix.sub_element("9.2").supporting_items if i.text == "Service user feedback"] == [
        "9.2-s01",
        "9.2-s02",
        "9.2-s04",
        "9.2-s06",
        "9.2-s10",
    ]
    assert matrix.supporting_item("2-s01")[0].code == "2"  # an element assessed as itself
    with pytest.raises(KeyError):
        matrix.supporting_item("1.2-s99")
