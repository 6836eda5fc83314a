"""The partner list: read a CSV or XLSX, check every row, and give each partner a stable id."""

from __future__ import annotations

import csv
import hashlib
import io
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from python_calamine import CalamineWorkbook

from eif_xlsx.errors import UsageError
from eif_xlsx.normalise import as_text

COLUMNS = ("id", "name", "organisation", "email", "role")
EMAIL = re.compile(r"^[^@\s<>\"',;]+@[^@\s<>\"',;]+\.[^@\s<>\"',;.]{2,}$")
_ALIASES = {
    "organization": "organisation",
    "org": "organisation",
    "e-mail": "email",
    "partner_id": "id",
    "partner id": "id",
    "full name": "name",
}


@dataclass(frozen=True)
class Partner:
    id: str
    name: str
    organisation: str
    email: str
    role: str = ""
    row: int = 0  # row number in the partner file (header is row 1)

    def as_dict(self) -> dict[str, str]:
        return {
            "id": self.id,
            "name": self.name,
            "organisation": self.organisation,
            "email": self.email,
            "role": self.role,
        }

    @property
    def label(self) -> str:
        return " · ".join(x for x in (self.name, self.organisation) if x)


def make_id(name: str, organisation: str, email: str) -> str:
    """A stable id made up from the row's content: the same row always gets the same id."""
    blob = "\x1f".join(x.strip().lower() for x in (name, organisation, email)).encode()
    return "P-" + hashlib.sha256(blob).hexdigest()[:8]


def slug(text: str, limit: int = 40) -> str:
    """The text for a file name: ASCII letters and digits joined by '-', at most limit characters, cut after a
    whole word where there is one ('northshire-childminding', not 'northshire-childminding-networ')."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    out = re.sub(r"[^A-Za-z0-9]+", "-", ascii_text).strip("-").lower()
    if len(out) > limit:
        cut = out[:limit]
        out = cut[: cut.rfind("-")] if out[limit] != "-" and "-" in cut else cut
    return out.strip("-")


def _rows_from(path: Path) -> list[list[str]]:
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm", ".ods"):
        try:
            with path.open("rb") as fh:
                head = fh.read(8)
        except OSError as exc:
            raise UsageError(f"{path}: cannot read the partner list: {exc.strerror or exc}") from exc
        if head.startswith(b"\xd0\xcf\x11\xe0"):
            raise UsageError(
                f"{path}: the partner list is an old Excel 97-2003 file or a password-protected workbook; "
                "save it as an unprotected .xlsx or as .csv"
            )
        if not head.startswith(b"PK\x03\x04"):
            raise UsageError(
                f"{path}: the partner list is named {suffix} but is not a spreadsheet; save it as .xlsx or .csv"
            )
        try:
            wb = CalamineWorkbook.from_path(str(path))
            sheet = wb.get_sheet_by_index(0)
            return [[as_text(v) for v in row] for row in sheet.to_python(skip_empty_area=False)]
        except Exception:  # calamine's own words (e.g. 'Could not find EOCD') mean nothing to a coordinator
            raise UsageError(
                f"{path}: the partner list cannot be read: the workbook is damaged; open it in Excel or LibreOffice "
                "and save it again, or save it as .csv"
            ) from None
    if suffix not in (".csv", ".txt", ".tsv"):
        raise UsageError(f"{path}: the partner list must be a .csv or .xlsx file")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UsageError(f"{path}: cannot read the partner list: {exc}") from exc
    try:
        if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
            text = data.decode("utf-16")  # Excel's "Unicode Text" (tab-separated)
        else:
            text = data.decode("utf-8-sig")  # Excel's "CSV UTF-8" starts with a byte-order mark
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")  # Excel's plain "CSV" on Windows
    sep = "\t" if suffix == ".tsv" else _separator(text)
    return [list(r) for r in csv.reader(io.StringIO(text, newline=""), delimiter=sep)]


SEPARATORS = {",": "comma (',')", ";": "semicolon (';')", "\t": "tab"}


def _separator(text: str) -> str:
    """The list's separator: the one of , ; tab that splits the header row into the columns we need (Excel in a
    European locale saves ';'), else what csv.Sniffer makes of the first lines, else ','."""
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        return ","
    fits = [sep for sep in SEPARATORS if not _missing(next(csv.reader([lines[0]], delimiter=sep)))]
    if fits:
        return fits[0]
    try:
        return csv.Sniffer().sniff("\n".join(lines[:20]), delimiters="".join(SEPARATORS)).delimiter
    except csv.Error:
        return max(SEPARATORS, key=lines[0].count) if any(s in lines[0] for s in SEPARATORS) else ","


def _header(row: list[str]) -> list[str]:
    return [_ALIASES.get(h.strip().lower(), h.strip().lower()) for h in row]


def _missing(row: list[str]) -> list[str]:
    header = _header(row)
    return [c for c in ("name", "organisation", "email") if c not in header]


def read_partners(path: Path | str) -> list[Partner]:
    """Every partner in the file; raises UsageError listing every bad row (by row number) if any."""
    path = Path(path)
    if not path.is_file():
        raise UsageError(f"{path}: partner list not found")
    rows = _rows_from(path)
    if not rows:
        raise UsageError(f"{path}: the partner list is empty")
    header = _header(rows[0])
    missing = _missing(rows[0])
    if missing:
        found = ", ".join(repr(h.strip()) for h in rows[0] if h.strip()) or "nothing"
        how = ""
        if path.suffix.lower() not in (".xlsx", ".xlsm", ".ods"):
            first = next((line for line in _first_line(path).split("\n") if line), "")
            seps = [SEPARATORS[s] for s in SEPARATORS if s in first]
            how = (
                f"; the header row is separated by {' and '.join(seps)}"
                if seps
                else "; no separator (comma, semicolon or tab) was found in the header row"
            )
        raise UsageError(
            f"{path}: row 1: the header row needs the columns name, organisation, email "
            f"(optional: id, role); missing: {', '.join(missing)} (found: {found}{how})"
        )
    idx = {c: header.index(c) for c in COLUMNS if c in header}
    problems: list[str] = []
    partners: list[Partner] = []
    seen_ids: dict[str, int] = {}
    seen_emails: dict[str, int] = {}
    for n, raw in enumerate(rows[1:], start=2):
        values = {c: (raw[i].strip() if i < len(raw) else "") for c, i in idx.items()}
        if not any(values.values()):
            continue  # blank line
        name, org, email = values.get("name", ""), values.get("organisation", ""), values.get("email", "")
        if not name and not org:
            problems.append(f"{path}: row {n}: no name and no organisation")
            continue
        if email and not EMAIL.match(email):
            problems.append(f"{path}: row {n}: '{email}' is not a valid email address")
        pid = values.get("id") or make_id(name, org, email)
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}", pid):
            problems.append(f"{path}: row {n}: id '{pid}' may use only letters, digits, '.', '_' and '-'")
        if pid.lower() in seen_ids:
            problems.append(f"{path}: row {n}: duplicate id '{pid}' (also row {seen_ids[pid.lower()]})")
        seen_ids.setdefault(pid.lower(), n)
        if email:
            if email.lower() in seen_emails:
                problems.append(f"{path}: row {n}: duplicate email '{email}' (also row {seen_emails[email.lower()]})")
            seen_emails.setdefault(email.lower(), n)
        partners.append(Partner(pid, name, org, email, values.get("role", ""), n))
    if problems:
        raise UsageError("\n".join(problems))
    if not partners:
        raise UsageError(f"{path}: the partner list has a header but no partners")
    return partners


def _first_line(path: Path) -> str:
    data = path.read_bytes()[:4096]
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        text = data.decode("utf-16", errors="replace")
    else:
        text = data.decode("utf-8-sig", errors="replace")
    return text.replace("\r", "\n").lstrip("\n").split("\n", 1)[0]


def file_name(partner: Partner | None, matrix_id: str, taken: set[str]) -> str:
    if partner is None:
        base = f"{matrix_id}-blank"
    else:
        parts = [slug(partner.organisation, 30), slug(partner.name, 30), slug(partner.id, 20)]
        base = "-".join(p for p in parts if p) or partner.id
    name, n = f"{base}.xlsx", 2
    while name.lower() in taken:
        name = f"{base}-{n}.xlsx"
        n += 1
    taken.add(name.lower())
    return name
