"""Everything an import writes from a consolidation: summary.xlsx, tracker.xlsx, the files for analysts and the
board's report.html/report.pdf.

With two or more processes, a second process writes summary.xlsx and the board's report while this one writes
tracker.xlsx and the flat files (about the same time each). The consolidation goes to it pickled: its returns'
answers and results by the names of their spool files (see spool.py), so whatever the start method ('fork',
'spawn', 'forkserver') it reads them from disk as this process does, and writes the same bytes."""

from __future__ import annotations

import contextlib
import copyreg
import io
import multiprocessing
import os
import pickle
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from eif_xlsx import spool
from eif_xlsx.domain.model import IndicatorSet
from eif_xlsx.report import board, flat, summary, tracker
from eif_xlsx.report.consolidate import Consolidation, ImportResult
from eif_xlsx.template.layout import WorkbookLayout


def write_outputs(
    cons: Consolidation, out: Path, indicators: IndicatorSet | None, *, pdf: bool = True, jobs: int | None = None
) -> ImportResult:
    """Write every output of an import into out; the result lists them, with a note where one was skipped. jobs:
    processes to use (default: one per core); with one, everything is written here, one file after another."""
    if max(1, jobs or os.cpu_count() or 1) < 2:
        summary_path = summary.write_summary(cons, out / "summary.xlsx")
        rest = _tracker_and_flat(cons, out, indicators)
        report = _report(cons, out, pdf)
    else:
        (summary_path, report), rest = _in_two_processes(cons, out, indicators, pdf)
    result = ImportResult(cons, out, [summary_path, *rest, *report.outputs])
    result.notes += report.notes
    return result


def _report(cons: Consolidation, out: Path, pdf: bool) -> board.ReportResult:
    return board.write_report(board.from_consolidation(cons), out, pdf=pdf)  # report.html, report.pdf


def _summary_and_report(cons: Consolidation, out: Path, pdf: bool) -> tuple[Path, board.ReportResult]:
    return summary.write_summary(cons, out / "summary.xlsx"), _report(cons, out, pdf)


def _tracker_and_flat(cons: Consolidation, out: Path, indicators: IndicatorSet | None) -> list[Path]:
    written = []
    if indicators is not None:
        written.append(tracker.write_tracker(indicators, cons.indicator_values, out / "tracker.xlsx"))
    return written + flat.write_flat(cons, out)


def _in_two_processes(
    cons: Consolidation, out: Path, indicators: IndicatorSet | None, pdf: bool
) -> tuple[tuple[Path, board.ReportResult], list[Path]]:
    """summary.xlsx and the report in a second process, tracker.xlsx and the flat files here. An error in either
    is raised here as it was raised there (the summary's first, as when they are written one after the other);
    interrupted, the second process is stopped before this returns."""
    payload = _pickled(cons)
    before = {p.pid for p in multiprocessing.active_children()}
    failed: BaseException | None = None
    with ProcessPoolExecutor(max_workers=1) as pool:
        try:
            other = pool.submit(_summary_and_report_of, payload, out, pdf, spool.scratch_folder())
            try:
                rest = _tracker_and_flat(cons, out, indicators)
            except Exception as exc:  # raised once the other process is done: its error comes first
                failed = exc
            try:
                first = other.result()
            except BrokenProcessPool:  # the process died (killed, out of memory): written here instead
                first = _summary_and_report(cons, out, pdf)
        except (KeyboardInterrupt, SystemExit):
            for proc in multiprocessing.active_children():  # this pool's process: not one that ran before
                if proc.pid not in before:
                    proc.terminate()
            raise
    if failed is not None:
        raise failed
    return first, rest


def _pickled(cons: Consolidation) -> bytes:
    """The consolidation for another process: the spooled parts by file name and offset (spool.py); each layout
    whole (a layout pickles by its digest alone where the receiver may have seen it, template/layout.py, which a
    new process has not)."""
    buf = io.BytesIO()
    pickler = pickle.Pickler(buf, protocol=pickle.HIGHEST_PROTOCOL)
    pickler.dispatch_table = {**copyreg.dispatch_table, WorkbookLayout: _layout_whole}
    pickler.dump(cons)
    return buf.getvalue()


def _layout_whole(layout: WorkbookLayout):
    return (WorkbookLayout.unpack, (layout.pack(),))


def _summary_and_report_of(payload: bytes, out: Path, pdf: bool, folder: str | None) -> tuple[Path, board.ReportResult]:
    """The second process's part: its temporary files in the import's scratch folder, which the import removes."""
    with spool.scratch(folder) if folder else contextlib.nullcontext():
        return _summary_and_report(pickle.loads(payload), out, pdf)
