"""Many returns -> one consolidated picture: the returns register, scores per partner and sub-element,
aggregates, criteria and evidence counts, barriers and actions, notes, findings and indicator values."""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypedDict

from eif_xlsx.domain.model import IndicatorSet, Matrix
from eif_xlsx.domain.scoring import Scores, level_of_score, mean, median
from eif_xlsx.errors import Severity
from eif_xlsx.intake.checks import Report
from eif_xlsx.intake.manifest import PartnerFinder, return_order
from eif_xlsx.spool import Rows
from eif_xlsx.template.layout import BASELINE, COLUMNS, TWELVE_MONTHS

STATUS_ORDER = ("returned", "superseded", "rejected", "unexpected", "outstanding")


@dataclass(slots=True)
class RegisterRow:
    partner_id: str
    name: str
    organisation: str
    email: str
    status: str  # returned | superseded | rejected | unexpected | outstanding
    file: str = ""
    reason: str = ""
    errors: int = 0
    warnings: int = 0
    info: int = 0
    sender: str = ""
    expected_file: str = ""

    def row(self) -> tuple:
        """The register's columns, in the order register.csv (flat.REGISTER) and the summary's sheet show them."""
        return (
            self.status,
            self.partner_id,
            self.name,
            self.organisation,
            self.email,
            self.file,
            self.reason,
            self.errors,
            self.warnings,
            self.info,
            self.sender,
        )


@dataclass(slots=True)
class Participant:
    """An accepted return that counts: who it is, its scores and its report."""

    key: str  # partner id, or a made-up key for an unlisted workbook
    name: str
    organisation: str
    report: Report
    scores: Scores = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.scores = self.report.scores if self.report.scores is not None else Scores(self.report.results)

    @property
    def label(self) -> str:
        return " · ".join(x for x in (self.name, self.organisation) if x) or self.key


@dataclass(slots=True)
class IndicatorValue:
    indicator_id: str
    period: str
    value: float | str | None
    numerator: float | None
    denominator: float | None
    rag: str
    commentary: str
    partner_id: str
    partner: str
    file: str
    cell: str


@dataclass
class Consolidation:
    matrix: Matrix
    participants: list[Participant]
    register: list[RegisterRow]
    reports: list[Report]
    indicators: IndicatorSet | None = None
    indicator_values: Rows | list[IndicatorValue] = field(default_factory=list)

    # -- aggregates ---------------------------------------------------------------------------

    def scores(self, code: str, column: str) -> list[float | None]:
        return [p.scores.score(code, column) for p in self.participants]

    def stats(self, code: str, column: str) -> dict:
        values = [v for v in self.scores(code, column) if v is not None]
        levels = [int(v + 1e-9) for v in values]
        spread = (max(levels) - min(levels)) if levels else None
        return {
            "count": len(values),
            "median": median(values),
            "min": min(values) if values else None,
            "max": max(values) if values else None,
            "spread": spread,
            "moderate": bool(spread is not None and spread >= 2),
            "median_level": level_of_score(self.matrix.level_names, median(values)),
        }

    def element_score(self, participant: Participant, element, column: str) -> float | None:
        return mean(participant.scores.score(s.code, column) for s in element.assessed)

    def dimension_score(self, participant: Participant, dimension, column: str) -> float | None:
        return mean(self.element_score(participant, el, column) for el in dimension.elements)

    def criterion_counts(self) -> dict[tuple[str, str], int]:
        counts: dict[tuple[str, str], int] = defaultdict(int)
        for p in self.participants:
            for (_, column), result in p.report.results.items():
                for code in result.criteria_ticked:
                    counts[(code, column)] += 1
        return counts

    def findings(self):
        for r in self.reports:
            yield from r.findings


@dataclass
class ImportResult:
    consolidation: Consolidation
    out_dir: Path
    outputs: list[Path]
    notes: list[str] = field(default_factory=list)  # e.g. why report.pdf was skipped

    @property
    def rejected(self) -> int:
        return sum(1 for r in self.consolidation.register if r.status == "rejected")

    def describe(self) -> str:
        reg = self.consolidation.register
        counts = {s: sum(1 for r in reg if r.status == s) for s in STATUS_ORDER}
        lines = [
            f"{len(self.consolidation.reports)} file(s) read: " + ", ".join(f"{n} {s}" for s, n in counts.items() if n)
        ]
        for r in reg:
            if r.status == "rejected":
                lines.append(f"  rejected  {r.file}: {r.reason}")
        for r in reg:
            if r.status == "outstanding":
                lines.append(
                    f"  outstanding  {r.name or r.organisation} <{r.email}>" + (f": {r.reason}" if r.reason else "")
                )
        lines.append("Wrote:")
        lines += [f"  {p}" for p in self.outputs]
        lines += self.notes
        return "\n".join(lines)


def build(
    reports: list[Report],
    matrix: Matrix,
    manifest: list[Mapping[str, str]] | None = None,
    indicators: IndicatorSet | None = None,
) -> Consolidation:
    """Resolve who counts (latest return per partner), build the register, gather indicator values."""
    expected = {r["partner_id"]: r for r in (manifest or []) if r.get("partner_id")}
    shown = _shown_names(reports)
    register: list[RegisterRow] = []
    by_partner: dict[str, list[Report]] = defaultdict(list)
    partner_of = PartnerFinder(manifest or [])
    for rep in reports:
        if not rep.accepted:
            p = rep.partner
            if not p["id"] and (pid := partner_of(rep)) in expected:  # a file that cannot be opened: as chase finds it
                p = _listed({**p, "id": pid}, expected[pid])
            register.append(
                RegisterRow(
                    p["id"],
                    p["name"],
                    p["organisation"],
                    p["email"],
                    "rejected",
                    shown.get(id(rep), rep.file),
                    rep.reason(),
                    **_counts(rep),
                    sender=rep.ret.sender,
                )
            )
            continue
        key = rep.key
        by_partner[key].append(rep)
    participants: list[Participant] = []
    for key in sorted(by_partner):
        reps = sorted(by_partner[key], key=return_order)
        latest = reps[-1]
        name, org = latest.respondent()
        # a workbook without the partner's details (matched by e-mail): the manifest's
        p = _listed({**latest.partner, "name": name, "organisation": org}, expected.get(key, {}))
        name, org = p["name"], p["organisation"]
        known = key in expected or (not expected and bool(p["id"]))
        status = "returned" if known else "unexpected"
        for older in reps[:-1]:
            register.append(
                RegisterRow(
                    key,
                    name,
                    org,
                    p["email"],
                    "superseded",
                    shown.get(id(older), older.file),
                    f"superseded by the later return {shown.get(id(latest), latest.file)}",
                    **_counts(older),
                    sender=older.ret.sender,
                )
            )
        reason = f"latest of {len(reps)} returns" if len(reps) > 1 else ""
        if status == "unexpected":
            reason = ("not in the manifest" if expected else "a workbook without a partner id") + (
                f"; {reason}" if reason else ""
            )
        register.append(
            RegisterRow(
                p["id"],
                name,
                org,
                p["email"],
                status,
                shown.get(id(latest), latest.file),
                reason,
                **_counts(latest),
                sender=latest.ret.sender,
            )
        )
        participants.append(Participant(key, name, org, latest))
    returned_ids = {r.partner_id for r in register if r.status in ("returned", "superseded")}
    for pid, row in expected.items():
        if pid not in returned_ids:
            rejected = [r for r in register if r.status == "rejected" and r.partner_id == pid]
            status_reason = "their return was rejected (see above): to correct and send again" if rejected else ""
            register.append(
                RegisterRow(
                    pid,
                    row.get("name", ""),
                    row.get("organisation", ""),
                    row.get("email", ""),
                    "outstanding",
                    "",
                    status_reason,
                    expected_file=row.get("file", ""),
                )
            )
    register.sort(key=lambda r: (STATUS_ORDER.index(r.status), r.organisation.lower(), r.name.lower(), r.file))
    participants.sort(key=lambda p: (p.organisation.lower(), p.name.lower(), p.key))
    result = Consolidation(matrix, participants, register, reports, indicators)
    result.indicator_values = _indicator_values(participants)
    return result


def _listed(partner: dict[str, str], row: Mapping[str, str]) -> dict[str, str]:
    """A return's partner details (id, name, organisation, email), each one it lacks taken from the manifest's row."""
    return {k: v or row.get(k, "") for k, v in partner.items()}


def _shown_names(reports: list[Report]) -> dict[int, str]:
    """The register's name for each file whose name another file of the batch shares (two folders each holding
    'X.xlsx'): its path from the folder the files have in common, e.g. 'ann/X.xlsx' and 'bob/X.xlsx'. Files
    taken out of an e-mail keep their name ('mail.eml › X.xlsx')."""
    by_name: dict[str, list[Report]] = defaultdict(list)
    for rep in reports:
        if " › " not in rep.file and rep.path:
            by_name[rep.file].append(rep)
    out: dict[int, str] = {}
    for same in by_name.values():
        paths = [Path(os.path.abspath(r.path)) for r in same]
        if len(set(paths)) < 2:
            continue
        try:
            top = Path(os.path.commonpath([p.parent for p in paths]))
        except ValueError:  # on different drives
            continue
        for rep, path in zip(same, paths, strict=True):
            out[id(rep)] = path.relative_to(top).as_posix()
    return out


class _Counts(TypedDict):
    errors: int
    warnings: int
    info: int


def _counts(rep: Report) -> _Counts:
    c = rep.counts()
    return {"errors": c[Severity.ERROR.value], "warnings": c[Severity.WARNING.value], "info": c[Severity.INFO.value]}


def _indicator_values(participants: list[Participant]) -> Rows:
    out = Rows()  # on disk: a round's indicator values grow with it
    for p in participants:
        ret = p.report.ret
        for ind, period, value, num, den, rag, comment, cell in ret.indicator_values():
            out.append(IndicatorValue(ind, period, value, num, den, rag, comment, p.key, p.label, ret.file, cell))
    return out


__all__ = ["BASELINE", "TWELVE_MONTHS", "COLUMNS", "Consolidation", "ImportResult", "build"]
