"""Turn what a coordinator drops in a folder into workbook files: saved e-mails (.eml via the standard library's
`email`, Outlook .msg via extract-msg, ANSI or Unicode) are opened, with the e-mails attached inside them, and
their spreadsheet attachments taken out, with the sender and when the e-mail was sent recorded. Each e-mail is
opened in a reading process (intake/batch.py), as a workbook is read: one that hangs, crashes or eats memory costs
only itself.

An attachment's name is the sender's to choose (a path, a reserved device name, 300 characters, a NUL, the same
name twice): it is only ever shown, cleaned (`display_name`), and never used on disk. Each attachment is written as
`NNN.xlsx` (or .ods, ...) in a folder of this run's own under the temporary directory (or the caller's workdir),
and those folders are removed by `cleanup()`: the commands call it on every way out (`scratch()`), and folders
left by a run that was killed are removed by the next one (`sweep()`).
"""

from __future__ import annotations

import atexit
import datetime as dt
import email
import email.policy
import os
import re
import shutil
import tempfile
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.utils import parseaddr, parsedate_to_datetime
from pathlib import Path
from typing import Any, TypeAlias

from eif_xlsx.errors import finding, log_debug
from eif_xlsx.intake.checks import Report
from eif_xlsx.intake.reader import Return
from eif_xlsx.normalise import without_surrogates

WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".ods", ".xls")
EMAIL_SUFFIXES = (".eml", ".msg")
MAX_EMAIL_BYTES = 60 * 1024 * 1024
MAX_ATTACHMENTS = 200  # workbooks taken from one e-mail, nested ones included
MAX_DEPTH = 4  # e-mails inside e-mails
MAX_NAME = 120  # characters of an attachment's name shown in reports
PREFIX = "eif-xlsx-mail-"

_MADE: list[Path] = []  # folders made here and not yet removed (see cleanup)
_CREATED_WORKDIRS: list[Path] = []  # a caller's workdir that did not exist before: removed when left empty


@dataclass
class _Mail:
    """What one saved e-mail gave: its attachments (display name, bytes) and why any were left out."""

    sender: str = ""
    sent: dt.datetime | None = None  # the outermost e-mail's Date (UTC)
    found: list[tuple[str, bytes]] = field(default_factory=list)
    problem: str = ""  # the e-mail could not be read at all
    skipped: int = 0  # workbooks over MAX_ATTACHMENTS
    too_deep: int = 0  # attached messages not opened: more than MAX_DEPTH inside one another
    wrapped: bool = False  # an Outlook rich-text wrapping (winmail.dat) was attached, which is not opened


@dataclass(frozen=True)
class Source:
    """A file to read: its path on disk, the name to report, and, when it came out of an e-mail, the sender and when
    the e-mail was sent (its Date header, timezone-aware UTC; None if it has none that reads as a date). A saved
    e-mail is a source too: opening it (open_email) gives the workbooks attached to it, each a source."""

    path: str
    name: str
    sender: str = ""
    sent: dt.datetime | None = None

    @property
    def is_email(self) -> bool:
        return Path(self.path).suffix.lower() in EMAIL_SUFFIXES


@dataclass
class Opened:
    """What opening one saved e-mail gave: the report of a problem with the e-mail itself (it could not be read,
    holds no workbook, or more than MAX_ATTACHMENTS), if any, and the workbooks taken out of it, to be read."""

    problem: Report | None
    found: list[Source]


def source_of(path: Path) -> Source:
    """A file given to be read, named as it is shown (a name in another encoding than the system's, os.fsdecode,
    shown without its lone surrogates)."""
    return Source(str(path), without_surrogates(path.name))


def attachment_folder(workdir: Path | None = None) -> Path:
    """A folder of this run's for the attachments of e-mails (in workdir, or the temporary directory), removed by
    cleanup() (the commands' scratch() block)."""
    return _scratch_dir(workdir)


def open_email(source: Source, folder: Path) -> Opened:
    """Take the workbooks out of one saved e-mail, each written as a file in a new folder inside folder (see
    attachment_folder)."""
    path, shown = Path(source.path), source.name
    mail = _open(path)
    findings = []
    if mail.problem:
        findings.append(finding("not-a-workbook", shown, detail=mail.problem))
    if mail.too_deep and not mail.problem:
        above = "" if mail.found else " and no workbook was found above them"
        detail = (
            f"{mail.too_deep} message(s) attached more than {MAX_DEPTH} e-mails deep were not opened{above}; "
            "please send the workbook itself"
        )
        findings.append(finding("not-a-workbook", shown, detail=detail))
    if mail.skipped:
        detail = (
            f"the e-mail holds {mail.skipped} workbook attachment(s) beyond the first {MAX_ATTACHMENTS}, which "
            "were not read; please send them in separate e-mails"
        )
        findings.append(finding("too-large", shown, detail=detail))
    if not (findings or mail.found):
        sender = f" from {mail.sender}" if mail.sender else ""
        detail = f"the email{sender} has no .xlsx, .xlsm or .ods attachment"
        if mail.wrapped:
            detail += (
                ": its attachments are wrapped in winmail.dat (Outlook's rich-text format), which eif-xlsx does "
                "not open; please save the workbook out of the e-mail in Outlook, or ask for it to be sent "
                "again as HTML or plain text"
            )
        findings.append(finding("not-a-workbook", shown, detail=detail))
    problem = None
    if findings:
        ret = Return(source.path, shown, sender=mail.sender, sent=mail.sent, findings=findings)
        problem = Report(shown, source.path, ret, findings=list(findings))
    found = []
    if mail.found:
        here = Path(tempfile.mkdtemp(prefix="m", dir=folder))
        for k, (name, data) in enumerate(mail.found):
            attachment = here / f"{k:03d}{_workbook_suffix(name)}"
            attachment.write_bytes(data)
            found.append(Source(str(attachment), f"{shown} › {name}", mail.sender, mail.sent))
    return Opened(problem, found)


# --- names -----------------------------------------------------------------------------------------


def display_name(name: object, fallback: str = "attachment") -> str:
    """An attachment's name as it may be shown: its last path part, no control characters or lone surrogates
    (U+FFFD instead), spaces trimmed, at most MAX_NAME characters (its suffix kept)."""
    text = str(name or "")
    text = without_surrogates(text)  # undecodable header bytes come out of `email` as lone surrogates
    text = re.split(r"[\\/]", text)[-1]
    text = "".join(ch if unicodedata.category(ch)[0] != "C" else " " for ch in text)
    text = re.sub(r"\s+", " ", text).strip(" .") or fallback
    if len(text) > MAX_NAME:
        stem, dot, suffix = text.rpartition(".")
        suffix = dot + suffix if dot and len(suffix) <= 5 else ""
        text = text[: MAX_NAME - len(suffix) - 1] + "…" + suffix
    return text


def _workbook_suffix(name: str) -> str:
    low = name.lower()
    return next((s for s in WORKBOOK_SUFFIXES if low.endswith(s)), ".xlsx")


def _is_workbook(name: str) -> bool:
    return name.lower().endswith(WORKBOOK_SUFFIXES)


def _is_email(name: str) -> bool:
    return name.lower().endswith(EMAIL_SUFFIXES)


def _unique(name: str, taken: set[str]) -> str:
    """The name, or 'name (2).xlsx' and so on when an attachment of the same name came before."""
    if name not in taken:
        taken.add(name)
        return name
    stem, dot, suffix = name.rpartition(".")
    if not dot:
        stem, suffix = name, ""
    n = 2
    while f"{stem} ({n}){dot}{suffix}" in taken:
        n += 1
    taken.add(f"{stem} ({n}){dot}{suffix}")
    return f"{stem} ({n}){dot}{suffix}"


# --- reading e-mails ---------------------------------------------------------------------------------


def _open(path: Path) -> _Mail:
    mail = _Mail()
    try:
        size = path.stat().st_size
    except OSError:
        mail.problem = "the e-mail file cannot be opened"
        return mail
    if size > MAX_EMAIL_BYTES:
        mail.problem = f"the e-mail is {size / 1e6:.0f} MB, over the {MAX_EMAIL_BYTES / 1e6:.0f} MB a return can be"
        return mail
    try:
        data = path.read_bytes()
    except OSError:
        mail.problem = "the e-mail file cannot be opened"
        return mail
    is_msg = data.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")
    if path.suffix.lower() == ".msg" and not is_msg:
        mail.problem = "it is named .msg but is not a saved Outlook message"
        return mail
    _walk(data, is_msg, mail, (), set(), depth=0, label=path.name)
    return mail


def _walk(
    data: bytes, is_msg: bool, mail: _Mail, prefix: tuple[str, ...], taken: set[str], depth: int, label: str = ""
) -> None:
    """Take the workbooks out of one message (and out of the messages attached to it)."""
    try:
        items = list(_msg_items(data) if is_msg else _eml_items(data))
    except (KeyboardInterrupt, SystemExit, MemoryError):
        raise
    except Exception as exc:  # a damaged message: the library's own words are of no use to a coordinator
        log_debug(" › ".join((label, *prefix)), exc)
        if depth == 0:
            mail.problem = (
                "the saved Outlook message is damaged and cannot be read"
                if is_msg
                else "the saved e-mail's parts are nested too deeply to be read"
                if isinstance(exc, RecursionError)
                else "the saved e-mail is damaged and cannot be read"
            )
        return
    for kind, name, payload in items:
        if kind == "sender":
            mail.sender = mail.sender or payload
        elif kind == "sent":
            if depth == 0:  # when the e-mail that was saved was sent, not a message forwarded in it
                mail.sent = payload
        elif kind == "message" and depth < MAX_DEPTH:
            _walk(payload, payload.startswith(b"\xd0\xcf\x11\xe0"), mail, (*prefix, name), taken, depth + 1, label)
        elif kind in ("message", "too-deep"):
            mail.too_deep += 1
        elif kind == "winmail":
            mail.wrapped = True
        elif kind == "file":
            if len(mail.found) >= MAX_ATTACHMENTS:
                mail.skipped += 1
                continue
            mail.found.append((" › ".join((*prefix, _unique(name, taken))), payload))


# What a message holds, as (kind, name, payload): ("sender", "", address), ("sent", "", when it was sent: a UTC
# datetime or None), ("message"/"file", name, bytes), ("too-deep", name, None) for a message attached deeper than
# MAX_DEPTH, not opened; ("winmail", name, None) for Outlook's rich-text wrapping of the attachments (winmail.dat,
# application/ms-tnef), not opened.
_Item: TypeAlias = tuple[str, str, Any]


def _eml_items(data: bytes) -> Iterator[_Item]:
    """Every attachment of the message, wherever its multiparts put it: mail programs nest them (Apple Mail sends
    a workbook inside multipart/alternative > multipart/mixed, web mail inside multipart/related), so the whole
    tree is walked, in the message's order. An attached message is one item (read by _walk in its turn)."""
    msg = email.message_from_bytes(data, policy=email.policy.default)
    yield "sender", "", _address(msg.get("From", ""))
    yield "sent", "", _eml_date(msg)
    parts: list[Any] = [msg]  # email.message.Message parts, the next last
    while parts:
        part = parts.pop()
        try:
            if part.get_content_maintype() == "multipart":
                children = part.get_payload()
                if isinstance(children, list):
                    parts.extend(children[::-1])
                continue
            item = _eml_part(part)
        except (KeyboardInterrupt, SystemExit, MemoryError):
            raise
        except Exception:  # one damaged attachment: the others are still read
            continue
        if item is not None:
            yield item


def _eml_part(part) -> _Item | None:
    raw_name = part.get_filename() or part.get_param("name", header="content-type") or ""
    if part.get_content_type() == "message/rfc822":
        inner = part.get_payload(0) if part.is_multipart() else None
        if inner is None:
            return None
        return (
            "message",
            display_name(raw_name, "attached message.eml"),
            inner.as_bytes(policy=email.policy.default.clone(max_line_length=None)),
        )
    name = display_name(raw_name)
    if part.get_content_type() == "application/ms-tnef" or name.lower() == "winmail.dat":
        return "winmail", name, None
    if not (_is_workbook(name) or _is_email(name)):
        return None
    return ("message" if _is_email(name) else "file"), name, part.get_payload(decode=True) or b""


def _msg_items(data: bytes) -> Iterator[_Item]:
    import extract_msg  # only for an Outlook .msg: importing it costs ~0.2 s, in every worker that reads a return

    msg = extract_msg.openMsg(data, strict=False, delayAttachments=False)
    try:
        yield "sender", "", _address(getattr(msg, "sender", "") or "")
        yield "sent", "", _msg_date(msg)
        for att in getattr(msg, "attachments", ()):
            try:
                found = list(_msg_attachment(att, 0))
            except (KeyboardInterrupt, SystemExit, MemoryError):
                raise
            except Exception:  # one damaged attachment: the others are still read
                continue
            yield from found
    finally:
        msg.close()


def _msg_attachment(att, depth: int) -> Iterator[_Item]:
    """An attachment of a .msg: a file, or a whole message embedded in it (its workbooks, as 'name › file')."""
    from extract_msg.enums import AttachmentType  # with extract_msg, above

    raw_name = str(att.longFilename or att.shortFilename or getattr(att, "displayName", "") or "")
    name = display_name(raw_name.replace("\x00", ""))
    if att.type == AttachmentType.MSG:
        if depth >= MAX_DEPTH:
            yield "too-deep", name, None
            return
        name = display_name(raw_name.replace("\x00", ""), "attached message.msg")
        for inner in getattr(att.data, "attachments", ()):
            for kind, n, p in _msg_attachment(inner, depth + 1):
                yield kind, f"{name} › {n}", p
        return
    if att.type != AttachmentType.DATA or not isinstance(att.data, bytes):
        return
    if _is_workbook(name) or _is_email(name):
        yield ("message" if _is_email(name) else "file"), name, att.data


def _eml_date(msg) -> dt.datetime | None:
    """The message's Date header as a timezone-aware UTC datetime; None if it has none, or one that is not a date
    (a header without a zone, or '-0000', is read as UTC)."""
    try:
        value = msg.get("Date")
        if value is None:
            return None
        return _utc(parsedate_to_datetime(str(value).replace("\x00", "").strip()))
    except (KeyboardInterrupt, SystemExit, MemoryError):
        raise
    except Exception:  # an unparseable or damaged header: the e-mail's workbooks are still read
        return None


def _msg_date(msg) -> dt.datetime | None:
    """When an Outlook message was sent (extract-msg's `date`: its client submit time), as a timezone-aware UTC
    datetime; None if it was never sent, does not say, or says Outlook's 'no date'."""
    from extract_msg.null_date import NullDate  # with extract_msg (see _msg_items)

    try:
        value = getattr(msg, "date", None)
        if not isinstance(value, dt.datetime) or isinstance(value, NullDate):
            return None
        return _utc(value)
    except (KeyboardInterrupt, SystemExit, MemoryError):
        raise
    except Exception:  # a damaged property (or no local time zone to read it in): the attachments are still read
        return None


def _utc(value: dt.datetime) -> dt.datetime | None:
    try:
        if value.tzinfo is None or value.utcoffset() is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)
    except (ValueError, OverflowError):
        return None


def _address(value: object) -> str:
    text = str(value or "").replace("\x00", "")
    return display_name(parseaddr(text)[1], "") if text else ""


# --- scratch folders -----------------------------------------------------------------------------------


def _scratch_dir(workdir: Path | None) -> Path:
    """A folder of this run's for attachments, registered for cleanup."""
    if workdir is not None:
        workdir = Path(workdir)
        if not workdir.exists():
            workdir.mkdir(parents=True)
            _CREATED_WORKDIRS.append(workdir)
    sweep()
    if workdir is not None:
        sweep(workdir)
    folder = Path(tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-", dir=workdir))
    _MADE.append(folder)
    return folder


def cleanup() -> None:
    """Remove every folder of attachments made so far (and a workdir made for them, once empty)."""
    while _MADE:
        shutil.rmtree(_MADE.pop(), ignore_errors=True)
    while _CREATED_WORKDIRS:
        try:
            _CREATED_WORKDIRS.pop().rmdir()
        except OSError:
            pass


@contextmanager
def scratch():
    """Attachments taken out inside the block are removed when it ends, however it ends."""
    try:
        yield
    finally:
        cleanup()


def sweep(folder: Path | None = None) -> None:
    """Remove attachment folders left by runs of ours that no longer exist (killed before their cleanup)."""
    folder = Path(folder or tempfile.gettempdir())
    try:
        found = [p for p in folder.iterdir() if p.name.startswith(PREFIX) and p.is_dir()]
    except OSError:
        return
    for p in found:
        pid = p.name[len(PREFIX) :].split("-", 1)[0]
        if pid.isdigit() and int(pid) != os.getpid() and not _alive(int(pid)):
            shutil.rmtree(p, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # another user's process: alive
        return True
    return True


atexit.register(cleanup)  # for library callers; the commands clean up before they exit (see cli.py)
