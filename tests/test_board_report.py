"""The board's report (issue 21, section 3): report.html self-contained and clean in a real headless Chromium
(no console error, no request but the page itself), report.pdf printed from it holding every partner and
sub-element name on a sane number of A4 landscape pages; rebuilt the same by `eif-xlsx report`; written without a
PDF, and saying so, where no Chromium is installed. On the demo's outputs and the committed sample returns."""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import subprocess
import sys
from html import unescape
from pathlib import Path

import pytest
from click.testing import CliRunner

from eif_xlsx.api import consolidate
from eif_xlsx.cli import main
from eif_xlsx.report import board

from .conftest import need_program

SAMPLES = Path(__file__).resolve().parent.parent / "samples" / "returns"
FIXED_PAGES = 12  # returns, distribution, movement, evidence, barriers and actions, indicators: at most, for the demo


def need_chromium() -> str:
    return need_program(board.find_chromium(), "Chromium")


def need_poppler() -> None:
    need_program(shutil.which("pdfinfo") if shutil.which("pdftotext") else None, "poppler-utils (pdftotext, pdfinfo)")


@pytest.fixture(scope="module")
def samples(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("samples")
    consolidate([SAMPLES], out, jobs=1)
    return out


def _summary(folder: Path) -> dict:
    return json.loads((folder / "summary.json").read_text(encoding="utf-8"))


def _pdf_pages(pdf: Path) -> list[str]:
    """The PDF's text per page, whitespace made single spaces (a name may wrap inside a table cell)."""
    text = subprocess.run(["pdftotext", "-enc", "UTF-8", str(pdf), "-"], capture_output=True, check=True).stdout
    return [" ".join(page.split()) for page in text.decode("utf-8").split("\f")[:-1]]


def _page_count(pdf: Path) -> int:
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, check=True, text=True).stdout
    return int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))


def _partners(summary: dict) -> set[str]:
    """Everyone the report must name: who counts, who is outstanding."""
    names = {item["partner"] for item in summary["levels"]}
    names |= {r["name"] for r in summary["register"] if r["status"] in ("returned", "outstanding") and r["name"]}
    return names


@pytest.mark.slow
def test_html_is_self_contained(demo):
    html = (demo / "report.html").read_text(encoding="utf-8")
    assert "<script" not in html.lower()
    assert not re.search(r"""\b(src|href)\s*=\s*["'](?!data:|#)""", html)  # nothing to fetch but data: URIs
    assert re.findall(r"https?://[^\s\"'<>]+", html) == ["http://www.w3.org/2000/svg"] * html.count("<svg ")
    assert "@import" not in html and "url(" not in html
    assert html.count("<svg ") >= 3  # the distribution, the movement and the evidence charts


@pytest.mark.slow
def test_html_opens_in_chromium_without_errors_or_requests(demo):
    chromium = need_chromium()
    from playwright.sync_api import sync_playwright

    page_url = (demo / "report.html").resolve().as_uri()
    requests, errors = [], []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page()
            page.on("request", lambda r: requests.append(r.url))
            page.on("console", lambda m: errors.append(m.text) if m.type in ("error", "warning") else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(page_url, wait_until="load")
            text = " ".join(page.inner_text("body").split())
            svg_sizes = page.eval_on_selector_all(
                "svg", "els => els.map(e => [e.getBoundingClientRect().width, e.getBoundingClientRect().height])"
            )
            heat_cells = page.eval_on_selector_all("table.heat td[style]", "els => els.length")
        finally:
            browser.close()
    assert errors == []
    assert requests == [page_url]
    summary = _summary(demo)
    assert all(name in text for name in _partners(summary))
    assert svg_sizes and all(w > 300 and h > 100 for w, h in svg_sizes)
    assert heat_cells == len({i["partner_id"] for i in summary["levels"]}) * 2 * len(summary["sub_elements"])


@pytest.mark.slow
def test_pdf_names_every_partner_and_sub_element(demo):
    need_chromium()
    need_poppler()
    pdf = demo / "report.pdf"
    assert pdf.read_bytes().startswith(b"%PDF-")
    summary = _summary(demo)
    text = " ".join(_pdf_pages(pdf))
    missing = [n for n in _partners(summary) if n not in text]
    missing += [f"{s['code']} {s['name']}" for s in summary["sub_elements"] if f"{s['code']} {s['name']}" not in text]
    assert missing == []
    partners = len({i["partner_id"] for i in summary["levels"]})
    assert 6 <= _page_count(pdf) <= 2 * math.ceil(partners / 10) + FIXED_PAGES
    size = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    assert "841.92 x 594.96 pts (A4)" in size  # landscape


@pytest.mark.slow
def test_report_from_real_sample_returns(samples):
    need_chromium()
    need_poppler()
    summary = _summary(samples)
    assert len({i["partner_id"] for i in summary["levels"]}) >= 2
    text = " ".join(_pdf_pages(samples / "report.pdf"))
    assert all(name in text for name in _partners(summary))
    assert all(f"{s['code']} {s['name']}" in text for s in summary["sub_elements"])


@pytest.mark.slow
def test_report_command_rebuilds_the_same_report(demo, tmp_path):
    need_chromium()
    folder = tmp_path / "pack"
    shutil.copytree(demo, folder, ignore=shutil.ignore_patterns("returns", "workbooks", "feedback", "report.*"))
    result = CliRunner().invoke(main, ["report", str(folder)])
    assert result.exit_code == 0, result.output
    assert (folder / "report.html").read_bytes() == (demo / "report.html").read_bytes()
    assert "report.pdf" in result.output and (folder / "report.pdf").read_bytes().startswith(b"%PDF-")


@pytest.mark.slow
def test_pdf_is_the_same_when_printed_again(demo, tmp_path):
    """Chromium's dates are fixed (board.PDF_DATE); the rest is the same for the same Chromium."""
    need_chromium()
    first, second = tmp_path / "1.pdf", tmp_path / "2.pdf"
    assert board.print_pdf(demo / "report.html", first) is None
    assert board.print_pdf(demo / "report.html", second) is None
    assert first.read_bytes() == second.read_bytes()
    assert b"/CreationDate (" + board.PDF_DATE + b")" in first.read_bytes()


@pytest.mark.slow
def test_heat_map_is_paginated_by_partners(demo, tmp_path):
    """25 partners (the demo's scores, copied under new names): three heat-map pages of at most 10 partners."""
    need_chromium()
    need_poppler()
    summary = _summary(demo)
    first = summary["levels"][0]["partner_id"]
    own = [i for i in summary["levels"] if i["partner_id"] == first]
    summary["levels"] = [
        {**i, "partner_id": f"X-{n:02}", "partner": f"Partner Number{n:02}", "organisation": "Org"}
        for n in range(1, 26)
        for i in own
    ]
    data = board.collect(summary, *_definitions(summary))
    board.write_report(data, tmp_path)
    pages = _pdf_pages(tmp_path / "report.pdf")
    heat = [p for p in pages if p.startswith("Heat map")]
    assert [p.split(" Score")[0] for p in heat] == ["Heat map (1 of 3)", "Heat map (2 of 3)", "Heat map (3 of 3)"]
    assert [sum(f"Number{n:02}" in p for n in range(1, 26)) for p in heat] == [10, 10, 5]
    assert len(pages) <= 2 * 3 + FIXED_PAGES


def _definitions(summary: dict):
    from eif_xlsx.domain.catalog import Catalog

    cat = Catalog.default()
    return cat.matrix(summary["matrix"]["id"]), cat.indicator_set(summary["indicator_set"]["id"])


def test_import_without_chromium_writes_the_html_and_says_why_no_pdf(tmp_path):
    """A real import with no Chromium on PATH: it succeeds, writes report.html and says report.pdf was skipped."""
    bin_dir = Path(sys.executable).parent
    env = {**os.environ, "PATH": str(bin_dir)}
    assert not any(shutil.which(n, path=str(bin_dir)) for n in board.CHROMIUM_NAMES)
    done = subprocess.run(
        [str(bin_dir / "eif-xlsx"), "import", str(SAMPLES), "--out", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert done.returncode in (0, 1), done.stderr  # 1: a sample return is rejected on purpose
    assert (tmp_path / "out" / "report.html").exists() and not (tmp_path / "out" / "report.pdf").exists()
    assert "report.pdf skipped: no Chromium found" in done.stdout
    assert "Traceback" not in done.stderr


@pytest.mark.slow
def test_evidence_questions_are_the_importers_no_evidence_findings(demo):
    """Who the report says claims a level without supporting information, and where, is what the importer's
    no-evidence findings say (the returns that count)."""
    summary = _summary(demo)
    partner_of = {i["file"]: i["partner"] for i in summary["levels"]}
    expected = {
        (partner_of[f["file"]], f["sheet"].split()[0])
        for f in summary["findings"]
        if f["code"] == "no-evidence" and f["file"] in partner_of
    }
    html = (demo / "report.html").read_text(encoding="utf-8")
    section = html.split("<h2>Evidence coverage</h2>")[1].split("</section>")[0]
    listed = set()
    for item in re.findall(r"<li>(.*?)</li>", section):
        who, codes = unescape(item).rsplit(": ", 1)
        listed |= {(who, code) for code in codes.split(", ")}
    assert expected and listed == expected


@pytest.mark.parametrize(
    "content, message",
    [
        (None, "no summary.json here"),
        ("[1]", "not a summary.json this version of eif-xlsx writes"),
        (
            '{"schema_version": 1, "matrix": {"id": "maternity-early-years"}}',
            "not as 'eif-xlsx schema summary' describes it: the top level: missing 'indicator_set', 'register', 'levels'",
        ),
        ("{not json", "cannot read it"),
    ],
)
def test_report_command_names_the_file_when_it_cannot_rebuild(tmp_path, content, message):
    if content is not None:
        (tmp_path / "summary.json").write_text(content, encoding="utf-8")
    result = CliRunner().invoke(main, ["report", str(tmp_path), "--no-pdf"])
    assert result.exit_code == 2 and message in result.output and str(tmp_path) in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert not (tmp_path / "report.html").exists()


@pytest.mark.slow
def test_partner_text_is_escaped(demo):
    """Names and barriers are partner text: markup in them is shown, never run or parsed."""
    summary = _summary(demo)
    hostile = '<script>alert(1)</script><img src=x onerror=alert(2)>"&'
    for item in summary["levels"]:
        item["partner"] = hostile
    for a in summary["answers"]:
        if a["field"] == "barrier":
            a["raw_value"] = hostile
    html = board.render_html(board.collect(summary, *_definitions(summary)))
    assert "<script" not in html and "<img" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;&quot;&amp;" in html


def _broken(summary: dict, change) -> dict:
    copy = json.loads(json.dumps(summary))
    change(copy)
    return copy


def _drop(*keys):
    def change(s):
        target = s
        for k in keys[:-1]:
            target = target[k]
        del target[keys[-1]]

    return change


def _set(value, *keys):
    def change(s):
        target = s
        for k in keys[:-1]:
            target = target[k]
        target[keys[-1]] = value

    return change


BROKEN = [
    (_drop("levels"), "the top level: missing 'levels'"),
    (_drop("sub_elements"), "the top level: missing 'sub_elements'"),
    (_drop("levels", 0, "score"), "levels[0]: missing 'score'"),
    (_set("high", "levels", 0, "score"), "levels[0].score: 'high' is not a number or null"),
    (_set(7.5, "levels", 0, "score"), "levels[0].score: 7.5 is outside 0-4"),
    (_set(5, "levels"), "levels: 5 is not a list"),
    (_set("someday", "levels", 0, "column"), "levels[0].column: 'someday' is not one of 'baseline', '12_months'"),
    (_set(None, "answers", 0, "field"), "answers[0].field: None is not a text"),
    (_set({"id": 3}, "indicator_set"), "indicator_set: {'id': 3} is not as described"),
    (_drop("sub_elements", 0, "baseline", "median"), "sub_elements[0].baseline: missing 'median'"),
    (_set(1, "findings", 0, "extra"), "findings[0]: unexpected extra"),
]


@pytest.mark.slow
@pytest.mark.parametrize("change, message", BROKEN)
def test_report_command_names_what_is_wrong_in_summary_json(demo, tmp_path, change, message):
    """A summary.json that is not what an import writes (a key removed, a value of another kind) is a usage error
    naming the file and what is wrong, checked against the published schema before anything is built."""
    (tmp_path / "summary.json").write_text(json.dumps(_broken(_summary(demo), change)), encoding="utf-8")
    debug = tmp_path / "debug.log"
    result = CliRunner().invoke(main, ["report", str(tmp_path), "--no-pdf", "--debug", str(debug)])
    assert result.exit_code == 2, result.output
    assert f"{tmp_path / 'summary.json'}: not as 'eif-xlsx schema summary' describes it" in result.output
    assert message in result.output
    assert not (tmp_path / "report.html").exists() and not debug.exists()


@pytest.mark.slow
def test_report_command_with_an_unknown_matrix(demo, tmp_path):
    (tmp_path / "summary.json").write_text(
        json.dumps(_broken(_summary(demo), _set("nope", "matrix", "id"))), encoding="utf-8"
    )
    result = CliRunner().invoke(main, ["report", str(tmp_path), "--no-pdf"])
    assert result.exit_code == 2 and "no definition with id 'nope'" in result.output
    assert str(tmp_path / "summary.json") in result.output


@pytest.mark.slow
@pytest.mark.parametrize("change, _message", BROKEN)
def test_schema_check_agrees_with_jsonschema(demo, change, _message):
    """schema.problems (no dependency at run time) finds a summary.json wrong exactly when jsonschema does."""
    import jsonschema

    from eif_xlsx.report.schema import SUMMARY_SCHEMA, problems

    validator = jsonschema.Draft202012Validator(SUMMARY_SCHEMA)
    good = _summary(demo)
    assert problems(good) == [] and validator.is_valid(good)
    bad = _broken(good, change)
    assert problems(bad) and not validator.is_valid(bad)


def _made_up(scores: dict[tuple[str, str, str], float]) -> dict:
    """A summary.json's content with the given scores ((partner, sub-element, column) -> score) and nothing else."""
    from eif_xlsx.domain.catalog import Catalog
    from eif_xlsx.report.flat import SCHEMA_VERSION

    m = Catalog.default().matrix("maternity-early-years")
    levels = [
        {
            "partner_id": key,
            "partner": f"Partner {key}",
            "organisation": "Org",
            "file": f"{key}.xlsx",
            "sub_element": code,
            "column": column,
            "score": score,
            "level": "",
            "overall_rating": "",
            "criteria_ticked": 0,
            "criteria_total": 0,
        }
        for (key, code, column), score in scores.items()
    ]
    stats = {
        "count": 0,
        "median": None,
        "min": None,
        "max": None,
        "spread": None,
        "moderate": False,
        "median_level": "",
    }
    return {
        "schema_version": SCHEMA_VERSION,
        "matrix": {"id": m.id, "title": m.title, "version": m.version, "levels": list(m.level_names)},
        "indicator_set": None,
        "register": [],
        "levels": levels,
        "answers": [],
        "findings": [],
        "indicators": [],
        "sub_elements": [
            {"code": s.code, "name": s.name, "baseline": stats, "12_months": stats} for _, _, s in m.sub_elements()
        ],
    }


def _html(summary: dict) -> str:
    from eif_xlsx.domain.catalog import Catalog
    from eif_xlsx.report.schema import problems

    assert problems(summary) == []
    return board.render_html(board.collect(summary, Catalog.default().matrix(summary["matrix"]["id"]), None))


def test_heat_map_shows_scores_as_summary_xlsx_does():
    """Two decimals, half rounded up (summary.xlsx's number format 0.00 as Excel and LibreOffice show it): 2.25 and
    2.75 stay as they are (they were 2.2 and 2.8: one decimal, half to even), 1.125 is 1.13 (Python's '.2f' gives
    1.12)."""
    html = _html(
        _made_up(
            {
                ("A", "1.1", "baseline"): 2.25,
                ("B", "1.1", "baseline"): 2.75,
                ("C", "1.1", "baseline"): 1.125,
                ("D", "1.1", "baseline"): 4.0,
            }
        )
    )
    heat = html.split("<h2>Heat map</h2>")[1].split("</section>")[0]
    row = re.search(r'<td class="sub">1\.1 .*?</tr>', heat).group(0)
    assert re.findall(r">([^<>]*)</td>", row)[1:] == ["2.25", "2.75", "1.13", "4.00"]
    from eif_xlsx.report.svg import fixed, score_text

    assert [score_text(x) for x in (2.25, 2.75, 1.125, 2.675, 0.0, None)] == [
        "2.25",
        "2.75",
        "1.13",
        "2.68",
        "0.00",
        "–",
    ]
    assert [fixed(100 * x, 0) for x in (0.125, 0.285, 0.5)] == ["13", "29", "50"]  # shares as 0% shows them


def test_movement_compares_the_partners_who_assessed_both():
    """Four partners at baseline, two of them at 12 months: the two who left had the highest scores. The medians
    are of the two who assessed both (1.5 -> 2.00: up), not of everyone (3.00 -> 2.00: a 'drop' that is only who
    answered); the counts say so."""
    html = _html(
        _made_up(
            {
                ("A", "2", "baseline"): 1.0,
                ("A", "2", "12_months"): 2.0,
                ("B", "2", "baseline"): 2.0,
                ("B", "2", "12_months"): 2.0,
                ("C", "2", "baseline"): 4.0,
                ("D", "2", "baseline"): 4.0,
                ("E", "2", "12_months"): 0.5,
            }
        )
    )
    section = html.split("<h2>Movement: baseline to 12 months</h2>")[1].split("</section>")[0]
    assert "assessed both" in section
    row = re.search(r"<tr><td>2 .*?</tr>", section).group(0)
    # assessed both, median baseline, median 12 months, up, same, down, baseline only, 12 months only
    assert re.findall(r'<td class="num">([^<]*)</td>', row) == ["2", "1.50", "2.00", "1", "1", "0", "2", "1"]
    assert "baseline median 1.50" in section and "12 months median 2.00" in section and ">n=2</text>" in section
    empty = re.search(r"<tr><td>1\.1 .*?</tr>", section).group(0)
    assert re.findall(r'<td class="num">([^<]*)</td>', empty) == ["0", "–", "–", "0", "0", "0", "0", "0"]


def test_indicator_tracker_is_a_row_per_indicator():
    """Each indicator's latest period with a value beside the period before (periods in time order whatever their
    spelling); partners who agree give the value, those who differ their range; names where there are few."""
    from eif_xlsx.domain.catalog import Catalog

    catalog = Catalog.default()
    iset = catalog.indicator_set("staffordshire-best-start")
    data = board.BoardData(catalog.matrix("maternity-early-years"), iset)
    a, b, c = [ind.id for _, _, ind in iset.indicators()][:3]
    row = board.IndicatorRow
    data.indicator_values = [
        row(a, "2026 Q1", 12.5, "Green", "Ann"),
        row(a, "2026 Q1", 12.5, "Green", "Bob"),
        row(a, "2025 Q4", 10.0, "Red", "Ann"),
        row(b, "Q2 2026", 3.0, "Red", "Ann"),
        row(b, "2026 Q1", 7.0, "Amber", "Bob"),
        row(b, "2026 Q1", 9.0, "Green", "Cy"),
        row(c, "2026", "yes", "", "Ann"),
        row(c, "2026", "no", "Red", "Bob"),
        row(c, "2026 Q2", None, "", "Dee"),
    ] + [row(c, "2025", float(n), "", f"P{n}") for n in range(5)]
    section = board.render_html(data).split("<h2>Commissioning indicators</h2>")[1].split("</section>")[0]
    cells = [re.findall(r"<td[^>]*>([^<]*)</td>", r) for r in re.findall(r"<tr><td class=\"nowrap\">.*?</tr>", section)]
    assert [cell[:1] + cell[2:] for cell in cells] == [
        [a, "2026 Q1", "12.5", "Green", "2025 Q4: 10", "Ann, Bob"],
        [b, "Q2 2026", "3", "Red", "2026 Q1: 7–9 (2 values)", "Ann"],
        [c, "2026", "no / yes", "Red", "2025: 0–4 (5 values)", "Ann, Bob"],
    ]
    assert "from 9 partner(s); RAG as reported: 3 Red, 1 Amber, 3 Green" in section
    # told apart by value, not by the digits shown: two partners 5 apart in a million disagree
    data.indicator_values = [row(a, "2026", 1234567.0, "", "Ann"), row(a, "2026", 1234572.0, "", "Bob")]
    assert "1234567–1234572 (2 values)" in board.render_html(data)


@pytest.mark.slow
def test_report_stays_short_with_many_partners(demo, tmp_path):
    """60 partners, each giving every indicator value of the demo's: the indicator tracker stays a row per
    indicator, and the whole report within 2 pages per 10 partners plus the fixed sections."""
    need_chromium()
    need_poppler()
    summary = _summary(demo)
    first = summary["levels"][0]["partner_id"]
    own = [i for i in summary["levels"] if i["partner_id"] == first]
    values = summary["indicators"]
    assert values
    who = [{"partner_id": f"X-{n:02}", "partner": f"Partner Number{n:02}"} for n in range(1, 61)]
    summary["levels"] = [{**i, **w, "organisation": "Org"} for w in who for i in own]
    summary["indicators"] = [
        {**v, **w, "value": float(n) if isinstance(v["value"], int | float) else v["value"]}
        for n, w in enumerate(who, start=1)
        for v in values
    ]
    data = board.collect(summary, *_definitions(summary))
    board.write_report(data, tmp_path)
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    section = html.split("<h2>Commissioning indicators</h2>")[1]
    assert section.count('<tr><td class="nowrap">') == len({v["indicator_id"] for v in values})
    assert "1–60 (60 values)" in section and "60 partners" in section
    assert _page_count(tmp_path / "report.pdf") <= 2 * 6 + FIXED_PAGES
