"""Many returns -> one consolidated picture: the returns register, scores per partner and sub-element,
aggregates, criteria and evidence counts, barriers and actions, notes, findings and indicator values."""

from __future__ import annotations

import csv
import datetime as dt
import os
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from eif_xlsx.errors import Severity, UsageError, finding
from eif_xlsx.intake import batch
from eif_xlsx.intake import sources as intake
from eif_xlsx.intake.checks import Report
from eif_xlsx.scoring import Scores, level_of_score, mean, median
from eif_xlsx.spec.model import IndicatorSet, Matrix
from eif_xlsx.spool import Rows
from eif_xlsx.template.layout import BASELINE, COLUMN_LABEL, COLUMNS, TWELVE_MONTHS

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
        return {"count": len(values), "median": median(values), "min": min(values) if values else None,
                "max": max(values) if values else None, "spread": spread,
                "moderate": bool(spread is not None and spread >= 2),
                "median_level": level_of_score(self.matrix.level_names, median(values))}

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
        lines = [f"{len(self.consolidation.reports)} file(s) read: " + ", ".join(f"{n} {s}" for s, n in counts.items() if n)]
        for r in reg:
            if r.status == "rejected":
                lines.append(f"  rejected  {r.file}: {r.reason}")
        for r in reg:
            if r.status == "outstanding":
                lines.append(f"  outstanding  {r.name or r.organisation} <{r.email}>")
        lines.append("Wrote:")
        lines += [f"  {p}" for p in self.outputs]
        lines += self.notes
        return "\n".join(lines)


MANIFEST_USED = ("partner_id", "name", "organisation", "email", "file", "matrix_id", "round")


def read_manifest(path: Path | str) -> list[Mapping[str, str]]:
    """The manifest's rows, each holding the columns the import uses (compact: a national round lists thousands)."""
    path = Path(path)
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            if reader.fieldnames is not None and "partner_id" not in reader.fieldnames:
                raise UsageError(f"{path}: row 1: not a manifest written by 'eif-xlsx generate' (no partner_id "
                                 "column)")
            # Written as the analysts' CSVs are (generate.write_manifest): text fields formula-guarded; an older
            # manifest (no byte-order mark, unguarded) reads the same.
            return [batch.Metadata({k: _unguard(row.get(k) or "") for k in MANIFEST_USED}) for row in reader]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise UsageError(f"{path}: cannot read the manifest: {exc}") from exc


def _unguard(text: str) -> str:
    """As report.flat.unguard: a field that starts with an apostrophe had exactly one added."""
    return text[1:] if text.startswith("'") else text


def manifest_context(rows: list[Mapping[str, str]] | None) -> dict:
    """What a manifest says each return is checked against (validate, import and chase alike): the round's matrix
    and who was sent a workbook, by email (another partner's workbook sent in is an error: checks.other-partner)."""
    rows = rows or []
    return {"expected_matrix": next((r["matrix_id"] for r in rows if r.get("matrix_id")), None),
            "partners_by_email": {r["email"].lower(): r["partner_id"] for r in rows if r.get("email")}}


def _round_key(value: str) -> str:
    return value.strip().lower().replace("-", "_").replace(" ", "_")


def check_rounds(reports: list[Report], rows: list[Mapping[str, str]] | None) -> None:
    """Add a wrong-round finding to each return whose workbook was made for another round than the one the
    manifest issued to its partner (e.g. last year's baseline workbook sent back in the 12-months round). A workbook
    that carries no round (an older template, or metadata lost) and a partner the manifest does not list are left
    alone."""
    sent = {r["partner_id"]: r for r in rows or [] if r.get("partner_id") and r.get("round")}
    if not sent:
        return
    for rep in reports:
        row = sent.get(rep.ret.partner_id) if rep.ret.readable else None
        found = _round_key(rep.ret.metadata.get("round", "") or "") if row is not None else ""
        if not found or found == _round_key(row["round"]):
            continue
        expected = _round_key(row["round"])
        rep.findings.append(finding(
            "wrong-round", rep.file, found=COLUMN_LABEL.get(found, found).lower(),
            expected=COLUMN_LABEL.get(expected, expected).lower(),
            detail=" from the first round" if found == BASELINE else "",
            sent=f" ({row['file']})" if row.get("file") else ""))


def wrong_round(report: Report) -> bool:
    return any(f.code == "wrong-round" for f in report.findings)


def return_order(report: Report) -> tuple:
    """Earliest first: by assessment date, then file time, then name; the last of a partner's returns counts."""
    dates = [d for d in report.dates.values() if d]
    try:
        mtime = os.stat(report.path).st_mtime
    except OSError:
        mtime = 0.0
    return (max(dates) if dates else dt.date.min, mtime, report.file)


def build(reports: list[Report], matrix: Matrix, manifest: list[Mapping[str, str]] | None = None,
          indicators: IndicatorSet | None = None) -> Consolidation:
    """Resolve who counts (latest return per partner), build the register, gather indicator values."""
    expected = {r["partner_id"]: r for r in (manifest or []) if r.get("partner_id")}
    shown = _shown_names(reports)
    register: list[RegisterRow] = []
    by_partner: dict[str, list[Report]] = defaultdict(list)
    for rep in reports:
        if not rep.accepted:
            p = rep.partner
            register.append(RegisterRow(p["id"], p["name"], p["organisation"], p["email"], "rejected",
                                        shown.get(id(rep), rep.file), rep.reason(), **_counts(rep),
                                        sender=rep.ret.sender))
            continue
        key = rep.key
        by_partner[key].append(rep)
    participants: list[Participant] = []
    for key in sorted(by_partner):
        reps = sorted(by_partner[key], key=return_order)
        latest = reps[-1]
        name, org = latest.respondent()
        p = latest.partner
        known = key in expected or (not expected and bool(p["id"]))
        status = "returned" if known else "unexpected"
        for older in reps[:-1]:
            register.append(RegisterRow(key, name, org, p["email"], "superseded", shown.get(id(older), older.file),
                                        f"superseded by the later return {shown.get(id(latest), latest.file)}",
                                        **_counts(older), sender=older.ret.sender))
        reason = f"latest of {len(reps)} returns" if len(reps) > 1 else ""
        if status == "unexpected":
            reason = ("not in the manifest" if expected else "a workbook without a partner id") + (f"; {reason}" if reason else "")
        register.append(RegisterRow(p["id"], name, org, p["email"], status, shown.get(id(latest), latest.file),
                                    reason, **_counts(latest), sender=latest.ret.sender))
        participants.append(Participant(key, name, org, latest))
    returned_ids = {r.partner_id for r in register if r.status in ("returned", "superseded")}
    for pid, row in expected.items():
        if pid not in returned_ids:
            rejected = [r for r in register if r.status == "rejected" and r.partner_id == pid]
            status_reason = "a return was rejected; see above" if rejected else ""
            register.append(RegisterRow(pid, row.get("name", ""), row.get("organisation", ""), row.get("email", ""),
                                        "outstanding", "", status_reason, expected_file=row.get("file", "")))
    register.sort(key=lambda r: (STATUS_ORDER.index(r.status), r.organisation.lower(), r.name.lower(), r.file))
    participants.sort(key=lambda p: (p.organisation.lower(), p.name.lower(), p.key))
    result = Consolidation(matrix, participants, register, reports, indicators)
    result.indicator_values = _indicator_values(participants)
    return result


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


def _counts(rep: Report) -> dict[str, int]:
    c = rep.counts()
    return {"errors": c[Severity.ERROR.value], "warnings": c[Severity.WARNING.value], "info": c[Severity.INFO.value]}


def _indicator_values(participants: list[Participant]) -> Rows:
    out = Rows()  # on disk: a round's indicator values grow with it
    for p in participants:
        ret = p.report.ret
        for ind, period, value, num, den, rag, comment, cell in ret.indicator_values():
            out.append(IndicatorValue(ind, period, value, num, den, rag, comment, p.key, p.label, ret.file, cell))
    return out


def run(paths, out_dir: Path | str = "output", *, manifest: Path | str | None = None, indicators: str | None = None,
        jobs: int | None = None, progress=None, catalog=None, matrix_id: str | None = None,
        pdf: bool = True) -> ImportResult:
    """Read, check and consolidate every return; write summary.xlsx, tracker.xlsx, CSVs and summary.json."""
    from eif_xlsx.intake.container import xml_guard
    from eif_xlsx.spec.catalog import Catalog

    xml_guard()
    catalog = catalog or Catalog.default()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rows = read_manifest(manifest) if manifest else None
    context = manifest_context(rows)
    expected_matrix = matrix_id or context["expected_matrix"]
    sources, email_reports = intake.sources(batch.expand(paths), out / ".mail")
    reports = email_reports + batch.run(sources, jobs=jobs, expected_matrix=expected_matrix,
                                        partners_by_email=context["partners_by_email"], progress=progress,
                                        meanwhile=_load_writers)
    check_rounds(reports, rows)
    del sources, context  # a round's worth each: not kept while the outputs are written
    matrix_ids = sorted({r.ret.matrix_id for r in reports if r.accepted})
    if expected_matrix:
        matrix = catalog.matrix(expected_matrix)
    elif len(matrix_ids) == 1:
        matrix = catalog.matrix(matrix_ids[0])
    elif not matrix_ids:
        matrix = catalog.matrices()[0] if catalog.matrices() else None
        if matrix is None:
            raise UsageError("no matrix definition is available")
    else:
        raise UsageError(f"the returns are for several matrices ({', '.join(matrix_ids)}); import each separately "
                         "or give --manifest")
    iset = catalog.indicator_set(indicators) if indicators else \
        catalog.indicator_set_for(*(r.ret.metadata for r in reports if r.accepted))
    result = _write_outputs(build(reports, matrix, rows, iset), out, iset)
    from eif_xlsx.report import board

    return board.add_to_import(result, pdf=pdf)  # report.html, and report.pdf unless pdf=False


def _load_writers() -> None:
    """The output writers' modules, loaded while the workers read (see batch.run's meanwhile)."""


def _write_outputs(cons: Consolidation, out: Path, iset: IndicatorSet | None) -> ImportResult:
    from eif_xlsx.report import flat, summary, tracker

    outputs = [summary.write_summary(cons, out / "summary.xlsx")]
    if iset is not None:
        outputs.append(tracker.write_tracker(iset, cons.indicator_values, out / "tracker.xlsx"))
    outputs += flat.write_flat(cons, out)
    return ImportResult(cons, out, outputs)


__all__ = ["BASELINE", "TWELVE_MONTHS", "COLUMNS", "Consolidation", "ImportResult", "build", "run"]
