"""The demo round trip, end to end in a temporary folder."""

from __future__ import annotations

import csv
import json

import openpyxl
import pytest

from eif_xlsx.demo import run_demo
from eif_xlsx.office import soffice

pytestmark = pytest.mark.slow  # LibreOffice and Chromium


def test_demo_round_trip(tmp_path):
    text = run_demo(tmp_path / "out", echo=lambda s: None)
    out = tmp_path / "out"
    for name in (
        "summary.xlsx",
        "tracker.xlsx",
        "levels.csv",
        "answers.csv",
        "findings.csv",
        "register.csv",
        "indicators.csv",
        "summary.json",
    ):
        assert (out / name).exists(), name
        assert str(out / name) in text
    register = list(csv.DictReader((out / "register.csv").open(encoding="utf-8-sig")))  # Excel-friendly BOM
    statuses = [r["status"] for r in register]
    assert statuses.count("superseded") == 1  # one partner sent twice
    assert statuses.count("rejected") == 1  # one attachment arrived damaged
    outstanding = {r["name"] for r in register if r["status"] == "outstanding"}
    assert "Marcus Bell" in outstanding  # never returned
    returned = [r for r in register if r["status"] == "returned"]
    assert len(returned) == 10
    if soffice():
        assert any(r["file"].endswith(".ods") for r in returned)
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    # Supporting information is ticked by the demo's partners, on items known by their ids (it was typed under
    # template-1 keys once and silently ticked nothing).
    answers = list(csv.DictReader((out / "answers.csv").open(encoding="utf-8-sig", newline="")))
    evidence = {r["item"] for r in answers if r["field"] == "supporting_information" and r["raw_value"]}
    assert len(evidence) > 20 and all("-s" in item for item in evidence)
    codes = {f["code"] for f in summary["findings"]}
    assert {"unrecognised-tick", "skipped-level", "date-in-future", "damaged"} <= codes
    assert len({r["partner_id"] for r in summary["levels"]}) == 10
    tracker = openpyxl.load_workbook(out / "tracker.xlsx")
    assert tracker["Values"].max_row > 5
    assert list((out / "feedback").glob("FEEDBACK *.xlsx"))
    # The loop closed: a reminder for the partner who never returned, a request to correct for the damaged file
    # and for the return with problems, each as a draft.
    chase = list(csv.DictReader((out / "chase" / "chase.csv").open(encoding="utf-8-sig", newline="")))
    statuses = {r["name"]: r["status"] for r in chase}
    assert statuses["Marcus Bell"] == "outstanding"
    assert sorted(s for s in statuses.values() if s != "complete") == ["outstanding", "to-correct", "to-correct"]
    assert "1 outstanding, 2 to correct, 9 complete; 3 drafts" in text
    assert len(list((out / "chase").glob("*.eml"))) == 3
