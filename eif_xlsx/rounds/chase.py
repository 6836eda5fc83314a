"""Chasing a round: who has not returned, whose return needs correcting, and an email draft for each of them.

A partner of the manifest is
- *outstanding* when no return of theirs came in: the draft re-sends their original workbook (found beside the
  manifest) with the deadline;
- *to correct* when their latest return (ordered as the import orders a partner's returns, consolidate.return_order;
  unlike the import, a rejected file counts here too: the partner is asked about what they sent last) was rejected,
  has errors, or holds answers that could not be read (a tick cell holding "maybe", a date that is not a date, ...):
  the draft lists the findings cell by cell and attaches a feedback copy (reissue.write_feedback) holding their own
  answers, or their original workbook again when the file they sent could not be opened at all;
- *complete* otherwise (warnings that are questions for moderation, not corrections, do not chase anyone).
"""

from __future__ import annotations

import shutil
import tempfile
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from eif_xlsx.csvfile import write_csv
from eif_xlsx.domain.catalog import Catalog
from eif_xlsx.domain.partners import slug
from eif_xlsx.errors import Finding, Severity, UsageError
from eif_xlsx.intake.checks import Report
from eif_xlsx.intake.manifest import PartnerFinder, read_manifest, return_order, wrong_round
from eif_xlsx.intake.validate import read_file, validate
from eif_xlsx.rounds.mail import draft, sign_off, to_bytes
from eif_xlsx.rounds.reissue import free_name, write_feedback
from eif_xlsx.template.generate import format_deadline

OUTSTANDING, TO_CORRECT, COMPLETE = "outstanding", "to-correct", "complete"
#: Findings that mean an answer could not be read as what its cell asks for: the partner is asked to correct it.
#: (Other warnings are questions for moderation; a changed locked baseline is set right by the import itself.)
UNREADABLE_ANSWER = frozenset({"unrecognised-tick", "bad-date", "bad-choice", "bad-number", "formula-in-input"})
CSV_COLUMNS = (
    "partner_id",
    "name",
    "organisation",
    "email",
    "status",
    "return_file",
    "file_attached",
    "draft",
    "findings",
)


@dataclass
class ChaseItem:
    """One partner of the manifest: their status, the return that counts, what to correct and the draft."""

    partner_id: str
    name: str
    organisation: str
    email: str
    status: str  # outstanding | to-correct | complete
    report: Report | None = None  # their latest return
    findings: list[Finding] = field(default_factory=list)  # what to correct
    attachment: Path | None = None  # the file the draft carries (None: nothing to attach, or a dry run)
    draft: Path | None = None

    @property
    def label(self) -> str:
        return " · ".join(x for x in (self.name, self.organisation) if x) or self.partner_id

    def as_row(self) -> dict[str, str]:
        return {
            "partner_id": self.partner_id,
            "name": self.name,
            "organisation": self.organisation,
            "email": self.email,
            "status": self.status,
            "return_file": self.report.file if self.report else "",
            "file_attached": self.attachment.name if self.attachment else "",
            "draft": self.draft.name if self.draft else "",
            "findings": str(len(self.findings)),
        }


@dataclass
class ChaseResult:
    items: list[ChaseItem]
    unmatched: list[Report]  # returns that belong to no partner of the manifest
    out_dir: Path
    csv: Path | None  # None on a dry run
    deadline: str
    notes: list[str] = field(default_factory=list)  # e.g. an original workbook not found beside the manifest

    def count(self, status: str) -> int:
        return sum(1 for i in self.items if i.status == status)

    def summary(self) -> str:
        """One line: 'n outstanding, n to correct, n complete' (and returns matched to no partner, if any)."""
        line = (
            f"{self.count(OUTSTANDING)} outstanding, {self.count(TO_CORRECT)} to correct, "
            f"{self.count(COMPLETE)} complete"
        )
        if self.unmatched:
            line += f", {len(self.unmatched)} return(s) matched to no partner of the manifest"
        return line

    @property
    def drafts(self) -> list[Path]:
        return [i.draft for i in self.items if i.draft]


def needs_correcting(report: Report) -> list[Finding]:
    """The findings a partner is asked to correct: every error, and every answer that could not be read."""
    return [f for f in report.findings if f.severity == Severity.ERROR or f.code in UNREADABLE_ANSWER]


def chase(
    returns: Iterable[Path | str],
    manifest: Path | str,
    *,
    sender: str,
    out_dir: Path | str,
    deadline: str = "",
    return_to: str = "",
    area: str = "",
    sender_name: str = "",
    sender_organisation: str = "",
    matrix: str | None = None,
    dry_run: bool = False,
    jobs: int | None = None,
    progress: Callable[[int], None] | None = None,
    catalog: Catalog | None = None,
) -> ChaseResult:
    """Read the returns against the round's manifest and write a chase or feedback draft per partner who needs one.

    returns: files or folders (emails are opened, as by validate). manifest: the manifest.csv written by generate;
    the original workbooks are looked for beside it. deadline: the new return-by date (default: the one the round's
    workbooks carry). return_to: where corrected workbooks go (default: sender). matrix: the round's matrix id
    (default: the manifest's). Writes into out_dir one .eml per partner to chase, feedback copies in
    out_dir/feedback and chase.csv; nothing when dry_run.
    """
    if not sender:
        raise UsageError("chase needs --sender ADDRESS (the From of the drafts)")
    manifest = Path(manifest)
    manifest_rows = read_manifest(manifest)
    rows = [r for r in manifest_rows if r.get("partner_id")]
    if not rows:
        raise UsageError(f"{manifest}: the manifest lists no partner")
    matrix = matrix or rows[0].get("matrix_id") or None
    catalog = catalog or Catalog.default()
    known = sorted(m.id for m in catalog.matrices())
    if matrix and matrix not in known:
        raise UsageError(
            f"{manifest}: the round's matrix '{matrix}' is not a known matrix (known matrices: "
            f"{', '.join(known) or 'none'})"
        )
    out = Path(out_dir)
    shown_deadline = format_deadline(deadline)
    with tempfile.TemporaryDirectory(prefix="eif-xlsx-chase-") as mailbox:
        reports = validate(
            returns,
            catalog=catalog,
            jobs=jobs,
            expected_matrix=matrix,
            manifest_rows=manifest_rows,
            workdir=Path(mailbox),
            progress=progress,
        )
        by_partner, unmatched = _match(reports, rows)
        items: list[ChaseItem] = []
        for row in rows:
            mine = by_partner.get(row["partner_id"], [])
            # A workbook of another round (wrong-round) is no return of this one: the partner is outstanding,
            # and their draft says which file they sent and re-sends the one to return.
            this_round = [r for r in mine if not wrong_round(r)]
            mine = sorted([r for r in this_round if not _no_workbook(r)] or this_round, key=return_order)
            latest = mine[-1] if mine else None
            if latest is None:
                other = sorted((r for r in by_partner.get(row["partner_id"], []) if wrong_round(r)), key=return_order)
                counted = other[-1] if other else None
                status = OUTSTANDING
                findings = [f for f in counted.findings if f.code == "wrong-round"] if counted else []
            else:
                counted, findings = latest, needs_correcting(latest)
                status = TO_CORRECT if findings else COMPLETE
            who = (row["partner_id"], row.get("name", ""), row.get("organisation", ""), row.get("email", ""))
            items.append(ChaseItem(*who, status, counted, findings))
        round_deadline, round_area = _round_details(reports, manifest, rows, catalog)
        result = ChaseResult(items, unmatched, out, None, shown_deadline or round_deadline)
        if dry_run:
            return result
        out.mkdir(parents=True, exist_ok=True)
        originals = {r["partner_id"]: manifest.parent / r["file"] for r in rows if r.get("file")}
        taken: list[Path] = []
        for item in items:
            if item.status == COMPLETE:
                continue
            original = originals.get(item.partner_id)
            if original is not None and not original.is_file():
                result.notes.append(
                    f"{item.partner_id} {item.label}: the workbook sent, {original}, is not beside "
                    "the manifest; the draft has no attachment"
                )
                original = None
            theirs = not any(f.code == "other-partner" for f in item.findings)  # else: send them their own again
            if item.status == TO_CORRECT and theirs:
                assert item.report is not None  # a partner with something to correct has sent a return
                item.attachment = (
                    _feedback_copy(item.report, out / "feedback", return_to or sender, result.deadline, taken, catalog)
                    or original
                )
            else:
                item.attachment = original
            _write_draft(
                item,
                result,
                sender=sender,
                return_to=return_to or sender,
                area=area or round_area,
                sender_name=sender_name,
                sender_organisation=sender_organisation,
            )
    result.csv = out / "chase.csv"
    # As the analysts' CSVs: a byte-order mark so that Excel reads 'é' as 'é', CRLF line ends, text formula-guarded.
    write_csv(result.csv, CSV_COLUMNS, (tuple(i.as_row()[c] for c in CSV_COLUMNS) for i in items))
    return result


def _match(reports: list[Report], rows: list[Mapping[str, str]]) -> tuple[dict[str, list[Report]], list[Report]]:
    """Each return to its partner (manifest.PartnerFinder), and those of no partner."""
    partner_of = PartnerFinder(rows)
    found: dict[str, list[Report]] = defaultdict(list)
    unmatched: list[Report] = []
    for rep in reports:
        pid = partner_of(rep)
        if pid:
            found[pid].append(rep)
        else:
            unmatched.append(rep)
    return found, unmatched


def _as_sent(file: str) -> str:
    """A return's name as its partner knows it: the workbook attached, not the name the coordinator saved the
    e-mail under ('RE EIF maturity matrix.eml › northshire-….xlsx' is the partner's 'northshire-….xlsx')."""
    return file.split(" › ")[-1]


def _no_workbook(report: Report) -> bool:
    """An e-mail that held no workbook (a 'thank you' sent after the return): it never hides a workbook."""
    return not report.ret.readable and " › " not in report.file and report.file.lower().endswith((".eml", ".msg"))


def _round_details(
    reports: list[Report], manifest: Path, rows: list[Mapping[str, str]], catalog: Catalog
) -> tuple[str, str]:
    """The deadline and local area the round's workbooks carry: from a return, else from a workbook sent."""
    for rep in reports:
        m = rep.ret.metadata
        if rep.ret.readable and m.get("partner_id") and not any(f.code == "wrong-round" for f in rep.findings):
            return m.get("deadline", ""), m.get("area", "")
    for row in rows:
        path = manifest.parent / row.get("file", "")
        if row.get("file") and path.is_file():
            m = read_file(path, catalog).metadata
            return m.get("deadline", ""), m.get("area", "")
    return "", ""


def _feedback_copy(
    report: Report, folder: Path, return_to: str, deadline: str, taken: list[Path], catalog: Catalog
) -> Path | None:
    """The return's feedback copy in folder (a name of its own even when two partners sent files of one name)."""
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=folder, prefix=".chase-") as tmp:
        written = write_feedback([report], Path(tmp), catalog, return_to=return_to, deadline=deadline)
        if not written:
            return None
        target = free_name(folder, written[0].stem, taken)
        shutil.move(written[0], target)
    taken.append(target)
    return target


def _where(f: Finding) -> str:
    return f"{f.where}: " if f.where else ""


def chase_body(
    item: ChaseItem, *, deadline: str, return_to: str, area: str, sender_name: str = "", sender_organisation: str = ""
) -> str:
    """The text of a chase (outstanding) or feedback (to correct) mail, findings listed cell by cell."""
    what = "the EIF maturity matrix self-assessment" + (f" for {area}" if area else "")
    by = f" by {deadline}" if deadline else " as soon as you can"
    lines = [f"Dear {item.name or 'colleague'},", ""]
    if item.status == OUTSTANDING:
        wrong = item.report is not None and bool(item.findings)  # they sent a workbook of another round
        if wrong and item.report is not None:  # (wrong implies a report: said again for the type checker)
            lines += [
                f"Thank you for sending {_as_sent(item.report.file)}. We have not counted it as your return for {what}:"
            ]
            lines += [f"  • {f.message}" for f in item.findings]
        else:
            lines += [f"We have not yet received your completed workbook for {what}."]
        if item.attachment:
            lines += [
                "",
                f"The workbook to return is attached ({item.attachment.name})."
                if wrong
                else f"Your workbook is attached again ({item.attachment.name}) in case the first email went astray.",
            ]
        lines += [
            "",
            f"Please fill it in, save it (keep the .xlsx format and the file name) and email it back to "
            f"{return_to}{by}.",
            "",
            "If you have sent it in the last few days, thank you, and please ignore this reminder.",
        ]
    else:
        rep = item.report
        assert rep is not None
        readable = rep.ret.readable
        lines += [f"Thank you for returning your workbook for {what} ({_as_sent(rep.file)})."]
        if not readable:
            lines += ["", "Unfortunately we could not read a workbook from what you sent:"]
        elif rep.accepted:  # the import counted it; answers it could not read are counted as not given
            lines += [
                "",
                "We have counted it, but some answers could not be read; please correct these points so "
                "that they count too:",
            ]
        else:
            lines += ["", "We cannot count it until these points are corrected:"]
        lines += [f"  • {_where(f)}{f.message}" for f in item.findings]
        others = [f for f in rep.findings if f.severity == Severity.WARNING and f not in item.findings]
        if readable and others:
            lines += ["", "Also worth a second look (no change is needed if it is right):"]
            lines += [f"  • {_where(f)}{f.message}" for f in others]
        lines += [""]
        if readable and item.attachment and item.attachment.name.startswith("FEEDBACK"):
            lines += [
                f"The attached copy ({item.attachment.name}) holds your answers, with each point marked by a "
                "comment on its cell and listed on the cover. Please correct it there, save it and email it "
                f"back to {return_to}{by}."
            ]
        elif item.attachment:
            lines += [
                f"Please save your workbook again and send it to {return_to}{by}. In case it helps, the "
                f"workbook we sent you is attached again ({item.attachment.name})."
            ]
        else:
            lines += [f"Please save your workbook again and send it to {return_to}{by}."]
    lines += ["", sign_off(sender_name, sender_organisation), ""]
    return "\n".join(lines)


def _write_draft(
    item: ChaseItem,
    result: ChaseResult,
    *,
    sender: str,
    return_to: str,
    area: str,
    sender_name: str,
    sender_organisation: str,
) -> None:
    topic = "EIF maturity matrix self-assessment" + (f" — {area}" if area else "")
    subject = f"Reminder: {topic}" if item.status == OUTSTANDING else f"Please correct and return: {topic}"
    body = chase_body(
        item,
        deadline=result.deadline,
        return_to=return_to,
        area=area,
        sender_name=sender_name,
        sender_organisation=sender_organisation,
    )
    files = [(item.attachment.name, item.attachment.read_bytes())] if item.attachment else []
    msg = draft(
        sender=sender,
        sender_name=sender_name,
        to_name=item.name,
        to_email=item.email,
        subject=subject,
        body=body,
        attachments=files,
    )
    stem = f"{item.status}-{slug(item.organisation, 30) or 'partner'}-{slug(item.partner_id, 20)}"
    item.draft = result.out_dir / f"{stem}.eml"
    item.draft.write_bytes(to_bytes(msg))
