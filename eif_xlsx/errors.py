"""The package's exception tree and the catalogue of finding codes (stable code, severity, message template)."""

from __future__ import annotations

import os
import sys
import traceback
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path


class EifError(Exception):
    """Base class: work could not go on. The message names the file (and cell) concerned."""


class DefinitionError(EifError):
    """One or more problems in a definition file, each already formatted as `file:line: path: message`."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


class ReadError(EifError):
    """A file could not be read as a return at all (kept as a finding by the importer)."""

    def __init__(self, code: str, message: str, sheet: str = "", cell: str = ""):
        self.code, self.sheet, self.cell = code, sheet, cell
        super().__init__(message)


class UsageError(EifError):
    """A wrong argument or input file given to a command (partner list, manifest, option)."""


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True)
class FindingKind:
    code: str
    severity: Severity
    title: str
    template: str


def _kinds(*rows: tuple[str, Severity, str, str]) -> dict[str, FindingKind]:
    return {code: FindingKind(code, sev, title, tpl) for code, sev, title, tpl in rows}


E, W, INFO = Severity.ERROR, Severity.WARNING, Severity.INFO

#: Every finding the importer can report. Codes are stable: tests, CSVs and users rely on them.
FINDINGS: dict[str, FindingKind] = _kinds(
    ("not-a-workbook", E, "Not a workbook", "This is not a spreadsheet workbook eif-xlsx can read: {detail}"),
    (
        "legacy-xls",
        E,
        "Legacy .xls",
        "Old Excel 97-2003 (.xls) workbooks are not accepted; please save as .xlsx and send again.",
    ),
    ("damaged", E, "Damaged file", "The workbook is damaged and cannot be read: {detail}"),
    (
        "password-protected",
        E,
        "Password-protected",
        "The workbook is encrypted with a password; please remove the password (File > Info > Protect Workbook) and send again.",
    ),
    ("hostile", E, "Unsafe content", "The workbook was refused for safety: {detail}"),
    ("too-large", E, "Too large", "The workbook is too large to be a return: {detail}"),
    (
        "macro-workbook",
        INFO,
        "Macro workbook",
        "A macro-enabled workbook came in; only its values were read and no macro was run.",
    ),
    (
        "metadata-missing",
        E,
        "Metadata missing",
        "The workbook has no eif-xlsx metadata and does not match a known template by its visible structure.",
    ),
    (
        "matched-by-structure",
        W,
        "Matched by structure",
        "The eif-xlsx metadata is missing; the workbook was matched to '{definition}' by its visible structure.",
    ),
    (
        "matched-by-email",
        W,
        "Matched by e-mail address",
        "The workbook carries no partner id (a blank copy, or its eif-xlsx metadata deleted); it was taken as the "
        "return of partner {partner}, whose e-mail address {how}.",
    ),
    (
        "metadata-altered",
        W,
        "Metadata altered",
        "The hidden metadata has been edited ({detail}); answers were read but check that this is the right partner's file.",
    ),
    (
        "unknown-matrix",
        E,
        "Unknown matrix",
        "The workbook is for matrix '{definition}', which is not a known definition.",
    ),
    ("different-matrix", E, "Different matrix", "The workbook is for matrix '{definition}', not '{expected}'."),
    (
        "older-template",
        INFO,
        "Older template",
        "The workbook was made from {detail}; it was read through the layout it carries.",
    ),
    ("sheet-missing", E, "Sheet missing", "The sheet '{sheet}' is missing; its answers could not be read."),
    ("sheet-renamed", INFO, "Sheet renamed", "The sheet '{expected}' was found renamed as '{sheet}'."),
    (
        "row-moved",
        INFO,
        "Rows moved",
        "{detail} moved from row {expected} to row {actual} (rows inserted, deleted or sorted).",
    ),
    (
        "criterion-missing",
        E,
        "Criterion deleted",
        "Criterion {item} is missing from the sheet; it was expected at {expected_cell}.",
    ),
    (
        "criterion-edited",
        W,
        "Criterion text edited",
        "The text of criterion {item} has been changed; the answer was read but the wording differs from the matrix.",
    ),
    ("row-missing", W, "Row deleted", "The row for {detail} is missing; it was expected at {expected_cell}."),
    (
        "unrecognised-tick",
        W,
        "Unrecognised tick",
        "'{value}' is not a tick; choose ✓ or leave the cell blank. The value was kept as typed.",
    ),
    (
        "formula-in-input",
        W,
        "Formula in an input",
        "A formula was typed into an input cell ({value}); its text was kept and it was not evaluated.",
    ),
    ("bad-date", W, "Unreadable date", "'{value}' is not a date; the value was kept as typed."),
    ("bad-choice", W, "Unrecognised choice", "'{value}' is not one of {choices}; the value was kept as typed."),
    ("bad-number", W, "Unreadable number", "'{value}' is not a number; the value was kept as typed."),
    (
        "no-evidence",
        W,
        "Level claimed without evidence",
        "{sub_element} {column}: the criteria reach {level} but no supporting information is ticked{at_level}.",
    ),
    (
        "skipped-level",
        W,
        "Ticks skip a level",
        "{sub_element} {column}: criterion {item} at {level} is ticked two or more levels above the level reached ({reached}); worth a moderation question.",
    ),
    (
        "rating-differs",
        W,
        "Overall rating differs",
        "{sub_element} {column}: the overall rating '{rating}' differs from the level from the criteria ({level}); both are kept.",
    ),
    (
        "twelve-months-without-baseline",
        W,
        "12 months without baseline",
        "{sub_element}: 12 months is ticked but no baseline criterion is ticked.",
    ),
    (
        "date-missing",
        W,
        "Assessment date missing",
        "The {column} assessment date is missing although {column} answers were given.",
    ),
    ("date-in-future", W, "Assessment date in the future", "The {column} assessment date {value} is in the future."),
    (
        "dates-out-of-order",
        W,
        "12 months before baseline",
        "The 12 months assessment date {value} is before the baseline date {baseline}.",
    ),
    ("nothing-filled", E, "Nothing filled in", "No answer was given anywhere in the workbook."),
    (
        "wrong-round",
        E,
        "Workbook from another round",
        "This is your {found} workbook{detail}; the {expected} workbook sent to you{sent} is the one to fill in and return.",
    ),
    (
        "other-partner",
        E,
        "Another partner's workbook",
        "This workbook belongs to {detail}, not to the partner it came from ({expected}).",
    ),
    (
        "baseline-changed",
        W,
        "Locked baseline changed",
        "The locked baseline ({detail}) was changed from '{old}' to '{new}'; the baseline as issued is used, and the new value is kept in this finding.",
    ),
    (
        "baseline-as-issued",
        INFO,
        "Locked baseline as the first round gave it",
        "The locked baseline holds '{value}' as the first round's return gave it, which is not {asks}: it counts as "
        "{counts}. It cannot be changed in this round; nothing to correct.",
    ),
    (
        "internal-error",
        E,
        "Internal error",
        "Could not read this file (internal error, please report); the details are in the --debug log.",
    ),
    (
        "bad-character",
        W,
        "Unreadable character",
        "The text here held {detail} that no file can store (a lone surrogate); it was read as '\ufffd'. Check the text typed in this cell.",
    ),
    (
        "extra-content",
        W,
        "Content outside the template",
        "{detail} cell(s) hold values outside the template's input cells, e.g. {sheet}!{cell}: '{value}'. They were kept in the answers as extra content.",
    ),
    (
        "template-text-changed",
        W,
        "Template text typed over",
        "The template's text '{old}' at {sheet}!{cell} was changed to '{value}'{detail}; the new text was kept in the answers as extra content.",
    ),
)


@dataclass(frozen=True, slots=True)
class Finding:
    code: str
    severity: Severity
    file: str
    sheet: str
    cell: str
    message: str

    @property
    def where(self) -> str:
        if not self.sheet:
            return ""
        return f"{self.sheet}!{self.cell}" if self.cell else self.sheet

    def as_dict(self) -> dict[str, str]:
        return {
            "file": self.file,
            "severity": self.severity.value,
            "code": self.code,
            "sheet": self.sheet,
            "cell": self.cell,
            "message": self.message,
        }

    def __reduce__(self):
        # Findings travel from the workers and a round keeps them all: their code, sheet and cell (few different
        # ones in a round) are kept once each.
        return (_finding, (self.code, self.severity, self.file, self.sheet, self.cell, self.message))


def _finding(code: str, severity: Severity, file: str, sheet: str, cell: str, message: str) -> Finding:
    return Finding(sys.intern(code), severity, file, sys.intern(sheet), sys.intern(cell), message)


def finding(code: str, file: str, sheet: str = "", cell: str = "", **values: object) -> Finding:
    """Make a finding from the catalogue, filling its template."""
    kind = FINDINGS[code]
    return Finding(code, kind.severity, file, sheet, cell, kind.template.format(sheet=sheet, cell=cell, **values))


_DEBUG_LOG: list[Path] = []  # the file set_debug_log named, if any (a list: set in place, read by log_debug)


def set_debug_log(path: Path | str | None) -> None:
    """Name the file (the CLI's --debug FILE) that details of unexpected errors are appended to; None: none.
    batch.run hands it to its worker processes."""
    _DEBUG_LOG[:] = [Path(path).resolve()] if path else []


def debug_log() -> Path | None:
    """The file set_debug_log named, or None."""
    return _DEBUG_LOG[0] if _DEBUG_LOG else None


def log_debug(file: str, exc: BaseException | None = None, text: str = "") -> None:
    """Append an unexpected error's detail (traceback or text) to the --debug log, if one was asked for. One write
    per entry, so that entries from several processes do not interleave."""
    if not _DEBUG_LOG:
        return
    body = "".join(traceback.format_exception(exc)) if exc is not None else text
    entry = f"--- {file} (process {os.getpid()})\n{body.rstrip()}\n"
    try:
        fd = os.open(_DEBUG_LOG[0], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, entry.encode("utf-8", "replace"))
        finally:
            os.close(fd)
    except OSError:
        pass


def internal_error(file: str, exc: BaseException) -> Finding:
    """The finding for an error nobody foresaw: a plain message for the coordinator, the detail in the --debug
    log (never the exception's name or text in the finding)."""
    log_debug(file, exc)
    return finding("internal-error", file)
