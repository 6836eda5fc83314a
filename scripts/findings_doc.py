"""Write docs/findings.md from the code's own table of finding codes (eif_xlsx.errors.FINDINGS).

python scripts/findings_doc.py            # print it
python scripts/findings_doc.py --write    # write docs/findings.md (tests/test_docs.py checks it is current)
"""

from __future__ import annotations

import string
import sys
from pathlib import Path

from eif_xlsx.errors import FINDINGS, Severity

DOC = Path(__file__).resolve().parent.parent / "docs" / "findings.md"
#: A sample value for every placeholder a message template uses: the examples are the real templates, filled.
SAMPLES = {
    "detail": "the zip directory is cut short",
    "sheet": "1.1 Vision",
    "cell": "D12",
    "value": "maybe",
    "choices": "Short, Medium, Long",
    "item": "1.1c",
    "expected_cell": "D11",
    "expected": "1.1 Vision, strategy",
    "actual": "14",
    "definition": "maternity-early-years",
    "sub_element": "1.1",
    "column": "Baseline",
    "level": "Substantial progress",
    "reached": "Basic level",
    "rating": "Mature",
    "at_level": " at that level",
    "baseline": "2026-01-15",
    "old": "✓",
    "new": "",
    "count": "3",
    "name": "Amira Haddad",
}
#: Where the shared sample reads wrongly in a code's message.
SAMPLES_BY_CODE = {
    "wrong-round": {
        "found": "baseline",
        "detail": " from the first round",
        "expected": "12-months",
        "sent": " on 1 December 2027",
    },
    "template-text-changed": {
        "cell": "B38",
        "old": "Other (describe)",
        "value": "Parent forum minutes, May 2026",
        "detail": "",
    },
    "baseline-changed": {"detail": "criterion 1.1c", "old": "✓", "new": ""},
    "baseline-as-issued": {"value": "maybe", "asks": "a tick", "counts": "not ticked"},
    "matched-by-email": {"partner": "HV-02", "how": "dafydd.morgan@example.org sent it and is typed on its cover"},
}
MEANING = {
    Severity.ERROR: "rejects the file: none of its answers are imported",
    Severity.WARNING: "the answers are imported; the partner or the coordinator should look at the cell",
    Severity.INFO: "for the record; nothing to do",
}


def fields(template: str) -> list[str]:
    return [name for _, name, _, _ in string.Formatter().parse(template) if name]


def render() -> str:
    lines = [
        "# Finding codes",
        "",
        "Every problem `validate` and `import` report is a finding with a stable code, a severity and, where "
        "there is one, the `Sheet!A1` cell. This page is generated from `eif_xlsx/errors.py` "
        "(`python scripts/findings_doc.py --write`); a test keeps it current.",
        "",
        "| severity | what it does |",
        "| --- | --- |",
    ]
    lines += [f"| {sev.value} | {text} |" for sev, text in MEANING.items()]
    lines += ["", "| code | severity | title | example message |", "| --- | --- | --- | --- |"]
    for kind in FINDINGS.values():
        samples = {**SAMPLES, **SAMPLES_BY_CODE.get(kind.code, {})}
        example = kind.template.format(**{name: samples.get(name, "…") for name in fields(kind.template)})
        example = example.replace("|", "\\|").replace("\n", " ")
        lines.append(f"| `{kind.code}` | {kind.severity.value} | {kind.title} | {example} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    text = render()
    if "--write" in argv:
        DOC.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
