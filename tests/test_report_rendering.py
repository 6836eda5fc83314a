"""Output rows rendered by hand for speed: summary/tracker rows (summary._Book.row) and summary.json's long lists
(flat._items) must be exactly what xlsxwriter and json would write, and keep every text a partner can type."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import zipfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from python_calamine import CalamineWorkbook

from eif_xlsx.api import consolidate
from eif_xlsx.csvfile import csv_row, unguard
from eif_xlsx.domain.partners import Partner
from eif_xlsx.report.flat import ANSWERS, LEVELS
from eif_xlsx.report.summary import _Book
from eif_xlsx.template.generate import generate_workbooks
from eif_xlsx.template.layout import BASELINE
from eif_xlsx.template.text import MAX_TEXT

TEXTS = [
    "plain",
    "<r>x</r>",
    "<r><t>INJECTED</t></r>",
    "_x0041_",
    "_x0041_x0042_",
    "x_x0041_x0042_x0043_",
    "_x005F_x0041_",
    "a\x01b\x1fc",
    " lead",
    "trail ",
    "\n",
    "line 1\r\nline 2",
    "&<>\"'",
    "😀 emoji",
    "=1+1",
    "+cmd|' /C calc'!A0",
    "a,b",
    '"quoted"',
    "\t tab",
]


def _sheet_xml(path: Path) -> bytes:
    with zipfile.ZipFile(path) as zf:
        return zf.read("xl/worksheets/sheet1.xml")


def _values(path: Path) -> list[list]:
    return CalamineWorkbook.from_path(str(path)).get_sheet_by_name("S").to_python(skip_empty_area=False)


OVERLAPPING = ("_x0041_x0042_", "x_x0041_x0042_x0043_", "_x005F_x0041_")  # two '_xHHHH_' patterns sharing an underscore


def test_row_keeps_overlapping_escape_lookalikes(tmp_path):
    book = _Book(tmp_path / "t.xlsx", "t")
    ws = book.sheet("S", "title")
    book.row(ws, 3, list(OVERLAPPING), ["text"] * len(OVERLAPPING))
    book.close()
    assert _values(tmp_path / "t.xlsx")[3][: len(OVERLAPPING)] == list(OVERLAPPING)
    xml = _sheet_xml(tmp_path / "t.xlsx").decode()
    assert "<t>_x0041</t></r><r>" in xml and "_x005F_x" not in xml  # runs cut inside each pattern: no escape


@pytest.mark.xfail(
    strict=True,
    reason="xlsxwriter escapes a rich-text run's control characters twice, so text with control characters "
    "is left to write_string, which escapes only the first of two overlapping _xHHHH_ patterns: summary.xlsx "
    "and a re-issued workbook show such text altered; answers.csv and summary.json keep it exactly",
)
def test_row_keeps_controls_beside_overlapping_escape_lookalikes(tmp_path):
    text = "a\x01b _x0041_x0042_"
    book = _Book(tmp_path / "t.xlsx", "t")
    ws = book.sheet("S", "title")
    book.row(ws, 3, [text], ["text"])
    book.close()
    assert _values(tmp_path / "t.xlsx")[3][0] == text


def test_row_keeps_every_text(tmp_path):
    texts = list(TEXTS)
    book = _Book(tmp_path / "t.xlsx", "t")
    ws = book.sheet("S", "title")
    book.row(ws, 3, texts, ["text"] * len(texts))
    book.row(ws, 4, ["<r>x</r>", "<r><t>INJECTED</t></r>"], ["plain", "bold"])
    book.close()
    rows = _values(tmp_path / "t.xlsx")
    assert rows[3][: len(texts)] == texts
    assert rows[4][:2] == ["<r>x</r>", "<r><t>INJECTED</t></r>"]


def test_single_cells_keep_rich_text_lookalikes(tmp_path):
    """xlsxwriter writes text of the form '<r>...</r>' as raw XML in constant-memory mode; put() keeps it text."""
    book = _Book(tmp_path / "t.xlsx", "t")
    ws = book.sheet("S", "title")
    book.put(ws, 3, 0, "<r>x</r>")
    book.put(ws, 3, 1, "<r><t>INJECTED</t></r>", "bold")
    book.put(ws, 3, 2, "after")
    book.close()
    assert _values(tmp_path / "t.xlsx")[3] == ["<r>x</r>", "<r><t>INJECTED</t></r>", "after"]


def test_long_text_is_cut_where_excel_cuts_it(tmp_path):
    long_ascii, long_emoji = "a" * 40_000, "😀" * 20_000  # an emoji is two UTF-16 units: never split
    book = _Book(tmp_path / "t.xlsx", "t")
    ws = book.sheet("S", "title")
    book.row(ws, 3, [long_ascii, long_emoji, "b" * MAX_TEXT], ["text"] * 3)
    book.close()
    got = _values(tmp_path / "t.xlsx")[3]
    assert got == ["a" * MAX_TEXT, "😀" * (MAX_TEXT // 2), "b" * MAX_TEXT]


def test_row_is_what_xlsxwriter_writes(tmp_path):
    values = [
        "text",
        "  spaced ",
        "x & y < z",
        3,
        2.5,
        -0.0,
        1e-20,
        12345678901234567.0,
        None,
        "",
        True,
        False,
        dt.date(2026, 3, 31),
        float("inf"),
        float("-inf"),
        float("nan"),
        "a\x02b",
        "_x0041_",
    ]
    fmts = [
        "text",
        "plain",
        "bold",
        "num",
        "text",
        "score",
        "score",
        "num",
        "score",
        "text",
        "text",
        "plain",
        "text",
        "score",
        "score",
        "score",
        "text",
        "text",
    ]
    paths = []
    for how in ("put", "row"):
        paths.append(tmp_path / f"{how}.xlsx")
        book = _Book(paths[-1], "t")
        ws = book.sheet("S", "title", "note")
        for r in range(3, 6):
            if how == "put":
                for c, (value, fmt) in enumerate(zip(values, fmts, strict=True)):
                    book.put(ws, r, c, value, fmt)
            else:
                book.row(ws, r, values, fmts)
        ws.write_string(7, 0, "after")
        book.close()
    assert _sheet_xml(paths[0]) == _sheet_xml(paths[1])


def test_row_falls_back_where_it_cannot_write_a_whole_row(tmp_path):
    """A row with its own height, or one already holding cells, is written through xlsxwriter: never twice."""
    book = _Book(tmp_path / "t.xlsx", "t")
    ws = book.sheet("S", "title")
    ws.set_row(3, 40)
    book.row(ws, 3, ["tall", 1.5], ["text", "score"])
    ws.write_string(4, 0, "first")
    book.row(ws, 4, [None, "second"], ["text", "text"], c0=1)
    book.row(ws, 5, ["once"], ["text"])
    for r in (5, 4):  # a row written twice, or above the last: an error here, where xlsxwriter drops it silently
        with pytest.raises(ValueError, match=f"row {r + 1} is written already"):
            book.row(ws, r, ["twice"], ["text"])
    book.close()
    xml = _sheet_xml(tmp_path / "t.xlsx").decode()
    assert xml.count('<row r="4"') == xml.count('<row r="5"') == xml.count('<row r="6"') == 1
    assert 'customHeight="1"' in xml.split('<row r="4"')[1].split(">")[0]
    rows = _values(tmp_path / "t.xlsx")
    assert rows[3][:2] == ["tall", 1.5] and rows[4][:3] == ["first", "", "second"] and rows[5][0] == "once"


def test_answers_csv_and_json_are_what_csv_and_json_write(tmp_path, matrix):
    partners = [Partner("P1", 'Ann, "A"', "Org\nOne", "a@example.org"), Partner("P2", "=Bob", "Org 2", "b@x.org")]
    prefill = {}
    for i, p in enumerate(partners):
        answers = {
            ("criterion", "1.1", "1.1a", BASELINE): "✓",
            ("notes", "1.1", "", ""): TEXTS[i],
            ("barrier", "1.1", "1", ""): " ".join(TEXTS),
            ("priority_action", "1.1", "1", ""): TEXTS[-1 - i],
            ("supporting_other", "1.1", "Other 1", ""): "=SUM(1,2)",
        }
        prefill[p.id] = ("", answers, {})
    generate_workbooks(matrix, tmp_path / "returns", partners, prefill=prefill)
    (tmp_path / "returns" / "manifest.csv").unlink()
    out = tmp_path / "out"
    consolidate([tmp_path / "returns"], out, jobs=1, pdf=False)
    text = (out / "summary.json").read_text(encoding="utf-8")
    data = json.loads(text)
    assert json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":")) + "\n" == text
    items = data["answers"]
    # (the long text holds control characters beside overlapping '_xHHHH_' patterns, which the generator does not
    # keep: the strict xfail above)
    assert {TEXTS[0], TEXTS[1], TEXTS[-1], TEXTS[-2], "=SUM(1,2)"} <= {a["raw_value"] for a in items}
    raw = (out / "answers.csv").read_bytes().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(raw, newline="")))
    assert rows[0] == list(ANSWERS)
    assert rows[1:] == [csv_row(a[k] for k in ANSWERS) for a in items]
    assert [[unguard(v) for v in row] for row in rows[1:]] == [[a[k] for k in ANSWERS] for a in items]
    again = io.StringIO()
    csv.writer(again, lineterminator="\r\n").writerows(rows)
    assert again.getvalue() == raw
    levels = list(csv.reader(io.StringIO((out / "levels.csv").read_bytes().decode("utf-8-sig"), newline="")))
    assert levels[0] == list(LEVELS) and len(levels) > 1
    assert levels[1:] == [[str(v) for v in csv_row(a[k] for k in LEVELS)] for a in data["levels"]]
    assert {a["partner"] for a in data["levels"]} == {p.name for p in partners}


def test_summary_items_are_what_json_writes():
    """flat._items renders summary.json's long lists from a template of the sorted keys: each item must be what
    json.dumps(sort_keys=True) writes for the same dict, for every kind of value a row holds."""
    from eif_xlsx.report.flat import _items

    header = ("b", "a", 'c"q', "é", "d")
    values = [
        True,
        False,
        1,
        1.0,
        0.1 + 0.2,
        -0.0,
        None,
        "",
        "=1",
        'a,"b"',
        "line\r\nbreak",
        "\x01",
        "😀",
        "\u2028",
        dt.date(2026, 1, 2).isoformat(),
        10**20,
    ]
    rows = [tuple(values[(i + k) % len(values)] for k in range(len(header))) for i in range(len(values))]
    (rendered,) = list(_items(header, [rows]))
    expected = ",".join(
        json.dumps(dict(zip(header, row, strict=True)), ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        for row in rows
    )
    assert rendered == expected
    texts = [tuple(str(v) for v in row) for row in rows]
    (rendered,) = list(_items(header, [texts], texts_only=True))
    assert json.loads("[" + rendered + "]") == [dict(zip(header, row, strict=True)) for row in texts]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["P1", "=P2", "P,3"]),
            st.sampled_from(["a.xlsx", "-b.xlsx", 'c "1".ods']),
            st.lists(st.text(max_size=12), min_size=9, max_size=9),
        ),
        min_size=1,
        max_size=6,
    )
)
def test_answer_items_are_what_the_generic_renderer_writes(batches):
    """flat._answer_items (pieces per place, made once) writes the same answers.csv lines and summary.json items as
    flat._items, the generic renderer, for any text in any field."""
    from eif_xlsx.report.flat import _answer_items, _items

    rows = [[(key, file, *texts)] * 2 for key, file, texts in batches]
    fast_csv, slow_csv = io.StringIO(), io.StringIO()
    fast = list(_answer_items(rows, fast_csv))
    slow = list(_items(ANSWERS, rows, texts_only=True, csv_to=slow_csv))
    assert fast == slow and fast_csv.getvalue() == slow_csv.getvalue()
    again = io.StringIO()
    csv.writer(again, lineterminator="\r\n").writerows(csv_row(r) for batch in rows for r in batch)
    assert fast_csv.getvalue() == again.getvalue()


def test_rich_text_lookalikes_with_control_characters_keep_the_sheet_well_formed(tmp_path):
    """Text shaped like rich-text XML goes in runs even with control characters (write_string would write it as
    XML, and '<r>\x01<t>x</r>' broke the sheet for every program); the control characters read back as their
    escapes, the rest as typed."""
    from xml.etree import ElementTree

    texts = ["<r>\x01<t>x</r>", "<r>a\x01b</r>"]
    book = _Book(tmp_path / "t.xlsx", "t")
    ws = book.sheet("S", "title")
    book.row(ws, 3, texts, ["text"] * len(texts))
    book.close()
    ElementTree.fromstring(_sheet_xml(tmp_path / "t.xlsx"))  # well-formed
    assert _values(tmp_path / "t.xlsx")[3][:2] == ["<r>_x0001_<t>x</r>", "<r>a_x0001_b</r>"]
