"""The published JSON Schema of summary.json (`eif-xlsx schema summary` prints it; a test validates a real import's
summary.json against it). Keys match flat.py's headers, which the schema is built from."""

from __future__ import annotations

from eif_xlsx.report.flat import ANSWERS, FINDINGS, INDICATORS, LEVELS, REGISTER, SCHEMA_VERSION
from eif_xlsx.template.layout import COLUMNS

_TEXT = {"type": "string"}
_COUNT = {"type": "integer", "minimum": 0}
_SCORE = {"type": ["number", "null"], "minimum": 0, "maximum": 4}
_NUMBER = {"type": ["number", "null"]}


def _record(header: tuple[str, ...], description: str, **kinds: dict) -> dict:
    """An object with exactly the header's keys, each text unless kinds says otherwise."""
    return {
        "type": "object",
        "description": description,
        "additionalProperties": False,
        "required": list(header),
        "properties": {k: kinds.get(k, _TEXT) for k in header},
    }


def _list(item: dict) -> dict:
    return {"type": "array", "items": item}


_STATS = {
    "type": "object",
    "additionalProperties": False,
    "description": "Across the partners who assessed the sub-element in this column.",
    "required": ["count", "median", "min", "max", "spread", "moderate", "median_level"],
    "properties": {
        "count": _COUNT,
        "median": _SCORE,
        "min": _SCORE,
        "max": _SCORE,
        "spread": {
            "type": ["integer", "null"],
            "minimum": 0,
            "description": "Highest minus lowest progress level (0-4).",
        },
        "moderate": {"type": "boolean", "description": "A spread of two levels or more."},
        "median_level": _TEXT,
    },
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
    "required": [
        "schema_version",
        "matrix",
        "indicator_set",
        "register",
        "levels",
        "sub_elements",
        "answers",
        "findings",
        "indicators",
    ],
    "properties": {
        "schema_version": {"const": SCHEMA_VERSION},
        "matrix": {
            "type": "object",
            "additionalProperties": False,
            "required": ["id", "title", "version", "levels"],
            "properties": {
                "id": _TEXT,
                "title": _TEXT,
                "version": _TEXT,
                "levels": _list(_TEXT) | {"description": "Progress level names, lowest first."},
            },
        },
        "indicator_set": {
            "oneOf": [
                {"type": "null"},
                {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["id", "title", "version"],
                    "properties": {"id": _TEXT, "title": _TEXT, "version": _TEXT},
                },
            ]
        },
        "register": _list(
            _record(
                REGISTER,
                "One file read, or one partner expected and not returned.",
                status={"enum": ["returned", "superseded", "rejected", "unexpected", "outstanding"]},
                errors=_COUNT,
                warnings=_COUNT,
                info=_COUNT,
            )
        ),
        "levels": _list(
            _record(
                LEVELS,
                "One partner's level for one sub-element and column (only assessed ones).",
                column={"enum": list(COLUMNS)},
                score=_SCORE,
                criteria_ticked=_COUNT,
                criteria_total=_COUNT,
            )
        ),
        "sub_elements": _list(
            {
                "type": "object",
                "additionalProperties": False,
                "required": ["code", "name", *COLUMNS],
                "properties": {"code": _TEXT, "name": _TEXT, **{c: _STATS for c in COLUMNS}},
            }
        ),
        "answers": _list(
            _record(
                ANSWERS,
                "One typed answer: raw_value as typed (a formula as '=...'), value as read; every value is text. "
                "An 'Other' supporting item a partner added is a supporting_other answer (its text) and a "
                "supporting_other_tick answer per column (item 'Other 1'...).",
                column={"enum": ["", *COLUMNS]},
                item_level=_TEXT
                | {
                    "description": "For a supporting_information answer, the progress level the matrix "
                    "gives the item (item is its id); empty where it gives none, and for "
                    "every other field."
                },
            )
        ),
        "findings": _list(
            _record(
                FINDINGS,
                "One finding (stable code; see eif_xlsx/errors.py).",
                severity={"enum": ["error", "warning", "info"]},
            )
        ),
        "indicators": _list(
            _record(
                INDICATORS,
                "One indicator value from a return's Indicators sheet.",
                value={"type": ["number", "string", "null"]},
                numerator=_NUMBER,
                denominator=_NUMBER,
            )
        ),
    },
}


# -- checking a summary.json against the schema (for `eif-xlsx report`) ----------------------------------------

_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "null": (type(None),),
    "array": (list,),
    "object": (dict,),
}


def _is(value: object, kind: str) -> bool:
    if isinstance(value, bool):  # a bool is an int to Python, not to JSON
        return kind == "boolean"
    if kind == "integer" and isinstance(value, float):
        return value.is_integer()
    return isinstance(value, _TYPES[kind])


def _where(path: str, key: object) -> str:
    return f"{path}[{key}]" if isinstance(key, int) else (f"{path}.{key}" if path else str(key))


def problems(value: object, schema: dict | None = None, path: str = "", limit: int = 10) -> list[str]:
    """What in value does not follow schema (SUMMARY_SCHEMA by default), each as 'where: what', at most limit of
    them. Covers the keywords the schemas here use (type, const, enum, required, properties, additionalProperties,
    items, oneOf, minimum, maximum); a test checks it agrees with the jsonschema package."""
    found: list[str] = []
    _check(value, SUMMARY_SCHEMA if schema is None else schema, path, found, limit)
    return found


def _check(value: object, schema: dict, path: str, found: list[str], limit: int) -> None:
    if len(found) >= limit:
        return
    where = path or "the top level"
    if "oneOf" in schema:
        if sum(not problems(value, s, path, 1) for s in schema["oneOf"]) != 1:
            found.append(f"{where}: {_short(value)} is not as described")
        return
    kinds = schema.get("type")
    if kinds is not None:
        kinds = [kinds] if isinstance(kinds, str) else kinds
        if not any(_is(value, k) for k in kinds):
            found.append(f"{where}: {_short(value)} is not {' or '.join(_NAMES[k] for k in kinds)}")
            return
    if "const" in schema and value != schema["const"]:
        found.append(f"{where}: {_short(value)} is not {schema['const']!r}")
    if "enum" in schema and value not in schema["enum"]:
        found.append(f"{where}: {_short(value)} is not one of {', '.join(map(repr, schema['enum']))}")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"] or "maximum" in schema and value > schema["maximum"]:
            found.append(f"{where}: {value!r} is outside {schema.get('minimum', '')}-{schema.get('maximum', '')}")
    if isinstance(value, dict):
        missing = [k for k in schema.get("required", ()) if k not in value]
        if missing:
            found.append(f"{where}: missing {', '.join(map(repr, missing))}")
        properties = schema.get("properties", {})
        if schema.get("additionalProperties") is False:
            extra = sorted(str(k) for k in value if k not in properties)
            if extra:
                found.append(f"{where}: unexpected {', '.join(extra)}")
        for key, sub in properties.items():
            if key in value:
                if sub is _TEXT and value[key].__class__ is str:  # most values: a text where a text belongs
                    continue
                _check(value[key], sub, _where(path, key), found, limit)
    elif isinstance(value, list) and "items" in schema:
        item = schema["items"]
        for i, v in enumerate(value):
            if len(found) >= limit:
                return
            _check(v, item, _where(path, i), found, limit)


_NAMES = {
    "string": "a text",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "true or false",
    "null": "null",
    "array": "a list",
    "object": "an object",
}


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:39] + "…"
