"""Flat exports for analysts: levels.csv, answers.csv, findings.csv, indicators.csv and summary.json."""

from __future__ import annotations

import csv
import json
from functools import partial
from pathlib import Path

from ..consolidate import Consolidation
from ..layout import COLUMNS
from .safe import csv_cell

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
        for row in rows:
            w.writerow([csv_cell("" if v is None else v) for v in row])
    return path


def level_rows(cons: Consolidation):
    for p in cons.participants:
        for _, _, sub in cons.matrix.sub_elements():
            for column in COLUMNS:
                r = p.report.results.get((sub.code, column))
                if r is None:
                    continue
                yield (p.key, p.name, p.organisation, p.report.file, sub.code, column,
                       "" if r.score.score is None else r.score.score, r.score.level, r.overall_rating,
                       r.score.ticked, r.score.total)


def answer_rows(cons: Consolidation):
    for p in cons.participants:
        ret = p.report.ret
        for a in [*ret.answers, *ret.extra]:
            if a.raw_text.strip() == "":
                continue
            yield (p.key, ret.file, a.sub_element, a.field, a.item, a.column, a.value_text(), a.raw_text, a.sheet,
                   a.cell)


def write_flat(cons: Consolidation, out: Path) -> list[Path]:
    written = [
        _write(out / "levels.csv", LEVELS, level_rows(cons)),
        _write(out / "answers.csv", ANSWERS, answer_rows(cons)),
        _write(out / "findings.csv", FINDINGS, ((f.file, f.severity.value, f.code, f.sheet, f.cell, f.message)
                                                for f in cons.findings())),
        _write(out / "register.csv", REGISTER, ((r.status, r.partner_id, r.name, r.organisation, r.email, r.file,
                                                 r.reason, r.errors, r.warnings, r.info, r.sender)
                                                for r in cons.register)),
    ]
    if cons.indicator_values:
        written.append(_write(out / "indicators.csv", INDICATORS, (
            (v.indicator_id, v.period, v.value, v.numerator, v.denominator, v.rag, v.commentary, v.partner_id,
             v.partner, v.file, v.cell) for v in cons.indicator_values)))
    path = out / "summary.json"
    with path.open("w", encoding="utf-8") as fh:
        _stream_json(fh, summary_json(cons, lazy=True))
        fh.write("\n")
    written.append(path)
    return written


def _stream_json(fh, data: dict) -> None:
    """Write the summary as JSON one list item at a time: the answers of a large round never sit in memory as one
    document."""
    dump = partial(json.dumps, ensure_ascii=False, sort_keys=True, default=str, separators=(",", ":"))
    fh.write("{")
    for i, key in enumerate(sorted(data)):
        fh.write(("," if i else "") + dump(key) + ":")
        value = data[key]
        if isinstance(value, dict | list):
            fh.write(dump(value))
            continue
        fh.write("[")
        for j, item in enumerate(value):
            fh.write(("," if j else "") + dump(item))
        fh.write("]")
    fh.write("}")


def summary_json(cons: Consolidation, lazy: bool = False) -> dict:
    """Everything for programs. With lazy=True the long lists are generators (see _stream_json)."""
    m = cons.matrix
    return {
        "matrix": {"id": m.id, "title": m.title, "version": m.version, "levels": list(m.level_names)},
        "register": _items(REGISTER, ((r.status, r.partner_id, r.name, r.organisation, r.email, r.file, r.reason,
                                       r.errors, r.warnings, r.info, r.sender) for r in cons.register), lazy),
        "levels": _items(LEVELS, level_rows(cons), lazy),
        "sub_elements": [{"code": sub.code, "name": sub.name,
                          **{c: cons.stats(sub.code, c) for c in COLUMNS}} for _, _, sub in m.sub_elements()],
        "answers": _items(ANSWERS, answer_rows(cons), lazy),
        "findings": _lazy((f.as_dict() for f in cons.findings()), lazy),
        "indicators": [dict(zip(INDICATORS, (v.indicator_id, v.period, v.value, v.numerator, v.denominator, v.rag,
                                             v.commentary, v.partner_id, v.partner, v.file, v.cell), strict=True))
                       for v in cons.indicator_values],
    }


def _items(header: tuple[str, ...], rows, lazy: bool):
    return _lazy((dict(zip(header, row, strict=True)) for row in rows), lazy)


def _lazy(items, lazy: bool):
    return items if lazy else list(items)
