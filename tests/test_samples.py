"""The committed example returns in samples/returns (one re-saved by LibreOffice as .ods) read and import as
documented."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pytest

from eif_xlsx.api import check, consolidate, read_return
from eif_xlsx.template.layout import BASELINE

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
TODAY = dt.date(2026, 11, 24)


def test_each_sample_return(catalog):
    reports = {
        p.name: check(read_return(p, catalog), catalog, today=TODAY) for p in sorted((SAMPLES / "returns").iterdir())
    }
    assert len(reports) == 3 and all(r.accepted for r in reports.values())
    ods = reports["riverside-family-hub-amira-haddad-fh-01.ods"]
    assert ods.ret.format == "ods" and ods.partner["id"] == "FH-01"
    assert sum(1 for a in ods.ret.answers if a.field == "criterion" and a.value is True) > 20
    problems = {
        (f.code, f.sheet, f.cell) for f in reports["family-nurse-partnership-north-dafydd-morgan-hv-02.xlsx"].findings
    }
    assert ("unrecognised-tick", "1.1 Vision, strategy & plan", "D10") in problems
    assert ("skipped-level", "2 Commissioning", "D20") in problems
    assert ("date-in-future", "Overview", "D5") in problems
    good = reports["northshire-maternity-services-priya-raman-nmw-01.xlsx"]
    assert good.results[("1.1", BASELINE)].score.assessed


@pytest.mark.slow
def test_import_samples_with_their_manifest(tmp_path):
    result = consolidate([SAMPLES / "returns"], tmp_path, manifest=SAMPLES / "returns-manifest.csv")
    register = list(csv.DictReader((tmp_path / "register.csv").open(encoding="utf-8-sig")))
    statuses = sorted(r["status"] for r in register)
    assert statuses.count("returned") == 3 and statuses.count("outstanding") == 9
    assert result.rejected == 0
    levels = list(csv.DictReader((tmp_path / "levels.csv").open(encoding="utf-8-sig")))
    assert {r["partner_id"] for r in levels} == {"NMW-01", "HV-02", "FH-01"}
