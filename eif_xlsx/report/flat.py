"""Flat exports for analysts: levels.csv, answers.csv, findings.csv, register.csv, indicators.csv and summary.json.

The CSVs are written in the one dialect of eif_xlsx/csvfile.py (UTF-8 with a byte-order mark, RFC 4180, dates as
ISO 8601, the reversible formula guard); scores are rounded to 4 decimal places (criteria_ticked/criteria_total
give the counts exactly). summary.json needs no guard: its texts are exactly as typed.

summary.json follows the JSON Schema that `eif-xlsx schema summary` prints (report/schema.py); keys are sorted
and nothing in it depends on the time or the machine, so the same inputs give byte-identical files. It is
written one list item at a time: a large round's answers never sit in memory as one document.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Collection, Iterable, Iterator
from pathlib import Path
from typing import IO

from eif_xlsx.csvfile import CsvFile, Lines, write_csv
from eif_xlsx.report.consolidate import Consolidation
from eif_xlsx.report.svg import round_half_up
from eif_xlsx.template.layout import COLUMNS

LEVELS = (
    "partner_id",
    "partner",
    "organisation",
    "file",
    "sub_element",
    "column",
    "score",
    "level",
    "overall_rating",
    "criteria_ticked",
    "criteria_total",
)
ANSWERS = (
    "partner_id",
    "file",
    "sub_element",
    "field",
    "item",
    "column",
    "value",
    "raw_value",
    "sheet",
    "cell",
    "item_level",
)  # item_level last: added after the others, so a column's position does not change
FINDINGS = ("file", "severity", "code", "sheet", "cell", "message")
INDICATORS = (
    "indicator_id",
    "period",
    "value",
    "numerator",
    "denominator",
    "rag",
    "commentary",
    "partner_id",
    "partner",
    "file",
    "cell",
)
REGISTER = (
    "status",
    "partner_id",
    "name",
    "organisation",
    "email",
    "file",
    "reason",
    "errors",
    "warnings",
    "info",
    "sender",
)

_dump = json.JSONEncoder(
    ensure_ascii=False,
    default=lambda v: v.isoformat() if isinstance(v, dt.date) else str(v),
    sort_keys=True,
    separators=(",", ":"),
).encode
_text = json.encoder.encode_basestring  # a text as _dump writes it (ensure_ascii=False)

SCORE_PLACES = 4
SUPPORTING = "supporting_information"  # the field of a ticked supporting-information item (its item is its id)
SCHEMA_VERSION = 1  # summary.json's layout; raised when a key changes meaning or goes (report/schema.py)


_SCORES: dict[float, float] = {}  # scores are few distinct fractions: each rounded once


def _score(value: float | None) -> float | None:
    """A score to SCORE_PLACES, half rounded up, by the rule the report shows it with (svg.round_half_up; was
    round()'s half-to-even of the binary value, 0.03125 -> 0.0312 where a spreadsheet shows 0.0313)."""
    if value is None or value.__class__ is int:
        return value
    got = _SCORES.get(value)
    if got is None:
        got = float(round_half_up(value, SCORE_PLACES))
        if len(_SCORES) < 4096:
            _SCORES[value] = got
    return got


def write_flat(cons: Consolidation, out: Path) -> list[Path]:
    """Write every flat file into out. levels.csv and answers.csv are written while summary.json takes the same
    rows as its items: one pass over the spooled answers."""
    files = {name: out / name for name in ("levels.csv", "answers.csv", "findings.csv", "register.csv")}
    with (
        CsvFile(files["levels.csv"], LEVELS) as levels,
        CsvFile(files["answers.csv"], ANSWERS) as answers,
        (out / "summary.json").open("w", encoding="utf-8", newline="\n") as fh,
    ):
        _write_json(fh, summary_data(cons, levels.stream, answers.stream))
        fh.write("\n")
    write_csv(
        files["findings.csv"],
        FINDINGS,
        ((f.file, f.severity.value, f.code, f.sheet, f.cell, f.message) for f in cons.findings()),
    )
    write_csv(files["register.csv"], REGISTER, _register_rows(cons))
    written = list(files.values())
    if cons.indicator_values:
        written.append(write_csv(out / "indicators.csv", INDICATORS, _indicator_rows(cons)))
    return [*written, out / "summary.json"]


def summary_data(
    cons: Consolidation,
    levels_csv: IO[str] | None = None,
    answers_csv: IO[str] | None = None,
    *,
    rendered: bool = True,
    answer_fields: Collection[str] | None = None,
) -> dict:
    """summary.json's content: small parts as lists and dicts, long lists as iterators. levels and answers come
    per return, as batches of rows; each row is rendered once, for summary.json and, given the open levels.csv and
    answers.csv (write_flat), as their CSV lines, written on the way. rendered: the long lists' items as JSON text
    (_Items, for _write_json), else as dicts, as json.load would give them back (for the board report, board.py).
    answer_fields: only the answers of these fields (what the board report reads), else all."""
    m, iset = cons.matrix, cons.indicators
    items = _items if rendered else _dicts
    return {
        "schema_version": SCHEMA_VERSION,
        "matrix": {"id": m.id, "title": m.title, "version": m.version, "levels": list(m.level_names)},
        "indicator_set": None if iset is None else {"id": iset.id, "title": iset.title, "version": iset.version},
        "register": items(REGISTER, [list(_register_rows(cons))]),
        "levels": items(LEVELS, _level_batches(cons), csv_to=levels_csv),
        "sub_elements": [
            {"code": sub.code, "name": sub.name, **{c: _stats(cons.stats(sub.code, c)) for c in COLUMNS}}
            for _, _, sub in m.sub_elements()
        ],
        "answers": (
            _answer_items(_answer_batches(cons, answer_fields), answers_csv)
            if rendered
            else _dicts(ANSWERS, _answer_batches(cons, answer_fields))
        ),
        "findings": (f.as_dict() for f in cons.findings()),
        "indicators": items(INDICATORS, ([row] for row in _indicator_rows(cons))),
    }


def _stats(stats: dict) -> dict:
    return {k: _score(v) if k in ("median", "min", "max") else v for k, v in stats.items()}


def _level_batches(cons: Consolidation) -> Iterator[list[tuple]]:
    """Per return that counts, its levels.csv rows: every sub-element and column it assessed."""
    places = [(sub.code, column) for _, _, sub in cons.matrix.sub_elements() for column in COLUMNS]
    for p in cons.participants:
        results, who = p.report.results, (p.key, p.name, p.organisation, p.report.file)
        batch = []
        for code, column in places:
            r = results.get((code, column))
            if r is not None:
                sc = r.score
                batch.append((*who, code, column, _score(sc.score), sc.level, r.overall_rating, sc.ticked, sc.total))
        yield batch


def _answer_batches(cons: Consolidation, fields: Collection[str] | None = None) -> Iterator[list[tuple]]:
    """Per return that counts, its answers.csv rows: every typed answer, then every value found outside the
    template, in reading order. raw_value is the text as typed (a formula as '=' and its text), value what it was
    read as; item_level, for a supporting-information item, the progress level the matrix gives the item (by its
    id; empty where it has none, and for an 'Other' item, whose text is its supporting_other answer); every field
    is text. fields: only the answers of these fields."""
    item_levels = {
        item.id: item.level or ""
        for _, _, sub in cons.matrix.sub_elements()
        for item in sub.supporting_items
        if item.id is not None
    }
    for p in cons.participants:
        ret = p.report.ret
        key, file = p.key, ret.file
        yield [
            (
                key,
                file,
                a.sub_element,
                f,
                a.item,
                a.column,
                a.value_text(),
                raw,
                a.sheet,
                a.cell,
                item_levels.get(a.item, "") if f == SUPPORTING else "",
            )
            for answers in (ret.answers, ret.extra)
            for a in answers
            if (fields is None or a.field in fields) and (raw := a.raw_text).strip()
            for f in (a.field,)
        ]


def _register_rows(cons: Consolidation) -> Iterator[tuple]:
    return (r.row() for r in cons.register)


def _indicator_rows(cons: Consolidation) -> Iterator[tuple]:
    return (
        (
            v.indicator_id,
            v.period,
            v.value,
            v.numerator,
            v.denominator,
            v.rag,
            v.commentary,
            v.partner_id,
            v.partner,
            v.file,
            v.cell,
        )
        for v in cons.indicator_values
    )


class _Items(str):
    """Items of a summary.json list already rendered, comma-separated: exactly what _dump writes for each
    {header[i]: row[i]} (see _items)."""


def _items(
    header: tuple[str, ...], batches: Iterable[list[tuple]], texts_only: bool = False, csv_to: IO[str] | None = None
) -> Iterator[_Items]:
    """Each batch of rows rendered as JSON objects {header[i]: row[i]}, keys sorted: from a template of the sorted
    keys, each value rendered by json itself (the long lists are written at a fraction of the cost of a dict and
    _dump per row). texts_only: every value is a str (the answers). csv_to: the same rows written there as CSV
    lines (Lines), one write per batch."""
    order = sorted(range(len(header)), key=header.__getitem__)
    fill = ("{{" + ",".join(f"{_dump(header[i])}:{{{i}}}" for i in order) + "}}").format
    lines = Lines() if csv_to is not None else None
    other: dict[tuple, str] = {}  # few: scores rounded to 4 places, counts
    for batch in batches:
        if batch:
            if lines is not None and csv_to is not None:  # (lines is made when csv_to is given)
                csv_to.write(lines.render(batch))
            if texts_only:
                yield _Items(",".join([fill(*map(_text, row)) for row in batch]))
            else:  # a value not a str (a score, a count, None) as _dump writes it, once per distinct value
                yield _Items(
                    ",".join(
                        [
                            fill(
                                *[
                                    _text(v)
                                    if v.__class__ is str
                                    else other[k]
                                    if (k := (v.__class__, v)) in other
                                    else other.setdefault(k, _dump(v))
                                    for v in row
                                ]
                            )
                            for row in batch
                        ]
                    )
                )


_PLACE = ("sub_element", "field", "item", "column", "sheet", "cell", "item_level")  # an answer's place, below
assert ANSWERS == ("partner_id", "file", *_PLACE[:4], "value", "raw_value", *_PLACE[4:])  # as _answer_items has it


def _answer_items(batches: Iterable[list[tuple]], csv_to: IO[str] | None) -> Iterator[_Items]:
    """The answers as _items(ANSWERS, batches, texts_only=True, csv_to=csv_to) renders them, byte for byte, at a
    fraction of its cost: an answer's place (its _PLACE values: the same in every return) has its pieces of the
    CSV line and of the JSON item made once, as have a return's partner and file; per answer, its value and
    raw_value are put between them (their CSV fields from Lines' cache)."""
    lines = Lines()
    cache, field = lines.cache, lines.field
    places: dict[tuple, tuple[str, str, str, str, str]] = {}
    for batch in batches:
        if not batch:
            continue
        key, file = batch[0][0], batch[0][1]
        key_csv, file_csv, key_json, file_json = field(key, key) + ",", field(file, file) + ",", _text(key), _text(file)
        csv_lines, json_items = [], []
        for row in batch:
            place = row[2:6] + row[8:]
            pieces = places.get(place) or _place(places, place, lines)
            value, raw = row[6], row[7]
            value_csv = cache[value] if value in cache else field(value, value)
            raw_csv = cache[raw] if raw in cache else field(raw, raw)
            csv_lines.append(f"{key_csv}{file_csv}{pieces[0]}{value_csv},{raw_csv}{pieces[1]}")
            json_items.append(
                f'{pieces[2]}{file_json}{pieces[3]}{key_json},"raw_value":{_text(raw)}{pieces[4]}{_text(value)}}}'
            )
        if csv_to is not None:
            csv_to.write("".join(csv_lines))
        yield _Items(",".join(json_items))


def _place(places: dict, place: tuple[str, ...], lines: Lines) -> tuple[str, str, str, str, str]:
    """The fixed pieces of an answer's CSV line (before and after its value and raw_value) and JSON item (keys in
    sorted order, as _dump writes them: around the file, the partner and the values)."""
    sub, fld, item, column, sheet, cell, level = place
    csv_fields = [lines.field(v, v) for v in place]
    pieces = (
        ",".join(csv_fields[:4]) + ",",
        "," + ",".join(csv_fields[4:]) + "\r\n",
        f'{{"cell":{_text(cell)},"column":{_text(column)},"field":{_text(fld)},"file":',
        f',"item":{_text(item)},"item_level":{_text(level)},"partner_id":',
        f',"sheet":{_text(sheet)},"sub_element":{_text(sub)},"value":',
    )
    if len(places) < _PLACES:
        places[place] = pieces
    return pieces


_PLACES = 65536  # places whose pieces are kept: a matrix's input cells are a few thousand


def _dicts(
    header: tuple[str, ...], batches: Iterable[list[tuple]], texts_only: bool = False, csv_to: IO[str] | None = None
) -> Iterator[dict]:
    return (dict(zip(header, row, strict=True)) for batch in batches for row in batch)


def _write_json(fh: IO[str], data: dict) -> None:
    """data as JSON with sorted keys, as _dump(data) would write it, but a value that is an iterator (not a list or
    a dict) is written one item (or one _Items) at a time."""
    fh.write("{")
    for i, key in enumerate(sorted(data)):
        value = data[key]
        fh.write(("," if i else "") + _dump(key) + ":")
        if isinstance(value, Iterator):
            fh.write("[")
            for j, item in enumerate(value):
                fh.write(("," if j else "") + (item if isinstance(item, _Items) else _dump(item)))
            fh.write("]")
        else:
            fh.write(_dump(value))
    fh.write("}")
