"""Workbooks pre-filled from returns: the 12-months round, feedback copies and upgrades to a newer template."""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from python_calamine import CalamineWorkbook

from eif_xlsx.cells import parse_a1
from eif_xlsx.domain.catalog import Catalog
from eif_xlsx.domain.model import IndicatorSet, Matrix
from eif_xlsx.domain.partners import Partner
from eif_xlsx.errors import Severity, UsageError
from eif_xlsx.intake.checks import Report
from eif_xlsx.intake.manifest import return_order
from eif_xlsx.intake.reader import Answer, Return
from eif_xlsx.intake.validate import validate
from eif_xlsx.template import layout as layout_mod
from eif_xlsx.template.generate import format_deadline, generate_workbooks
from eif_xlsx.template.layout import (
    BASELINE,
    COVER_FIELD_NAMES,
    COVER_INFO_ROWS,
    COVER_LABEL_COL,
    COVER_VALUE_COL,
    TWELVE_MONTHS,
    WorkbookLayout,
)

AnswerKey = tuple[str, str, str, str]
MARGIN_NOTE = "Written outside the answer cells at"  # how a carried margin note begins, before its Sheet!A1


@dataclass
class Carried:
    answers: dict[AnswerKey, object] = field(default_factory=dict)
    lost: list[str] = field(default_factory=list)  # what could not be carried over, in words
    positions: dict[tuple[str, str], AnswerKey] = field(default_factory=dict)  # (sheet, A1 in return) -> new key


def _write_value(a: Answer) -> object:
    """What to put back in the cell so that it reads back as the same answer."""
    if a.formula:
        return a.raw_text  # kept as text: a feedback copy never revives a formula
    if a.kind == "tick":
        return "✓" if a.value is True else a.raw_text
    if a.kind == "date" and isinstance(a.value, dt.date):
        return a.value
    if a.kind == "number" and isinstance(a.value, float):
        return a.value
    if a.kind == "choice" and not a.problem:
        return a.value
    if isinstance(a.raw, str):
        return a.raw
    return a.raw_text


def carry(ret: Return, new: WorkbookLayout) -> Carried:
    """Map every answer of a return onto the current layout by its id (criterion code, supporting-information id,
    row number of an 'Other' item or an action, indicator id), never by its wording; values typed outside the
    answer cells go to the notes of their sub-element. What has no place any more is listed in `lost`."""
    out = Carried()
    new_keys = {(c.field, c.sub_element, c.item, c.column) for _, _, c in new.inputs()}
    old_ids = layout_mod.template_one_item_ids(ret.layout, new)
    for a in ret.answers:
        if a.raw_text.strip() == "" or (a.kind == "tick" and a.value is False and not a.problem):
            continue
        key: AnswerKey | None = a.key
        if a.field == "supporting_information" and (a.sub_element, a.item) in old_ids:
            mapped = old_ids[(a.sub_element, a.item)]
            key = (a.field, a.sub_element, mapped, a.column) if mapped else None
        if key is None or key not in new_keys:
            what = f"{a.field.replace('_', ' ')} {a.sub_element} {a.item} {a.column}".replace("  ", " ").strip()
            out.lost.append(f"{what} at {a.sheet}!{a.cell}: '{a.raw_text}'")
            continue
        out.answers[key] = _write_value(a)
        out.positions[(a.sheet, a.cell)] = key
    _margin_notes(ret, out, new_keys)
    return out


def _margin_notes(ret: Return, out: Carried, new_keys: set[AnswerKey]) -> None:
    """Values typed outside the answer cells (Return.extra) are added to the notes of their sub-element, each with
    its original Sheet!A1; those on other sheets are listed in `lost`, to be reported."""
    for a in ret.extra:
        text = a.raw_text.strip()
        if not text:
            continue
        key = ("notes", a.sub_element, "", "")
        if a.sub_element and key in new_keys:
            line = f"[{MARGIN_NOTE} {a.sheet}!{a.cell}] {text}"
            before = out.answers.get(key)
            out.answers[key] = f"{before}\n{line}" if before not in (None, "") else line
            out.positions[(a.sheet, a.cell)] = key
        else:
            out.lost.append(f"note outside the answer cells at {a.sheet}!{a.cell}: '{text}'")


def _positions(new: WorkbookLayout) -> dict[AnswerKey, tuple[str, int, int]]:
    """Where each answer lives in a layout: (sheet, row, col) by (field, sub_element, item, column)."""
    return {(c.field, c.sub_element, c.item, c.column): (sheet.name, row.row, c.col) for sheet, row, c in new.inputs()}


@dataclass
class Plan:
    partners: list[Partner]
    prefill: dict[str, tuple[str, dict, dict]]
    notes: list[str]
    indicators: IndicatorSet | None = None  # the set the pre-fills are laid out for: generate with this one


def plan(
    catalog,
    matrix_id: str,
    previous,
    partners: list[Partner] | None,
    round_: str = "12-months",
    indicators: IndicatorSet | None = None,
) -> Plan:
    """Match each partner to their previous return (partner id, then email) and pre-fill from it.

    The new workbooks get `indicators`, or else the indicator set of the previous returns: generate them with
    Plan.indicators, or answers carried onto an Indicators sheet that is not written are lost.
    """
    matrix: Matrix = catalog.matrix(matrix_id)
    reports = [r for r in _read_previous(catalog, previous) if r.ret.readable and r.ret.matrix_id == matrix_id]
    if not reports:
        raise UsageError(f"no readable returns for '{matrix_id}' in {', '.join(map(str, previous))}")
    latest: dict[str, Report] = {}
    for r in sorted(reports, key=return_order):  # the same return the import counts as a partner's latest
        latest[r.ret.partner_id or f"file:{r.file}"] = r
    by_email = {}
    for r in latest.values():
        email = (r.ret.metadata.get("partner_email") or _cover_email(r.ret)).lower()
        if email:
            by_email[email] = r
    notes: list[str] = []
    given = partners is not None
    if partners is None:
        partners = []
        for r in [latest[k] for k in sorted(latest)]:
            m = r.ret.metadata
            if not m.get("partner_id"):
                notes.append(
                    f"{r.file}: the workbook has no partner id, so it is not re-issued; give a partner "
                    "list (--partners) to match it by email"
                )
                continue
            partners.append(_issued_to(m))
    iset = indicators or catalog.indicator_set_for(*(r.ret.metadata for r in reports))
    new = layout_mod.build(matrix, iset)
    prefill: dict[str, tuple[str, dict, dict]] = {}
    for p in partners:
        earlier = latest.get(p.id) or (by_email.get(p.email.lower()) if p.email else None)
        if earlier is None:
            notes.append(f"{p.id} {p.label}: no previous return; a blank workbook is issued")
            continue
        carried = carry(earlier.ret, new)
        if given:
            # The partner's details are the new list's: what was typed on last round's cover is not carried.
            carried.answers = {k: v for k, v in carried.answers.items() if k[0] not in COVER_FIELD_NAMES}
        cover = _actions_on_cover(earlier.ret)
        if carried.lost:
            cover.append(
                "Answers from your earlier return that could not be carried over (the matrix has "
                "changed, or they were written outside the answer cells): " + "; ".join(carried.lost)
            )
            notes.append(
                f"{p.id} {p.label}: {len(carried.lost)} answer(s) could not be carried over: " + "; ".join(carried.lost)
            )
        extra: dict[str, tuple[str, ...] | frozenset[str]] = {"notes_for_partner": tuple(cover)}
        if round_.replace("-", "_") == TWELVE_MONTHS:
            extra["locked_columns"] = frozenset({BASELINE})
            unread = [a for a in earlier.ret.answers if a.column == BASELINE and a.problem and a.raw_text.strip()]
            if unread:
                notes.append(
                    f"{p.id} {p.label}: {len(unread)} baseline answer(s) that do not read as what their cell asks "
                    "for are carried as typed and locked, counted as the first round counted them: "
                    + "; ".join(f"{a.sheet}!{a.cell} '{a.raw_text}'" for a in unread)
                )
        prefill[p.id] = (earlier.file, carried.answers, extra)
    return Plan(partners, prefill, notes, iset)


def _issued_to(metadata: Mapping[str, str]) -> Partner:
    """The partner a workbook was issued to, as its metadata records them (it holds a partner_id)."""
    return Partner(
        metadata["partner_id"],
        metadata.get("partner_name", ""),
        metadata.get("partner_organisation", ""),
        metadata.get("partner_email", ""),
        metadata.get("partner_role", ""),
    )


def _read_previous(catalog: Catalog, previous) -> list[Report]:
    """The previous returns, read and checked through `catalog` (the one the new workbooks are made from), each
    file in its own worker process as validate and import read them."""
    return validate(previous, catalog=catalog)


def _cover_email(ret: Return) -> str:
    a = ret.answer("respondent_email")
    return a.value_text() if a else ""


def _actions_on_cover(ret: Return) -> list[str]:
    actions = []
    for a in ret.answers:
        if a.field == "priority_action" and a.raw_text.strip():
            when = ret.answer("timescale", a.sub_element, a.item, "")
            actions.append(
                f"{a.sub_element} #{a.item}: {a.raw_text}"
                + (f" ({when.value_text()})" if when and when.raw_text else "")
            )
    if not actions:
        return []
    return [
        "Your priority actions from last time — record progress on each in the 'Notes / progress' column of its "
        "sheet: " + " | ".join(actions)
    ]


def write_feedback(
    reports: list[Report], out: Path, catalog=None, *, return_to: str | None = None, deadline: str | None = None
) -> list[Path]:
    """A copy of each return with findings: the partner's own answers, each finding on its cell and on the cover.

    The cover says where and by when to send it back: return_to and deadline (e.g. '2026-12-18'), each by default
    what the returned workbook itself carries (the address on its cover, the deadline in its metadata)."""
    catalog = catalog or Catalog.default()
    written: list[Path] = []
    for r in reports:
        ret = r.ret
        shown = [f for f in r.findings if f.severity != Severity.INFO]
        if not ret.readable or not shown or ret.matrix_id not in catalog.entries:
            continue
        matrix = catalog.matrix(ret.matrix_id)
        iset = catalog.indicator_set_for(ret.metadata)
        new = layout_mod.build(matrix, iset)
        carried = carry(ret, new)
        where = _positions(new)
        comments: dict[tuple[str, int, int], str] = {}
        for f in shown:
            key = carried.positions.get((f.sheet, f.cell))
            pos = where.get(key) if key else None
            if pos is None and f.sheet and f.cell:
                try:
                    row, col = parse_a1(f.cell)
                except ValueError:
                    continue
                pos = (f.sheet, row, col) if any(s.name == f.sheet for s in new.sheets) else None
            if pos:
                comments[pos] = (
                    comments.get(pos, "") + "\n" if pos in comments else ""
                ) + f"{f.severity.value}: {f.message}"
        m = ret.metadata
        # A workbook issued without a partner stays without one: a made-up id would merge such returns on import.
        partner = _issued_to(m) if m.get("partner_id") else None
        cover = [
            "PLEASE CORRECT AND RETURN — we found these points in the workbook you sent (" + ret.file + "); "
            "each is marked with a comment on its cell:"
        ]
        cover += [f"• {f.where + ': ' if f.where else ''}{f.message}" for f in shown]
        if carried.lost:
            cover.append("Not carried over: " + "; ".join(carried.lost))
        back_to = _cover_return_to(ret) if return_to is None else return_to
        by = m.get("deadline", "") if deadline is None else deadline
        try:
            by = format_deadline(by)
        except UsageError:  # a deadline that is not a date (an older workbook's free text) is still said
            cover.append(f"Please return it by {by}.")
            by = ""
        extra: dict = {"notes_for_partner": tuple(cover), "comments": comments}
        if m.get("round", "").replace("-", "_") == TWELVE_MONTHS:
            extra["locked_columns"] = frozenset({BASELINE})  # as issued: the baseline stays locked
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=out, prefix=".feedback-") as folder:
            result = generate_workbooks(
                matrix,
                folder,
                [partner] if partner else None,
                indicators=iset,
                area=m.get("area", ""),
                round=m.get("round", "baseline"),
                deadline=by,
                return_to=back_to,
                prefill={partner.id if partner else "": (ret.file, carried.answers, extra)},
            )
            target = free_name(out, f"FEEDBACK {Path(ret.file.split(' › ')[-1]).stem}", written)
            result.files[0].replace(target)
        written.append(target)
    return written


def _cover_return_to(ret: Return) -> str:
    """The 'Return to' address on the cover of a returned workbook ('' if it has none or it cannot be read)."""
    covers = ret.layout.by_role("cover") if ret.layout is not None else []
    if not covers:
        return ""
    cover = covers[0]
    first = cover.marks.get("partner_info", 0)
    try:
        rows = CalamineWorkbook.from_path(ret.path).get_sheet_by_name(cover.name).to_python(skip_empty_area=False)
    except Exception:  # calamine's own errors: a file re-saved oddly simply gives no default
        return ""
    for row in rows[first : first + COVER_INFO_ROWS]:
        if len(row) > COVER_VALUE_COL and str(row[COVER_LABEL_COL]).strip() == "Return to":
            return str(row[COVER_VALUE_COL]).strip()
    return ""


def free_name(out: Path, stem: str, written: list[Path]) -> Path:
    """out/stem.xlsx, or stem (2).xlsx, ... when two returns share a name (attachments often do)."""
    target, n = out / f"{stem}.xlsx", 2
    while target in written:
        target, n = out / f"{stem} ({n}).xlsx", n + 1
    return target
