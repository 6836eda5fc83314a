"""Email drafts: one .eml per partner, the workbook attached, ready to open in Outlook or Thunderbird and send."""

from __future__ import annotations

import hashlib
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import formataddr
from pathlib import Path

from .generate import Generated

XLSX_TYPE = ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet")


def default_body(name: str, area: str, deadline: str, sender: str) -> str:
    lines = [f"Dear {name or 'colleague'},", "",
             "Please find attached your workbook for the EIF maturity matrix self-assessment"
             + (f" for {area}" if area else "") + ".", "",
             "Open it in Excel, LibreOffice or Google Sheets. Each sub-element has its own sheet: tick the criteria "
             "that describe our local system (choose ✓ in the Baseline column), tick the supporting information you "
             "hold, and note barriers to change and priority actions. The Overview sheet shows the levels as you go.",
             ""]
    when = f" by {deadline}" if deadline else ""
    lines += [f"Please save it (keep the .xlsx format and the file name) and email it back to {sender}{when}.", "",
              "Thank you,", ""]
    return "\n".join(lines)


def write_drafts(result: Generated, *, sender: str, subject: str = "", body: str = "", area: str = "",
                 deadline: str = "") -> list[Path]:
    folder = result.out_dir / "emails"
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for row in result.rows:
        if not row["email"]:
            continue
        msg = EmailMessage(policy=SMTP)
        msg["From"] = sender
        msg["To"] = formataddr((row["name"], row["email"])) if row["name"] else row["email"]
        msg["Subject"] = subject or f"EIF maturity matrix self-assessment{' — ' + area if area else ''}"
        msg["X-Unsent"] = "1"  # Outlook opens the file as a draft, ready to send
        digest = hashlib.sha256(row["sha256"].encode()).hexdigest()[:24]
        msg["Message-ID"] = f"<{digest}@eif-xlsx>"
        text = (body or default_body(row["name"], area, deadline, sender)).replace("{name}", row["name"])
        msg.set_content(text)
        data = (result.out_dir / row["file"]).read_bytes()
        msg.add_attachment(data, maintype=XLSX_TYPE[0], subtype=XLSX_TYPE[1], filename=row["file"])
        path = folder / (Path(row["file"]).stem + ".eml")
        path.write_bytes(msg.as_bytes())
        written.append(path)
    return written
