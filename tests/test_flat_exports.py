"""Files for analysts (issue 21, section 2): CSVs in one fixed dialect (UTF-8 with BOM, CRLF, RFC 4180) with the
formula guard undone by one documented rule, summary.json valid against the published schema, answers as typed,
and the same inputs giving the same bytes. On the demo's outputs and the committed sample returns."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import subprocess
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from eif_xlsx.api import consolidate
from eif_xlsx.cli import main
from eif_xlsx.csvfile import BOM, Dialect, guard, unguard
from eif_xlsx.report.flat import ANSWERS, FINDINGS, INDICATORS, LEVELS, REGISTER
from eif_xlsx.report.schema import SUMMARY_SCHEMA
from eif_xlsx.template.layout import BASELINE

from .conftest import need_soffice

SAMPLES = Path(__file__).resolve().parent.parent / "samples" / "returns"
HEADERS = {
    "levels.csv": LEVELS,
    "answers.csv": ANSWERS,
    "findings.csv": FINDINGS,
    "register.csv": REGISTER,
    "indicators.csv": INDICATORS,
}
TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
# What the partner typed in samples/returns (a supporting-information 'Other' box): text that looks like a formula
TYPED = "=SUM(A1:A9) is how we counted the workforce"


@pytest.fixture(scope="module")
def samples(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("samples")
    consolidate([SAMPLES], out, jobs=1, pdf=False)
    return out


def _rows(path: Path) -> list[list[str]]:
    raw = path.read_bytes()
    assert raw.startswith(BOM.encode("utf-8")), f"{path.name}: no byte-order mark"
    text = raw.decode("utf-8")[1:]
    return list(csv.reader(io.StringIO(text, newline=""), Dialect))


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(HEADERS))
def test_csvs_are_utf8_with_bom_in_the_fixed_dialect(demo, name):
    rows = _rows(demo / name)
    assert tuple(rows[0]) == HEADERS[name]
    assert len(rows) > 1 and all(len(r) == len(rows[0]) for r in rows)
    # written again in the documented dialect, the rows give back the file byte for byte
    again = io.StringIO()
    csv.writer(again, Dialect).writerows(rows)
    assert BOM + again.getvalue() == (demo / name).read_bytes().decode("utf-8")
    # no field a spreadsheet would run as a formula
    for row in rows[1:]:
        for value in row:
            assert not value.startswith(TRIGGERS) or NUMBER.fullmatch(value), (name, value)


def test_excel_reads_accents_because_of_the_bom(tmp_path, matrix):
    """A partner name with an accent: the CSV bytes are UTF-8 behind a BOM, which Excel needs to read them as such."""
    from eif_xlsx.domain.partners import Partner
    from eif_xlsx.template.generate import generate_workbooks

    generate_workbooks(matrix, tmp_path / "r", [Partner("P-E", "Zoë Lefèvre", "Crèche Émile", "z@example.org")])
    consolidate([tmp_path / "r"], tmp_path / "out", jobs=1, pdf=False)
    raw = (tmp_path / "out" / "register.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and "Zoë Lefèvre,Crèche Émile".encode() in raw


def test_answers_hold_what_the_partner_typed(samples):
    """answers.csv: the guard is one apostrophe in front, undone by unguard; summary.json holds the text as typed."""
    rows = _rows(samples / "answers.csv")
    raw_col, value_col = ANSWERS.index("raw_value"), ANSWERS.index("value")
    guarded = [r for r in rows[1:] if unguard(r[raw_col]) == TYPED]
    assert len(guarded) == 1 and guarded[0][raw_col] == "'" + TYPED and guarded[0][value_col] == "'" + TYPED
    items = json.loads((samples / "summary.json").read_text(encoding="utf-8"))["answers"]
    assert [a["raw_value"] for a in items if a["raw_value"] == TYPED] == [TYPED]
    # every CSV row, unguarded, is the summary.json item: nothing else added or lost
    assert [[unguard(v) for v in r] for r in rows[1:]] == [[a[k] for k in ANSWERS] for a in items]
    # and no other raw value carries an apostrophe a spreadsheet put there
    assert not [a for a in items if a["raw_value"].startswith("'")]


@given(st.text())
def test_guard_is_undone_by_unguard(text):
    field = guard(text)
    assert unguard(field) == text
    assert not field.startswith(TRIGGERS) or NUMBER.fullmatch(field)


@pytest.mark.parametrize(
    "text, written",
    [
        ("=1+1", "'=1+1"),
        ("+44 1632 960000", "'+44 1632 960000"),
        ("-1.5", "-1.5"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("'quoted", "''quoted"),
        ("plain", "plain"),
        ("", ""),
    ],
)
def test_guard_examples(text, written):
    assert guard(text) == written and unguard(written) == text


@pytest.mark.slow
def test_dates_are_iso(demo):
    rows = _rows(demo / "answers.csv")
    dates = [r[ANSWERS.index("value")] for r in rows[1:] if r[ANSWERS.index("field")] == "assessment_date"]
    assert dates and all(re.fullmatch(r"\d{4}-\d{2}-\d{2}", d) for d in dates)


@pytest.mark.slow
def test_scores_are_rounded(demo):
    for row in _rows(demo / "levels.csv")[1:]:
        score = row[LEVELS.index("score")]
        assert score == "" or len(score.partition(".")[2]) <= 4


@pytest.mark.slow
def test_summary_json_is_valid_against_the_published_schema(demo, samples):
    jsonschema.Draft202012Validator.check_schema(SUMMARY_SCHEMA)
    validator = jsonschema.Draft202012Validator(SUMMARY_SCHEMA)
    for folder in (demo, samples):
        data = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
        errors = [f"{e.json_path}: {e.message}" for e in validator.iter_errors(data)]
        assert errors == []
        assert data["levels"] and data["answers"] and data["register"]
    broken = json.loads((demo / "summary.json").read_text(encoding="utf-8"))
    broken["levels"][0]["score"] = "high"
    assert not validator.is_valid(broken)


def test_schema_summary_prints_the_schema():
    result = CliRunner().invoke(main, ["schema", "summary"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == SUMMARY_SCHEMA


@pytest.mark.slow
def test_same_returns_give_the_same_bytes(demo, tmp_path):
    returns = tmp_path / "returns"
    shutil.copytree(demo / "returns", returns)
    manifest = demo / "workbooks" / "manifest.csv"
    for out in ("a", "b"):
        consolidate(
            [returns], tmp_path / out, manifest=manifest, indicators="staffordshire-best-start", jobs=2, pdf=False
        )
    names = [*HEADERS, "summary.json", "report.html"]
    for name in names:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
        assert (tmp_path / "a" / name).read_bytes() == (demo / name).read_bytes(), name


@pytest.mark.slow
def test_libreoffice_opens_a_guarded_csv_as_text(tmp_path):
    """The guard works in a real spreadsheet: LibreOffice, opening the CSV as UTF-8 with formulas evaluated, makes
    no formula of a guarded field (and the same text unguarded would be one), and reads the accents."""
    from openpyxl import load_workbook

    from eif_xlsx.csvfile import write_csv

    exe = need_soffice()
    texts = ("=1+1", "@SUM(A1)", "+1+1", "-1+1", "Zoë Lefèvre")
    write_csv(tmp_path / "guarded.csv", ("a", "b", "c", "d", "e"), [texts])
    (tmp_path / "raw.csv").write_text(BOM + "a,b,c,d,e\r\n" + ",".join(texts) + "\r\n", encoding="utf-8")
    profile = (tmp_path / "profile").as_uri()
    subprocess.run(
        [
            exe,
            f"-env:UserInstallation={profile}",
            "--headless",
            "--norestore",
            "--infilter=CSV:44,34,76,1",
            "--convert-to",
            "xlsx",
            "--outdir",
            str(tmp_path / "out"),
            str(tmp_path / "guarded.csv"),
            str(tmp_path / "raw.csv"),
        ],
        capture_output=True,
        timeout=180,
        check=True,
    )

    def cells(name):
        ws = load_workbook(tmp_path / "out" / f"{name}.xlsx").active
        return [(c.value, c.data_type) for c in next(ws.iter_rows(min_row=2, max_row=2))]

    guarded = cells("guarded")
    assert [t for _, t in guarded] == ["s"] * 5
    assert [unguard(v) for v, _ in guarded] == list(texts)
    assert cells("raw")[0] == ("=1+1", "f")  # what the guard prevents


def test_supporting_answers_carry_their_items_level_and_other_items_their_text(tmp_path, matrix):
    """Issue 17 s1/s7: every supporting-information answer carries its item's progress level (the definition's,
    by the item's id), in answers.csv and summary.json alike; an 'Other' item a partner added is there with its
    text (and its tick), with no level."""
    from eif_xlsx.domain.partners import Partner
    from eif_xlsx.template.generate import generate_workbooks

    levelled = [i for i in matrix.sub_element("2").supporting_items if i.level][:3]
    plain = [i for i in matrix.sub_element("1.1").supporting_items if not i.level][:2]
    assert len(levelled) == 3 and len(plain) == 2 and len({i.level for i in levelled}) > 1
    other = "=Our own audit, 2026 (added by the partner)"
    answers = {
        ("supporting_information", code, i.id, BASELINE): "✓"
        for code, items in (("2", levelled), ("1.1", plain))
        for i in items
    }
    answers |= {
        ("supporting_other", "2", "Other 1", ""): other,
        ("supporting_other_tick", "2", "Other 1", BASELINE): "✓",
    }
    generate_workbooks(
        matrix, tmp_path / "returns", [Partner("P1", "Ann", "Org", "a@example.org")], prefill={"P1": ("", answers, {})}
    )
    (tmp_path / "returns" / "manifest.csv").unlink()
    consolidate([tmp_path / "returns"], tmp_path / "out", jobs=1, pdf=False)
    data = json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))
    items = data["answers"]
    supporting = {a["item"]: a["item_level"] for a in items if a["field"] == "supporting_information"}
    assert supporting == {i.id: i.level or "" for i in [*levelled, *plain]}
    assert {
        a["field"]: (a["item"], a["raw_value"], a["item_level"])
        for a in items
        if a["field"].startswith("supporting_other")
    } == {"supporting_other": ("Other 1", other, ""), "supporting_other_tick": ("Other 1", "✓", "")}
    assert all(a["item_level"] == "" for a in items if a["field"] != "supporting_information")
    rows = _rows(tmp_path / "out" / "answers.csv")
    assert rows[0] == list(ANSWERS) and "item_level" in rows[0]
    assert [[unguard(v) for v in r] for r in rows[1:]] == [[a[k] for k in ANSWERS] for a in items]
    assert guard(other) in [r[ANSWERS.index("raw_value")] for r in rows]
    assert jsonschema.Draft202012Validator(SUMMARY_SCHEMA).is_valid(data)


def test_scores_round_half_up_as_the_report_and_summary_show_them():
    """One rounding rule in every output: half up (as a spreadsheet shows a number format), to 4 places in the
    CSVs and summary.json, to 2 in the board's report."""
    from eif_xlsx.report.flat import _score
    from eif_xlsx.report.svg import score_text

    assert [_score(x) for x in (0.03125, 2.25, 2.75, 1.125, 1 / 3, 2.99995, None, 4)] == [
        0.0313,
        2.25,
        2.75,
        1.125,
        0.3333,
        3.0,
        None,
        4,
    ]
    assert [score_text(_score(x)) for x in (2.25, 2.75, 1.125)] == ["2.25", "2.75", "1.13"]
