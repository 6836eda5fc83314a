"""The built-in definitions against their source documents, and the rules every definition must follow."""

from __future__ import annotations

import html
import re
from collections import Counter
from pathlib import Path

import pytest

from eif_xlsx.domain.catalog import Catalog, builtin_dir, load_file
from eif_xlsx.domain.model import IndicatorSet, Matrix
from eif_xlsx.errors import DefinitionError

SEEDS = Path("/work/shared/seeds")
MATRIX_SEED = SEEDS / "000_9f7d155af84321e2.txt"
INDICATORS_SEED = SEEDS / "004_1500a9b8b2d4d9c8.txt"
LEVELS = ("Basic level", "Early progress", "Substantial progress", "Mature")
LEVEL_LIST = "Basic level, Early progress, Substantial progress, Mature"

SUB_CODES = [
    "1.1",
    "1.2",
    "2",
    "3",
    "4",
    "5",
    "6.1",
    "6.2",
    "7.1",
    "7.2",
    "7.3",
    "8.1",
    "8.2",
    "9.1",
    "9.2",
    "10.1",
    "10.2",
]
CRITERIA_PER_SUB = {
    "1.1": 8,
    "1.2": 5,
    "2": 11,
    "3": 10,
    "4": 7,
    "5": 5,
    "6.1": 5,
    "6.2": 8,
    "7.1": 11,
    "7.2": 5,
    "7.3": 11,
    "8.1": 6,
    "8.2": 5,
    "9.1": 8,
    "9.2": 7,
    "10.1": 4,
    "10.2": 7,
}
CRITERIA_PER_LEVEL = {"Basic level": 18, "Early progress": 28, "Substantial progress": 46, "Mature": 31}


def collapse(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture(scope="module")
def matrix_seed() -> str:
    if not MATRIX_SEED.exists():
        pytest.skip(f"source document not available: {MATRIX_SEED}")
    return MATRIX_SEED.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def indicators_seed() -> str:
    if not INDICATORS_SEED.exists():
        pytest.skip(f"source document not available: {INDICATORS_SEED}")
    raw = INDICATORS_SEED.read_text(encoding="utf-8")
    return collapse(re.sub(r"<[^>]+>", " ", raw).replace("&amp;", "&"))


def criteria_by_code(matrix: Matrix) -> dict:
    return {c.code: c for _, _, sub in matrix.sub_elements() for c in sub.criteria}


# --- the maturity matrix, against the source --------------------------------------------------------


def test_builtin_definitions_load_without_problems():
    cat = Catalog()
    assert cat.problems == []
    assert set(cat.entries) == {"maternity-early-years", "staffordshire-best-start"}
    assert all(e.builtin for e in cat.entries.values())
    assert {p.name for p in builtin_dir().glob("*.yaml")} == {
        "maternity-early-years.yaml",
        "staffordshire-best-start.yaml",
    }


def test_matrix_header(matrix):
    assert isinstance(matrix, Matrix)
    assert matrix.kind == "matrix"
    assert matrix.title == "Maternity & early years"
    assert matrix.level_names == LEVELS
    assert matrix.timescale_names == ("Short", "Medium", "Long")
    assert [lv.meaning for lv in matrix.levels] == [
        "Principle accepted and commitment to action",
        "Initial development",
        "Initial results achieved and positive outcomes evident",
        "Embedded good practice, others learning from achievements",
    ]


def test_dimensions_elements_and_sub_elements(matrix):
    assert [d.name for d in matrix.dimensions] == ["PLAN", "LEAD", "DELIVER", "EVALUATE"]
    elements = [el for d in matrix.dimensions for el in d.elements]
    assert [el.number for el in elements] == list(range(1, 11))
    assert [el.name for el in elements] == [
        "Strategy",
        "Commissioning",
        "Workforce planning",
        "Partnership",
        "Leadership",
        "Community ownership",
        "Services & interventions",
        "Information sharing",
        "Outcomes",
        "Using & generating evidence",
    ]
    per_dimension = {d.name: [el.number for el in d.elements] for d in matrix.dimensions}
    assert per_dimension == {"PLAN": [1, 2, 3], "LEAD": [4, 5, 6], "DELIVER": [7, 8], "EVALUATE": [9, 10]}
    assert [sub.code for _, _, sub in matrix.sub_elements()] == SUB_CODES
    assert [el.number for el in elements if el.has_own_criteria] == [2, 3, 4, 5]


def test_sub_element_names(matrix):
    names = {sub.code: sub.name for _, _, sub in matrix.sub_elements()}
    assert names["1.1"] == "Vision, strategy & plan"
    assert names["1.2"] == "Population needs"
    assert names["7.2"] == "Evidence-based programmes / interventions"
    assert names["10.2"] == "Local evaluation"
    # an element assessed as itself takes the element's name
    assert names["5"] == "Leadership"


def test_criteria_counts(matrix):
    per_sub = {sub.code: len(sub.criteria) for _, _, sub in matrix.sub_elements()}
    assert per_sub == CRITERIA_PER_SUB
    levels = Counter(c.level for _, _, sub in matrix.sub_elements() for c in sub.criteria)
    assert dict(levels) == CRITERIA_PER_LEVEL
    assert sum(per_sub.values()) == 123
    assert len(criteria_by_code(matrix)) == 123


def test_criterion_codes_are_letters_in_order(matrix):
    for _, _, sub in matrix.sub_elements():
        letters = [c.code[len(sub.code) :] for c in sub.criteria]
        assert all(c.code.startswith(sub.code) for c in sub.criteria)
        assert letters == [chr(ord("a") + i) for i in range(len(letters))], sub.code
        ranks = [LEVELS.index(c.level) for c in sub.criteria]
        assert ranks == sorted(ranks), sub.code
        assert ranks[0] == 0, f"{sub.code} starts at the basic level"


# codes the PDF extraction moved one cell sideways (see the seeds README)
SHIFTED_IN_SOURCE = {"2k", "8.2c", "8.2d", "9.1d", "9.1e"}

SPOT_CHECKS = [
    ("1.1b", "Early progress", "Local multi-agency strategy for maternity and early years is in development"),
    (
        "2k",
        "Mature",
        "All decisions about commissioning or redesigning early childhood services take account of "
        "strength of evidence.",
    ),
    (
        "3e",
        "Substantial progress",
        "Workforce needs are analysed and understood. Capacity gaps are addressed "
        "through staff training, service redesign or recruitment, taking account of the wider maternity and early "
        "years system rather than just focusing on individual agencies.",
    ),
    (
        "5c",
        "Substantial progress",
        "Operational and strategic leaders consistently champion the importance of "
        "investment in maternity and the early years, and the benefits of a more joined-up approach.",
    ),
    (
        "6.2e",
        "Substantial progress",
        "Families are actively supported to develop the experience and skills needed "
        "for community leadership roles, and funded for their time.",
    ),
    (
        "7.1f",
        "Substantial progress",
        "Universal services use valid and reliable tools to assess whole cohorts of "
        "children so that they can target light-touch support or identify needs which require specialist support. "
        "Specialists provide modelling, coaching and support for staff in universal settings.",
    ),
    (
        "8.2d",
        "Substantial progress",
        "Services work together to devise innovative ways of reaching families that "
        "have been identified as priority groups, including those with protected characteristics, disadvantaged "
        "families and those whose first language is not English.",
    ),
    (
        "9.1e",
        "Substantial progress",
        "Data from valid and reliable measurement tools on key outcomes measures are routinely collected and reported.",
    ),
    (
        "10.2g",
        "Mature",
        "The local evidence base is growing and informs future service and strategy development. "
        "Other places use the learning to support their own decisions about planning and commissioning.",
    ),
]


@pytest.mark.parametrize(("code", "level", "text"), SPOT_CHECKS, ids=[s[0] for s in SPOT_CHECKS])
def test_criterion_spot_check(matrix, matrix_seed, code, level, text):
    crit = criteria_by_code(matrix)[code]
    assert crit.text == text
    assert crit.level == level
    assert collapse(crit.text) in collapse(matrix_seed)
    if code not in SHIFTED_IN_SOURCE:
        # the seed has the code and the text side by side in one row
        assert re.search(rf"\t{re.escape(code)}\t{re.escape(text)}", matrix_seed)


def test_every_criterion_text_is_in_the_source(matrix, matrix_seed):
    seed = collapse(matrix_seed)
    missing = [c.code for c in criteria_by_code(matrix).values() if collapse(c.text) not in seed]
    assert missing == []
    assert all(c.text == c.text.strip() and "\n" not in c.text for c in criteria_by_code(matrix).values())


def _example_leadership_page(seed: str) -> dict[str, str]:
    """The criteria of the illustrated (older) 5 Leadership page under 'How to use the matrix'."""
    start = seed.index("How to use the matrix")
    end = seed.index("This section is new", start)
    rows = re.findall(r"^[^\t\n]*\t(5[a-e])\t([^\t\n]+?)\s*\t<input", seed[start:end], flags=re.M)
    return dict(rows)


def test_real_leadership_page_not_the_example(matrix, matrix_seed):
    example = _example_leadership_page(matrix_seed)
    assert sorted(example) == ["5a", "5b", "5c", "5d", "5e"]
    assert (
        example["5a"] == "A more joined up approach to maternity and early years is championed by some local advocates."
    )
    assert example["5b"].startswith("Some senior leaders give a consistent message")

    leadership = matrix.sub_element("5")
    texts = {c.text for _, _, sub in matrix.sub_elements() for c in sub.criteria}
    # the example's 5d happens to be worded as on the real page; every other example row differs
    differing = {code: t for code, t in example.items() if code != "5d"}
    assert len(differing) == 4
    for code, old in differing.items():
        assert old not in texts, f"example-page wording of {code} was transcribed"
        assert collapse(old) not in {collapse(t) for t in texts}
    assert [(c.code, c.level) for c in leadership.criteria] == [
        ("5a", "Basic level"),
        ("5b", "Early progress"),
        ("5c", "Substantial progress"),
        ("5d", "Substantial progress"),
        ("5e", "Mature"),
    ]
    assert leadership.criteria[0].text == (
        "A more joined-up approach to maternity and early years is championed by some local advocates."
    )
    assert leadership.criteria[3].text == example["5d"]
    # the real page's focus, not the example's ("... across the community and local organisations")
    element5 = matrix.dimensions[1].elements[1]
    assert element5.number == 5
    assert "across the community" not in element5.focus
    assert element5.focus.endswith("how leadership is distributed across local organisations.")


def test_every_element_has_its_focus_paragraph(matrix, matrix_seed):
    seed = collapse(matrix_seed)
    for dim in matrix.dimensions:
        for el in dim.elements:
            assert el.focus.startswith("This element focuses on"), el.number
            assert collapse(el.focus) in seed, el.number
    focuses = [el.focus for d in matrix.dimensions for el in d.elements]
    assert len(set(focuses)) == 10


def test_supporting_information_for_every_sub_element(matrix, matrix_seed):
    seed = collapse(matrix_seed)
    for _, _, sub in matrix.sub_elements():
        assert len(sub.supporting_information) > 0, sub.code
        for item in sub.supporting_information:
            assert item.text.strip(), sub.code
            assert item.level is None or item.level in LEVELS
            # verbatim, except the extraction's 'S<' for 'S&LT'
            assert collapse(item.text).replace("S&LT", "S<") in seed, (sub.code, item.text)
    # duplicates are kept: 5's checklist repeats items across levels
    leadership = [i.text for i in matrix.sub_element("5").supporting_information]
    assert leadership.count("Staff & stakeholder feedback") == 3


def test_ticks_in_the_source_are_not_data(matrix):
    # the example tick marks and checkbox markers must not leak into any text
    for _, _, sub in matrix.sub_elements():
        for text in [c.text for c in sub.criteria] + [i.text for i in sub.supporting_information]:
            assert "<input" not in text and "✓" not in text and "checkbox" not in text


# --- the indicator set, against the source ----------------------------------------------------------


def test_indicator_set_structure(indicator_set):
    assert isinstance(indicator_set, IndicatorSet)
    assert indicator_set.kind == "indicators"
    assert indicator_set.outcome == "To ensure the best start in life for all children in Staffordshire"
    ids = [cp.id for cp in indicator_set.core_purposes]
    assert len(ids) == len(set(ids)) == 5
    numbers = [cp.number for cp in indicator_set.core_purposes]
    assert numbers.count("2.") == 2
    assert numbers == ["1.", "2.", "2.", "3.", "4."]
    twos = [cp for cp in indicator_set.core_purposes if cp.number == "2."]
    assert twos[0].id != twos[1].id and twos[0].name != twos[1].name
    assert all(cp.title.startswith(cp.number + " ") for cp in indicator_set.core_purposes)
    intentions = [it for cp in indicator_set.core_purposes for it in cp.intentions]
    assert len(intentions) == 13
    assert len({it.id for it in intentions}) == 13
    assert all(it.lead_commissioners for it in intentions)


def test_indicator_ids_kinds_and_units(indicator_set):
    indicators = [ind for _, _, ind in indicator_set.indicators()]
    assert len(indicators) > 100
    ids = [ind.id for ind in indicators]
    assert len(ids) == len(set(ids))
    every_id = (
        ids
        + [cp.id for cp in indicator_set.core_purposes]
        + [it.id for cp in indicator_set.core_purposes for it in cp.intentions]
    )
    assert len(every_id) == len(set(every_id))
    assert {ind.kind for ind in indicators} == {"population-outcome", "service-performance"}
    assert {ind.unit for ind in indicators} <= {"percentage", "count", "rate", "number", "text"}
    assert {ind.direction for ind in indicators} == {"higher", "lower", "none"}
    for ind in indicators:
        assert ind.text.strip() == ind.text and ind.text


INDICATOR_SPOT_CHECKS = [
    (
        "cp1-4-sp1",
        "service-performance",
        "% of settings showing an increased competence / confidence in supporting children's learning & development (EYFS)",
    ),
    ("cp2a-2-po3", "population-outcome", "Rate of hospital admissions for under 5's"),
    ("cp2b-2-po6", "population-outcome", "Accident & emergency attendance rates for under 5's"),
    (
        "cp3-1-sp2",
        "service-performance",
        "Data shows that the cluster is engaging with a good proportion (51% to 64% is deemed Good, 65% or above is "
        "deemed Outstanding) of the families in its reach / catchment area, particularly from target groups "
        "(generated by inputting into a data management system).",
    ),
    (
        "cp4-1-po3",
        "population-outcome",
        "Improved access to lifestyle support to meet single or multiple needs or clients with both single and "
        "multiple lifestyle risk factors",
    ),
]


@pytest.mark.parametrize(("ident", "kind", "text"), INDICATOR_SPOT_CHECKS, ids=[s[0] for s in INDICATOR_SPOT_CHECKS])
def test_indicator_spot_check(indicator_set, indicators_seed, ident, kind, text):
    found = {ind.id: ind for _, _, ind in indicator_set.indicators()}[ident]
    assert found.kind == kind
    assert found.text == text
    assert collapse(found.text) in indicators_seed


def test_indicator_seed_normalisation_is_meaningful(indicators_seed):
    # guard the helper: tags gone, entities decoded, so a miss above is a real transcription difference
    assert "<p>" not in indicators_seed and "&amp;" not in indicators_seed
    assert "Stay & Play" in indicators_seed
    assert html.unescape("&amp;") == "&"


# --- rules: small definitions written to tmp_path ----------------------------------------------------


MATRIX_YAML = """\
kind: matrix
id: tiny
title: "Tiny"
edition: "test"
version: "1"
source: "test"
levels:
  - name: "Basic level"
    meaning: "b"
  - name: "Early progress"
    meaning: "e"
  - name: "Substantial progress"
    meaning: "s"
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
          - code: "1b"
            level: "Early progress"
            text: "Second."
"""
# line numbers in MATRIX_YAML
L_ELEMENT_FOCUS, L_CRIT1_CODE, L_CRIT1_LEVEL = 21, 26, 27

SUB_ELEMENT_YAML = """\
kind: matrix
id: tiny-sub
title: "Tiny with sub-elements"
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
        sub_elements:
          - code: "1.1"
            name: "Vision"
            criteria:
              - code: "1.1a"
                level: "Basic level"
                text: "First."
              - code: "1.1b"
                level: "Mature"
                text: "Second."
            supporting_information:
              - id: "1.1-s01"
                text: "Minutes"
                level: "Mature"
          - code: "1.2"
            name: "Needs"
            criteria:
              - code: "1.2a"
                level: "Basic level"
                text: "Third."
"""

INDICATORS_YAML = """\
kind: indicators
id: tiny-set
title: "Tiny set"
outcome: "Better"
version: "1"
source: "test"
core_purposes:
  - id: "cp1"
    number: "1."
    name: "First"
    intentions:
      - id: "cp1-1"
        commissioned: "Something"
        target_population: "Everyone"
        lead_commissioners:
          - "A Person"
        indicators:
          - id: "cp1-1-po1"
            kind: "population-outcome"
            text: "% of things"
            unit: "percentage"
            direction: "higher"
          - id: "cp1-1-sp1"
            kind: "service-performance"
            text: "Number of things"
            unit: "count"
            direction: "none"
"""


def write(tmp_path: Path, text: str, name: str = "def.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def problems_of(path: Path) -> list[str]:
    with pytest.raises(DefinitionError) as info:
        load_file(path)
    assert str(info.value) == "\n".join(info.value.problems)
    return info.value.problems


def replace_once(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, old
    return text.replace(old, new)


def test_the_small_definitions_are_valid(tmp_path):
    m = load_file(write(tmp_path, MATRIX_YAML, "m.yaml"))
    s = load_file(write(tmp_path, SUB_ELEMENT_YAML, "s.yaml"))
    i = load_file(write(tmp_path, INDICATORS_YAML, "i.yaml"))
    assert (m.id, s.id, i.id) == ("tiny", "tiny-sub", "tiny-set")
    assert [sub.code for _, _, sub in s.sub_elements()] == ["1.1", "1.2"]
    assert s.sub_element("1.1").supporting_information[0].level == "Mature"
    assert len(i.indicators()) == 2


def test_unknown_key(tmp_path):
    text = replace_once(
        MATRIX_YAML,
        '        focus: "This element focuses on x."\n',
        '        focus: "This element focuses on x."\n        colour: "red"\n',
    )
    path = write(tmp_path, text)
    assert problems_of(path) == [f"{path}:{L_ELEMENT_FOCUS + 1}: dimensions[0].elements[0].colour: unknown field"]


def test_unknown_top_level_key(tmp_path):
    path = write(tmp_path, MATRIX_YAML + "author: me\n")
    assert problems_of(path) == [f"{path}:29: author: unknown field"]


def test_unknown_level(tmp_path):
    path = write(tmp_path, replace_once(MATRIX_YAML, 'level: "Early progress"', 'level: "Advanced"'))
    assert problems_of(path) == [
        f"{path}:{L_CRIT1_LEVEL}: dimensions[0].elements[0].criteria[1].level: "
        f"'Advanced' is not a progress level ({LEVEL_LIST})"
    ]


def test_unknown_level_in_a_sub_element_and_in_supporting_information(tmp_path):
    text = replace_once(
        SUB_ELEMENT_YAML,
        'level: "Basic level"\n                text: "Third."',
        'level: "Basic"\n                text: "Third."',
    )
    text = replace_once(
        text,
        '                level: "Mature"\n          - code: "1.2"',
        '                level: "Expert"\n          - code: "1.2"',
    )
    path = write(tmp_path, text)
    assert problems_of(path) == [
        f"{path}:31: dimensions[0].elements[0].sub_elements[0].supporting_information[0].level: "
        "'Expert' is not a progress level (Basic level, Mature)",
        f"{path}:36: dimensions[0].elements[0].sub_elements[1].criteria[0].level: "
        "'Basic' is not a progress level (Basic level, Mature)",
    ]


def test_duplicate_criterion_code(tmp_path):
    path = write(tmp_path, replace_once(MATRIX_YAML, 'code: "1b"', 'code: "1a"'))
    assert problems_of(path) == [
        f"{path}:{L_CRIT1_CODE}: dimensions[0].elements[0].criteria[1].code: duplicate criterion code '1a' (also line 23)"
    ]


def test_duplicate_criterion_code_across_sub_elements(tmp_path):
    path = write(tmp_path, replace_once(SUB_ELEMENT_YAML, 'code: "1.2a"', 'code: "1.1a"'))
    # the first rule to fail wins for that criterion: it is a duplicate
    assert problems_of(path) == [
        f"{path}:35: dimensions[0].elements[0].sub_elements[1].criteria[0].code: duplicate criterion code '1.1a' (also line 22)"
    ]


def test_criteria_out_of_level_order(tmp_path):
    path = write(
        tmp_path,
        replace_once(MATRIX_YAML, '"Basic level"\n            text: "First."', '"Mature"\n            text: "First."'),
    )
    assert problems_of(path) == [
        f"{path}:{L_CRIT1_LEVEL}: dimensions[0].elements[0].criteria[1].level: "
        "criteria must be in ascending progress level: 'Early progress' after a higher level"
    ]


def test_criterion_code_not_starting_with_sub_element_code(tmp_path):
    path = write(tmp_path, replace_once(MATRIX_YAML, 'code: "1b"', 'code: "2b"'))
    assert problems_of(path) == [
        f"{path}:{L_CRIT1_CODE}: dimensions[0].elements[0].criteria[1].code: "
        "criterion code '2b' must be the sub-element code '1' followed by a letter"
    ]
    path = write(tmp_path, replace_once(SUB_ELEMENT_YAML, 'code: "1.1b"', 'code: "1.2b"'), "sub.yaml")
    assert problems_of(path) == [
        f"{path}:25: dimensions[0].elements[0].sub_elements[0].criteria[1].code: "
        "criterion code '1.2b' must be the sub-element code '1.1' followed by a letter"
    ]


def test_criterion_letters_out_of_order(tmp_path):
    path = write(tmp_path, replace_once(MATRIX_YAML, 'code: "1a"', 'code: "1c"'))
    assert problems_of(path) == [
        f"{path}:{L_CRIT1_CODE}: dimensions[0].elements[0].criteria[1].code: criterion '1b' is out of order (after '1c')"
    ]


def test_sub_element_of_another_element(tmp_path):
    path = write(tmp_path, replace_once(SUB_ELEMENT_YAML, 'code: "1.2"', 'code: "2.2"'))
    problems = problems_of(path)
    assert problems[0] == (
        f"{path}:32: dimensions[0].elements[0].sub_elements[1].code: sub-element '2.2' does not belong to element 1"
    )


def test_missing_required_field(tmp_path):
    path = write(tmp_path, replace_once(MATRIX_YAML, '            text: "Second."\n', ""))
    assert problems_of(path) == [
        f"{path}:{L_CRIT1_CODE}: dimensions[0].elements[0].criteria[1].text: required field is missing"
    ]
    path = write(tmp_path, replace_once(MATRIX_YAML, 'version: "1"\n', ""), "top.yaml")
    assert problems_of(path) == [f"{path}:1: version: required field is missing"]


def test_element_needs_criteria_or_sub_elements(tmp_path):
    text = MATRIX_YAML.split("        criteria:\n")[0]
    path = write(tmp_path, text)
    assert problems_of(path) == [
        f"{path}:19: dimensions[0].elements[0].criteria: an element needs sub_elements or criteria"
    ]


def test_invalid_yaml_reports_the_line(tmp_path):
    path = write(tmp_path, replace_once(MATRIX_YAML, 'version: "1"', 'version: "1" "2"'))
    problems = problems_of(path)
    assert len(problems) == 1
    assert problems[0].startswith(f"{path}:5: not valid YAML: ")
    path = write(tmp_path, replace_once(MATRIX_YAML, '    meaning: "e"', '\tmeaning: "e"'), "tab.yaml")
    assert problems_of(path) == [f"{path}:11: not valid YAML: found character '\\t' that cannot start any token"]


def test_not_a_mapping(tmp_path):
    path = write(tmp_path, "- just\n- a list\n")
    assert problems_of(path) == [f"{path}:1: a definition must be a mapping with 'kind: matrix' or 'kind: indicators'"]


def test_duplicate_yaml_key(tmp_path):
    path = write(tmp_path, replace_once(MATRIX_YAML, 'title: "Tiny"\n', 'title: "Tiny"\ntitle: "Again"\n'))
    assert problems_of(path) == [f"{path}:4: not valid YAML: duplicate key 'title'"]
    nested = replace_once(
        MATRIX_YAML, '            text: "Second."\n', '            text: "Second."\n            text: "x"\n'
    )
    path = write(tmp_path, nested, "nested.yaml")
    assert problems_of(path) == [f"{path}:29: not valid YAML: duplicate key 'text'"]


def test_duplicate_indicator_id(tmp_path):
    path = write(tmp_path, replace_once(INDICATORS_YAML, 'id: "cp1-1-sp1"', 'id: "cp1-1-po1"'))
    assert problems_of(path) == [
        f"{path}:23: core_purposes[0].intentions[0].indicators[1].id: duplicate id 'cp1-1-po1' (also line 18)"
    ]
    # ids are unique across core purposes, intentions and indicators alike
    path = write(tmp_path, replace_once(INDICATORS_YAML, 'id: "cp1-1-sp1"', 'id: "cp1"'), "cross.yaml")
    assert problems_of(path) == [
        f"{path}:23: core_purposes[0].intentions[0].indicators[1].id: duplicate id 'cp1' (also line 8)"
    ]


def test_indicator_kind_and_unit_must_be_allowed(tmp_path):
    text = replace_once(INDICATORS_YAML, 'kind: "service-performance"', 'kind: "service"')
    path = write(tmp_path, replace_once(text, 'unit: "count"', 'unit: "kg"'))
    problems = problems_of(path)
    # the path runs through the 'indicators' field (which is also the set's kind tag)
    assert [p.split(": ")[0:2] for p in problems] == [
        [f"{path}:24", "core_purposes[0].intentions[0].indicators[1].kind"],
        [f"{path}:26", "core_purposes[0].intentions[0].indicators[1].unit"],
    ]
    assert "'population-outcome' or 'service-performance'" in problems[0]
    assert "'kg'" in problems[1] and "'percentage'" in problems[1]


def test_unknown_key_in_an_indicator(tmp_path):
    text = replace_once(
        INDICATORS_YAML, '            unit: "count"\n', '            unit: "count"\n            colour: "red"\n'
    )
    path = write(tmp_path, replace_once(text, 'id: "cp1-1-sp1"', 'id: "cp1-1-po1"'))
    assert problems_of(path) == [
        f"{path}:27: core_purposes[0].intentions[0].indicators[1].colour: unknown field",
        f"{path}:23: core_purposes[0].intentions[0].indicators[1].id: duplicate id 'cp1-1-po1' (also line 18)",
    ]


def test_several_rule_problems_at_once(tmp_path):
    text = replace_once(MATRIX_YAML, 'code: "1b"', 'code: "1a"')
    text = replace_once(text, 'level: "Early progress"', 'level: "Advanced"')
    text = replace_once(text, 'name: "Mature"', 'name: "Basic level"')
    path = write(tmp_path, text)
    assert problems_of(path) == [
        f"{path}:7: levels: progress level names must be unique",
        f"{path}:{L_CRIT1_LEVEL}: dimensions[0].elements[0].criteria[1].level: "
        "'Advanced' is not a progress level (Basic level, Early progress, Substantial progress, Basic level)",
        f"{path}:{L_CRIT1_CODE}: dimensions[0].elements[0].criteria[1].code: duplicate criterion code '1a' (also line 23)",
    ]


def test_several_field_problems_at_once(tmp_path):
    text = replace_once(MATRIX_YAML, 'version: "1"\n', "")
    text = replace_once(text, "id: tiny\n", 'id: "Not A Slug"\n')
    text = replace_once(text, '            text: "Second."\n', "")
    path = write(tmp_path, text)
    problems = problems_of(path)
    assert len(problems) == 3
    assert f"{path}:2: id: 'Not A Slug': String should match pattern '^[a-z0-9][a-z0-9._-]*$'" in problems
    assert f"{path}:1: version: required field is missing" in problems
    assert f"{path}:25: dimensions[0].elements[0].criteria[1].text: required field is missing" in problems


def test_unknown_keys_do_not_hide_rule_problems(tmp_path):
    text = replace_once(
        MATRIX_YAML,
        '        focus: "This element focuses on x."\n',
        '        focus: "This element focuses on x."\n        colour: "red"\n',
    )
    path = write(tmp_path, replace_once(text, 'level: "Early progress"', 'level: "Advanced"'))
    assert problems_of(path) == [
        f"{path}:22: dimensions[0].elements[0].colour: unknown field",
        f"{path}:28: dimensions[0].elements[0].criteria[1].level: 'Advanced' is not a progress level ({LEVEL_LIST})",
    ]


def test_no_spurious_length_problems_for_a_bad_item(tmp_path):
    # one bad criterion must not also report the enclosing (non-empty) lists as too short
    path = write(tmp_path, replace_once(SUB_ELEMENT_YAML, '                text: "Third."\n', ""))
    assert problems_of(path) == [
        f"{path}:35: dimensions[0].elements[0].sub_elements[1].criteria[0].text: required field is missing"
    ]


def test_unknown_kind(tmp_path):
    path = write(tmp_path, replace_once(MATRIX_YAML, "kind: matrix", "kind: matrices"))
    problems = problems_of(path)
    assert len(problems) == 1
    assert problems[0].startswith(f"{path}:1: ")
    assert "'matrices'" in problems[0] and "'matrix', 'indicators'" in problems[0]


def test_unreadable_file(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_bytes(b"kind: matrix\ntitle: \xff\xfe\n")
    problems = problems_of(path)
    assert len(problems) == 1 and problems[0].startswith(f"{path}:1: cannot read the file")


# --- derived views and the content hash -------------------------------------------------------------


def test_element_without_sub_elements_is_one_sub_element(tmp_path, matrix):
    tiny = load_file(write(tmp_path, MATRIX_YAML))
    element = tiny.dimensions[0].elements[0]
    assert element.sub_elements == ()
    assert element.has_own_criteria
    (sub,) = element.assessed
    assert sub.code == "1" == str(element.number)
    assert sub.name == "Strategy"
    assert sub.criteria == element.criteria
    assert [c.code for c in sub.criteria] == ["1a", "1b"]
    assert tiny.sub_element("1") is sub

    commissioning = matrix.dimensions[0].elements[1]
    assert commissioning.number == 2 and commissioning.has_own_criteria
    (sub2,) = commissioning.assessed
    assert (sub2.code, sub2.name) == ("2", "Commissioning")
    assert sub2.criteria == commissioning.criteria
    assert sub2.supporting_information == commissioning.supporting_information
    assert matrix.sub_element("2") == sub2
    with pytest.raises(KeyError):
        matrix.sub_element("2.1")


def test_content_hash_is_stable(tmp_path, matrix):
    source = builtin_dir() / "maternity-early-years.yaml"
    again = load_file(source)
    assert again is not matrix
    assert again.content_hash == matrix.content_hash
    assert re.fullmatch(r"[0-9a-f]{16}", matrix.content_hash)
    # formatting and comments are not content
    reformatted = "# a comment\n" + source.read_text(encoding="utf-8").replace(
        'title: "Maternity & early years"', "title: 'Maternity & early years'   # same"
    )
    assert load_file(write(tmp_path, reformatted, "copy.yaml")).content_hash == matrix.content_hash


def test_content_hash_changes_with_a_text(tmp_path, matrix, indicator_set):
    source = (builtin_dir() / "maternity-early-years.yaml").read_text(encoding="utf-8")
    changed = replace_once(source, "is in development", "is in development.")
    edited = load_file(write(tmp_path, changed, "changed.yaml"))
    assert edited.content_hash != matrix.content_hash
    assert criteria_by_code(edited)["1.1b"].text.endswith("development.")

    iset_source = (builtin_dir() / "staffordshire-best-start.yaml").read_text(encoding="utf-8")
    assert load_file(write(tmp_path, iset_source, "i.yaml")).content_hash == indicator_set.content_hash
    edited_set = load_file(write(tmp_path, replace_once(iset_source, 'version: "1"', 'version: "2"'), "i2.yaml"))
    assert edited_set.content_hash != indicator_set.content_hash


def test_models_are_frozen(matrix):
    with pytest.raises(ValueError):
        matrix.title = "Other"  # type: ignore[misc]


def test_readme_minimal_matrix_is_a_valid_definition(tmp_path):
    """The README's 'A minimal matrix' example loads as it is written (it rotted once when ids became required)."""
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    block = readme.split("A minimal matrix:", 1)[1]
    yaml_text = re.search(r"```yaml\n(.*?)```", block, flags=re.S).group(1)
    (tmp_path / "my-matrix.yaml").write_text(yaml_text, encoding="utf-8")
    catalog = Catalog([tmp_path])
    assert not catalog.problems, catalog.problems
    matrix = catalog.matrix("my-matrix")
    sub = matrix.sub_elements()[0][2]
    assert [i.id for i in sub.supporting_items] == ["1.1-s01", "1.1-s02"]
    assert [i.text for i in sub.supporting_information if i.heading] == ["Strategy covers:"]
