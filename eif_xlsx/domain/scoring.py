"""The level rule shared by the workbook formulas and the importer (see the domain guide).

For one sub-element and one column: `full` is the highest progress level all of whose criteria are
ticked (0 if none; lower levels need not be ticked); score = full + ticked/total at the next level.
"""

from __future__ import annotations

import math
import statistics
import sys
from array import array
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from eif_xlsx.domain.model import NOT_ASSESSED, NOT_YET_BASIC


@dataclass(frozen=True)
class Score:
    assessed: bool
    full: int  # 0 .. number of levels
    score: float | None
    level_name: str  # name of `full`: "Not assessed", "Not yet basic" or a level name
    level: str  # what the workbook shows, e.g. "Early progress, working towards Substantial progress (1 of 4)"
    ticked: int
    total: int
    skipped: tuple[str, ...]  # criteria ticked two or more levels above `full`


def next_level(counts: Sequence[int], full: int) -> int | None:
    """1-based index of the first level above `full` that has criteria, if any."""
    for j in range(full + 1, len(counts) + 1):
        if counts[j - 1] > 0:
            return j
    return None


def score_ticks(levels: Sequence[str], criteria: Sequence[tuple[str, str]], ticked: Iterable[str]) -> Score:
    """levels: names in order; criteria: (code, level name); ticked: codes ticked in this column."""
    ticked = set(ticked)
    rank = {name: i + 1 for i, name in enumerate(levels)}
    totals = [0] * len(levels)
    ticks = [0] * len(levels)
    for code, level in criteria:
        totals[rank[level] - 1] += 1
        if code in ticked:
            ticks[rank[level] - 1] += 1
    n_ticked = sum(ticks)
    if n_ticked == 0:
        return Score(False, 0, None, NOT_ASSESSED, NOT_ASSESSED, 0, len(criteria), ())
    full = 0
    for i in range(len(levels), 0, -1):
        if totals[i - 1] and ticks[i - 1] == totals[i - 1]:
            full = i
            break
    nxt = next_level(totals, full)
    fraction = ticks[nxt - 1] / totals[nxt - 1] if nxt else 0.0
    name = levels[full - 1] if full else NOT_YET_BASIC
    shown = name
    if nxt and ticks[nxt - 1]:
        shown = f"{name}, working towards {levels[nxt - 1]} ({ticks[nxt - 1]} of {totals[nxt - 1]})"
    skipped = tuple(code for code, level in criteria if code in ticked and rank[level] >= full + 2)
    return Score(True, full, full + fraction, name, shown, n_ticked, len(criteria), skipped)


def level_of_score(levels: Sequence[str], value: float | None) -> str:
    """The level name a score falls in (used for medians and roll-ups)."""
    if value is None:
        return NOT_ASSESSED
    full = int(value + 1e-9)
    return levels[full - 1] if full >= 1 else NOT_YET_BASIC


def mean(values: Iterable[float | None]) -> float | None:
    got = [v for v in values if v is not None]
    return sum(got) / len(got) if got else None


def median(values: Iterable[float | None]) -> float | None:
    got = [v for v in values if v is not None]
    return statistics.median(got) if got else None


_POSITIONS: dict[tuple, dict] = {}


def positions(keys: tuple) -> dict:
    """key -> its position in keys; one dict for every record with the same keys (the compact records a round keeps
    in memory, one per return: Scores, batch.Metadata)."""
    return _POSITIONS.setdefault(keys, {k: i for i, k in enumerate(keys)})


class Scores:
    """One return's score, level and own rating per (sub-element, column), in about a kilobyte: what the
    summary's grids and statistics read again and again (the full results stay on disk, see spool.py). Made by
    the worker that read the return."""

    __slots__ = ("_at", "_score", "_full", "_level", "_rating")

    def __init__(self, results: Mapping):
        """results: (code, column) -> the checks' SubElementResult (its score and overall_rating)."""
        values = list(results.values())
        self._set(
            tuple(results),
            array("d", (math.nan if r.score.score is None else r.score.score for r in values)),
            bytes(r.score.full if r.score.assessed else 255 for r in values),
            tuple(r.score.level for r in values),
            tuple(r.overall_rating for r in values),
        )

    def _set(self, keys: tuple, score: array, full: bytes, level: tuple, rating: tuple) -> None:
        self._at = positions(keys)
        self._score, self._full = score, full
        self._level, self._rating = _coded(level), _coded(rating)

    def __reduce__(self):
        # Made in the worker, sent as plain parts; the key index is shared again on arrival.
        return (_scores, (tuple(self._at), self._score, self._full, self.levels(), self.ratings()))

    def score(self, code: str, column: str) -> float | None:
        i = self._at.get((code, column))
        return None if i is None or math.isnan(self._score[i]) else self._score[i]

    def full(self, code: str, column: str) -> int | None:
        """The whole level reached; None where not assessed."""
        i = self._at.get((code, column))
        return None if i is None or self._full[i] == 255 else self._full[i]

    def level(self, code: str, column: str) -> str:
        i = self._at.get((code, column))
        return "" if i is None else _text(self._level, i)

    def rating(self, code: str, column: str) -> str:
        i = self._at.get((code, column))
        return "" if i is None else _text(self._rating, i)

    def levels(self) -> tuple[str, ...]:
        return tuple(_text(self._level, i) for i in range(len(self._at)))

    def ratings(self) -> tuple[str, ...]:
        return tuple(_text(self._rating, i) for i in range(len(self._at)))


_NAMES: list[str] = []  # the levels and ratings seen, each once: Scores keep their numbers (one byte each)
_NAME_AT: dict[str, int] = {}


def _coded(values: tuple[str, ...]) -> bytes | tuple[str, ...]:
    """Texts as their numbers in _NAMES (a byte each, not a pointer and a string each); as they are once 255
    different texts have been seen (ratings are typed: any text may come)."""
    out = bytearray()
    for v in values:
        i = _NAME_AT.get(v)
        if i is None:
            if len(_NAMES) == 255:
                return tuple(map(sys.intern, values))
            i = _NAME_AT[v] = len(_NAMES)
            _NAMES.append(v)
        out.append(i)
    return bytes(out)


def _text(values: bytes | tuple[str, ...], i: int) -> str:
    return _NAMES[values[i]] if isinstance(values, bytes) else values[i]


def _scores(*parts) -> Scores:
    scores = Scores.__new__(Scores)
    scores._set(*parts)
    return scores
