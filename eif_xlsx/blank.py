"""The values of a blank workbook, per sheet: what the template itself puts in each cell. The reader compares a
return against it to find anything typed outside the input cells (wired in by the api, so that the reader never
imports the writer)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from . import layout as layout_mod
from .cells import parse_a1
from .container import inspect
from .model import IndicatorSet, Matrix

_CACHE: dict[tuple[str, str], dict[str, list[list]]] = {}
_DUMMY = {"id": "P-TEMPLATE", "name": "Name", "organisation": "Organisation", "email": "a@b.c", "role": "Role"}


def template_grid(matrix: Matrix, indicators: IndicatorSet | None) -> dict[str, list[list]]:
    key = (matrix.content_hash, indicators.content_hash if indicators else "")
    if key not in _CACHE:
        from .reader import _load_values
        from .writer import WorkbookSpec, write_workbook

        lay = layout_mod.build(matrix, indicators)
        # The metadata sheet is never compared with a return's (only the layout's sheets are): its packed layout,
        # half the cost of making the blank, is left out.
        object.__setattr__(lay, "_blob", "")
        spec = WorkbookSpec(matrix=matrix, layout=lay, indicators=indicators, partner=_DUMMY, area="Area",
                            deadline="1 January 2000", return_to="a@b.c")
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
        _CACHE[key] = grid
    return _CACHE[key]
