"""What the summary takes from a return's answers (supporting information ticked, barriers and actions, notes, the
'Other' supporting items a partner added), in
a form small enough to take in the reading process (batch.slim) and keep on disk: the summary then reads this,
not every answer again."""

from __future__ import annotations

from collections.abc import Iterable

ACTION_FIELDS = frozenset({"barrier", "priority_action", "timescale", "owner", "action_notes"})
# The notes' fields, and the kind each is listed as in the summary
NOTE_KINDS = {"notes": "Notes", "supporting_other": "Other supporting information", "extra": "Outside the template"}

# (ticked supporting information as (sub-element, item, column), barrier/action groups as (sub-element, item,
# the first cell, {field: text}), notes as (sub-element, field, Sheet!A1, text), 'Other' supporting items as
# (sub-element, item, Sheet!A1 of its text or of its first tick, text, (columns ticked))); each in answer order
Other = tuple[str, str, str, str, tuple[str, ...]]
Texts = tuple[
    list[tuple[str, str, str]], list[tuple[str, str, str, dict[str, str]]], list[tuple[str, str, str, str]], list[Other]
]


def texts_of(answers: Iterable) -> Texts:
    """From a return's answers then its extra values. Only typed answers count: blank ones may be left out."""
    support: list[tuple[str, str, str]] = []
    groups: dict[tuple[str, str], tuple[str, str, str, dict[str, str]]] = {}
    notes: list[tuple[str, str, str, str]] = []
    others: dict[tuple[str, str], list] = {}  # (sub-element, item) -> [cell, text, columns ticked]
    for a in answers:
        field = a.field
        if field == "supporting_information":
            if a.value is True:
                support.append((a.sub_element, a.item, a.column))
        elif field in ACTION_FIELDS:
            raw = a.raw_text
            if raw.strip():
                g = groups.get((a.sub_element, a.item))
                if g is None:
                    g = groups[(a.sub_element, a.item)] = (a.sub_element, a.item, f"{a.sheet}!{a.cell}", {})
                g[3][field] = a.value_text() if field == "timescale" else raw
        elif field in NOTE_KINDS:
            raw = a.raw_text
            if raw.strip():
                notes.append((a.sub_element, field, f"{a.sheet}!{a.cell}", raw))
                if field == "supporting_other":
                    o = others.setdefault((a.sub_element, a.item), [f"{a.sheet}!{a.cell}", "", []])
                    o[0], o[1] = f"{a.sheet}!{a.cell}", raw
        elif field == "supporting_other_tick" and a.value is True:
            o = others.setdefault((a.sub_element, a.item), [f"{a.sheet}!{a.cell}", "", []])
            if a.column not in o[2]:
                o[2].append(a.column)
    return support, list(groups.values()), notes, [(s, i, o[0], o[1], tuple(o[2])) for (s, i), o in others.items()]
