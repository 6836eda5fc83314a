"""The partnership board's report: report.html (self-contained: inline CSS and SVG, no script, no network) and
report.pdf printed from it by headless Chromium.

Sections: the returns (who counts, who is outstanding), the heat map (sub-element x partner, coloured by level,
paginated by partners), the distribution of levels per sub-element, baseline vs 12-months movement, evidence
coverage (supporting information ticked), barriers and priority actions collated, and the indicator tracker with
RAG.

Charts are SVG written here (svg.py), not by a charting library. Every chart in this report is a coloured table
on a fixed scale (a count of partners per level, a median on 0-4, a share on 0-100 %): a few rectangles and text
each. Our own SVG keeps the text as text (pdftotext, search and screen readers find every partner and sub-element
name), is byte-identical run to run with nothing to pin (matplotlib's SVG needs svg.hashsalt, a fixed date and
font settings, and draws text as paths or depends on installed fonts), and adds no dependency (matplotlib is tens
of MB with numpy; Altair needs vl-convert, a 50 MB binary). What a library would add (axes, ticks, layout) these
charts do not need.

The report is built from summary.json's content (`collect`): at import from the consolidation (the same items,
not re-read from disk: flat.summary_data(rendered=False)), and by `eif-xlsx report OUTDIR` from summary.json
itself; both give the same report.html, byte for byte.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
from collections import Counter, defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from typing import NamedTuple

from eif_xlsx.domain.model import NOT_ASSESSED, NOT_YET_BASIC, IndicatorSet, Matrix
from eif_xlsx.domain.scoring import median
from eif_xlsx.errors import DefinitionError, UsageError
from eif_xlsx.normalise import period_key
from eif_xlsx.report import svg
from eif_xlsx.report.consolidate import Consolidation
from eif_xlsx.report.flat import summary_data
from eif_xlsx.report.schema import SUMMARY_SCHEMA, problems
from eif_xlsx.template.layout import BASELINE, COLUMNS, TWELVE_MONTHS
from eif_xlsx.template.styles import LEVEL_FILLS

PARTNERS_PER_PAGE = 10
ACTION_EXAMPLES = 3  # priority actions quoted per sub-element (all of them are in summary.xlsx)
SHOW_PROBLEMS = 5  # of a summary.json that is not as the schema describes (eif-xlsx report)
TEXT_CUT = 240  # characters of a barrier or action quoted in the report
COLUMN_NAMES = {BASELINE: "Baseline", TWELVE_MONTHS: "12 months"}
RAG_FILLS = {"green": "#C6EFCE", "amber": "#FFEB9C", "red": "#FFC7CE"}  # as tracker.xlsx
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
PDF_DATE = b"D:20000101000000+00'00'"  # what the PDF's creation and modification dates are set to (see print_pdf)


@dataclass
class Partner:
    key: str
    name: str
    organisation: str
    file: str

    @property
    def label(self) -> str:
        return self.name or self.organisation or self.key


class IndicatorRow(NamedTuple):
    """What the report shows of an indicator value (summary.json's indicators item has more)."""

    indicator_id: str
    period: object
    value: object
    rag: object
    partner: str


@dataclass
class BoardData:
    """What the report shows, gathered from summary.json's items."""

    matrix: Matrix
    indicator_set: IndicatorSet | None
    partners: list[Partner] = field(default_factory=list)
    scores: dict[tuple[str, str, str], tuple[float | None, str]] = field(default_factory=dict)  # (key, code, col)
    stats: dict[tuple[str, str], dict] = field(default_factory=dict)  # (code, column) -> summary.json's stats
    evidence: Counter = field(default_factory=Counter)  # (key, code, column) -> supporting items ticked
    no_evidence: list[tuple[str, str]] = field(default_factory=list)  # (key, sheet) of each no-evidence finding
    actions: dict[tuple[str, str, str], dict[str, str]] = field(default_factory=dict)  # (key, code, item) -> fields
    register: list[dict] = field(default_factory=list)
    indicator_values: list[IndicatorRow] = field(default_factory=list)

    @property
    def columns(self) -> tuple[str, ...]:
        """The columns assessed by anyone: baseline, and 12 months once a partner has filled it."""
        return tuple(c for c in COLUMNS if c == BASELINE or any(col == c for _, _, col in self.scores))


_ACTION_FIELDS = ("barrier", "priority_action", "timescale", "owner")
_EVIDENCE_FIELDS = ("supporting_information", "supporting_other_tick")  # supporting information: an item or 'Other'
_QUOTED = ("barrier", "priority_action")  # quoted cut short (_cut), and only tested for being blank otherwise


def collect(summary: Mapping, matrix: Matrix, indicator_set: IndicatorSet | None) -> BoardData:
    """BoardData from summary.json's content (json.load's dict, or flat.summary_data(rendered=False))."""
    data = BoardData(matrix, indicator_set)
    seen: dict[str, Partner] = {}
    for item in summary["levels"]:
        key = item["partner_id"]
        if key not in seen:
            seen[key] = Partner(key, item["partner"], item["organisation"], item["file"])
        data.scores[(key, item["sub_element"], item["column"])] = (item["score"], item["level"])
    data.partners = list(seen.values())
    for sub in summary["sub_elements"]:
        for column in COLUMNS:
            data.stats[(sub["code"], column)] = sub[column]
    for a in summary["answers"]:
        f = a["field"]
        if f in _EVIDENCE_FIELDS:
            if a["value"] == "ticked":
                data.evidence[(a["partner_id"], a["sub_element"], a["column"])] += 1
        elif f in _ACTION_FIELDS:
            text = a["value"] if f == "timescale" else a["raw_value"]
            if f in _QUOTED:
                text = _cut(text)  # all the report quotes of it
            data.actions.setdefault((a["partner_id"], a["sub_element"], a["item"]), {})[f] = text
    files = {p.file: p.key for p in data.partners}
    data.no_evidence = [
        (files[f["file"]], f["sheet"]) for f in summary["findings"] if f["code"] == "no-evidence" and f["file"] in files
    ]
    data.register = list(summary["register"])
    data.indicator_values = [
        IndicatorRow(v["indicator_id"], v["period"], v["value"], v["rag"], v["partner"]) for v in summary["indicators"]
    ]
    return data


def from_consolidation(cons: Consolidation) -> BoardData:
    """BoardData from an import's consolidation: summary.json's content, of the answers only those collect() reads."""
    return collect(
        summary_data(cons, rendered=False, answer_fields={*_EVIDENCE_FIELDS, *_ACTION_FIELDS}),
        cons.matrix,
        cons.indicators,
    )


def from_folder(folder: Path, catalog) -> BoardData:
    """BoardData from an import's output folder (its summary.json); the definitions from the catalog."""
    path = folder / "summary.json"
    try:
        with path.open(encoding="utf-8") as fh:
            summary = json.load(fh)
    except FileNotFoundError:
        raise UsageError(f"{folder}: no summary.json here; give the folder 'eif-xlsx import' wrote") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UsageError(f"{path}: cannot read it: {exc}") from exc
    version = summary.get("schema_version") if isinstance(summary, dict) else None
    if version != SUMMARY_SCHEMA["properties"]["schema_version"]["const"]:
        raise UsageError(
            f"{path}: not a summary.json this version of eif-xlsx writes (schema_version {version!r}); "
            "import the returns again"
        )
    wrong = problems(summary, limit=SHOW_PROBLEMS + 1)
    if wrong:
        more = " (and more)" if len(wrong) > SHOW_PROBLEMS else ""
        raise UsageError(
            f"{path}: not as 'eif-xlsx schema summary' describes it: "
            + "; ".join(wrong[:SHOW_PROBLEMS])
            + more
            + ". Import the returns again, or give the folder an import wrote"
        )
    try:
        matrix = catalog.matrix(summary["matrix"]["id"])
        # without its indicator set among the definitions, the tracker section lists the values without wording
        iset_id = (summary["indicator_set"] or {}).get("id")
        iset = catalog.indicator_set(iset_id) if iset_id and iset_id in catalog.entries else None
    except DefinitionError as exc:
        raise UsageError(f"{path}: {exc}; give --definitions with the folder it came from") from exc
    return collect(summary, matrix, iset)


# -- writing ----------------------------------------------------------------------------------------------------


@dataclass
class ReportResult:
    outputs: list[Path]
    notes: list[str]


def write_report(data: BoardData, out: Path, *, pdf: bool = True) -> ReportResult:
    """report.html, then report.pdf from it (unless pdf is False, or no Chromium is found: then a note says so)."""
    html_path = out / "report.html"
    with html_path.open("w", encoding="utf-8", newline="\n") as fh:
        fh.writelines(_html(data))  # a section at a time: never the whole page in memory
    result = ReportResult([html_path], [])
    if not pdf:
        return result
    pdf_path = out / "report.pdf"
    skipped = print_pdf(html_path, pdf_path)
    if skipped:
        result.notes.append(
            f"report.pdf skipped: {skipped}. report.html is complete; print it from a browser "
            "(A4 landscape) or install Chromium (Debian/Ubuntu: apt-get install chromium)."
        )
    else:
        result.outputs.append(pdf_path)
    return result


def find_chromium() -> str | None:
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


def print_pdf(html_path: Path, pdf_path: Path, timeout: float = 180) -> str | None:
    """Print html_path to pdf_path with headless Chromium. None when done, else why it was not.

    Deterministic as far as Chromium allows: no header or footer (they would carry the date and the path), and
    the PDF's /CreationDate and /ModDate, the one thing that changes from run to run of the same Chromium, are set
    to PDF_DATE in place (same length, so no offset moves). A different Chromium version may lay out or compress
    differently."""
    chromium = find_chromium()
    if chromium is None:
        return "no Chromium found (looked for " + ", ".join(CHROMIUM_NAMES) + " on PATH)"
    pdf_path.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory(prefix="eif-xlsx-chromium-") as profile:
        cmd = [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-extensions",
            "--mute-audio",
            f"--user-data-dir={profile}",
            "--no-pdf-header-footer",
            f"--print-to-pdf={pdf_path}",
            html_path.resolve().as_uri(),
        ]
        try:
            done = subprocess.run(
                cmd, capture_output=True, timeout=timeout, check=False, env={**os.environ, "TZ": "UTC"}
            )
        except subprocess.TimeoutExpired:
            return f"Chromium ({chromium}) did not finish within {timeout:.0f} s"
        except OSError as exc:
            return f"Chromium ({chromium}) could not be started: {exc}"
    if not pdf_path.exists() or pdf_path.stat().st_size == 0:
        tail = done.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or [f"exit code {done.returncode}"]
        return f"Chromium ({chromium}) wrote no PDF: {tail[0]}"
    _fix_dates(pdf_path)
    return None


def _fix_dates(pdf_path: Path) -> None:
    """The PDF's dates set to PDF_DATE where they have its length (as Chromium writes them: D:YYYYMMDDHHmmSS+00'00')."""
    data = pdf_path.read_bytes()

    def fixed(match: re.Match) -> bytes:
        return match.group(1) + PDF_DATE + b")" if len(match.group(2)) == len(PDF_DATE) else match.group(0)

    new = _PDF_DATES.sub(fixed, data)
    if new != data:
        pdf_path.write_bytes(new)


_PDF_DATES = re.compile(rb"(/(?:CreationDate|ModDate) ?\()(D:\d{14}[^)]{0,10})\)")


# -- HTML -------------------------------------------------------------------------------------------------------

CSS = """
@page { size: A4 landscape; margin: 11mm 10mm 12mm 10mm; }
* { box-sizing: border-box; }
html { font-family: "DejaVu Sans", "Liberation Sans", Arial, Helvetica, sans-serif; font-size: 10.5px;
       color: #1F2937; background: #fff; }
body { margin: 0 auto; max-width: 1120px; padding: 16px; }
h1 { font-size: 22px; color: #1F3A5F; margin: 0 0 4px; }
h2 { font-size: 16px; color: #1F3A5F; margin: 0 0 6px; border-bottom: 2px solid #1F3A5F; padding-bottom: 2px; }
h3 { font-size: 12px; margin: 10px 0 4px; }
p { margin: 3px 0 6px; }
.muted { color: #4B5563; }
section { margin-bottom: 28px; }
table { border-collapse: collapse; width: 100%; }
th, td { border: 1px solid #9CA3AF; padding: 2px 4px; vertical-align: top; text-align: left; }
th { background: #1F3A5F; color: #fff; font-weight: bold; }
thead { display: table-header-group; }
tr { break-inside: avoid; }
td.num, th.num { text-align: right; white-space: nowrap; }
.nowrap { white-space: nowrap; }
table.heat { table-layout: fixed; }
table.heat td { text-align: center; white-space: nowrap; font-size: 10px; }
table.heat td.sub { text-align: left; white-space: normal; font-size: 10px; }
table.heat th.partner { font-size: 9px; font-weight: normal; text-align: center; vertical-align: bottom; }
table.heat th.dim, table.plain td.dim { background: #E8EEF6; color: #1F3A5F; font-weight: bold; text-align: left; }
.legend span { display: inline-block; border: 1px solid #9CA3AF; padding: 1px 6px; margin: 0 4px 2px 0; }
.rag { font-weight: bold; text-align: center; }
figure { margin: 4px 0 10px; }
svg { display: block; max-width: 100%; height: auto; }
.page { break-after: page; }
@media print {
  body { max-width: none; padding: 0; }
  section { margin: 0; break-before: page; }
  section.first { break-before: auto; }
  .heat-page, .keep, figure { break-inside: avoid; }
  .heat-page + .heat-page { break-before: page; }
}
"""


def render_html(data: BoardData) -> str:
    return "".join(_html(data))


def _html(data: BoardData) -> Iterator[str]:
    """report.html in pieces: the sections, made one after the other, each a string or pieces of one (the long
    ones); a section that comes out empty is left out."""
    title = f"{data.matrix.title}: self-assessment report"
    yield (
        '<!DOCTYPE html>\n<html lang="en-GB">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="generator" content="eif-xlsx">\n'
        '<link rel="icon" href="data:,">\n'  # no favicon request
        f"<title>{escape(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
    )
    sections: Iterator[str | Iterator[str]] = _sections(data)
    first = True
    for section in sections:
        pieces = iter([section]) if isinstance(section, str) else section
        piece = next((p for p in pieces if p), "")
        if not piece:
            continue
        if not first:
            yield "\n"
        first = False
        yield piece
        yield from pieces
    yield "\n</body>\n</html>\n"


def _sections(data: BoardData) -> Iterator[str | Iterator[str]]:
    """Made as they are asked for, one at a time."""
    yield _returns(data)
    yield from _heat_map(data)
    yield _distribution(data)
    yield _movement(data)
    yield _evidence(data)
    yield _actions(data)
    yield _indicators(data)


def _level_index(score: float | None) -> int | None:
    return None if score is None else min(4, int(score + 1e-9))


def _fill(score: float | None) -> str:
    i = _level_index(score)
    return "#FFFFFF" if i is None else LEVEL_FILLS[i]


def _level_names(m: Matrix) -> list[str]:
    return [NOT_YET_BASIC, *m.level_names]


def _legend(m: Matrix) -> str:
    spans = "".join(
        f'<span style="background:{LEVEL_FILLS[i]}">{i} {escape(name)}</span>' for i, name in enumerate(_level_names(m))
    )
    return f'<p class="legend">{spans}<span>– {escape(NOT_ASSESSED)}</span></p>'


_score_text = svg.score_text  # a score as summary.xlsx shows it (2 decimals, half up)


def _returns(data: BoardData) -> str:
    m = data.matrix
    counts = Counter(r["status"] for r in data.register)
    status_line = ", ".join(
        f"{n} {s}" for s, n in sorted(counts.items(), key=lambda x: _STATUS.index(x[0]) if x[0] in _STATUS else 99)
    )
    rows = []
    for r in data.register:
        fill = {"outstanding": "#FDE2C4", "rejected": "#FFC7CE"}.get(r["status"], "")
        style = f' style="background:{fill}"' if fill else ""
        rows.append(
            f'<tr{style}><td class="nowrap">{escape(r["status"])}</td>'
            f'<td class="nowrap">{escape(r["name"])}</td><td>{escape(r["organisation"])}</td>'
            f"<td>{escape(r['file'])}</td><td>{escape(r['reason'])}</td>"
            f'<td class="num">{r["errors"]}</td><td class="num">{r["warnings"]}</td></tr>'
        )
    outstanding = [r for r in data.register if r["status"] == "outstanding"]
    chase = (
        ("<p><b>Outstanding:</b> " + "; ".join(escape(_who(r)) for r in outstanding) + ".</p>")
        if outstanding
        else "<p>No partner is outstanding.</p>"
    )
    return (
        f'<section class="first"><h1>{escape(m.title)}: self-assessment report</h1>'
        f'<p class="muted">{escape(m.publisher or "EIF")} maturity matrix, version {escape(m.version)}. '
        f"{len(data.partners)} partner(s) counted; {escape(status_line or 'no files read')}.</p>"
        f"{chase}"
        "<h2>Returns</h2>"
        '<table class="plain"><thead><tr><th>Status</th><th>Partner</th><th>Organisation</th><th>File</th>'
        '<th>Reason</th><th class="num">Errors</th><th class="num">Warnings</th></tr></thead><tbody>'
        + "".join(rows)
        + "</tbody></table></section>"
    )


_STATUS = ("returned", "superseded", "rejected", "unexpected", "outstanding")


def _who(r: Mapping) -> str:
    who = " · ".join(x for x in (r["name"], r["organisation"]) if x) or r["partner_id"]
    return f"{who} <{r['email']}>" if r.get("email") else who


def _heat_map(data: BoardData) -> Iterator[str]:
    """One block per PARTNERS_PER_PAGE partners: rows are sub-elements under their dimension, columns partners
    (two per partner once anyone has assessed 12 months), each cell the score coloured by level. A block at a
    time."""
    m, columns = data.matrix, data.columns
    if not data.partners:
        yield "<section><h2>Heat map</h2><p>No return counts yet: nothing to show.</p></section>"
        return
    pages = [data.partners[i : i + PARTNERS_PER_PAGE] for i in range(0, len(data.partners), PARTNERS_PER_PAGE)]
    for n, chunk in enumerate(pages, 1):
        span = len(columns)
        head = "".join(
            f'<th class="partner" colspan="{span}">{escape(p.label)}<br>'
            f'<span style="opacity:.85">{escape(p.organisation)}</span></th>'
            for p in chunk
        )
        sub_head = ""
        if span > 1:
            sub_head = (
                "<tr>"
                + "".join(f'<th class="partner">{"B" if c == BASELINE else "12m"}</th>' for _ in chunk for c in columns)
                + "</tr>"
            )
        body = []
        for dim in m.dimensions:
            body.append(f'<tr><th class="dim" colspan="{1 + span * len(chunk)}">{escape(dim.name)}</th></tr>')
            for el in dim.elements:
                for sub in el.assessed:
                    cells = []
                    for p in chunk:
                        for c in columns:
                            score, level = data.scores.get((p.key, sub.code, c), (None, NOT_ASSESSED))
                            cells.append(
                                f'<td style="background:{_fill(score)}" title="{escape(level)}">'
                                f"{_score_text(score)}</td>"
                            )
                    body.append(f'<tr><td class="sub">{escape(sub.code)} {escape(sub.name)}</td>{"".join(cells)}</tr>')
        title = "Heat map" + (f" ({n} of {len(pages)})" if len(pages) > 1 else "")
        note = (
            "Score 0–4 per partner and sub-element (B: baseline, 12m: 12 months); the colour is the level."
            if span > 1
            else "Baseline score 0–4 per partner and sub-element; the colour is the level."
        )
        width = 26 if len(chunk) * span <= 10 else 20
        yield (
            f'<section class="heat-page"><h2>{title}</h2><p class="muted">{note}</p>{_legend(m) if n == 1 else ""}'
            f'<table class="heat"><colgroup><col style="width:{width}%"></colgroup>'
            f'<thead><tr><th rowspan="{1 + (span > 1)}">Sub-element</th>{head}</tr>{sub_head}</thead><tbody>{"".join(body)}</tbody></table>'
            "</section>"
        )


def _subs(m: Matrix) -> list:
    return [sub for _, _, sub in m.sub_elements()]


def _distribution(data: BoardData) -> str:
    m = data.matrix
    names = _level_names(m)
    figures = []
    for c in data.columns:
        rows = []
        for sub in _subs(m):
            counts = [0] * len(names)
            for p in data.partners:
                i = _level_index(data.scores.get((p.key, sub.code, c), (None, ""))[0])
                if i is not None:
                    counts[i] += 1
            st = data.stats.get((sub.code, c)) or {}
            rows.append(
                svg.StackRow(
                    f"{sub.code} {sub.name}", counts, st.get("median"), "moderate" if st.get("moderate") else ""
                )
            )
        figures.append(
            f'<div class="keep"><h3>{COLUMN_NAMES[c]}</h3><figure>'
            + svg.stacked_bars(rows, names, list(LEVEL_FILLS), f"Levels per sub-element, {COLUMN_NAMES[c]}")
            + "</figure></div>"
        )
    return (
        "<section><h2>Distribution of levels per sub-element</h2>"
        '<p class="muted">How many partners are at each level; ▼ marks where the median score falls; '
        "<b>moderate</b>: the levels spread over two or more, worth a moderated discussion.</p>"
        + _legend(m)
        + "".join(figures)
        + "</section>"
    )


def _movement(data: BoardData) -> str:
    m = data.matrix
    if TWELVE_MONTHS not in data.columns:
        return (
            "<section><h2>Movement: baseline to 12 months</h2><p>No partner has assessed the 12 months column "
            "yet. This section fills in once the 12-months workbooks come back.</p></section>"
        )
    rows, table = [], []
    for sub in _subs(m):
        pairs: list[tuple[float, float]] = []
        only: Counter[str] = Counter()  # partners who assessed one column only, by that column
        for p in data.partners:
            b = data.scores.get((p.key, sub.code, BASELINE), (None, ""))[0]
            t = data.scores.get((p.key, sub.code, TWELVE_MONTHS), (None, ""))[0]
            if b is not None and t is not None:
                pairs.append((b, t))
            elif b is not None or t is not None:
                only[BASELINE if t is None else TWELVE_MONTHS] += 1
        up = sum(1 for b, t in pairs if t > b + 1e-9)
        down = sum(1 for b, t in pairs if t < b - 1e-9)
        base = median([b for b, _ in pairs]) if pairs else None
        twelve = median([t for _, t in pairs]) if pairs else None
        rows.append(svg.Move(f"{sub.code} {sub.name}", base, twelve, f"n={len(pairs)}"))
        table.append(
            f'<tr><td>{escape(sub.code)} {escape(sub.name)}</td><td class="num">{len(pairs)}</td>'
            f'<td class="num">{_score_text(base)}</td><td class="num">{_score_text(twelve)}</td>'
            f'<td class="num">{up}</td><td class="num">{len(pairs) - up - down}</td>'
            f'<td class="num">{down}</td><td class="num">{only[BASELINE]}</td>'
            f'<td class="num">{only[TWELVE_MONTHS]}</td></tr>'
        )
    return (
        "<section><h2>Movement: baseline to 12 months</h2>"
        '<p class="muted">Like with like: for each sub-element, only the partners who assessed it in both '
        "columns (n partners assessed both), their median score at baseline (○) and at 12 months (●), and how "
        "many of them moved. Partners who assessed only one column are counted apart and left out of the "
        "medians, so a change in who answered does not show as movement.</p><figure>"
        + svg.dumbbells(rows, _level_names(m), "Median score of the partners who assessed both, baseline and 12 months")
        + "</figure>"
        '<table class="plain"><thead><tr><th>Sub-element</th><th class="num">Partners assessed both</th>'
        '<th class="num">Median baseline</th><th class="num">Median 12 months</th>'
        '<th class="num">Moved up</th><th class="num">Same</th><th class="num">Moved down</th>'
        '<th class="num">Baseline only</th><th class="num">12 months only</th></tr></thead><tbody>'
        + "".join(table)
        + "</tbody></table></section>"
    )


def _evidence(data: BoardData) -> str:
    """Per column assessed, the share of partners with supporting information; then who the importer found claiming
    a level without it (its no-evidence findings: the rule, levelled supporting information included, is
    checks.py's alone)."""
    m = data.matrix
    charts = []
    for c in data.columns:
        rows = []
        for sub in _subs(m):
            assessed = [p for p in data.partners if data.scores.get((p.key, sub.code, c), (None, ""))[0] is not None]
            with_evidence = sum(1 for p in assessed if data.evidence[(p.key, sub.code, c)])
            share = with_evidence / len(assessed) if assessed else None
            rows.append(svg.Share(f"{sub.code} {sub.name}", share, f"{with_evidence} of {len(assessed)}"))
        charts.append(
            f'<div class="keep"><h3>{COLUMN_NAMES[c]}</h3><figure>'
            + svg.share_bars(rows, f"Partners with supporting information, {COLUMN_NAMES[c]}")
            + "</figure></div>"
        )
    order = {sub.code: i for i, sub in enumerate(_subs(m))}
    by_partner: dict[str, set[str]] = defaultdict(set)
    for key, sheet in data.no_evidence:
        by_partner[key].add(sheet.split(" ", 1)[0])  # a sub-element's sheet is named by its code, then its name
    labels = {p.key: p.label for p in data.partners}
    items = [
        f"<li>{escape(labels[key])}: {escape(', '.join(sorted(codes, key=lambda c: order.get(c, len(order)))))}</li>"
        for key, codes in sorted(by_partner.items(), key=lambda kv: labels[kv[0]].lower())
    ]
    questions = (
        (
            '<h3>Levels claimed without supporting information</h3><p class="muted">The importer\'s '
            "no-evidence findings (findings.csv says the cell): partner, then the sub-elements.</p><ul>"
            + "".join(items)
            + "</ul>"
        )
        if items
        else "<p>The importer found no level claimed without supporting information.</p>"
    )
    return (
        "<section><h2>Evidence coverage</h2>"
        '<p class="muted">Share of the partners who assessed a sub-element with supporting information (an item '
        "or 'Other' ticked). EIF uses it for a light-touch validation: a level claimed with no evidence deserves "
        "a question.</p>" + "".join(charts) + questions + "</section>"
    )


def _cut(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= TEXT_CUT else text[: TEXT_CUT - 1].rstrip() + "…"


def _actions(data: BoardData) -> str:
    m = data.matrix
    names = {p.key: p.label for p in data.partners}
    timescales = list(m.timescale_names)
    by_sub: dict[str, list[tuple[str, dict]]] = defaultdict(list)
    for (key, code, _item), fields in data.actions.items():
        by_sub[code].append((key, fields))
    subs = sorted(_subs(m), key=lambda s: -len(by_sub.get(s.code, ())))
    rows = []
    for sub in subs:
        entries = by_sub.get(sub.code, [])
        if not entries:
            continue
        barriers = sum(1 for _, f in entries if f.get("barrier", "").strip())
        per_time = Counter(f.get("timescale", "") for _, f in entries if f.get("priority_action", "").strip())
        split = ", ".join(f"{per_time[t]} {escape(t)}" for t in timescales if per_time[t])
        rank = {t: i for i, t in enumerate(timescales)}
        quoted = sorted(
            (e for e in entries if e[1].get("priority_action", "").strip() or e[1].get("barrier", "").strip()),
            key=lambda e: (rank.get(e[1].get("timescale", ""), len(rank)), names.get(e[0], e[0]).lower()),
        )
        items = "".join(
            f'<li>{_quote(f)} <span class="muted">— {escape(names.get(key, key))}'
            f"{', ' + escape(f['timescale']) if f.get('timescale') else ''}</span></li>"
            for key, f in quoted[:ACTION_EXAMPLES]
        )
        rows.append(
            f'<tr><td>{escape(sub.code)} {escape(sub.name)}</td><td class="num">{barriers}</td>'
            f'<td class="nowrap">{split or "–"}</td><td><ul style="margin:0;padding-left:14px">{items}'
            "</ul></td></tr>"
        )
    if not rows:
        return (
            "<section><h2>Barriers to change and priority actions</h2><p>No partner has written a barrier or "
            "a priority action.</p></section>"
        )
    return (
        "<section><h2>Barriers to change and priority actions</h2>"
        f'<p class="muted">Sub-elements with the most barriers and actions first; up to {ACTION_EXAMPLES} '
        "quoted for each, shortest timescale first ("
        + escape("; ".join(f"{t.name}: {t.meaning}" for t in m.timescales))
        + "). Every one is in summary.xlsx, sheet 'Barriers &amp; actions'.</p>"
        '<table class="plain"><thead><tr><th style="width:22%">Sub-element</th><th class="num">Barriers</th>'
        "<th>Actions by timescale</th><th>Priority actions (and barriers)</th></tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table></section>"
    )


def _quote(f: Mapping[str, str]) -> str:
    action, barrier = f.get("priority_action", "").strip(), f.get("barrier", "").strip()
    parts = []
    if action:
        parts.append(f"<b>{escape(_cut(action))}</b>")
    if barrier:
        parts.append(f"<i>barrier:</i> {escape(_cut(barrier))}")
    return "; ".join(parts)


def _indicators(data: BoardData) -> Iterator[str]:
    """The indicator tracker: a row per indicator, its latest period with a value beside the period before (what
    partners gave, their range where they differ), whatever the number of partners; tracker.xlsx lists each value."""
    iset = data.indicator_set
    values = data.indicator_values
    if not values and iset is None:
        return
    head = "<section><h2>Commissioning indicators</h2>"
    if not values and iset is not None:  # (with no values there is a set: it returned above otherwise)
        yield head + f"<p>No values for {escape(iset.title)} in the returns yet.</p></section>"
        return
    order: dict[str, int] = {}
    texts: dict[str, tuple[str, str]] = {}
    if iset is not None:
        for i, (cp, _it, ind) in enumerate(iset.indicators()):
            order[ind.id] = i
            texts[ind.id] = (cp.title, ind.text)
    given: dict[str, dict[str, list[IndicatorRow]]] = defaultdict(lambda: defaultdict(list))
    for v in values:
        given[v.indicator_id][str(v.period or "")].append(v)
    counts = Counter(str(v.rag).strip().lower() for v in values)
    summary = ", ".join(f"{counts[k]} {k.title()}" for k in ("red", "amber", "green") if counts[k])
    total = f" of the {len(order)} in {escape(iset.title)}" if iset is not None else ""
    partners = len({v.partner for v in values})
    yield (
        head + f'<p class="muted">{len(given)} indicator(s) with values{total}, from {partners} partner(s); RAG as '
        f"reported: {summary or 'none given'}. Each indicator's latest period with a value, and the period before; "
        "where partners gave different values, their range. tracker.xlsx lists every value (Values sheet) and "
        "every conflict (Conflicts sheet).</p>"
        '<table class="plain"><thead><tr><th>Indicator</th><th>Description</th><th>Period</th>'
        '<th class="num">Value</th><th>RAG</th><th>Period before</th><th>Reported by</th></tr></thead><tbody>'
    )
    purpose = None
    for indicator_id in sorted(given, key=lambda i: (order.get(i, len(order)), i)):
        by_period = given[indicator_id]
        periods = sorted(by_period, key=period_key)
        filled = [p for p in periods if any(v.value not in (None, "") for v in by_period[p])] or periods
        latest, before = filled[-1], (filled[-2] if len(filled) > 1 else None)
        rows = by_period[latest]
        cp_title, text = texts.get(indicator_id, ("", ""))
        if cp_title != purpose:
            purpose = cp_title
            if cp_title:
                yield f'<tr><td class="dim" colspan="7">{escape(cp_title)}</td></tr>'
        rags = Counter(str(v.rag or "").strip() for v in rows if str(v.rag or "").strip())
        if len(rags) == 1:
            (rag,) = rags
            fill = RAG_FILLS.get(rag.lower(), "")
        else:
            rag, fill = ", ".join(f"{n} {k}" for k, n in sorted(rags.items(), key=lambda kn: (-kn[1], kn[0]))), ""
        style = f' style="background:{fill}"' if fill else ""
        earlier = f"{before}: {_agreed(by_period[before])}" if before is not None else ""
        who = sorted({v.partner for v in rows})
        yield (
            f'<tr><td class="nowrap">{escape(indicator_id)}</td><td>{escape(text)}</td>'
            f'<td class="nowrap">{escape(latest) or "–"}</td><td class="num">{escape(_agreed(rows))}</td>'
            f'<td class="rag"{style}>{escape(rag) or "–"}</td><td>{escape(earlier) or "–"}</td>'
            f"<td>{escape(', '.join(who) if len(who) <= 3 else f'{len(who)} partners')}</td></tr>"
        )
    yield "</tbody></table></section>"


def _agreed(rows: list[IndicatorRow]) -> str:
    """The value partners gave for one indicator and period: the one value, or the range of those they differ on
    (told apart by the values themselves, not by how they are shown)."""
    given = [v.value for v in rows if _shown(v.value)]
    distinct = {(0, n) if (n := _number(x)) is not None else (1, str(x)) for x in given}
    if len(distinct) <= 1:
        return _shown(given[0]) if given else ""
    numbers = [n for x in given if (n := _number(x)) is not None]
    if len(numbers) == len(given):
        return f"{_shown(min(numbers))}–{_shown(max(numbers))} ({len(distinct)} values)"
    shown = sorted({_shown(x) for x in given})
    few = " / ".join(shown)
    return few if len(shown) <= 3 and len(few) <= 40 else f"{len(distinct)} different values"


def _number(value) -> float | None:
    """A value that is a number (not a yes/no, not NaN), as a float."""
    if isinstance(value, int | float) and not isinstance(value, bool) and value == value:
        return float(value)
    return None


def _shown(value) -> str:
    """A value as the board reads it: a number to 10 significant digits, never in exponent form for a figure of the
    size indicators have (1234567.5, 0.0000125); other values as text; nothing for none or NaN."""
    number = _number(value)
    if number is None:
        return "" if value is None or isinstance(value, float) else str(value)
    text = f"{number:.10g}"
    if "e" in text and abs(number) < 1e15:
        text = f"{number:.12f}".rstrip("0").rstrip(".")
    return text


def write_for_folder(folder: Path, catalog, *, pdf: bool = True) -> ReportResult:
    """What `eif-xlsx report OUTDIR` writes: the report rebuilt from the folder's summary.json."""
    return write_report(from_folder(folder, catalog), folder, pdf=pdf)


__all__ = [
    "BoardData",
    "ReportResult",
    "collect",
    "from_folder",
    "print_pdf",
    "render_html",
    "write_for_folder",
    "write_report",
]
