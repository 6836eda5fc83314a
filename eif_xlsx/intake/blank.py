"""The values of a blank workbook, per sheet: what the template itself puts in each cell. The reader compares a
return against it to find anything typed outside the input cells (wired in by the api, so that the reader never
imports the writer).

Making a blank workbook and reading it back takes ~80 ms, which every reading process paid before its first
return. The grid is kept on disk between runs (see cache_dir): a run loads it in ~2 ms. It is keyed by everything
the grid follows from (the definitions' content, this package's own source, the versions of XlsxWriter and
python-calamine), so that a stale grid is never found, and checked on loading; a grid that is missing,
unreadable or malformed is made again. It is written as JSON, never unpickled.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import os
import tempfile
import time
from importlib import metadata
from pathlib import Path

from eif_xlsx.cells import parse_a1
from eif_xlsx.domain.model import IndicatorSet, Matrix
from eif_xlsx.intake.container import inspect
from eif_xlsx.intake.reader import _load_values
from eif_xlsx.template import layout as layout_mod
from eif_xlsx.template.workbook import WorkbookSpec, write_workbook

CACHE_ENV = "EIF_XLSX_CACHE"  # the cache's folder; "off" keeps nothing on disk
_CACHE: dict[tuple[str, str], dict[str, list[list]]] = {}
_DUMMY = {"id": "P-TEMPLATE", "name": "Name", "organisation": "Organisation", "email": "a@b.c", "role": "Role"}


def _key(matrix: Matrix, indicators: IndicatorSet | None) -> tuple[str, str]:
    return matrix.content_hash, indicators.content_hash if indicators else ""


def template_grid(matrix: Matrix, indicators: IndicatorSet | None) -> dict[str, list[list]]:
    key = _key(matrix, indicators)
    if key not in _CACHE:
        stamp = _stamp(*key)
        grid = _load(stamp)
        if grid is None:
            grid = _make(matrix, indicators)
            _store(stamp, grid)
        _CACHE[key] = grid
    return _CACHE[key]


def preload(matrices: list[Matrix], indicator_sets: list[IndicatorSet]) -> None:
    """Take into memory the grids already on disk for these definitions (each with no indicator set or any one):
    called before the reading processes fork, so that they start with them (a grid not on disk is left to the
    process that first needs it)."""
    for matrix in matrices:
        for indicators in (None, *indicator_sets):
            key = _key(matrix, indicators)
            if key not in _CACHE:
                grid = _load(_stamp(*key))
                if grid is not None:
                    _CACHE[key] = grid


def _make(matrix: Matrix, indicators: IndicatorSet | None) -> dict[str, list[list]]:
    # The metadata sheet is never compared with a return's (only the layout's sheets are): its packed layout,
    # half the cost of making the blank, is left out, in a copy of its own (build gives every caller one layout).
    lay = dataclasses.replace(layout_mod.build(matrix, indicators))
    object.__setattr__(lay, "_blob", "")
    spec = WorkbookSpec(
        matrix=matrix,
        layout=lay,
        indicators=indicators,
        partner=_DUMMY,
        area="Area",
        deadline="1 January 2000",
        return_to="a@b.c",
    )
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "blank.xlsx"
        path.write_bytes(write_workbook(spec))
        box = inspect(path)  # read exactly as a return is read
        grid = {name: [list(r) for r in sheet.rows] for name, sheet in _load_values(path, box).items()}
    # Formula cells belong to the template even where their cached value is blank.
    for name, formulas in box.formulas.items():
        rows = grid.setdefault(name, [])
        for ref in formulas:
            r, c = parse_a1(ref)
            while len(rows) <= r:
                rows.append([])
            row = rows[r]
            row.extend([""] * (c + 1 - len(row)))
            if row[c] == "":
                row[c] = "=formula"
    return grid


# --- the cache on disk ---------------------------------------------------------------------------


def cache_dir() -> Path | None:
    """$EIF_XLSX_CACHE, else $XDG_CACHE_HOME/eif-xlsx, else ~/.cache/eif-xlsx; None where EIF_XLSX_CACHE is 'off'."""
    chosen = os.environ.get(CACHE_ENV, "")
    if chosen.lower() == "off":
        return None
    if chosen:
        return Path(chosen)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "eif-xlsx"


@functools.lru_cache(maxsize=1)
def _code_stamp() -> str | None:
    """This package's source and the installed versions of XlsxWriter and python-calamine: what else the grid
    follows from (read from the packages' metadata: reading returns never imports XlsxWriter). None where they
    cannot be read (the cache is then not used)."""
    digest = hashlib.sha256()
    package = Path(__file__).resolve().parent.parent  # the whole eif_xlsx package
    try:
        sources = sorted(package.rglob("*.py"))
        for path in sources:
            digest.update(path.relative_to(package).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
        versions = [metadata.version(dist) for dist in ("XlsxWriter", "python-calamine")]
    except (OSError, metadata.PackageNotFoundError):
        return None
    if not sources:  # not installed as files (a zip, a frozen build): changes to the code could not be seen
        return None
    digest.update("\0".join(versions).encode())
    return digest.hexdigest()


def _stamp(matrix_hash: str, indicators_hash: str) -> str | None:
    """The grid's name in the cache: the code's stamp first (see _store), then the definitions'."""
    code = _code_stamp()
    if code is None:
        return None
    rest = hashlib.sha256(f"{code}\0{layout_mod.TEMPLATE_VERSION}\0{matrix_hash}\0{indicators_hash}".encode())
    return f"{code[:16]}-{rest.hexdigest()[:24]}"


def _load(stamp: str | None) -> dict[str, list[list]] | None:
    folder = cache_dir()
    if folder is None or stamp is None:
        return None
    try:
        data = json.loads((folder / f"blank-{stamp}.json").read_bytes())
    except (OSError, ValueError):
        return None
    grid = data.get("grid") if isinstance(data, dict) and data.get("stamp") == stamp else None
    return grid if _plain(grid) else None


def _plain(grid: object) -> bool:
    """A grid JSON holds exactly: sheet name -> rows of texts and numbers (calamine's other types, should a
    template ever hold one, are not kept)."""
    return isinstance(grid, dict) and all(
        isinstance(name, str)
        and isinstance(rows, list)
        and all(isinstance(row, list) and all(type(v) in (str, float) for v in row) for row in rows)
        for name, rows in grid.items()
    )


def _store(stamp: str | None, grid: dict[str, list[list]]) -> None:
    """Written whole or not at all (another process may be writing the same grid); a folder that cannot be
    written leaves the cache off."""
    folder = cache_dir()
    if folder is None or stamp is None or not _plain(grid):
        return
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".blank-", suffix=".tmp", dir=folder)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump({"stamp": stamp, "grid": grid}, fh, separators=(",", ":"))
            os.replace(tmp, folder / f"blank-{stamp}.json")
        except BaseException:
            os.unlink(tmp)
            raise
    except (OSError, ValueError):
        return
    _prune(folder, stamp.split("-", 1)[0])


def _prune(folder: Path, code: str) -> None:
    """Grids made by other code (an earlier version, an edited checkout) are never found again: removed when a
    new one is kept, with what a process that stopped mid-write left (after an hour)."""
    now = time.time()
    try:
        for path in folder.iterdir():
            name = path.name
            stale = (
                name.startswith("blank-") and name.endswith(".json") and not name.startswith(f"blank-{code}-")
            ) or (name.startswith(".blank-") and name.endswith(".tmp") and now - path.stat().st_mtime > 3600)
            if stale:
                path.unlink(missing_ok=True)
    except OSError:
        pass
