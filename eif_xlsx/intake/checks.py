"""Raw answers -> findings and scores: everything the importer says about one return."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from eif_xlsx.cells import a1
from eif_xlsx.domain.catalog import Catalog
from eif_xlsx.domain.model import Matrix
from eif_xlsx.domain.scoring import Score, Scores, score_ticks
from eif_xlsx.errors import Finding, Severity, finding
from eif_xlsx.intake.reader import Answer, Return
from eif_xlsx.template.layout import (
    BASELINE,
    COLUMN_LABEL,
    COLUMNS,
    COVER_FIELD_NAMES,
    META_PARTNER_ID_ROW,
    META_SHEET,
    META_VALUE_COL,
    TWELVE_MONTHS,
    Row,
    SheetLayout,
)


@dataclass(slots=True)
class SubElementResult:
    code: str
    column: str
    score: Score
    overall_rating: str = ""
    criteria_ticked: tuple[str, ...] = ()


@dataclass(slots=True)
class Report:
    """What the importer concludes about one file: accepted or not, why, and the scores it carries."""

    file: str
    path: str
    ret: Return
    findings: list[Finding] = field(default_factory=list)
    results: dict[tuple[str, str], SubElementResult] = field(default_factory=dict)  # (code, column)
    dates: dict[str, dt.date | None] = field(default_factory=dict)
    matrix: Matrix | None = None
    scores: Scores | None = None  # compact, made by a worker from results (see scoring.Scores)

    @property
    def accepted(self) -> bool:
        return self.ret.readable and not any(f.severity == Severity.ERROR for f in self.findings)

    @property
    def status(self) -> str:
        return "accepted" if self.accepted else "rejected"

    @property
    def partner(self) -> dict[str, str]:
        m = self.ret.metadata
        return {
            "id": m.get("partner_id", ""),
            "name": m.get("partner_name", ""),
            "organisation": m.get("partner_organisation", ""),
            "email": m.get("partner_email", ""),
        }

    def respondent(self) -> tuple[str, str]:
        """Name and organisation: the metadata's partner, else what the respondent typed on the cover."""
        p = self.partner

        def cover(field_: str) -> str:
            a = self.ret.answer(field_)
            return a.value_text() if a else ""

        return p["name"] or cover("respondent_name"), p["organisation"] or cover("respondent_organisation")

    @property
    def key(self) -> str:
        """Who the return is from, for consolidation: the partner id, else a key made of the respondent's name and
        the file (an unlisted workbook never merges with another)."""
        return self.partner["id"] or "unlisted:" + self.respondent()[0] + ":" + self.file

    def counts(self) -> dict[str, int]:
        out = {s.value: 0 for s in Severity}
        for f in self.findings:
            out[f.severity.value] += 1
        return out

    def reason(self) -> str:
        errors = [f.message for f in self.findings if f.severity == Severity.ERROR]
        return errors[0] if errors else ""

    def as_dict(self) -> dict:
        """The report as plain data: what `validate --json` prints."""
        return {
            "file": self.file,
            "path": self.path,
            "status": self.status,
            "format": self.ret.format,
            "sender": self.ret.sender,
            "matrix": {
                "id": self.ret.metadata.get("definition_id", ""),
                "version": self.ret.metadata.get("definition_version", ""),
            },
            "partner": self.partner,
            "round": self.ret.metadata.get("round", ""),
            "counts": self.counts(),
            "findings": [f.as_dict() for f in self.findings],
            "dates": {c: (d.isoformat() if d else None) for c, d in self.dates.items()},
            "sub_elements": [
                {
                    "code": r.code,
                    "column": r.column,
                    "score": r.score.score,
                    "level": r.score.level,
                    "level_name": r.score.level_name,
                    "overall_rating": r.overall_rating,
                    "criteria_ticked": r.score.ticked,
                    "criteria_total": r.score.total,
                }
                for r in self.results.values()
            ],
        }


def check(
    ret: Return,
    catalog=None,
    *,
    expected_matrix: str | None = None,
    today: dt.date | None = None,
    partners_by_email: dict[str, str] | None = None,
) -> Report:
    """Check one return. partners_by_email maps known partner emails to partner ids (from the manifest)."""
    report = Report(ret.file, ret.path, ret, findings=list(ret.findings))
    if not ret.readable:
        return report
    catalog = catalog or Catalog.default()
    matrix = catalog.matrix(ret.matrix_id)
    report.matrix = matrix
    if expected_matrix and ret.matrix_id != expected_matrix:
        report.findings.append(
            finding("different-matrix", ret.file, definition=ret.matrix_id, expected=expected_matrix)
        )
    today = today or dt.date.today()
    answers = _Answers(ret.answers)
    _score(report, matrix, answers)
    _dates(report, today, answers)
    _other_partner(report, partners_by_email or {})
    _matched_by_email(report, partners_by_email or {})
    if not any(a.filled for a in answers.typed if a.field not in COVER_FIELD_NAMES):
        report.findings.append(finding("nothing-filled", ret.file))
    return report


class _Answers:
    """The answers the checks look at, picked out of a return's ~2,000 (most of them blank) in one pass."""

    LOOKED_UP = frozenset(
        {
            "criterion",
            "overall_rating",
            "supporting_information",
            "supporting_other_tick",
            "supporting_other",
            "assessment_date",
        }
    )

    def __init__(self, answers: list[Answer]):
        self.criteria: dict[tuple[str, str], dict[str, Answer]] = {}  # (sub-element, column) -> item -> the last
        self.groups: dict[tuple[str, str], list[Answer]] = {}  # the others by (sub-element, field), in answer order
        # Those holding anything at all: a filled answer is always one of them.
        self.typed: list[Answer] = [a for a in answers if a.raw is not None or a.formula]
        # One pass over the rest: touching every answer is what costs. A row's answers come together, so the group
        # of the one before is usually the group of the next.
        criteria, groups, looked_up = self.criteria, self.groups, self.LOOKED_UP
        key: tuple[str, str] | None = None
        group: list[Answer] = []
        for a in answers:
            field_ = a.field
            if field_ not in looked_up:
                continue
            if field_ == "criterion":
                by_item = criteria.get((a.sub_element, a.column))
                if by_item is None:
                    by_item = criteria[(a.sub_element, a.column)] = {}
                by_item[a.item] = a
            else:
                if key is None or key[0] != a.sub_element or key[1] != field_:
                    key = (a.sub_element, field_)
                    found = groups.get(key)
                    if found is None:
                        found = groups[key] = []
                    group = found
                group.append(a)

    def of(self, sub_element: str, field_: str) -> list[Answer]:
        return self.groups.get((sub_element, field_), [])

    def get(self, field_: str, sub_element: str, item: str, column: str) -> Answer | None:
        """What Return.answer gives: the last answer with that key."""
        if field_ == "criterion":
            return self.criteria.get((sub_element, column), {}).get(item)
        for a in reversed(self.groups.get((sub_element, field_), ())):  # a few answers: looked up now and then
            if a.item == item and a.column == column:
                return a
        return None


def _at(answer: Answer | None, sheet: str) -> tuple[str, str]:
    """Where a finding about an answer points: its sheet and cell, or only the sheet when there is no answer."""
    return (answer.sheet, answer.cell) if answer else (sheet, "")


def _score(report: Report, matrix: Matrix, answers: _Answers) -> None:
    ret = report.ret
    levels = matrix.level_names
    assert ret.layout is not None  # check() scores readable returns only, and reading one sets its layout
    for sheet in ret.layout.by_role("sub_element"):
        code = sheet.sub_element
        criteria = [(r.key, r.level) for r in sheet.rows_of("criterion")]
        ticked_cols: dict[str, set[str]] = {}
        for column in COLUMNS:
            cells = answers.criteria.get((code, column), {})
            ticked = {item for item, a in cells.items() if a.value is True}
            ticked_cols[column] = ticked
            sc = score_ticks(levels, criteria, ticked)
            rating = answers.get("overall_rating", code, "", column)
            rating_text = rating.value_text() if rating else ""
            report.results[(code, column)] = SubElementResult(code, column, sc, rating_text, tuple(sorted(ticked)))
            for skipped in sc.skipped:
                where = cells.get(skipped)
                level = next(lv for c, lv in criteria if c == skipped)
                report.findings.append(
                    finding(
                        "skipped-level",
                        ret.file,
                        *_at(where, sheet.name),
                        sub_element=code,
                        column=COLUMN_LABEL[column],
                        item=skipped,
                        level=level,
                        reached=sc.level_name,
                    )
                )
            if sc.assessed and sc.full >= 2:
                _evidence(report, answers, sheet, column, levels[sc.full - 1])
            if rating and rating_text and rating.problem == "" and sc.assessed and rating_text != sc.level_name:
                report.findings.append(
                    finding(
                        "rating-differs",
                        ret.file,
                        rating.sheet,
                        rating.cell,
                        sub_element=code,
                        column=COLUMN_LABEL[column],
                        rating=rating_text,
                        level=sc.level,
                    )
                )
        if ticked_cols[TWELVE_MONTHS] and not ticked_cols[BASELINE]:
            first = min(ticked_cols[TWELVE_MONTHS], key=lambda c: [k for k, _ in criteria].index(c))
            where = answers.get("criterion", code, first, TWELVE_MONTHS)
            report.findings.append(
                finding(
                    "twelve-months-without-baseline",
                    ret.file,
                    *_at(where, ""),
                    sub_element=code,
                )
            )


def _evidence(report: Report, answers: _Answers, sheet: SheetLayout, column: str, claimed: str) -> None:
    """A level of 2 or more claimed in a column needs supporting information ticked. Where the sub-element has
    supporting information marked with the claimed level, the evidence must be one of those or an item without a
    level ('Other' included): an item marked with another level does not count."""
    code = sheet.sub_element
    support_rows = sheet.rows_of("supporting_information")
    support_levels = {r.key: r.level for r in support_rows}
    supports = [
        a
        for a in answers.of(code, "supporting_information") + answers.of(code, "supporting_other_tick")
        if a.column == column and a.value is True
    ]
    # An 'Other' item described but not ticked counts in the baseline column (as when the workbook had no ticks).
    others_typed = column == BASELINE and any(str(a.value or "").strip() for a in answers.of(code, "supporting_other"))
    at_claimed = [r for r in support_rows if r.level == claimed]
    if at_claimed:
        ok = others_typed or any(support_levels.get(a.item, "") in ("", claimed) for a in supports)
        unlevelled = "one without a level, " if any(not r.level for r in support_rows) else ""
        at_level = f" at that level (an item marked {claimed}, {unlevelled}or one under 'Other')"
        first: Row | None = at_claimed[0]  # the finding points at the first item that would do
    else:
        ok = bool(supports) or others_typed
        at_level = ""
        first = support_rows[0] if support_rows else None
    if not ok:
        where = answers.get("supporting_information", code, first.key, column) if first else None
        report.findings.append(
            finding(
                "no-evidence",
                report.file,
                *_at(where, sheet.name),
                sub_element=code,
                column=COLUMN_LABEL[column],
                level=claimed,
                at_level=at_level,
            )
        )


def _dates(report: Report, today: dt.date, answers: _Answers) -> None:
    ret = report.ret
    for column in COLUMNS:
        a = answers.get("assessment_date", "", "", column)
        date = report.dates[column] = a.value if a and isinstance(a.value, dt.date) else None
        used = any(a2.filled for a2 in answers.typed if a2.column == column and a2.field != "assessment_date")
        if a is None:
            continue
        if date is None and not a.problem and used:
            report.findings.append(finding("date-missing", ret.file, a.sheet, a.cell, column=COLUMN_LABEL[column]))
        elif date and date > today:
            report.findings.append(
                finding(
                    "date-in-future", ret.file, a.sheet, a.cell, column=COLUMN_LABEL[column], value=date.isoformat()
                )
            )
    base, later = report.dates.get(BASELINE), report.dates.get(TWELVE_MONTHS)
    if base and later and later < base:
        a = answers.get("assessment_date", "", "", TWELVE_MONTHS)
        assert a is not None  # the twelve-months date was read from it
        report.findings.append(
            finding("dates-out-of-order", ret.file, a.sheet, a.cell, value=later.isoformat(), baseline=base.isoformat())
        )


def _matched_by_email(report: Report, partners_by_email: dict[str, str]) -> None:
    """A return that carries no partner id (its metadata deleted, or the answers copied into a new workbook) is the
    return of the manifest's partner whose address sent it or is typed on its cover, when these name one partner
    only; otherwise it stays a workbook of no listed partner."""
    ret = report.ret
    if ret.partner_id or not partners_by_email:
        return
    typed = ret.answer("respondent_email")
    found = {
        how: address
        for how, address in (
            ("sent it", (ret.sender or "").strip().lower()),
            ("is typed on its cover", (typed.value_text() if typed else "").strip().lower()),
        )
        if address in partners_by_email
    }
    partners = {partners_by_email[address] for address in found.values()}
    if len(partners) != 1:
        return
    (partner,) = partners
    ret.metadata["partner_id"] = partner
    how = " and ".join(found)
    address = next(iter(found.values()))
    report.findings.append(finding("matched-by-email", ret.file, partner=partner, how=f"{address} {how}"))


def _other_partner(report: Report, partners_by_email: dict[str, str]) -> None:
    """A return whose sender is another known partner than the one the workbook was made for."""
    ret = report.ret
    owner = ret.partner_id
    if not owner:
        return
    sender = (ret.sender or "").strip().lower()
    if sender and sender in partners_by_email and partners_by_email[sender] != owner:
        report.findings.append(
            finding(
                "other-partner",
                ret.file,
                META_SHEET,
                a1(META_PARTNER_ID_ROW, META_VALUE_COL),
                detail=f"partner {owner} ({ret.metadata.get('partner_name', '')})",
                expected=f"{partners_by_email[sender]}, {sender}",
            )
        )
