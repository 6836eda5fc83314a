"""Consolidation: the numbers in the summary and CSVs, the returns register, inert partner text, and the
summary and tracker recalculated by LibreOffice without formula errors."""

from __future__ import annotations

import csv
import json
import os
import statistics
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from eif_xlsx.api import consolidate
from eif_xlsx.cli import main
from eif_xlsx.domain.partners import Partner
from eif_xlsx.office import convert
from eif_xlsx.template.generate import generate_workbooks
from eif_xlsx.template.layout import BASELINE, TWELVE_MONTHS

from .conftest import INDICATORS_ID, need_soffice

PARTNERS = [Partner(f"P{i}", f"Person {i}", f"Org {i}", f"p{i}@example.org") for i in range(1, 6)]
LEVELS = ("Basic level", "Early progress", "Substantial progress", "Mature")


def ticks_up_to(matrix, code: str, full: int, extra: int, column: str = BASELINE) -> dict:
    """Tick every criterion at levels 1..full, and `extra` criteria of the next level."""
    out = {}
    crits = matrix.sub_element(code).criteria
    for c in crits:
        rank = LEVELS.index(c.level) + 1
        if rank <= full:
            out[("criterion", code, c.code, column)] = "✓"
    nxt = [c for c in crits if LEVELS.index(c.level) + 1 == full + 1][:extra]
    out.update({("criterion", code, c.code, column): "✓" for c in nxt})
    return out


def expected_score(matrix, code: str, full: int, extra: int) -> float:
    crits = matrix.sub_element(code).criteria
    n_next = sum(1 for c in crits if LEVELS.index(c.level) + 1 == full + 1)
    return full + (extra / n_next if n_next else 0)


# (partner index, 1.1 pattern (full, extra), 2 pattern)
PATTERNS = {0: ((2, 0), (1, 1)), 1: ((2, 2), (3, 0)), 2: ((4, 0), (0, 1)), 3: ((1, 0), (2, 1))}


@pytest.fixture
def round_dir(tmp_path, matrix, indicator_set):
    """A manifest for five partners; four returns (one sent twice), one unexpected, one damaged."""
    sent = generate_workbooks(matrix, tmp_path / "sent", PARTNERS, indicators=indicator_set)
    returns = tmp_path / "returns"
    prefill = {}
    for i, (p11, p2) in PATTERNS.items():
        answers = {**ticks_up_to(matrix, "1.1", *p11), **ticks_up_to(matrix, "2", *p2)}
        answers[("barrier", "1.1", "1", "")] = f"Barrier of {PARTNERS[i].name}"
        answers[("priority_action", "1.1", "1", "")] = f"Action of {PARTNERS[i].name}"
        answers[("timescale", "1.1", "1", "")] = ("Long", "Short", "Medium", "Short")[i]
        answers[("indicator_period", "", "cp1-1-po1", "")] = "2026 Q1"
        answers[("indicator_value", "", "cp1-1-po1", "")] = (50.0, 50.0, 61.5, None)[i]
        prefill[PARTNERS[i].id] = ("", answers, {})
    prefill["P1"][1][("notes", "1.1", "", "")] = '=HYPERLINK("http://evil.example","click me")'
    prefill["P1"][1][("supporting_other", "1.1", "Other 1", "")] = "+cmd|' /C calc'!A0"
    filled = generate_workbooks(matrix, returns, PARTNERS[:4], indicators=indicator_set, prefill=prefill)
    # P1 also sent an earlier draft: basic only. It is older, so it is superseded.
    early = tmp_path / "early"
    draft = generate_workbooks(
        matrix,
        early,
        PARTNERS[:1],
        indicators=indicator_set,
        prefill={"P1": ("", ticks_up_to(matrix, "1.1", 1, 0), {})},
    )
    draft_path = returns / "draft.xlsx"
    draft.files[0].replace(draft_path)
    os.utime(draft_path, (1_700_000_000, 1_700_000_000))
    unexpected = generate_workbooks(
        matrix,
        tmp_path / "x",
        [Partner("ZZ", "Stranger", "Elsewhere", "z@example.org")],
        prefill={"ZZ": ("", ticks_up_to(matrix, "1.1", 3, 0), {})},
    )
    unexpected.files[0].replace(returns / "stranger.xlsx")
    (returns / "broken.xlsx").write_bytes(filled.files[0].read_bytes()[:5000])
    (returns / "manifest.csv").unlink()
    return tmp_path, sent.manifest, returns


@pytest.mark.slow
def test_numbers_register_and_exports(round_dir, matrix):
    tmp, manifest, returns = round_dir
    result = consolidate([returns], tmp / "out", manifest=manifest, indicators=INDICATORS_ID)
    out = tmp / "out"
    # Register: P1 returned (latest) + superseded draft, P2-P4 returned, P5 outstanding, stranger unexpected,
    # broken rejected.
    with (out / "register.csv").open(encoding="utf-8-sig", newline="") as fh:
        reg = {(r["status"], r["partner_id"] or r["file"]) for r in csv.DictReader(fh)}
    assert ("superseded", "P1") in reg and ("returned", "P1") in reg
    assert {("returned", p) for p in ("P2", "P3", "P4")} <= reg
    assert ("outstanding", "P5") in reg and ("unexpected", "ZZ") in reg
    assert ("rejected", "broken.xlsx") in reg
    assert result.rejected == 1
    # Scores per partner, computed here independently of the scoring module.
    levels = list(csv.DictReader((out / "levels.csv").open(encoding="utf-8-sig", newline="")))
    got = {(r["partner_id"], r["sub_element"], r["column"]): r for r in levels}
    for i, (p11, p2) in PATTERNS.items():
        pid = PARTNERS[i].id
        assert float(got[(pid, "1.1", BASELINE)]["score"]) == pytest.approx(
            expected_score(matrix, "1.1", *p11), abs=1e-4
        )  # 4 places
        assert float(got[(pid, "2", BASELINE)]["score"]) == pytest.approx(expected_score(matrix, "2", *p2), abs=1e-4)
        assert got[(pid, "1.1", TWELVE_MONTHS)]["level"] == "Not assessed"
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    stats = {s["code"]: s for s in summary["sub_elements"]}
    scores_11 = [expected_score(matrix, "1.1", *PATTERNS[i][0]) for i in PATTERNS] + [3.0]  # + the stranger
    b = stats["1.1"][BASELINE]
    assert b["count"] == 5
    assert b["median"] == pytest.approx(statistics.median(scores_11))
    assert (b["min"], b["max"]) == (min(scores_11), max(scores_11))
    assert b["spread"] == 3 and b["moderate"] is True
    # Criteria counts: 1.1a is Basic, ticked by everyone.
    wb = openpyxl.load_workbook(out / "summary.xlsx")
    crit = {row[0].value: row for row in wb["Criteria"].iter_rows(min_row=5)}
    assert crit["1.1a"][4].value == 5
    assert crit["1.1h"][4].value == 1  # Mature: only P3
    # Barriers ordered by timescale: Short, Short, Medium, Long.
    actions = [r[0].value for r in wb["Barriers & actions"].iter_rows(min_row=5) if r[0].value]
    assert actions == ["Short", "Short", "Medium", "Long"]
    # Lists carry filter and sort arrows on their header row (row 4), down to their last row.
    ws = wb["Barriers & actions"]
    assert ws.auto_filter.ref == f"A4:J{ws.max_row}" and ws.freeze_panes == "A5"
    # Heat map stats rows hold the same numbers as summary.json.
    answers = list(csv.DictReader((out / "answers.csv").open(encoding="utf-8-sig", newline="")))
    notes = [a for a in answers if a["field"] == "notes" and a["partner_id"] == "P1"]
    assert notes[0]["raw_value"].startswith("'=HYPERLINK")  # CSV formula-injection prefix
    other = [a for a in answers if a["field"] == "supporting_other"]
    assert other[0]["value"].startswith("'+cmd")


@pytest.mark.slow
def test_partner_text_is_inert_in_the_summary(round_dir):
    tmp, manifest, returns = round_dir
    consolidate([returns], tmp / "out", manifest=manifest)
    wb = openpyxl.load_workbook(tmp / "out" / "summary.xlsx")
    texts = [c for row in wb["Notes"].iter_rows() for c in row if isinstance(c.value, str)]
    evil = [c for c in texts if "HYPERLINK" in c.value or c.value.startswith("+cmd")]
    assert evil and all(c.data_type == "s" for c in evil)
    for ws in wb.worksheets:
        assert not ws._hyperlinks
        for row in ws.iter_rows():
            for c in row:
                if c.data_type == "f":
                    assert "HYPERLINK" not in str(c.value) and "cmd" not in str(c.value)


@pytest.mark.slow
def test_tracker_values_and_conflicts(round_dir):
    tmp, manifest, returns = round_dir
    consolidate([returns], tmp / "out", manifest=manifest, indicators=INDICATORS_ID)
    wb = openpyxl.load_workbook(tmp / "out" / "tracker.xlsx")
    ws = wb["Tracker"]
    header = [c.value for c in ws[4]]
    assert "2026 Q1" in header and "RAG" in header and "Latest" in header
    conflicts = [r for r in wb["Conflicts"].iter_rows(min_row=5, values_only=True) if r[0]]
    # P1 and P2 both say 50.0; P3 says 61.5: one indicator/period in conflict, every value listed.
    assert {(r[0], r[1]) for r in conflicts} == {("cp1-1-po1", "2026 Q1")}
    assert len(conflicts) == 3
    row = next(r for r in ws.iter_rows(min_row=5) if r[4].value == "cp1-1-po1")
    assert row[header.index("2026 Q1")].value is None  # not silently resolved


@pytest.mark.slow
def test_indicator_values_taken_in_the_workers_are_those_of_the_whole_answers(round_dir):
    """batch.slim takes each return's indicator values before its answers go to disk; they are what the full
    answers of the file, read here in this process, give."""
    from eif_xlsx.api import read_return

    tmp, manifest, returns = round_dir
    consolidate([returns], tmp / "out", manifest=manifest, indicators=INDICATORS_ID)
    rows = list(csv.DictReader((tmp / "out" / "indicators.csv").open(encoding="utf-8-sig")))
    got = {(r["file"], r["indicator_id"], r["period"], r["value"], r["cell"]) for r in rows}
    expected = set()
    for path in sorted(returns.glob("*.xlsx")):
        if path.name in ("broken.xlsx", "draft.xlsx", "stranger.xlsx"):
            continue
        ret = read_return(path)
        assert ret.indicators is None  # read in process: computed from the answers themselves
        for ind, period, value, _num, _den, _rag, _comment, cell in ret.indicator_values():
            expected.add((path.name, ind, period, f"{value}", cell))
    assert got == expected
    assert {(g[1], g[2], g[3]) for g in got} == {("cp1-1-po1", "2026 Q1", "50.0"), ("cp1-1-po1", "2026 Q1", "61.5")}


def test_summary_texts_taken_in_the_workers_are_those_of_the_whole_answers(tmp_path, matrix, indicator_set, round_dir):
    """batch.slim takes what the summary needs from the answers (report/texts.py); the summary's supporting
    information counts, barrier/action rows and notes are those the full answers give."""
    from eif_xlsx.demo import fill_answers
    from eif_xlsx.intake import batch
    from eif_xlsx.intake.reader import read_return
    from eif_xlsx.report.consolidate import build
    from eif_xlsx.report.summary import _Texts
    from eif_xlsx.template import layout

    lay = layout.build(matrix, indicator_set)
    # Supporting information ticked by item id (demo.fill_answers still keys it 'S<i>', as template 1 did).
    ticks = {
        ("supporting_information", sub.code, item.id, column): "✓"
        for _, _, sub in matrix.sub_elements()
        for item in sub.supporting_information[::2]
        if not item.heading
        for column in (BASELINE, TWELVE_MONTHS)
    }
    prefill = {
        p.id: ("", {**fill_answers(matrix, lay, p, seed=7 + i, twelve_months=True), **ticks}, {})
        for i, p in enumerate(PARTNERS[:3])
    }
    generate_workbooks(matrix, tmp_path / "filled", PARTNERS[:3], indicators=indicator_set, prefill=prefill)
    files = [*batch.expand([tmp_path / "filled"]), *batch.expand([round_dir[2]])]
    files = [f for f in files if f.suffix == ".xlsx"]
    reports = batch.run([batch.Source(str(f), f.name) for f in files], jobs=2)
    assert all(r.ret.texts is not None for r in reports if r.ret.readable)
    taken = _Texts(build(reports, matrix))
    for r in reports:  # the same returns with every answer, read here
        if r.ret.readable:
            full = read_return(r.path, display_name=r.file)
            r.ret.answers, r.ret.extra, r.ret.texts = full.answers, full.extra, None
    cons = build(reports, matrix)
    again = _Texts(cons)
    assert dict(taken.support) == dict(again.support) and sum(taken.support.values()) > 10
    assert list(taken.actions) == list(again.actions) and len(taken.actions) > 4
    assert list(taken.notes) == list(again.notes) and len(taken.notes) > 2
    # ... and what the answers say, counted here directly.
    from collections import Counter

    everything = [a for p in cons.participants for a in [*p.report.ret.answers, *p.report.ret.extra]]
    assert Counter(taken.support) == Counter(
        (a.sub_element, a.item, a.column) for a in everything if a.field == "supporting_information" and a.value is True
    )
    assert Counter(row[4] for row in taken.notes) == Counter(
        a.raw_text for a in everything if a.field in ("notes", "supporting_other", "extra") and a.raw_text.strip()
    )
    assert Counter(row[4] for row in taken.actions if row[4]) == Counter(
        a.raw_text for a in everything if a.field == "barrier" and a.raw_text.strip()
    )


def test_indicator_values_take_the_last_answer_of_a_key_and_need_a_filled_value():
    from eif_xlsx.intake.reader import Answer, Return

    def ans(field, item, raw, cell):
        value = raw if not isinstance(raw, str) else raw.strip()
        return Answer("Indicators", cell, field, "", item, "", "text", raw, value)

    ret = Return(
        "x.xlsx",
        "x.xlsx",
        answers=[
            ans("indicator_value", "b", 1.0, "F7"),
            ans("indicator_value", "b", 2.0, "F9"),  # the last counts
            ans("indicator_period", "b", "  2026 Q3 ", "E9"),
            ans("indicator_numerator", "b", "n/a", "G9"),
            ans("indicator_value", "a", None, "F5"),
            ans("indicator_period", "a", "2026 Q1", "E5"),  # blank: none
            ans("indicator_commentary", "c", "no value given", "J6"),
            Answer(
                "Indicators", "F8", "indicator_value", "", "d", "baseline", "text", 5.0, 5.0
            ),  # not an indicator key
        ],
    )
    assert ret.indicator_values() == [("b", "2026 Q3", 2.0, None, None, "", "", "Indicators!F9")]


def test_indicator_values_from_the_typed_answers_only_where_the_layout_has_each_key_once():
    from eif_xlsx.intake.reader import Answer, Return
    from eif_xlsx.template.layout import InputCell, Row, SheetLayout, WorkbookLayout

    def layout(rows):
        return WorkbookLayout("1", (SheetLayout("indicators", "Indicators", "Indicators", rows=tuple(rows)),))

    one = Row(key="a", key_col=0, row=5, what="a", cells=(InputCell(5, "indicator_value", "number", item="a"),))
    again = Row(key="a2", key_col=0, row=6, what="a again", cells=one.cells)
    typed = Answer("Indicators", "F6", "indicator_value", "", "a", "", "number", 3.0, 3.0)
    blank = Answer("Indicators", "F7", "indicator_value", "", "a", "", "number", None, None)
    for rows, expected in (([one, again], []), ([one], [("a", "", 3.0, None, None, "", "", "Indicators!F6")])):
        ret = Return("x.xlsx", "x.xlsx", layout=layout(rows), answers=[typed] + ([blank] if len(rows) > 1 else []))
        assert ret.layout.keys_unique() is (len(rows) == 1)
        # The blank second answer of the key hides the typed one, as Return.answer has it: the typed answers alone
        # are used only where that cannot happen.
        assert ret.indicator_values([typed]) == ret.indicator_values() == expected


@pytest.mark.slow
def test_import_cli_exit_codes(round_dir):
    tmp, manifest, returns = round_dir
    res = CliRunner().invoke(main, ["import", str(returns), "--manifest", str(manifest), "--out", str(tmp / "cli")])
    assert res.exit_code == 1, res.output
    assert (tmp / "cli" / "summary.xlsx").exists() and "rejected" in res.output
    res = CliRunner().invoke(main, ["import", str(tmp / "nope")])
    assert res.exit_code == 2


@pytest.mark.slow
def test_output_is_deterministic(round_dir):
    tmp, manifest, returns = round_dir
    consolidate([returns], tmp / "a", manifest=manifest, indicators=INDICATORS_ID)
    consolidate([returns], tmp / "b", manifest=manifest, indicators=INDICATORS_ID)
    for name in ("summary.xlsx", "tracker.xlsx", "levels.csv", "answers.csv", "summary.json"):
        assert (tmp / "a" / name).read_bytes() == (tmp / "b" / name).read_bytes(), name


def _same(cached, calculated) -> bool:
    cached, calculated = ("" if cached is None else cached), ("" if calculated is None else calculated)
    if isinstance(cached, int | float) and isinstance(calculated, int | float):
        return cached == pytest.approx(calculated, abs=1e-9)
    return cached == calculated


@pytest.mark.slow
@pytest.mark.libreoffice
def test_libreoffice_recalculates_without_errors(round_dir):
    need_soffice()
    tmp, manifest, returns = round_dir
    consolidate([returns], tmp / "out", manifest=manifest, indicators=INDICATORS_ID)
    for name in ("summary.xlsx", "tracker.xlsx"):
        converted = convert(tmp / "out" / name, "xlsx", tmp / "lo")
        wb = openpyxl.load_workbook(converted, data_only=True)
        bad = [
            (ws.title, c.coordinate, c.value)
            for ws in wb.worksheets
            for row in ws.iter_rows()
            for c in row
            if isinstance(c.value, str) and (c.value.startswith("#") or c.value.startswith("Err:"))
        ]
        assert not bad, bad[:5]
        # and every formula's cached value, which LibreOffice shows without recalculating, is what it calculates
        ours, formulas = (
            openpyxl.load_workbook(tmp / "out" / name, data_only=True),
            openpyxl.load_workbook(tmp / "out" / name),
        )
        differ = [
            (ws.title, c.coordinate, ours[ws.title][c.coordinate].value, wb[ws.title][c.coordinate].value)
            for ws in formulas.worksheets
            for row in ws.iter_rows()
            for c in row
            if isinstance(c.value, str) and c.value.startswith("=")
            if not _same(ours[ws.title][c.coordinate].value, wb[ws.title][c.coordinate].value)
        ]
        assert not differ, differ[:5]
    wb = openpyxl.load_workbook(Path(tmp / "lo" / "summary.xlsx"), data_only=True)
    ws = wb["Heat map"]
    labels = {ws.cell(r, 1).value: r for r in range(1, ws.max_row + 1)}
    assert ws.cell(labels["Median"], 3).value == pytest.approx(2.5)  # 1.1 baseline: 1, 2, 2.5, 3, 4
    assert ws.cell(labels["Moderate?"], 3).value == "Moderate"


def test_two_returns_of_one_name_in_two_folders_are_told_apart(matrix, tmp_path):
    """The register names a file by its path from the folder given when another file has its name: the superseded
    draft and the return that counts are not both 'X.xlsx'."""
    import datetime as dt

    returns = tmp_path / "returns"
    for folder, day in (("first", 2), ("second", 20)):
        made = generate_workbooks(
            matrix,
            tmp_path / "gen" / folder,
            PARTNERS[:1],
            prefill={
                PARTNERS[0].id: (
                    "",
                    {**ticks_up_to(matrix, "1.1", 1, 0), ("assessment_date", "", "", BASELINE): dt.date(2026, 11, day)},
                    {},
                )
            },
        )
        (returns / folder).mkdir(parents=True)
        name = made.files[0].name
        (returns / folder / name).write_bytes(made.files[0].read_bytes())
    out = tmp_path / "out"
    res = CliRunner().invoke(main, ["import", str(returns), "--out", str(out), "--no-pdf", "-q"])
    assert res.exit_code == 0, res.output
    with (out / "register.csv").open(encoding="utf-8-sig", newline="") as fh:
        reg = {r["status"]: r for r in csv.DictReader(fh)}
    assert sorted(reg) == ["returned", "superseded"]
    assert reg["returned"]["file"] == f"second/{name}" and reg["superseded"]["file"] == f"first/{name}"
    assert reg["superseded"]["reason"] == f"superseded by the later return second/{name}"


def test_a_workbook_without_its_metadata_is_matched_by_e_mail_address(matrix, tmp_path):
    """A return whose eif-xlsx metadata was deleted is the manifest partner's whose address sent it (and is on its
    cover): it counts for that partner, who is no longer outstanding; a workbook whose sender and cover name two
    different partners is left unmatched."""
    from .conftest import saved_email

    sent = generate_workbooks(matrix, tmp_path / "sent", PARTNERS[:3])
    filled = generate_workbooks(
        matrix,
        tmp_path / "filled",
        PARTNERS[:3],
        prefill={p.id: ("", ticks_up_to(matrix, "1.1", 2, 0), {}) for p in PARTNERS[:3]},
    )
    returns = tmp_path / "returns"
    returns.mkdir()
    for path, partner, sender in ((filled.files[0], "P1", "p1@example.org"), (filled.files[1], "P2", "p3@example.org")):
        wb = openpyxl.load_workbook(path)
        del wb["_eif"]
        wb.save(returns / path.name)
        data = (returns / path.name).read_bytes()
        (returns / path.name).unlink()
        (returns / f"{partner}.eml").write_bytes(saved_email([(path.name, data)], sender))
    out = tmp_path / "out"
    res = CliRunner().invoke(
        main, ["import", str(returns), "--manifest", str(sent.manifest), "--out", str(out), "--no-pdf", "-q"]
    )
    assert res.exit_code == 0, res.output
    with (out / "register.csv").open(encoding="utf-8-sig", newline="") as fh:
        reg = {(r["status"], r["partner_id"]): r for r in csv.DictReader(fh)}
    assert sorted(reg) == [("outstanding", "P2"), ("outstanding", "P3"), ("returned", "P1"), ("unexpected", "")]
    assert reg[("returned", "P1")]["file"] == f"P1.eml › {filled.files[0].name}"
    assert (reg[("returned", "P1")]["name"], reg[("returned", "P1")]["email"]) == ("Person 1", "p1@example.org")
    with (out / "findings.csv").open(encoding="utf-8-sig", newline="") as fh:
        matched = [f for f in csv.DictReader(fh) if f["code"] == "matched-by-email"]
    assert [(f["file"], f["message"]) for f in matched] == [
        (
            f"P1.eml › {filled.files[0].name}",
            "The workbook carries no partner id (a blank copy, or its eif-xlsx metadata deleted); it was taken as the "
            "return of partner P1, whose e-mail address p1@example.org sent it and is typed on its cover.",
        )
    ]
    levels = {r["partner_id"] for r in csv.DictReader((out / "levels.csv").open(encoding="utf-8-sig", newline=""))}
    assert "P1" in levels


def test_a_damaged_return_is_attributed_to_its_partner_as_chase_does(matrix, tmp_path):
    """A file that cannot be opened carries no partner id: the register names its partner by the file name sent
    (or the address it came from), as chase does, and that partner's outstanding row says their return was
    rejected; the import's summary line says so too."""
    from eif_xlsx.rounds.chase import chase

    sent = generate_workbooks(matrix, tmp_path / "sent", PARTNERS[:2])
    returns = tmp_path / "returns"
    returns.mkdir()
    name = sent.files[0].name
    (returns / name).write_bytes(sent.files[0].read_bytes()[:2000])  # cut short on the way
    result = consolidate([returns], tmp_path / "out", manifest=sent.manifest, pdf=False)
    rows = [(r.status, r.partner_id, r.name, r.reason) for r in result.consolidation.register]
    assert (
        "rejected",
        "P1",
        "Person 1",
        "The workbook is damaged and cannot be read: the zip container is broken or truncated",
    ) in rows
    assert ("outstanding", "P1", "Person 1", "their return was rejected (see above): to correct and send again") in rows
    assert "outstanding  Person 1 <p1@example.org>: their return was rejected" in result.describe()
    chased = chase([returns], sent.manifest, sender="c@example.org", out_dir=tmp_path / "chase", dry_run=True)
    assert {i.partner_id: i.status for i in chased.items} == {"P1": "to-correct", "P2": "outstanding"}
