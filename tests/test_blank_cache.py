"""The blank templates' grids kept on disk between runs (blank.py): the same grid as one made afresh, found only
for the very definitions and code it was made from, and made again whenever the file is missing, damaged,
tampered with or cannot be written."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from eif_xlsx.intake import blank

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def cache(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    monkeypatch.setenv(blank.CACHE_ENV, str(folder))
    monkeypatch.setattr(blank, "_CACHE", {})
    return folder


def fresh(matrix, indicators):
    blank._CACHE.clear()
    return blank.template_grid(matrix, indicators)


def test_a_grid_read_from_disk_is_the_grid_made_afresh(cache, matrix, indicator_set):
    made = {iset: fresh(matrix, iset) for iset in (None, indicator_set)}
    files = sorted(cache.glob("blank-*.json"))
    assert len(files) == 2  # one per indicator set (or none): different definitions, different files
    for iset, grid in made.items():
        assert fresh(matrix, iset) == grid
        assert any(isinstance(v, str) and v for rows in grid.values() for row in rows for v in row)
    # Read from disk, not made again: a grid changed on disk (under its own stamp) is what comes back.
    data = json.loads(files[0].read_text())
    data["grid"]["Cover"][0][0] = "changed on disk"
    files[0].write_text(json.dumps(data))
    assert "changed on disk" in {fresh(matrix, iset)["Cover"][0][0] for iset in (None, indicator_set)}


@pytest.mark.parametrize("damage", ["not json", "[]", '{"stamp": "other", "grid": {}}', "stamp-only", "wrong-type"])
def test_a_damaged_or_foreign_cache_file_is_made_again_and_replaced(cache, matrix, damage):
    grid = fresh(matrix, None)
    (path,) = cache.glob("blank-*.json")
    stamp = path.stem.removeprefix("blank-")
    text = {
        "stamp-only": json.dumps({"stamp": stamp}),
        "wrong-type": json.dumps({"stamp": stamp, "grid": {"Cover": [[["a list"]]]}}),
    }.get(damage, damage)
    path.write_text(text)
    assert fresh(matrix, None) == grid
    assert json.loads(path.read_text())["grid"] == grid  # written again


def test_the_stamp_follows_the_definitions_the_template_version_and_the_code(cache, matrix, monkeypatch):
    stamp = blank._stamp(matrix.content_hash, "")
    assert blank._stamp(matrix.content_hash, "x") != stamp
    assert blank._stamp("other", "") != stamp
    monkeypatch.setattr(blank.layout_mod, "TEMPLATE_VERSION", "changed")
    assert blank._stamp(matrix.content_hash, "") != stamp
    monkeypatch.undo()
    # The package's source is part of it: checked in a copy of the package with one file changed.
    code = "import sys; sys.path.insert(0, sys.argv[1]); from eif_xlsx.intake import blank; print(blank._code_stamp())"
    copy = cache.parent / "copy"
    import shutil

    shutil.copytree(ROOT / "eif_xlsx", copy / "eif_xlsx")
    stamps = [
        subprocess.run([sys.executable, "-c", code, str(where)], capture_output=True, text=True, check=True).stdout
        for where in (ROOT, copy)
    ]
    assert stamps[0] == stamps[1]
    with (copy / "eif_xlsx" / "normalise.py").open("a") as fh:
        fh.write("\n# changed\n")
    again = subprocess.run([sys.executable, "-c", code, str(copy)], capture_output=True, text=True, check=True)
    assert again.stdout != stamps[0]


def test_off_keeps_nothing_on_disk(tmp_path, matrix, monkeypatch):
    monkeypatch.setenv(blank.CACHE_ENV, "off")
    monkeypatch.setattr(blank, "_CACHE", {})
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert blank.cache_dir() is None
    assert fresh(matrix, None)
    assert list(tmp_path.rglob("*")) == []


def test_the_default_folder_is_the_user_cache(monkeypatch, tmp_path):
    monkeypatch.delenv(blank.CACHE_ENV)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert blank.cache_dir() == tmp_path / "xdg" / "eif-xlsx"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert blank.cache_dir() == tmp_path / ".cache" / "eif-xlsx"


@pytest.mark.skipif(os.geteuid() == 0 if hasattr(os, "geteuid") else True, reason="root writes anywhere")
def test_an_unwritable_cache_folder_leaves_the_cache_off(tmp_path, matrix, monkeypatch):
    folder = tmp_path / "locked"
    folder.mkdir(mode=0o500)
    monkeypatch.setenv(blank.CACHE_ENV, str(folder / "cache"))
    monkeypatch.setattr(blank, "_CACHE", {})
    assert fresh(matrix, None)
    assert list(folder.iterdir()) == []


def test_a_cache_path_that_is_a_file_leaves_the_cache_off(tmp_path, matrix, monkeypatch):
    occupied = tmp_path / "occupied"
    occupied.write_text("a file, not a folder")
    monkeypatch.setenv(blank.CACHE_ENV, str(occupied))
    monkeypatch.setattr(blank, "_CACHE", {})
    assert fresh(matrix, None) == fresh(matrix, None)
    assert occupied.read_text() == "a file, not a folder"


def test_preload_takes_only_what_is_on_disk(cache, matrix, indicator_set):
    grid = fresh(matrix, indicator_set)
    blank._CACHE.clear()
    blank.preload([matrix], [indicator_set])
    assert list(blank._CACHE.values()) == [grid]  # the grid without indicators was never made: not preloaded


def test_code_that_cannot_be_read_leaves_the_cache_off(cache, matrix, monkeypatch):
    monkeypatch.setattr(blank, "_code_stamp", lambda: None)
    assert blank._stamp(matrix.content_hash, "") is None
    assert fresh(matrix, None)
    assert not cache.exists() or list(cache.iterdir()) == []


def test_grids_of_other_code_are_removed_when_one_is_kept(cache, matrix, indicator_set, monkeypatch):
    fresh(matrix, None)
    (old,) = cache.glob("blank-*.json")
    leftover = cache / ".blank-crashed.tmp"
    leftover.write_text("{")
    os.utime(leftover, (1, 1))  # long ago
    recent = cache / ".blank-writing.tmp"
    recent.write_text("{")  # another process writing now
    unrelated = cache / "notes.txt"
    unrelated.write_text("not ours")
    monkeypatch.setattr(blank, "_code_stamp", lambda: "f" * 64)  # the code changed
    fresh(matrix, indicator_set)
    assert not old.exists() and not leftover.exists()
    assert recent.exists() and unrelated.exists()
    assert [p.name.startswith("blank-" + "f" * 16 + "-") for p in cache.glob("blank-*.json")] == [True]
