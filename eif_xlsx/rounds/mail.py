"""Email drafts (.eml) that open in Outlook or Thunderbird ready to send: the invitation with each partner's workbook,
and the chase and feedback mails (see chase.py). Standard MIME from the standard library's `email` package; the same
inputs give the same bytes (the Message-ID is made from the content, and there is no Date: the program that sends the
draft stamps it)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import formataddr
from pathlib import Path

from eif_xlsx.template.generate import Generated

XLSX_TYPE = ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet")
ODS_TYPE = ("application", "vnd.oasis.opendocument.spreadsheet")
# Written out with headers unfolded (up to RFC 5322's 998 characters): Python folds a long subject before an
# encoded word with a space left at the line end, which readers unfold into two spaces.
_WIRE = SMTP.clone(max_line_length=998)
#: The fields a --message template may use, e.g. "Dear {name}," ... "{sender_name}".
TEMPLATE_FIELDS = ("name", "organisation", "area", "deadline", "sender", "sender_name", "sender_organisation")


def sign_off(sender_name: str = "", sender_organisation: str = "", closing: str = "Thank you,") -> str:
    """The closing lines: 'Thank you,' then the sender's name and organisation, each on its line when given."""
    return "\n".join([closing, *(x for x in (sender_name.strip(), sender_organisation.strip()) if x)])


def fill_template(text: str, fields: Mapping[str, str]) -> str:
    """A --message template with its {field}s filled (only the TEMPLATE_FIELDS; any other brace is left as typed,
    so a template never fails on a stray '{')."""
    for name in TEMPLATE_FIELDS:
        text = text.replace("{" + name + "}", fields.get(name, ""))
    return text


def default_body(
    name: str,
    area: str,
    deadline: str,
    sender: str,
    sender_name: str = "",
    sender_organisation: str = "",
    round_: str = "baseline",
) -> str:
    """The invitation: what the workbook is, how to fill it in, where and when to send it back. round_
    '12_months' (or '12-months'): the review a year on, baseline filled in and locked."""
    review = round_.replace("-", "_") == "12_months"
    lines = [
        f"Dear {name or 'colleague'},",
        "",
        (
            "Please find attached your workbook for the 12-months review of the EIF maturity matrix self-assessment"
            if review
            else "Please find attached your workbook for the EIF maturity matrix self-assessment"
        )
        + (f" for {area}" if area else "")
        + ".",
        "",
    ]
    if review:
        lines += [
            "Your answers from last time are filled in, in the Baseline column, and locked. Open the workbook "
            "in Excel, LibreOffice or Google Sheets and, on each sub-element's sheet, tick the criteria that "
            "describe our local system now (choose ✓ in the 12 months column), tick the supporting "
            "information you hold now, and record progress on each earlier priority action. The Overview "
            "sheet shows the levels as you go.",
            "",
        ]
    else:
        lines += [
            "Open it in Excel, LibreOffice or Google Sheets. Each sub-element has its own sheet: tick the "
            "criteria that describe our local system (choose ✓ in the Baseline column), tick the supporting "
            "information you hold, and note barriers to change and priority actions. The Overview sheet shows "
            "the levels as you go.",
            "",
        ]
    when = f" by {deadline}" if deadline else ""
    lines += [
        f"Please save it (keep the .xlsx format and the file name) and email it back to {sender}{when}.",
        "",
        sign_off(sender_name, sender_organisation),
        "",
    ]
    return "\n".join(lines)


def draft(
    *,
    sender: str,
    to_name: str,
    to_email: str,
    subject: str,
    body: str,
    attachments: Iterable[tuple[str, bytes]] = (),
    sender_name: str = "",
) -> EmailMessage:
    """One unsent message from sender (shown as sender_name), plain-text body, each (file name, bytes) attached as a
    spreadsheet."""
    msg = EmailMessage(policy=SMTP)
    msg["From"] = formataddr((sender_name.strip(), sender)) if sender_name.strip() else sender
    if to_email:
        msg["To"] = formataddr((to_name, to_email)) if to_name else to_email
    msg["Subject"] = subject
    msg["X-Unsent"] = "1"  # Outlook opens the file as a draft, ready to send
    files = list(attachments)
    digest = hashlib.sha256()
    for part in (sender, to_name, to_email, subject, body, *(n for n, _ in files)):
        digest.update(part.encode("utf-8") + b"\0")
    for _, data in files:
        digest.update(hashlib.sha256(data).digest())
    msg["Message-ID"] = f"<{digest.hexdigest()[:32]}@eif-xlsx>"
    msg.set_content(body, cte="quoted-printable")  # 7-bit safe, lines of 76: passes any mail system
    for filename, data in files:
        maintype, subtype = ODS_TYPE if filename.lower().endswith(".ods") else XLSX_TYPE
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    if msg.is_multipart():
        msg.set_boundary(f"=_eif-xlsx_{digest.hexdigest()[32:56]}")  # not a random one: same inputs, same bytes
    return msg


def to_bytes(msg: EmailMessage) -> bytes:
    """The .eml file's bytes (CRLF line ends, as mail programs expect)."""
    return msg.as_bytes(policy=_WIRE)


def write_drafts(
    result: Generated,
    *,
    sender: str,
    subject: str = "",
    body: str = "",
    area: str = "",
    deadline: str = "",
    sender_name: str = "",
    sender_organisation: str = "",
) -> list[Path]:
    """One invitation per partner with an email address, in result.out_dir/emails/, the workbook attached.

    body: a template (see TEMPLATE_FIELDS); without one, default_body, signed with sender_name and
    sender_organisation where given."""
    folder = result.out_dir / "emails"
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for row in result.rows:
        if not row["email"]:
            continue
        fields = {
            "name": row["name"],
            "organisation": row["organisation"],
            "area": area,
            "deadline": deadline,
            "sender": sender,
            "sender_name": sender_name,
            "sender_organisation": sender_organisation,
        }
        text = (
            fill_template(body, fields)
            if body
            else default_body(
                row["name"], area, deadline, sender, sender_name, sender_organisation, row.get("round", "baseline")
            )
        )
        topic = "EIF maturity matrix self-assessment" + (
            ": 12-months review" if row.get("round", "").replace("-", "_") == "12_months" else ""
        )
        msg = draft(
            sender=sender,
            sender_name=sender_name,
            to_name=row["name"],
            to_email=row["email"],
            subject=subject or f"{topic}{' — ' + area if area else ''}",
            body=text,
            attachments=[(row["file"], (result.out_dir / row["file"]).read_bytes())],
        )
        path = folder / (Path(row["file"]).stem + ".eml")
        path.write_bytes(to_bytes(msg))
        written.append(path)
    return written
