"""The published JSON Schema of summary.json (`eif-xlsx schema summary` prints it; a test validates a real import's
summary.json against it). Keys match flat.py's headers, which the schema is built from."""

from __future__ import annotations

from ..layout import COLUMNS
from .flat import ANSWERS, FINDINGS, INDICATORS, LEVELS, REGISTER, SCHEMA_VERSION

_TEXT = {"type": "string"}
_COUNT = {"type": "integer", "minimum": 0}
_SCORE = {"type": ["number", "null"], "minimum": 0, "maximum": 4}
_NUMBER = {"type": ["number", "null"]}


def _record(header: tuple[str, ...], description: str, **kinds: dict) -> dict:
    """An object with exactly the header's keys, each text unless kinds says otherwise."""
    return {"type": "object", "description": description, "additionalProperties": False, "required": list(header),
            "properties": {k: kinds.get(k, _TEXT) for k in header}}


def _list(item: dict) -> dict:
    return {"type": "array", "items": item}


_STATS = {
    "type": "object", "additionalProperties": False,
    "description": "Across the partners who assessed the sub-element in this column.",
    "required": ["count", "median", "min", "max", "spread", "moderate", "median_level"],
    "properties": {"count": _COUNT, "median": _SCORE, "min": _SCORE, "max": _SCORE,
                   "spread": {"type": ["integer", "null"], "minimum": 0,
                              "description": "Highest minus lowest progress level (0-4)."},
                   "moderate": {"type": "boolean", "description": "A spread of two levels or more."},
                   "median_level": _TEXT},
}

SUMMARY_SCHEMA: dict = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": f"urn:eif-xlsx:schema:summary:{SCHEMA_VERSION}",
    "title": "eif-xlsx summary.json",
    "description": "The consolidated self-assessment written by `eif-xlsx import`: the returns register, the level "
                   "per partner and sub-element, aggregates, every typed answer, findings and indicator values. "
                   "Texts are exactly as typed (no CSV formula guard). Scores are 0-4, rounded to 4 decimal places.",
    "type": "object",
    "additionalProperties": False,
    "required": ["schema_version", "matrix", "indicator_set", "register", "levels", "sub_elements", "answers",
                 "findings", "indicators"],
    "properties": {
        "schema_version": {"const": SCHEMA_VERSION},
        "matrix": {"type": "object", "additionalProperties": False, "required": ["id", "title", "version", "levels"],
                   "properties": {"id": _TEXT, "title": _TEXT, "version": _TEXT,
                                  "levels": _list(_TEXT) | {"description": "Progress level names, lowest first."}}},
        "indicator_set": {"oneOf": [
            {"type": "null"},
            {"type": "object", "additionalProperties": False, "required": ["id", "title", "version"],
             "properties": {"id": _TEXT, "title": _TEXT, "version": _TEXT}}]},
        "register": _list(_record(
            REGISTER, "One file read, or one partner expected and not returned.",
            status={"enum": ["returned", "superseded", "rejected", "unexpected", "outstanding"]},
            errors=_COUNT, warnings=_COUNT, info=_COUNT)),
        "levels": _list(_record(
            LEVELS, "One partner's level for one sub-element and column (only assessed ones).",
            column={"enum": list(COLUMNS)}, score=_SCORE, criteria_ticked=_COUNT, criteria_total=_COUNT)),
        "sub_elements": _list({
            "type": "object", "additionalProperties": False, "required": ["code", "name", *COLUMNS],
            "properties": {"code": _TEXT, "name": _TEXT, **{c: _STATS for c in COLUMNS}}}),
        "answers": _list(_record(
            ANSWERS, "One typed answer: raw_value as typed (a formula as '=...'), value as read; every value is text.",
            column={"enum": ["", *COLUMNS]})),
        "findings": _list(_record(FINDINGS, "One finding (stable code; see eif_xlsx/errors.py).",
                                  severity={"enum": ["error", "warning", "info"]})),
        "indicators": _list(_record(
            INDICATORS, "One indicator value from a return's Indicators sheet.",
            value={"type": ["number", "string", "null"]}, numerator=_NUMBER, denominator=_NUMBER)),
    },
}
