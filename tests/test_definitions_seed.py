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
