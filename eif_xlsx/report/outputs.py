"""Everything an import writes from a consolidation: summary.xlsx, tracker.xlsx, the files for analysts and the
board's report.html/report.pdf."""

from __future__ import annotations

from pathlib import Path

from eif_xlsx.domain.model import IndicatorSet
from eif_xlsx.report import board, flat, summary, tracker
from eif_xlsx.report.consolidate import Consolidation, ImportResult


def write_outputs(cons: Consolidation, out: Path, indicators: IndicatorSet | None, *, pdf: bool = True) -> ImportResult:
    """Write every output of an import into out; the result lists them, with a note where one was skipped."""
    outputs = [summary.write_summary(cons, out / "summary.xlsx")]
    if indicators is not None:
        outputs.append(tracker.write_tracker(indicators, cons.indicator_values, out / "tracker.xlsx"))
    outputs += flat.write_flat(cons, out)
    result = ImportResult(cons, out, outputs)
    report = board.write_report(board.from_consolidation(cons), out, pdf=pdf)  # report.html, report.pdf
    result.outputs += report.outputs
    result.notes += report.notes
    return result
