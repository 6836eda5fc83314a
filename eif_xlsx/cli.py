"""The `eif-xlsx` command: parse arguments, call the library, print, exit with a meaningful code."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
from pathlib import Path

import click

from eif_xlsx import api
from eif_xlsx.demo import run_demo
from eif_xlsx.errors import DefinitionError, EifError, UsageError, log_debug, set_debug_log
from eif_xlsx.normalise import without_surrogates
from eif_xlsx.version import __version__

#: Folders of the user's own definitions (os.pathsep between them), read by the command line only, as if given
#: with --definitions: the library takes its definitions as an explicit Catalog (api.load_definitions).
DEFINITIONS_ENV = "EIF_XLSX_DEFINITIONS"

EXIT_OK, EXIT_REJECTED, EXIT_USAGE = 0, 1, 2


class _Fail(click.ClickException):
    """Printed as it is (one line per problem), without click's 'Error:' prefix."""

    exit_code = 1

    def show(self, file=None) -> None:
        click.echo(self.format_message(), err=True)


class _Usage(_Fail):
    exit_code = 2


@contextlib.contextmanager
def _errors():
    """Library exceptions become one clear message and an exit code; never a traceback."""
    try:
        yield
    except DefinitionError as exc:
        raise _Fail("\n".join(exc.problems)) from None
    except UsageError as exc:
        raise _Usage(str(exc)) from None
    except EifError as exc:
        raise _Fail(str(exc)) from None
    except OSError as exc:
        raise _Fail(f"{exc.filename or ''}: {exc.strerror or exc}") from None
    except (click.ClickException, click.exceptions.Exit, click.exceptions.Abort):
        raise
    except Exception as exc:  # a bug: a plain message, the details in the --debug log
        log_debug("eif-xlsx", exc)
        raise _Fail(
            "eif-xlsx stopped on an internal error; please report it (run again with --debug FILE to save the details)"
        ) from None


def _debug_option(f):
    def callback(ctx, param, value):
        set_debug_log(value)  # batch.run hands it to the worker processes
        return value

    return click.option(
        "--debug",
        "debug_log",
        type=click.Path(dir_okay=False),
        default=None,
        expose_value=False,
        callback=callback,
        help="Append the details of unexpected errors (internal errors) to this file, for a bug report.",
    )(f)


@contextlib.contextmanager
def _scratch():
    """Attachments taken out of saved e-mails for this command are removed however it ends: done, failed,
    interrupted (Ctrl-C) or terminated (SIGTERM, SIGHUP)."""

    def stop(signum, frame):
        raise SystemExit(128 + signum)

    kept = {}
    for sig in (signal.SIGTERM, getattr(signal, "SIGHUP", None)):
        if sig is not None:
            try:
                kept[sig] = signal.signal(sig, stop)
            except ValueError:  # not the main thread: the caller's handlers stay
                pass
    try:
        with api.scratch():
            yield
    finally:
        for sig, handler in kept.items():
            signal.signal(sig, handler)


_jobs_option = click.option(
    "--jobs", "-j", type=click.IntRange(1, 64), default=None, help="Processes to use (default: all cores)."
)


def _out_folder_option(help: str, default: str = "output"):
    """--out: the folder a command writes into."""
    return click.option(
        "--out", "out_dir", default=default, show_default=True, type=click.Path(file_okay=False), help=help
    )


_pdf_option = click.option(
    "--pdf/--no-pdf",
    default=True,
    show_default=True,
    help="Print report.html to report.pdf with headless Chromium (skipped, with a note, if none is found).",
)


def _definitions_option(f):
    def callback(ctx, param, value):
        ctx.meta["eif_xlsx.definitions"] = [Path(v).resolve() for v in value]
        return value

    return click.option(
        "--definitions",
        "definitions_dirs",
        multiple=True,
        expose_value=False,
        callback=callback,
        is_eager=True,
        type=click.Path(exists=True, file_okay=True),
        help=f"A folder (or file) of your own definitions, beside the built-in ones. "
        f"Repeatable; also read from ${DEFINITIONS_ENV}.",
    )(f)


def _catalog() -> api.Catalog:
    """The definitions this command uses: built-in, --definitions, then $EIF_XLSX_DEFINITIONS (loaded once per
    command; a problem in a user's definition is a warning)."""
    ctx = click.get_current_context()
    if "eif_xlsx.catalog" not in ctx.meta:
        env = [Path(p) for p in os.environ.get(DEFINITIONS_ENV, "").split(os.pathsep) if p]
        cat = api.load_definitions(*ctx.meta.get("eif_xlsx.definitions", []), *env)
        for problem in cat.problems:
            click.echo(f"warning: {problem}", err=True)
        ctx.meta["eif_xlsx.catalog"] = cat
    return ctx.meta["eif_xlsx.catalog"]


def _known(cat: api.Catalog, ident: str | None, kind: str, what: str) -> None:
    """A usage error (exit 2), before any file is read, when `ident` is not a known definition of `kind`
    ("matrix", "indicators" or "" for either); the message lists the known ids."""
    if not ident:
        return
    entry = cat.entries.get(ident)
    if entry is not None and (not kind or entry.kind == kind):
        return
    ids = ", ".join(sorted(i for i, e in cat.entries.items() if not kind or e.kind == kind)) or "none"
    if not kind:  # the catalog's own words
        raise _Usage(f"no definition with id '{ident}' (known: {ids})")
    noun, plural = {"matrix": ("matrix", "matrices"), "indicators": ("indicator set", "indicator sets")}[kind]
    other = "a matrix" if entry and entry.kind == "matrix" else "an indicator set"
    said = f"'{ident}' is {other}, not {'a' if kind == 'matrix' else 'an'} {noun}" if entry else f"no {noun} '{ident}'"
    raise _Usage(f"{what}: {said} (known {plural}: {ids})")


def _input_files(paths) -> list[Path]:
    """The files to read (folders expanded); a usage error if a path is missing or holds nothing."""
    missing = [p for p in paths if not Path(p).exists()]
    if missing:
        raise _Usage(f"no such file or folder: {', '.join(missing)}")
    files = api.find_returns(paths)
    if not files:
        raise _Usage(f"no files found in {', '.join(paths)}")
    return files


def _progress(quiet: bool, total: int, label: str):
    """A progress bar on a terminal; nothing when piped or --quiet."""
    if quiet or not sys.stderr.isatty() or total < 2:
        return contextlib.nullcontext(None)
    return click.progressbar(length=total, label=label, file=sys.stderr, show_pos=True)


@click.group(name="eif-xlsx", context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="eif-xlsx")
def main() -> None:
    """Run an EIF maturity-matrix self-assessment across a local system by spreadsheet.

    \b
    A round:  eif-xlsx generate maternity-early-years --partners partners.csv --deadline 2026-12-12
              (email the workbooks; collect the returns in a folder)
              eif-xlsx validate returns/
              eif-xlsx import returns/ --manifest output/manifest.csv
    Try it:   eif-xlsx demo
    """


# --- definitions ---------------------------------------------------------------------------------


@main.group()
def definitions() -> None:
    """List, show and check matrix and indicator-set definitions."""


@definitions.command("list")
@_definitions_option
def definitions_list() -> None:
    """List every definition: id, kind, title, version and where it was loaded from.

    Example: eif-xlsx definitions list
    """
    cat = _catalog()
    rows = [
        (e.definition.id, e.kind, e.definition.title, e.definition.version, "built-in" if e.builtin else str(e.path))
        for e in cat.entries.values()
    ]
    widths = [max(len(str(r[i])) for r in [("id", "kind", "title", "version", "from"), *rows]) for i in range(5)]
    for r in [("id", "kind", "title", "version", "from"), *rows]:
        click.echo("  ".join(str(v).ljust(w) for v, w in zip(r, widths, strict=True)).rstrip())


@definitions.command("show")
@click.argument("ident")
@click.option("--json", "as_json", is_flag=True, help="Print the full validated definition as JSON.")
@_definitions_option
def definitions_show(ident: str, as_json: bool) -> None:
    """Show one definition: its structure, or all of it as JSON.

    Example: eif-xlsx definitions show maternity-early-years --json
    """
    cat = _catalog()
    _known(cat, ident, "", "")
    with _errors():
        d = cat.get(ident)
    if as_json:
        click.echo(d.model_dump_json(indent=2))
        return
    click.echo(f"{d.id}: {d.title} (version {d.version})")
    click.echo(f"source: {d.source}")
    if d.kind == "matrix":
        click.echo("levels: " + ", ".join(d.level_names))
        for dim in d.dimensions:
            click.echo(dim.name)
            for el in dim.elements:
                click.echo(f"  {el.number} {el.name}")
                for sub in el.assessed:
                    counts = ", ".join(f"{sum(c.level == n for c in sub.criteria)} {n}" for n in d.level_names)
                    click.echo(
                        f"    {sub.code} {sub.name}: {len(sub.criteria)} criteria ({counts}); "
                        f"{len(sub.supporting_items)} supporting items"
                    )
    else:
        click.echo(f"outcome: {d.outcome}")
        for cp in d.core_purposes:
            click.echo(f"{cp.title}")
            for it in cp.intentions:
                kinds = [i.kind for i in it.indicators]
                click.echo(
                    f"  [{it.id}] {it.commissioned.splitlines()[0][:80]}: "
                    f"{kinds.count('population-outcome')} population outcome, "
                    f"{kinds.count('service-performance')} service performance indicators"
                )


@definitions.command("check")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
def definitions_check(path: str) -> None:
    """Check a definition file; one line per problem with file, line and field path.

    Example: eif-xlsx definitions check my-matrix.yaml
    """
    with _errors():
        d = api.load_definition_file(path)
    click.echo(f"{path}: ok ({d.kind} '{d.id}', version {d.version})")


@definitions.command("schema")
def definitions_schema() -> None:
    """Print the JSON Schema of a definition file, for writing your own.

    Example: eif-xlsx definitions schema > definition.schema.json
    """
    click.echo(json.dumps(api.definition_schema(), indent=2, ensure_ascii=False))


# --- generate ------------------------------------------------------------------------------------


@main.command()
@click.argument("matrix_id")
@click.option(
    "--partners",
    type=click.Path(exists=True, dir_okay=False),
    help="CSV or XLSX with a header row: name, organisation, email (optional: id, role).",
)
@click.option("--area", default="", help="The local area, shown on every cover.")
@click.option("--deadline", default="", help="Return-by date, e.g. 2026-12-12.")
@click.option("--return-to", default="", help="Email address the workbooks go back to.")
@click.option("--indicators", "indicators_id", default=None, help="Add an Indicators sheet for this indicator set.")
@click.option("--password", default="", help="Protect the sheets with this password (default: none).")
@click.option(
    "--round",
    "round_",
    type=click.Choice(["baseline", "12-months"]),
    default="baseline",
    show_default=True,
    help="12-months pre-fills each partner's baseline from --previous returns and locks it.",
)
@click.option(
    "--previous",
    multiple=True,
    type=click.Path(exists=True),
    help="Earlier returns (files or folders) to pre-fill from. Repeatable.",
)
@click.option("--email-drafts", is_flag=True, help="Also write one .eml draft per partner with the workbook attached.")
@click.option("--sender", default="", help="From address for the email drafts.")
@click.option("--subject", default="", help="Subject for the email drafts.")
@click.option(
    "--message",
    type=click.Path(exists=True, dir_okay=False),
    help="Text file: the body of the email drafts; may use {name}, {organisation}, {area}, {deadline}, "
    "{sender}, {sender_name}, {sender_organisation}.",
)
@click.option("--sender-name", default="", help="Your name, to sign the email drafts.")
@click.option("--sender-organisation", default="", help="Your organisation, to sign the email drafts.")
@_out_folder_option("Folder for the workbooks and manifest.csv.")
@_jobs_option
@click.option("--quiet", "-q", is_flag=True, help="No progress output.")
@_definitions_option
def generate(
    matrix_id,
    partners,
    area,
    deadline,
    return_to,
    indicators_id,
    password,
    round_,
    previous,
    email_drafts,
    sender,
    subject,
    message,
    sender_name,
    sender_organisation,
    out_dir,
    jobs,
    quiet,
) -> None:
    """Write one personalised workbook per partner (or one blank workbook) and manifest.csv.

    Example: eif-xlsx generate maternity-early-years --partners samples/partners.csv --area Staffordshire --deadline 2026-12-12
    """
    cat = _catalog()
    _known(cat, matrix_id, "matrix", "MATRIX_ID")
    _known(cat, indicators_id, "indicators", "--indicators")
    with _errors(), _scratch():  # --previous may hold saved e-mails
        if email_drafts and not sender:
            raise UsageError("--email-drafts needs --sender ADDRESS")
        if sender:
            sender = api.check_address(sender)  # refused before any file is read or written, as the deadline
        if return_to:
            return_to = api.check_address(return_to, "--return-to")
        if deadline:
            api.check_deadline(deadline)
        people = api.read_partners(partners) if partners else None
        if email_drafts and not people:
            raise UsageError("--email-drafts needs --partners FILE")
        with _progress(quiet, len(people or [None]), "Generating") as bar:
            result = api.generate(
                matrix_id,
                out_dir,
                partners=people,
                indicators=indicators_id,
                area=area,
                deadline=deadline,
                return_to=return_to or sender,
                password=password,
                round=round_,
                previous=previous,
                catalog=cat,
                progress=bar.update if bar else None,
                jobs=jobs,
            )
        for note in result.notes:
            click.echo(note, err=True)
        if email_drafts:
            body = Path(message).read_text(encoding="utf-8") if message else ""
            drafts = api.write_email_drafts(
                result,
                sender=sender,
                subject=subject,
                body=body,
                area=area,
                deadline=deadline,
                sender_name=sender_name,
                sender_organisation=sender_organisation,
            )
            if not quiet:
                click.echo(f"Wrote {len(drafts)} email drafts in {Path(out_dir) / 'emails'}")
    if not quiet:
        click.echo(f"Wrote {len(result.rows)} workbook(s) and {result.manifest}")


# --- validate ------------------------------------------------------------------------------------


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--json", "as_json", is_flag=True, help="Print the reports as JSON (the API's Report.as_dict()).")
@click.option("--matrix", "expected_matrix", default=None, help="Reject returns for any other matrix.")
@click.option(
    "--manifest",
    type=click.Path(exists=True, dir_okay=False),
    help="The manifest.csv written by generate: check each return against who was sent what, as import "
    "does (the round's matrix, another partner's workbook, a workbook of another round).",
)
@click.option(
    "--feedback",
    "feedback_dir",
    type=click.Path(file_okay=False),
    help="Write a copy of each return with findings, marked up for the partner to correct.",
)
@click.option(
    "--return-to",
    default=None,
    help="Feedback copies: the address to send them back to (default: the one on the workbook's cover).",
)
@click.option(
    "--deadline",
    default=None,
    help="Feedback copies: the new return-by date, e.g. 2026-12-18 (default: the workbook's own).",
)
@_jobs_option
@click.option("--quiet", "-q", is_flag=True, help="One line per file, without the findings.")
@_debug_option
@_definitions_option
def validate(paths, as_json, expected_matrix, manifest, feedback_dir, return_to, deadline, jobs, quiet) -> None:
    """Check returned workbooks (files or folders; .xlsx, .xlsm, .ods, saved .eml/.msg emails).

    Exit 0 when every file is accepted, 1 when any is rejected, 2 on a usage error.

    Example: eif-xlsx validate returns/ --feedback feedback/
    """
    cat = _catalog()
    _known(cat, expected_matrix, "matrix", "--matrix")
    if return_to:
        with _errors():
            return_to = api.check_address(return_to, "--return-to")
    if manifest:
        with _errors():
            sent = api.read_round_manifest(manifest)
        _known(
            cat, next((r["matrix_id"] for r in sent if r.get("matrix_id")), None), "matrix", f"{manifest}: matrix_id"
        )
    if deadline:
        with _errors():
            api.check_deadline(deadline)
    files = _input_files(paths)
    with _errors(), _scratch():
        with _progress(quiet or as_json, len(files), "Checking") as bar:
            reports = api.validate(
                files,
                catalog=cat,
                jobs=jobs,
                expected_matrix=expected_matrix,
                manifest=manifest,
                progress=bar.update if bar else None,
            )
        if feedback_dir:
            written = api.write_feedback(reports, feedback_dir, catalog=cat, return_to=return_to, deadline=deadline)
    if as_json:
        click.echo(without_surrogates(json.dumps([r.as_dict() for r in reports], indent=2, ensure_ascii=False)))
    else:
        for r in reports:
            counts = r.counts()
            who = r.partner.get("name") or r.partner.get("organisation") or ""
            head = f"{r.status.upper():9} {r.file}" + (f"  ({who})" if who else "")
            click.echo(head + f"  errors {counts['error']}, warnings {counts['warning']}, info {counts['info']}")
            if quiet:
                continue
            for f in r.findings:
                where = f" {f.where}" if f.where else ""
                click.echo(f"    {f.severity.value:7} {f.code}{where}: {f.message}")
        if feedback_dir:
            click.echo(f"Wrote {len(written)} feedback copies in {feedback_dir}")
    rejected = sum(not r.accepted for r in reports)
    internal = sum(f.code == "internal-error" for r in reports for f in r.findings)
    if not as_json:
        click.echo(
            f"{len(reports)} file(s): {len(reports) - rejected} accepted, {rejected} rejected"
            + (f" ({internal} by an internal error, please report)" if internal else "")
        )
    sys.exit(EXIT_REJECTED if rejected else EXIT_OK)


# --- import / tracker / demo -----------------------------------------------------------------------


@main.command("import")
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option(
    "--manifest",
    type=click.Path(exists=True, dir_okay=False),
    help="The manifest.csv written by generate: who was sent a workbook (for the returns register).",
)
@click.option(
    "--indicators", "indicators_id", default=None, help="Write the commissioning-indicator tracker for this set."
)
@_out_folder_option("Folder for summary.xlsx, tracker.xlsx, the CSVs, summary.json and report.html/.pdf.")
@_pdf_option
@_jobs_option
@click.option("--quiet", "-q", is_flag=True, help="No progress output.")
@_debug_option
@_definitions_option
def import_(paths, manifest, indicators_id, out_dir, pdf, jobs, quiet) -> None:
    """Import returns: summary.xlsx, tracker.xlsx, levels/answers/findings CSVs, summary.json and the board's
    report.html and report.pdf.

    Exit 0 when every file was imported, 1 when any was rejected (the rest are still written), 2 on a usage error.

    Example: eif-xlsx import returns/ --manifest output/manifest.csv --out output/
    """
    cat = _catalog()
    _known(cat, indicators_id, "indicators", "--indicators")
    if manifest:
        with _errors():
            sent = api.read_round_manifest(manifest)
        _known(
            cat, next((r["matrix_id"] for r in sent if r.get("matrix_id")), None), "matrix", f"{manifest}: matrix_id"
        )
    files = _input_files(paths)
    with _errors(), _scratch():
        with _progress(quiet, len(files), "Importing") as bar:
            result = api.consolidate(
                files,
                out_dir,
                manifest=manifest,
                indicators=indicators_id,
                catalog=cat,
                jobs=jobs,
                progress=bar.update if bar else None,
                pdf=pdf,
            )
    if not quiet:
        click.echo(result.describe())
    else:
        for note in result.notes:
            click.echo(note, err=True)
    sys.exit(EXIT_REJECTED if result.rejected else EXIT_OK)


@main.command()
@click.argument("out_dir", type=click.Path(exists=True, file_okay=False))
@_pdf_option
@_debug_option
@_definitions_option
def report(out_dir, pdf) -> None:
    """Rebuild the board's report.html and report.pdf in an import's output folder, from its summary.json.

    Example: eif-xlsx report board-pack
    """
    with _errors():
        result = api.write_report(out_dir, catalog=_catalog(), pdf=pdf)
    click.echo("Wrote:")
    for path in result.outputs:
        click.echo(f"  {path}")
    for note in result.notes:
        click.echo(note)


@main.group("schema")
def schema_group() -> None:
    """JSON Schemas of the files eif-xlsx writes."""


@schema_group.command("summary")
def schema_summary() -> None:
    """Print the JSON Schema (draft 2020-12) of summary.json, as written by import.

    Example: eif-xlsx schema summary > summary.schema.json
    """
    click.echo(json.dumps(api.summary_schema(), indent=2, ensure_ascii=False))


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option(
    "--manifest",
    required=True,
    type=click.Path(exists=True, dir_okay=False),
    help="The manifest.csv written by generate; the workbooks sent are found beside it.",
)
@click.option("--sender", required=True, help="From address of the drafts (and where corrections go back to).")
@_out_folder_option("Folder for the .eml drafts, the feedback copies and chase.csv.", default="chase")
@click.option("--deadline", default="", help="The new return-by date, e.g. 2026-12-18 (default: the round's).")
@click.option("--return-to", default="", help="Where corrected workbooks go back to (default: --sender).")
@click.option("--sender-name", default="", help="Your name, to sign the drafts.")
@click.option("--sender-organisation", default="", help="Your organisation, to sign the drafts.")
@click.option("--matrix", "expected_matrix", default=None, help="The round's matrix (default: the manifest's).")
@click.option("--dry-run", is_flag=True, help="List who would be chased; write nothing.")
@_jobs_option
@click.option("--quiet", "-q", is_flag=True, help="Only the one-line summary.")
@_definitions_option
def chase(
    paths,
    manifest,
    sender,
    out_dir,
    deadline,
    return_to,
    sender_name,
    sender_organisation,
    expected_matrix,
    dry_run,
    jobs,
    quiet,
) -> None:
    """Email drafts for partners who have not returned, and for returns to correct (feedback copy attached).

    Writes one .eml per partner to chase and chase.csv; prints 'n outstanding, n to correct, n complete'.

    Example: eif-xlsx chase returns/ --manifest round1/manifest.csv --sender me@council.example --out chase/
    """
    cat = _catalog()
    _known(cat, expected_matrix, "matrix", "--matrix")
    with _errors():
        sender = api.check_address(sender)
        if return_to:
            return_to = api.check_address(return_to, "--return-to")
    missing = [p for p in paths if not Path(p).exists()]
    if missing:
        raise _Usage(f"no such file or folder: {', '.join(missing)}")
    files = api.find_returns(paths)  # may be none yet: then every partner is outstanding
    with _errors(), _scratch():
        with _progress(quiet, len(files), "Checking") as bar:
            result = api.chase(
                files,
                manifest,
                sender=sender,
                out_dir=out_dir,
                deadline=deadline,
                return_to=return_to,
                sender_name=sender_name,
                sender_organisation=sender_organisation,
                matrix=expected_matrix,
                dry_run=dry_run,
                catalog=cat,
                jobs=jobs,
                progress=bar.update if bar else None,
            )
    for note in result.notes:
        click.echo(f"warning: {note}", err=True)
    if not quiet:
        for item in result.items:
            if item.status == "complete":
                continue
            target = f" <{item.email}>" if item.email else " (no email address in the manifest)"
            sent = f"  ({item.report.file})" if item.report else ""
            what = f"  → {item.draft}" if item.draft else ""
            click.echo(f"{item.status:11} {item.label}{target}{sent}{what}")
            for f in item.findings:
                click.echo(f"    {f.where + ': ' if f.where else ''}{f.message}")
        for rep in result.unmatched:
            click.echo(f"unmatched   {rep.file}: no partner of the manifest")
    click.echo(result.summary() + ("  (dry run: nothing written)" if dry_run else f"  → {result.csv}"))


@main.command()
@click.argument("set_id")
@click.option(
    "--out",
    "out_file",
    default="output/tracker.xlsx",
    show_default=True,
    type=click.Path(dir_okay=False),
    help="The tracker file to write.",
)
@_definitions_option
def tracker(set_id, out_file) -> None:
    """Write an empty commissioning-indicator tracker for commissioners to start from.

    Example: eif-xlsx tracker staffordshire-best-start --out tracker.xlsx
    """
    if Path(out_file).suffix.lower() != ".xlsx":
        raise _Usage(f"--out {out_file}: the tracker is an Excel workbook; give a file name ending in .xlsx")
    cat = _catalog()
    _known(cat, set_id, "indicators", "SET_ID")
    with _errors():
        api.write_tracker(set_id, out_file, catalog=cat)
    click.echo(f"Wrote {out_file}")


@main.command()
@_out_folder_option("Folder for everything the demo makes.")
@_pdf_option
@click.option("--quiet", "-q", is_flag=True, help="Less output.")
def demo(out_dir, pdf, quiet) -> None:
    """The whole round trip on the built-in matrix and the sample partners: generate, fill, validate, import, chase.

    Example: eif-xlsx demo --out output/
    """
    with _errors():
        text = run_demo(Path(out_dir), echo=(lambda s: None) if quiet else click.echo, pdf=pdf)
    click.echo(text)


def run() -> None:
    """The installed `eif-xlsx` command (tests call main itself)."""
    main()


if __name__ == "__main__":  # pragma: no cover
    run()
