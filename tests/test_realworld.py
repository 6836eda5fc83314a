"""The benchmark's and the fuzz harness's corpus builder (tests/realworld.py) reuses a corpus of the same parameters,
and never empties a folder that is not a corpus, nor replaces a corpus in a folder its caller named: building one
takes minutes of LibreOffice, and a folder given by mistake may be anyone's."""

from __future__ import annotations

import pytest

from . import realworld


def test_a_folder_that_is_not_a_corpus_is_left_as_it_is(tmp_path):
    (tmp_path / "returns.xlsx").write_bytes(b"a partner's return")
    with pytest.raises(ValueError, match="holds no corpus"):
        realworld.build(tmp_path, 2, sources={"openpyxl"})
    assert [p.name for p in tmp_path.iterdir()] == ["returns.xlsx"]
    assert (tmp_path / "returns.xlsx").read_bytes() == b"a partner's return"


def test_a_corpus_is_reused_and_replaced_only_where_asked(tmp_path):
    folder = tmp_path / "corpus"
    first = realworld.build(folder, 2, sources={"openpyxl"})
    made = {r.path: r.path.stat().st_mtime_ns for r in first}
    again = realworld.build(folder, 2, sources={"openpyxl"}, replace=False)  # the same parameters: reused
    assert [r.path for r in again] == [r.path for r in first]
    assert {r.path: r.path.stat().st_mtime_ns for r in again} == made
    with pytest.raises(ValueError, match="other parameters"):
        realworld.build(folder, 3, sources={"openpyxl"}, replace=False)
    assert {r.path: r.path.stat().st_mtime_ns for r in first} == made  # still there, untouched
    replaced = realworld.build(folder, 3, sources={"openpyxl"})  # a cache of the builder's own: made again
    assert len(replaced) == 3 and all(r.path.exists() for r in replaced)
