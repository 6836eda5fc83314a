"""The library's front door: every step of a round, as the `eif-xlsx` command runs it.

    from eif_xlsx import generate, validate, consolidate

    sent = generate("maternity-early-years", "round1", partners="partners.csv", deadline="2026-12-12")
    reports = validate(["returns/"], manifest=sent.manifest)
    result = consolidate(["returns/"], "board-pack", manifest=sent.manifest)

Each function takes the definitions as an explicit `catalog` (load_definitions(); default: the built-in ones).
Problems in a returned file are findings in its Report, never exceptions; a wrong argument raises UsageError, a
broken definition DefinitionError (both eif_xlsx.errors.EifError).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from contextlib import AbstractContextManager
from pathlib import Path

from eif_xlsx import spool
from eif_xlsx.domain import catalog as definitions
from eif_xlsx.domain.catalog import Catalog
from eif_xlsx.domain.model import IndicatorSet, Matrix
from eif_xlsx.domain.partners import EMAIL, Partner, read_partners
from eif_xlsx.errors import UsageError
from eif_xlsx.intake import sources
from eif_xlsx.intake.batch import expand
from eif_xlsx.intake.checks import Report
from eif_xlsx.intake.checks import check as check_return
from eif_xlsx.intake.container import xml_guard
from eif_xlsx.intake.manifest import manifest_context, read_manifest
from eif_xlsx.intake.reader import Return
from eif_xlsx.intake.validate import read_file
from eif_xlsx.intake.validate import validate as validate_files
from eif_xlsx.report import board, schema, tracker
from eif_xlsx.report.consolidate import ImportResult, build
from eif_xlsx.report.outputs import SummaryAndReportWriter, write_outputs
from eif_xlsx.rounds import chase as chasing
from eif_xlsx.rounds import mail, reissue
from eif_xlsx.rounds.chase import ChaseResult
from eif_xlsx.template.generate import Generated, format_deadline, generate_workbooks

__all__ = [
    "Catalog",
    "ChaseResult",
    "Generated",
    "ImportResult",
    "Partner",
    "Report",
    "Return",
    "chase",
    "check",
    "check_address",
    "check_deadline",
    "consolidate",
    "definition_schema",
    "find_returns",
    "generate",
    "load_definition_file",
    "load_definitions",
    "read_partners",
    "read_return",
    "read_round_manifest",
    "scratch",
    "summary_schema",
    "validate",
    "write_email_drafts",
    "write_feedback",
    "write_report",
    "write_tracker",
]

Progress = Callable[[int], None]  # called with the number of files (or workbooks) just done


def load_definitions(*folders: Path | str) -> Catalog:
    """The built-in matrices and indicator sets, and those in the given folders (or YAML files). A definition
    that cannot be loaded is listed in Catalog.problems; the others are still there."""
    return Catalog(list(folders))


def definition_schema() -> dict:
    """The JSON Schema of a definition file, for writing your own."""
    return definitions.schema()


def summary_schema() -> dict:
    """The JSON Schema (draft 2020-12) of the summary.json an import writes."""
    return schema.SUMMARY_SCHEMA


def load_definition_file(path: Path | str) -> Matrix | IndicatorSet:
    """One definition file, checked: raises DefinitionError listing every problem with its file, line and field
    path (what `eif-xlsx definitions check` prints)."""
    return definitions.load_file(Path(path))


def find_returns(paths: Iterable[Path | str]) -> list[Path]:
    """The files validate, consolidate and chase would read: the files given, and those inside the folders given
    (recursively, in a stable order; hidden files, Office lock files and an import's own outputs left out)."""
    return expand(paths)


def read_round_manifest(path: Path | str) -> list[Mapping[str, str]]:
    """The rows of a round's manifest.csv (written by generate): partner_id, name, organisation, email, file,
    matrix_id and round of each workbook sent. Raises UsageError if the file is not a manifest."""
    return read_manifest(path)


def check_address(text: str, option: str = "--sender") -> str:
    """An e-mail address given for the drafts (--sender, --return-to), without the spaces around it; raises
    UsageError for text that is not one (checked as the partner list's addresses are)."""
    if not EMAIL.match(text.strip()):
        raise UsageError(f"{option}: '{text}' is not an e-mail address")
    return text.strip()


def check_deadline(text: str) -> str:
    """A return-by date as the workbooks show it ('2026-12-12' -> '12 December 2026'); raises UsageError for text
    that is not a date."""
    return format_deadline(text)


def scratch() -> AbstractContextManager[None]:
    """A block whose attachments taken out of saved e-mails (by validate, consolidate, chase or a 12-months
    generate) are removed when it ends, however it ends. Without it they are removed when the process exits."""
    return sources.scratch()


def generate(
    matrix_id: str,
    out_dir: Path | str = "output",
    *,
    partners: Path | str | list[Partner] | None = None,
    indicators: str | None = None,
    area: str = "",
    deadline: str = "",
    return_to: str = "",
    password: str = "",
    round: str = "baseline",
    previous: Iterable[Path | str] = (),
    catalog: Catalog | None = None,
    jobs: int | None = None,
    progress: Progress | None = None,
) -> Generated:
    """Write one personalised workbook per partner (or one blank workbook without partners) and manifest.csv.

    round '12-months' (or any `previous` returns given) pre-fills each partner's workbook from their latest
    previous return, matched by partner id then email, and locks its baseline; Generated.notes says what could not
    be carried. partners: a CSV/XLSX partner list or Partner objects."""
    catalog = catalog or Catalog.default()
    matrix = catalog.matrix(matrix_id)
    iset = catalog.indicator_set(indicators) if indicators else None
    people = read_partners(partners) if isinstance(partners, str | Path) else partners
    previous = list(previous)
    if round not in ("baseline", "12-months"):
        raise UsageError(f"round must be 'baseline' or '12-months', not '{round}'")
    more: dict = {}
    notes: list[str] = []
    if round == "12-months" or previous:
        if not previous:
            raise UsageError("--round 12-months needs --previous PATH (the baseline returns)")
        plan = reissue.plan(catalog, matrix_id, previous, people, round_=round, indicators=iset)
        people, iset, notes = plan.partners, plan.indicators, plan.notes
        more = {"prefill": plan.prefill, "round": round.replace("12-months", "12_months")}
    result = generate_workbooks(
        matrix,
        out_dir,
        people,
        indicators=iset,
        area=area,
        deadline=deadline,
        return_to=return_to,
        password=password,
        progress=progress,
        jobs=jobs,
        **more,
    )
    result.notes = notes
    return result


def write_email_drafts(
    generated: Generated,
    *,
    sender: str,
    subject: str = "",
    body: str = "",
    area: str = "",
    deadline: str = "",
    sender_name: str = "",
    sender_organisation: str = "",
) -> list[Path]:
    """One .eml invitation per partner with an email address, in generated.out_dir/emails, its workbook attached.
    body: a template that may use {name}, {organisation}, {area}, {deadline}, {sender}, {sender_name},
    {sender_organisation} (default: a standard invitation, signed with sender_name and sender_organisation)."""
    if not sender:
        raise UsageError("email drafts need a sender address (--sender)")
    return mail.write_drafts(
        generated,
        sender=sender,
        subject=subject,
        body=body,
        area=area,
        deadline=format_deadline(deadline),
        sender_name=sender_name,
        sender_organisation=sender_organisation,
    )


def read_return(path: Path | str, catalog: Catalog | None = None) -> Return:
    """Every answer of one returned file, with its cell; problems reading it are findings, not exceptions."""
    return read_file(path, catalog)


def check(
    ret: Return,
    catalog: Catalog | None = None,
    *,
    expected_matrix: str | None = None,
    partners_by_email: dict[str, str] | None = None,
    today: dt.date | None = None,
) -> Report:
    """The findings and scores of one return (read_return's). expected_matrix: the round's (another is an error);
    partners_by_email: the manifest's partner ids by email; today: the date assessment dates are checked against
    (default: today's)."""
    return check_return(ret, catalog, expected_matrix=expected_matrix, partners_by_email=partners_by_email, today=today)


def validate(
    paths: Iterable[Path | str],
    *,
    manifest: Path | str | None = None,
    expected_matrix: str | None = None,
    catalog: Catalog | None = None,
    jobs: int | None = None,
    progress: Progress | None = None,
    workdir: Path | None = None,
) -> list[Report]:
    """Read and check every file (folders expanded, saved e-mails opened); one Report per workbook found, each
    file in a worker process of its own (a file that crashes or hangs costs only itself).

    manifest: the round's manifest.csv: returns are checked against who was sent what (the round's matrix unless
    expected_matrix is given, another partner's workbook sent in, a workbook of another round)."""
    return validate_files(
        paths,
        catalog=catalog,
        manifest_rows=read_manifest(manifest) if manifest else None,
        expected_matrix=expected_matrix,
        jobs=jobs,
        progress=progress,
        workdir=workdir,
    )


def write_feedback(
    reports: list[Report],
    out_dir: Path | str,
    *,
    catalog: Catalog | None = None,
    return_to: str | None = None,
    deadline: str | None = None,
) -> list[Path]:
    """A copy of each return with findings, marked up for its partner to correct: every finding on its cell and
    on the cover, which says where (return_to) and by when (deadline) to send it back (default: the workbook's)."""
    if deadline:
        format_deadline(deadline)  # refused before anything is written
    return reissue.write_feedback(reports, Path(out_dir), catalog, return_to=return_to, deadline=deadline)


def consolidate(
    paths: Iterable[Path | str],
    out_dir: Path | str = "output",
    *,
    manifest: Path | str | None = None,
    indicators: str | None = None,
    catalog: Catalog | None = None,
    matrix_id: str | None = None,
    jobs: int | None = None,
    progress: Progress | None = None,
    pdf: bool = True,
) -> ImportResult:
    """Import a round: validate every return, count each partner's latest accepted one, and write summary.xlsx,
    tracker.xlsx (with an indicator set), levels/answers/findings/register/indicators CSVs, summary.json and the
    board's report.html and report.pdf (pdf=False: no PDF) into out_dir.

    indicators: the indicator set for the tracker (default: the one the returns were made with). matrix_id: the
    round's matrix (default: the manifest's, else the returns')."""
    catalog = catalog or Catalog.default()
    xml_guard()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rows = read_manifest(manifest) if manifest else None
    expected = matrix_id or manifest_context(rows)["expected_matrix"]
    # The returns' answers on disk until the outputs are written, then removed; the process that writes some of the
    # outputs started now, to be ready by then.
    with spool.scratch(), SummaryAndReportWriter(jobs) as beside:
        reports = validate_files(
            paths,
            catalog=catalog,
            manifest_rows=rows,
            expected_matrix=expected,
            jobs=jobs,
            progress=progress,
            workdir=out / ".mail",
        )
        matrix_ids = sorted({r.ret.matrix_id for r in reports if r.accepted})
        if expected:
            matrix = catalog.matrix(expected)
        elif len(matrix_ids) == 1:
            matrix = catalog.matrix(matrix_ids[0])
        elif not matrix_ids:
            if not catalog.matrices():
                raise UsageError("no matrix definition is available")
            matrix = catalog.matrices()[0]
        else:
            raise UsageError(
                f"the returns are for several matrices ({', '.join(matrix_ids)}); "
                "import each separately or give --manifest"
            )
        iset = (
            catalog.indicator_set(indicators)
            if indicators
            else catalog.indicator_set_for(*(r.ret.metadata for r in reports if r.accepted))
        )
        return write_outputs(build(reports, matrix, rows, iset), out, iset, pdf=pdf, beside=beside)


def chase(
    paths: Iterable[Path | str],
    manifest: Path | str,
    *,
    sender: str,
    out_dir: Path | str = "chase",
    deadline: str = "",
    return_to: str = "",
    sender_name: str = "",
    sender_organisation: str = "",
    matrix: str | None = None,
    dry_run: bool = False,
    catalog: Catalog | None = None,
    jobs: int | None = None,
    progress: Progress | None = None,
) -> ChaseResult:
    """Chase and feedback email drafts for a round: one .eml per partner who has not returned or whose latest
    return needs correcting, their feedback copies and chase.csv in out_dir (nothing when dry_run)."""
    return chasing.chase(
        paths,
        manifest,
        sender=sender,
        out_dir=out_dir,
        deadline=deadline,
        return_to=return_to,
        sender_name=sender_name,
        sender_organisation=sender_organisation,
        matrix=matrix,
        dry_run=dry_run,
        jobs=jobs,
        progress=progress,
        catalog=catalog,
    )


def write_report(out_dir: Path | str, *, catalog: Catalog | None = None, pdf: bool = True) -> board.ReportResult:
    """Rebuild the board's report.html (and report.pdf unless pdf=False) in an import's output folder, from its
    summary.json."""
    return board.write_for_folder(Path(out_dir), catalog or Catalog.default(), pdf=pdf)


def write_tracker(set_id: str, out_file: Path | str, *, catalog: Catalog | None = None) -> Path:
    """An empty commissioning-indicator tracker for an indicator set, for commissioners to start from."""
    iset = (catalog or Catalog.default()).indicator_set(set_id)
    out = Path(out_file)
    out.parent.mkdir(parents=True, exist_ok=True)
    return tracker.write_tracker(iset, [], out)
