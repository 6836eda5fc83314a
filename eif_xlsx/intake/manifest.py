"""A round's manifest (who was sent which workbook, for which matrix and round) and what it says of the returns:
read by validate, import, chase and the 12-month re-issue alike."""

from __future__ import annotations

import csv
import datetime as dt
import os
from collections.abc import Mapping
from pathlib import Path

from eif_xlsx.csvfile import unguard
from eif_xlsx.errors import UsageError, finding
from eif_xlsx.intake.batch import Metadata
from eif_xlsx.intake.checks import Report
from eif_xlsx.template.layout import BASELINE, COLUMN_LABEL

MANIFEST_USED = ("partner_id", "name", "organisation", "email", "file", "matrix_id", "round")


def read_manifest(path: Path | str) -> list[Mapping[str, str]]:
    """The manifest's rows, each holding the columns the import uses (compact: a national round lists thousands)."""
    path = Path(path)
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            if reader.fieldnames is not None and "partner_id" not in reader.fieldnames:
                raise UsageError(f"{path}: row 1: not a manifest written by 'eif-xlsx generate' (no partner_id column)")
            # Written as the analysts' CSVs are (generate.write_manifest): text fields formula-guarded; an older
            # manifest (no byte-order mark, unguarded) reads the same.
            return [Metadata({k: unguard(row.get(k) or "") for k in MANIFEST_USED}) for row in reader]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise UsageError(f"{path}: cannot read the manifest: {exc}") from exc


def manifest_context(rows: list[Mapping[str, str]] | None) -> dict:
    """What a manifest says each return is checked against (validate, import and chase alike): the round's matrix
    and who was sent a workbook, by email (another partner's workbook sent in is an error: checks.other-partner)."""
    rows = rows or []
    return {
        "expected_matrix": next((r["matrix_id"] for r in rows if r.get("matrix_id")), None),
        "partners_by_email": partners_by_email(rows),
    }


def partners_by_email(rows: list[Mapping[str, str]]) -> dict[str, str]:
    """The manifest's partner ids by e-mail address (lower case)."""
    return {r["email"].lower(): r["partner_id"] for r in rows if r.get("email") and r.get("partner_id")}


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
        if row is None:
            continue
        found = _round_key(rep.ret.metadata.get("round", "") or "")
        if not found or found == _round_key(row["round"]):
            continue
        expected = _round_key(row["round"])
        rep.findings.append(
            finding(
                "wrong-round",
                rep.file,
                found=COLUMN_LABEL.get(found, found).lower(),
                expected=COLUMN_LABEL.get(expected, expected).lower(),
                detail=" from the first round" if found == BASELINE else "",
                sent=f" ({row['file']})" if row.get("file") else "",
            )
        )


def wrong_round(report: Report) -> bool:
    return any(f.code == "wrong-round" for f in report.findings)


def return_order(report: Report) -> tuple:
    """Earliest first; the last of a partner's returns counts. By the latest assessment date typed in the workbook;
    then by when the partner sent or saved it: the Date of the e-mail it came out of, else the time the workbook
    says it was last saved (docProps/core.xml, meta.xml; not our generator's fixed time), the saved time telling
    apart two workbooks sent in one e-mail; a return that says neither comes before one that does, and so does one
    that says a time more than a day after now (a wrong clock must not make it win for ever); then by the file's
    modification time (for a workbook taken out of an e-mail, only when it was taken out); then by name."""
    dates = [d for d in report.dates.values() if d]
    late = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    sent, saved = (t if t is not None and t <= late else None for t in (report.ret.sent, report.ret.saved))
    when = sent or saved  # timezone-aware UTC (sources._eml_date, container.saved_time)
    try:
        mtime = os.stat(report.path).st_mtime
    except OSError:
        mtime = 0.0
    told = (0,) if when is None else (1, when, saved or _EARLIEST)
    return (max(dates) if dates else dt.date.min, told, mtime, report.file)


_EARLIEST = dt.datetime.min.replace(tzinfo=dt.UTC)


class PartnerFinder:
    """Whose return a file is, by the manifest: the partner id its workbook carries, else the address it was sent
    from, else the name of the file sent (a file that cannot be opened carries no id; 'DRAFT <file sent>' is that
    partner's too, the longest name found inside winning). A partner who sent someone else's workbook (finding
    other-partner) is the one it is from. Used by the import's register and by chase alike."""

    def __init__(self, rows: list[Mapping[str, str]]):
        self.ids = {r["partner_id"] for r in rows if r.get("partner_id")}
        self.by_email = partners_by_email(rows)
        self.by_file = {Path(r["file"]).stem.lower(): r["partner_id"] for r in rows if r.get("file")}

    def __call__(self, report: Report) -> str:
        """The partner id, or "" when none is found."""
        name = Path(report.file.split(" › ")[-1]).stem.lower()
        pid = report.ret.partner_id
        sender = self.by_email.get((report.ret.sender or "").lower(), "")
        if sender and any(f.code == "other-partner" for f in report.findings):
            return sender
        if pid in self.ids:
            return pid
        inside = [stem for stem in self.by_file if stem in name]
        return sender or self.by_file.get(name) or (self.by_file[max(inside, key=len)] if inside else "")
