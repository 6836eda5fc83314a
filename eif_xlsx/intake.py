"""Turn what a coordinator drops in a folder into workbook files: saved emails (.eml, .msg) are opened and their
spreadsheet attachments taken out, with the sender recorded."""

from __future__ import annotations

import email
import email.policy
import hashlib
import tempfile
from email.utils import parseaddr
from pathlib import Path

from .batch import Source
from .checks import Report
from .errors import finding
from .reader import Return

WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".ods", ".xls")
MAX_EMAIL_BYTES = 60 * 1024 * 1024


def sources(files: list[Path], workdir: Path | None = None) -> tuple[list[Source], list[Report]]:
    """Sources to read, and reports for emails that held no workbook."""
    out: list[Source] = []
    problems: list[Report] = []
    for f in files:
        suffix = f.suffix.lower()
        if suffix == ".eml":
            found, sender = _from_eml(f, workdir)
        elif suffix == ".msg":
            found, sender = _from_msg(f, workdir)
        else:
            out.append(Source(str(f), f.name))
            continue
        if not found:
            ret = Return(str(f), f.name, sender=sender)
            ret.findings.append(finding("not-a-workbook", f.name, detail=(
                f"the email{' from ' + sender if sender else ''} has no .xlsx, .xlsm or .ods attachment")))
            problems.append(Report(f.name, str(f), ret, findings=list(ret.findings)))
        out += [Source(str(p), f"{f.name} › {name}", sender) for p, name in found]
    return out, problems


def _target_dir(workdir: Path | None) -> Path:
    if workdir is None:
        workdir = Path(tempfile.mkdtemp(prefix="eif-xlsx-mail-"))
    workdir.mkdir(parents=True, exist_ok=True)
    return workdir


def _save(workdir: Path | None, source: Path, name: str, data: bytes) -> Path:
    folder = _target_dir(workdir) / hashlib.sha256(str(source).encode() + name.encode()).hexdigest()[:12]
    folder.mkdir(parents=True, exist_ok=True)
    safe = "".join(ch if ch.isalnum() or ch in "._- " else "_" for ch in Path(name).name) or "attachment.xlsx"
    path = folder / safe
    path.write_bytes(data)
    return path


def _from_eml(path: Path, workdir: Path | None) -> tuple[list[tuple[Path, str]], str]:
    try:
        if path.stat().st_size > MAX_EMAIL_BYTES:
            return [], ""
        msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    except Exception:
        return [], ""
    sender = parseaddr(str(msg.get("From", "")))[1]
    found = []
    for part in msg.iter_attachments():
        name = part.get_filename() or ""
        if name.lower().endswith(WORKBOOK_SUFFIXES):
            try:
                data = part.get_payload(decode=True) or b""
            except Exception:
                continue
            found.append((_save(workdir, path, name, data), name))
    return found, sender


def _from_msg(path: Path, workdir: Path | None) -> tuple[list[tuple[Path, str]], str]:
    """An Outlook .msg (an OLE2 compound file): sender and spreadsheet attachments, read with olefile."""
    import olefile

    try:
        if path.stat().st_size > MAX_EMAIL_BYTES or not olefile.isOleFile(str(path)):
            return [], ""
        ole = olefile.OleFileIO(str(path))
    except Exception:
        return [], ""
    with ole:
        def text(*parts: str) -> str:
            if not ole.exists("/".join(parts)):
                return ""
            data = ole.openstream("/".join(parts)).read(1_000_000)
            return data.decode("utf-16-le", errors="replace").rstrip("\x00")

        sender = ""
        for tag in ("5D01001F", "0C1F001F", "0065001F"):  # sender SMTP address, sender email, sent-representing
            sender = parseaddr(text(f"__substg1.0_{tag}"))[1]
            if sender:
                break
        found = []
        storages = sorted({entry[0] for entry in ole.listdir(streams=True, storages=True)
                           if entry and entry[0].startswith("__attach_version1.0_")})
        for storage in storages:
            name = text(storage, "__substg1.0_3707001F") or text(storage, "__substg1.0_3704001F")
            blob = f"{storage}/__substg1.0_37010102"
            if name.lower().endswith(WORKBOOK_SUFFIXES) and ole.exists(blob):
                found.append((_save(workdir, path, name, ole.openstream(blob).read(MAX_EMAIL_BYTES)), name))
        return found, sender
