"""Everything an import writes from a consolidation: summary.xlsx, tracker.xlsx, the files for analysts and the
board's report.html/report.pdf.

With two or more processes, a second process writes summary.xlsx and the board's report while this one writes
tracker.xlsx and the flat files (about the same time each). It is started before the returns are read
(SummaryAndReportWriter), so that it is ready when they have been, and a forked one does not carry this process's round in
its memory. The consolidation goes to it pickled, in a file of the run's scratch folder: its returns' answers and
results by the names of their spool files (see spool.py), so whatever the start method ('fork', 'spawn',
'forkserver') it reads them from disk as this process does, and writes the same bytes."""

from __future__ import annotations

import contextlib
import io
import os
import pickle
import tempfile
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import IO

from eif_xlsx import spool
from eif_xlsx.domain.model import IndicatorSet
from eif_xlsx.intake.checks import Report
from eif_xlsx.report import board, flat, summary, tracker
from eif_xlsx.report.consolidate import Consolidation, ImportResult
from eif_xlsx.template.layout import WorkbookLayout
from eif_xlsx.workers import WorkerPool


class SummaryAndReportWriter:
    """The process that writes summary.xlsx and the board's report beside this one (write_outputs), with two or
    more jobs; else nothing. Start it before the returns are read (api.consolidate does): it then gets ready
    (imports the writers, or is forked while this process is still small) while they are read, and is waiting
    when the outputs start. Leaving the block stops it: at once when interrupted (Ctrl-C, SIGTERM)."""

    def __init__(self, jobs: int | None = None):
        self.pool: WorkerPool | None = None
        if max(1, jobs or os.cpu_count() or 1) >= 2:
            self.pool = WorkerPool(max_workers=1, initializer=_ready)
            self.pool.submit(int)  # a pool starts its process with its first task

    def __enter__(self) -> SummaryAndReportWriter:
        return self

    def __exit__(self, kind, value, traceback) -> None:
        if self.pool is None:
            return
        if kind is not None and issubclass(kind, KeyboardInterrupt | SystemExit):
            self.pool.kill()  # its process ignores Ctrl-C (workers.py): stopped here, at once
        self.pool.shutdown(wait=True, cancel_futures=True)


def _ready() -> None:
    """The second process's start: unpickling this imported the writers (this module's imports) while the returns
    are read, whatever the start method."""


def write_outputs(
    cons: Consolidation,
    out: Path,
    indicators: IndicatorSet | None,
    *,
    pdf: bool = True,
    jobs: int | None = None,
    beside: SummaryAndReportWriter | None = None,
) -> ImportResult:
    """Write every output of an import into out; the result lists them, with a note where one was skipped. jobs:
    processes to use (default: one per core); with one, everything is written here, one file after another.
    beside: the SummaryAndReportWriter to use, started earlier (else one is started here)."""
    if beside is None:
        with SummaryAndReportWriter(jobs) as started:
            return write_outputs(cons, out, indicators, pdf=pdf, beside=started)
    if beside.pool is None:
        (summary_path, report), rest = _summary_and_report(cons, out, pdf), _tracker_and_flat(cons, out, indicators)
    else:
        (summary_path, report), rest = _in_two_processes(cons, out, indicators, pdf, beside.pool)
    result = ImportResult(cons, out, [summary_path, *rest, *report.outputs])
    result.notes += report.notes
    return result


def _summary_and_report(cons: Consolidation, out: Path, pdf: bool) -> tuple[Path, board.ReportResult]:
    """summary.xlsx, then the board's report.html and report.pdf."""
    summary_path = summary.write_summary(cons, out / "summary.xlsx")
    return summary_path, board.write_report(board.from_consolidation(cons), out, pdf=pdf)


def _tracker_and_flat(cons: Consolidation, out: Path, indicators: IndicatorSet | None) -> list[Path]:
    written = []
    if indicators is not None:
        written.append(tracker.write_tracker(indicators, cons.indicator_values, out / "tracker.xlsx"))
    return written + flat.write_flat(cons, out)


def _in_two_processes(
    cons: Consolidation, out: Path, indicators: IndicatorSet | None, pdf: bool, pool: WorkerPool
) -> tuple[tuple[Path, board.ReportResult], list[Path]]:
    """summary.xlsx and the report in the second process, tracker.xlsx and the flat files here. An error in either
    is raised here as it was raised there (the summary's first, as when they are written one after the other)."""
    failed: BaseException | None = None
    folder = spool.scratch_folder()
    try:
        if folder is None:
            other = pool.submit(_summary_and_report_of, _pickled(cons), out, pdf, None)
        else:  # the consolidation in a file (it need not be in this process's memory as a whole)
            with tempfile.NamedTemporaryFile(dir=folder, suffix=".consolidation", delete=False) as fh:
                _pickle_to(cons, fh)
            other = pool.submit(_summary_and_report_of, fh.name, out, pdf, folder)
    except BrokenProcessPool:  # it died while the returns were read: everything here
        other = None
    try:
        rest = _tracker_and_flat(cons, out, indicators)
    except Exception as exc:  # raised once the other process is done: its error comes first
        failed = exc
    try:
        if other is None:
            raise BrokenProcessPool
        first = other.result()
    except BrokenProcessPool:  # the process died (killed, out of memory): written here instead
        first = _summary_and_report(cons, out, pdf)
    if failed is not None:
        raise failed
    return first, rest


def _pickled(cons: Consolidation) -> bytes:
    """The consolidation for another process, as bytes (see _pickle_to)."""
    buf = io.BytesIO()
    _pickle_to(cons, buf)
    return buf.getvalue()


def _pickle_to(cons: Consolidation, fh: IO[bytes]) -> None:
    """The consolidation for another process, written to fh as pickles: each layout (whole: a layout pickles by its
    digest alone where the receiver may have seen it, template/layout.py, which a new process has not), then each
    report on its own (what is pickled is remembered until the end of a pickle: one report's worth at a time),
    then the rest, which names them. Spooled parts travel by file name and offset (spool.py)."""
    layouts: dict[int, int] = {}
    reports: dict[int, int] = {}
    names = _Names(layouts, reports)
    every = [r.ret.layout for r in cons.reports if r.ret.layout is not None]
    distinct = list({id(x): x for x in every}.values())
    pickle.dump([x.pack() for x in distinct], fh, protocol=pickle.HIGHEST_PROTOCOL)
    layouts.update((id(x), i) for i, x in enumerate(distinct))
    pickle.dump(len(cons.reports), fh, protocol=pickle.HIGHEST_PROTOCOL)
    for i, report in enumerate(cons.reports):
        names.pickler(fh).dump(report)
        reports[id(report)] = i
    names.pickler(fh).dump(cons)


class _Names:
    """Layouts and reports already written, named by their number (persistent ids)."""

    def __init__(self, layouts: dict[int, int], reports: dict[int, int]):
        self.layouts, self.reports = layouts, reports

    def pickler(self, fh: IO[bytes]) -> pickle.Pickler:
        pickler = pickle.Pickler(fh, protocol=pickle.HIGHEST_PROTOCOL)
        pickler.persistent_id = self.persistent_id  # type: ignore[method-assign]
        return pickler

    def persistent_id(self, obj):
        if isinstance(obj, WorkbookLayout):
            return ("layout", self.layouts[id(obj)])
        if isinstance(obj, Report) and id(obj) in self.reports:
            return ("report", self.reports[id(obj)])
        return None


def _unpickle_from(fh: IO[bytes]) -> Consolidation:
    layouts = [WorkbookLayout.unpack(chunks) for chunks in pickle.load(fh)]
    reports: list[Report] = []

    def persistent_load(pid):
        kind, i = pid
        return layouts[i] if kind == "layout" else reports[i]

    def unpickler() -> pickle.Unpickler:
        got = pickle.Unpickler(fh)
        got.persistent_load = persistent_load  # type: ignore[method-assign]
        return got

    for _ in range(pickle.load(fh)):
        reports.append(unpickler().load())
    return unpickler().load()


def _summary_and_report_of(
    payload: bytes | str, out: Path, pdf: bool, folder: str | None
) -> tuple[Path, board.ReportResult]:
    """The second process's part, from the consolidation (_pickle_to's bytes, or the file it wrote): its temporary
    files in the import's scratch folder, which the import removes."""
    with spool.scratch(folder) if folder else contextlib.nullcontext():
        if isinstance(payload, bytes):
            cons = _unpickle_from(io.BytesIO(payload))
        else:
            with open(payload, "rb") as fh:
                cons = _unpickle_from(fh)
        return _summary_and_report(cons, out, pdf)
