"""Flat exports for analysts: levels.csv, answers.csv, findings.csv, indicators.csv and summary.json."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import IO

from ..consolidate import Consolidation
from ..layout import COLUMNS
from .safe import csv_row, csv_text

LEVELS = ("partner_id", "partner", "organisation", "file", "sub_element", "column", "score", "level",
          "overall_rating", "criteria_ticked", "criteria_total")
ANSWERS = ("partner_id", "file", "sub_element", "field", "item", "column", "value", "raw_value", "sheet", "cell")
FINDINGS = ("file", "severity", "code", "sheet", "cell", "message")
INDICATORS = ("indicator_id", "period", "value", "numerator", "denominator", "rag", "commentary", "partner_id",
              "partner", "file", "cell")
REGISTER = ("status", "partner_id", "name", "organisation", "email", "file", "reason", "errors", "warnings", "info",
            "sender")


def _write(path: Path, header: tuple[str, ...], rows) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\r\n")  # RFC 4180; also makes csv quote a field holding a lone CR
        w.writerow(header)
        w.writerows(map(csv_row, rows))
    return path


_text = json.encoder.encode_basestring  # a JSON string, as _dump writes one (ensure_ascii=False)
_EMPTY = '""'  # an empty text in JSON


def _write_rendered(path: Path, header: tuple[str, ...], blocks, sink: IO[str]) -> Path:
    """A CSV of rows rendered by hand (see _levels, _answers): its header, then each participant's block of lines;
    the block's summary.json items go into sink, comma-separated."""
    first = True
    with path.open("w", newline="", encoding="utf-8") as fh:
        fh.write(",".join(header) + "\r\n")
        for lines, items in blocks:
            if items:
                fh.write("".join(lines))
                sink.write(("" if first else ",") + ",".join(items))
                first = False
    return path


def _levels(cons: Consolidation):
    """Per participant, the lines of levels.csv and summary.json's level items, rendered by hand: exactly what
    csv.writer (after csv_row) and _dump write for a row (partner_id, partner, organisation, file, sub_element,
    column, score, level, overall_rating, criteria_ticked, criteria_total); numbers as repr() writes them in both."""
    places = [(sub.code, column, csv_text(sub.code) + "," + csv_text(column), _text(column), _text(sub.code))
              for _, _, sub in cons.matrix.sub_elements() for column in COLUMNS]
    for p in cons.participants:
        results = p.report.results
        who_csv = ",".join(map(csv_text, (p.key, p.name, p.organisation, p.report.file)))
        file_json = _text(p.report.file)
        who_json = f',"organisation":{_text(p.organisation)}'
        tail_json = f',"partner":{_text(p.name)},"partner_id":{_text(p.key)},"score":'
        lines, items = [], []
        for code, column, place_csv, column_json, code_json in places:
            r = results.get((code, column))
            if r is None:
                continue
            sc = r.score
            score = "" if sc.score is None else repr(sc.score)
            lines.append(f"{who_csv},{place_csv},{score},{csv_text(sc.level)},{csv_text(r.overall_rating)},"
                         f"{sc.ticked},{sc.total}\r\n")
            items.append(f'{{"column":{column_json},"criteria_ticked":{sc.ticked},"criteria_total":{sc.total},'
                         f'"file":{file_json},"level":{_text(sc.level)}{who_json},"overall_rating":'
                         f'{_text(r.overall_rating)}{tail_json}{score or _EMPTY},"sub_element":{code_json}}}')
        yield lines, items


_PLACES = 50_000  # answer places whose fixed pieces are kept: the template's, and a bounded number of others


def _answers(cons: Consolidation):
    """Per participant, the lines of answers.csv and summary.json's answer items, rendered by hand: exactly what
    csv.writer (after csv_row) and _dump write for each typed answer's row (partner_id, file, sub_element, field,
    item, column, value, raw_value, sheet, cell), at a fraction of the cost. An answer's place (sheet, cell, what
    it answers) is the same in every return, so its pieces of both lines are made once, as are those of the values
    that recur (see _value); the rest is put together per answer."""
    places: dict[tuple, tuple[str, str, str, str, str]] = {}
    values: dict[tuple, tuple[str, str, str] | None] = {}
    for p in cons.participants:
        ret = p.report.ret
        key_csv, file_csv = csv_text(p.key), csv_text(ret.file)
        key_json, file_json = _text(p.key), _text(ret.file)
        lines, items = [], []
        for a in [*ret.answers, *ret.extra]:
            # A few values make up most answers (ticks, choices): their pieces are made once. By type too: 1.0,
            # 1 and True are equal keys, and are written differently.
            raw, value = a.raw, a.value
            typed = (raw.__class__, raw, value.__class__, value, a.formula)
            try:
                rendered = values[typed]
            except KeyError:
                rendered = _value(values, typed, a)
            except TypeError:  # a value that cannot be a key
                rendered = _value(None, typed, a)
            if rendered is None:  # blank
                continue
            place = (a.sub_element, a.field, a.item, a.column, a.sheet, a.cell)
            pieces = places.get(place) or _place(places, place)
            lines.append(f"{key_csv},{file_csv},{pieces[0]},{rendered[0]},{pieces[1]}\r\n")
            items.append(f'{pieces[2]}{file_json}{pieces[3]}{key_json},"raw_value":{rendered[1]}{pieces[4]}'
                         f"{rendered[2]}}}")
        yield lines, items


_VALUES = 1024  # answer values whose rendered pieces are kept: the recurring ones are among the first met


def _value(values: dict | None, typed: tuple, a) -> tuple[str, str, str] | None:
    """An answer's values rendered: the CSV's value and raw_value fields, and the JSON's raw_value and value; None
    where it is blank (its raw text is only spaces). Kept in values for the next answer alike (short values)."""
    raw = a.raw_text
    if raw.strip() == "":
        rendered = None
    else:
        value = a.value_text()
        rendered = (f"{csv_text(value)},{csv_text(raw)}", _text(raw), _text(value))
    if values is not None and len(values) < _VALUES and len(raw) <= 64:
        values[typed] = rendered
    return rendered


def _place(places: dict, place: tuple[str, ...]) -> tuple[str, str, str, str, str]:
    """The fixed pieces of an answer's lines: its CSV fields before and after the values, and the JSON object
    (keys in sorted order, as _dump writes them) around the file, the partner and the values."""
    sub, field, item, column, sheet, cell = place
    pieces = (",".join(map(csv_text, (sub, field, item, column))), csv_text(sheet) + "," + csv_text(cell),
              f'{{"cell":{_text(cell)},"column":{_text(column)},"field":{_text(field)},"file":',
              f',"item":{_text(item)},"partner_id":',
              f',"sheet":{_text(sheet)},"sub_element":{_text(sub)},"value":')
    if len(places) < _PLACES:
        places[place] = pieces
    return pieces


def write_flat(cons: Consolidation, out: Path) -> list[Path]:
    # levels and answers are long: their summary.json items are rendered while their CSVs are written (one pass
    # over the spooled answers), straight into summary.json as it reaches them (its keys are in sorted order).
    path = out / "summary.json"
    with path.open("w", encoding="utf-8") as fh:
        _stream_json(fh, _summary_json(cons, out))
        fh.write("\n")
    written = [out / "levels.csv", out / "answers.csv",
               _write(out / "findings.csv", FINDINGS, ((f.file, f.severity.value, f.code, f.sheet, f.cell, f.message)
                                                       for f in cons.findings())),
               _write(out / "register.csv", REGISTER, _register_rows(cons))]
    if cons.indicator_values:
        written.append(_write(out / "indicators.csv", INDICATORS, _indicator_rows(cons)))
    return [*written, path]


_dump = json.JSONEncoder(ensure_ascii=False, sort_keys=True, default=str, separators=(",", ":")).encode


def _stream_json(fh, data: dict) -> None:
    """Write the summary as JSON one list item at a time: the answers of a large round never sit in memory as one
    document. A value may be a list, a dict, an iterable of items, or a function that writes rendered items,
    comma-separated, into the file it is given."""
    fh.write("{")
    for i, key in enumerate(sorted(data)):
        fh.write(("," if i else "") + _dump(key) + ":")
        value = data[key]
        if isinstance(value, dict | list):
            fh.write(_dump(value))
            continue
        fh.write("[")
        if callable(value):
            value(fh)
            fh.write("]")
            continue
        for j, item in enumerate(value):
            fh.write(("," if j else "") + _dump(item))
        fh.write("]")
    fh.write("}")


def _summary_json(cons: Consolidation, out: Path) -> dict:
    """Everything for programs, as _stream_json writes it: the long lists as generators; levels and answers as
    the writing of levels.csv and answers.csv, which render their items into summary.json on the way."""
    m = cons.matrix
    return {
        "matrix": {"id": m.id, "title": m.title, "version": m.version, "levels": list(m.level_names)},
        "register": _items(REGISTER, _register_rows(cons)),
        "levels": lambda sink: _write_rendered(out / "levels.csv", LEVELS, _levels(cons), sink),
        "sub_elements": [{"code": sub.code, "name": sub.name,
                          **{c: cons.stats(sub.code, c) for c in COLUMNS}} for _, _, sub in m.sub_elements()],
        "answers": lambda sink: _write_rendered(out / "answers.csv", ANSWERS, _answers(cons), sink),
        "findings": (f.as_dict() for f in cons.findings()),
        "indicators": _items(INDICATORS, _indicator_rows(cons)),
    }


def _register_rows(cons: Consolidation):
    """The register in REGISTER's order: for register.csv and summary.json alike."""
    return ((r.status, r.partner_id, r.name, r.organisation, r.email, r.file, r.reason, r.errors, r.warnings, r.info,
             r.sender) for r in cons.register)


def _indicator_rows(cons: Consolidation):
    """The indicator values in INDICATORS' order: for indicators.csv and summary.json alike."""
    return ((v.indicator_id, v.period, v.value, v.numerator, v.denominator, v.rag, v.commentary, v.partner_id,
             v.partner, v.file, v.cell) for v in cons.indicator_values)


def _items(header: tuple[str, ...], rows):
    return (dict(zip(header, row, strict=True)) for row in rows)
