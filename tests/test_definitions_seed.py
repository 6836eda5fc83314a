"""Stable ids, headings and levels of the supporting information, read against the matrix's source document."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from eif_xlsx.catalog import builtin_dir, load_file
from eif_xlsx.errors import DefinitionError

MATRIX_FILE = builtin_dir() / "maternity-early-years.yaml"

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
    found = {sub.code: (sum(not i.heading for i in sub.supporting_information),
                        "".join(LEVEL_LETTER[i.level] for i in sub.supporting_information))
             for _, _, sub in matrix.sub_elements()}
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
    assert [(i.id, i.heading) for i in sub.supporting_information] == [(None, True), ("1-s01", False),
                                                                       ("1-s02", False)]


def test_an_item_without_an_id(tmp_path):
    path, found = problems(tmp_path, SMALL.replace('          - id: "1-s02"\n            text: "• b"',
                                                   '          - text: "• b"'))
    assert found == [f"{path}:27: dimensions[0].elements[0].supporting_information[2].id: a supporting-information "
                     "item needs an id (e.g. '1.1-s01'); only a line with 'heading: true' has none"]


def test_a_heading_with_an_id(tmp_path):
    path, found = problems(tmp_path, SMALL.replace('          - text: "Plan covers:"\n',
                                                   '          - id: "1-s09"\n            text: "Plan covers:"\n'))
    assert found == [f"{path}:23: dimensions[0].elements[0].supporting_information[0].id: "
                     "a heading is not ticked and has no id"]


def test_a_repeated_item_id(tmp_path):
    path, found = problems(tmp_path, SMALL.replace('id: "1-s02"', 'id: "1-s01"'))
    assert found == [f"{path}:27: dimensions[0].elements[0].supporting_information[2].id: "
                     "duplicate supporting-information id '1-s01'"]


def test_an_item_id_of_another_sub_element(tmp_path):
    path, found = problems(tmp_path, SMALL.replace('id: "1-s02"', 'id: "2-s02"'))
    assert found == [f"{path}:27: dimensions[0].elements[0].supporting_information[2].id: supporting-information "
                     "id '2-s02' must start with the sub-element code: '1-s01', '1-s02'…"]
