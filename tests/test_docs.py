"""Docs generated from the code stay current: docs/findings.md is the table of finding codes, filled."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))


def test_findings_doc_is_current():
    from findings_doc import DOC, render

    assert DOC.read_text(encoding="utf-8") == render(), "run: python scripts/findings_doc.py --write"


def test_every_finding_code_has_an_example_and_is_listed():
    from findings_doc import SAMPLES, SAMPLES_BY_CODE, fields, render

    from eif_xlsx.errors import FINDINGS

    text = render()
    for kind in FINDINGS.values():
        assert f"| `{kind.code}` |" in text
        samples = {**SAMPLES, **SAMPLES_BY_CODE.get(kind.code, {})}
        missing = [name for name in fields(kind.template) if name not in samples]
        assert not missing, f"{kind.code}: give scripts/findings_doc.py a sample for {missing}"


def test_readme_lists_every_finding_code():
    from eif_xlsx.errors import FINDINGS

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert [code for code in FINDINGS if f"`{code}`" not in readme] == []
