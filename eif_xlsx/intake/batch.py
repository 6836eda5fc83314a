"""Read and check many files at once, each isolated: a file that crashes, hangs or eats memory costs only itself."""

from __future__ import annotations

import os
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, TimeoutError, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

from eif_xlsx.domain.catalog import Catalog
from eif_xlsx.domain.model import IndicatorSet
from eif_xlsx.domain.scoring import Scores, positions
from eif_xlsx.errors import debug_log, finding, internal_error, set_debug_log
from eif_xlsx.intake.blank import preload, template_grid
from eif_xlsx.intake.checks import Report, check
from eif_xlsx.intake.reader import Return, read_return
from eif_xlsx.intake.sources import Opened, Source, attachment_folder, open_email
from eif_xlsx.spool import Spool, Spooled, SpooledMap
from eif_xlsx.texts import texts_of
from eif_xlsx.workers import WorkerPool

WORKER_MEMORY = 1536 * 1024 * 1024  # address-space cap for one reading process
FILE_SECONDS = 60
CHUNK = 4  # files in one task of the pool, at most (see run)
STOP_SECONDS = 5  # interrupted, the files being read are let finish this long (see _stop)
# What an import writes (and the manifest): never read as a return when a folder is read again (a test checks).
SKIP_NAMES = {
    "manifest.csv",
    "summary.xlsx",
    "tracker.xlsx",
    "levels.csv",
    "answers.csv",
    "findings.csv",
    "indicators.csv",
    "summary.json",
    "register.csv",
    "report.html",
    "report.pdf",
}


def expand(paths: Iterable[Path | str]) -> list[Path]:
    """Files given, and the files inside folders given (recursively), in a stable order."""
    out: list[Path] = []
    for p in paths:
        p = Path(p)
        if p.is_dir():
            for f in sorted(p.rglob("*")):
                if (
                    f.is_file()
                    and not f.name.startswith((".", "~$"))
                    and f.name not in SKIP_NAMES
                    and not any(part.startswith(".") for part in f.relative_to(p).parts[:-1])
                ):
                    out.append(f)
        else:
            out.append(p)
    return out


def _limit_memory() -> None:
    try:
        import resource  # not on Windows: there the workers run without a memory cap

        resource.setrlimit(resource.RLIMIT_AS, (WORKER_MEMORY, WORKER_MEMORY))
    except (ImportError, ValueError, OSError):
        pass


@dataclass(frozen=True)
class Context:
    """What every file of a batch is read and checked against: sent once to each worker process, not with each
    file (the manifest's partner list grows with the round)."""

    catalog: Catalog
    expected_matrix: str | None = None
    partners_by_email: dict[str, str] = field(default_factory=dict)
    debug_log: Path | None = None
    attachments: str = ""  # the folder the workbooks taken out of e-mails are written to (sources.open_email)


_CONTEXT: list[Context] = []  # this worker's, set once by _start_worker


def _start_worker(context: Context) -> None:
    """Set up a worker process once: its memory cap, the batch's context and the --debug log (it ignores Ctrl-C, as
    every WorkerPool's worker does: the batch stops its workers itself, _stop)."""
    _limit_memory()
    _CONTEXT[:] = [context]
    set_debug_log(context.debug_log)


def _work(source: Source) -> Report | Opened:
    """A workbook read and checked, or an e-mail opened (its workbooks are then read as sources of their own)."""
    context = _CONTEXT[0]
    if source.is_email:
        if not context.attachments:
            raise RuntimeError("no folder for the attachments of e-mails in this batch's context")
        return open_email(source, Path(context.attachments))
    ret = read_return(source.path, context.catalog, display_name=source.name, template=template_grid)
    ret.sender, ret.sent = source.sender, source.sent
    return slim(
        check(
            ret, context.catalog, expected_matrix=context.expected_matrix, partners_by_email=context.partners_by_email
        )
    )


def _work_many(sources: list[Source]) -> list[Report | Opened]:
    """Several files in one task, each on its own: a file that fails is reported as damaged, as _collect would
    report a task of one (a worker that dies or hangs still costs the task: its files are retried one by one)."""
    reports: list[Report | Opened] = []
    for source in sources:
        try:
            reports.append(_work(source))
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as exc:
            reports.append(_failed(source, exc))
    return reports


def _failed(source: Source, exc: BaseException) -> Report:
    """The report of a file whose reading raised: a bug or an unforeseen file costs only that file."""
    if isinstance(exc, MemoryError):
        return _crashed(source, f"{_doing(source)} needed more memory than a return can")
    ret = Return(source.path, source.name, sender=source.sender, sent=source.sent)
    ret.findings.append(internal_error(source.name, exc))
    return Report(source.name, source.path, ret, findings=list(ret.findings))


def slim(report: Report) -> Report:
    """What travels back from a worker: blank inputs, the layout's text and the checksum in the metadata, and the
    definition stay behind (the layout itself travels whole once, then by its digest: see layout._SEEN); the
    answers travel pickled once, ready to be spooled to disk in the main process, as do the results (spool.py) and
    what the outputs would otherwise read every answer again for (the indicator values, the summary's texts)."""
    ret = report.ret
    ret.answers = [a for a in ret.answers if a.raw is not None or a.formula or a.problem]
    ret.indicators = Spooled.pack(ret.indicator_values(ret.answers))
    ret.texts = Spooled.pack(texts_of([*ret.answers, *ret.extra]))
    ret.answers, ret.extra = Spooled.pack(ret.answers), Spooled.pack(ret.extra)
    report.scores = Scores(report.results)
    report.results = SpooledMap.pack(report.results)
    ret.metadata = {k: v for k, v in ret.metadata.items() if not k.startswith("layout_") and k != "checksum"}
    ret._idx = None  # our own Return's lookup index, made again where needed
    report.matrix = None
    return report


def _warm(catalog: Catalog) -> None:
    """Load the blank templates kept on disk (blank.preload) once in this process: where the workers are forked
    they start with them; otherwise each loads the templates it needs from disk (~2 ms)."""
    preload(
        catalog.matrices(), [e.definition for e in catalog.entries.values() if isinstance(e.definition, IndicatorSet)]
    )


def _crashed(source: Source, why: str) -> Report:
    """A file whose reader crashed or ran out of time: 'damaged', or for an e-mail 'not-a-workbook', as for an e-mail
    that cannot be read (sources.open_email)."""
    ret = Return(source.path, source.name, sender=source.sender, sent=source.sent)
    ret.findings.append(finding("not-a-workbook" if source.is_email else "damaged", source.name, detail=why))
    return Report(source.name, source.path, ret, findings=list(ret.findings))


def _doing(source: Source) -> str:
    return "opening the e-mail" if source.is_email else "reading"


def run(
    sources: list[Source],
    *,
    catalog: Catalog | None = None,
    jobs: int | None = None,
    expected_matrix: str | None = None,
    partners_by_email: dict[str, str] | None = None,
    progress: Callable[[int], None] | None = None,
    workdir: Path | None = None,
) -> list[Report]:
    """A report for each workbook: first those of e-mails that could not be opened (damaged, or crashing or hanging
    their reader) or held no workbook, in the order of `sources`; then one per workbook in the order of `sources`, an
    e-mail's attachments in its place.

    A saved e-mail among the sources is opened in a worker too (its attachments written to a folder in workdir, or
    the temporary directory: see sources.attachment_folder), and each workbook in it read as a source of its own.
    progress is called with the number of `sources` just done (an e-mail once all its workbooks are)."""
    catalog = catalog or Catalog.default()
    jobs = max(1, jobs or os.cpu_count() or 1)
    if not sources:
        return []
    if len(sources) >= 8:
        _warm(catalog)
    emails = sum(s.is_email for s in sources)
    batch = _Batch(sources, progress)
    context = Context(
        catalog,
        expected_matrix,
        partners_by_email or {},
        debug_log(),
        str(attachment_folder(workdir)) if emails else "",
    )
    # An e-mail's workbooks are not known before it is opened: it counts as a task's worth (most hold one).
    workers = min(jobs, len(sources) + (CHUNK - 1) * emails)
    # First pass: a shared pool. Files it leaves (a worker died, or the batch ran out of time) are retried one
    # process each, where a hang or a crash can be pinned on its file.
    pool = WorkerPool(max_workers=workers, initializer=_start_worker, initargs=(context,))
    deadline = time.monotonic() + FILE_SECONDS * (1 + len(sources) // workers)
    last = time.monotonic()  # when a task last finished
    pending = batch.pending
    in_flight: dict[Future, list[int]] = {}
    try:
        while True:
            # A few files per worker at a time (memory holds the reports, not a future per file of the round),
            # several to a task while many are left: each task costs the pool ~0.3 ms of this process's time.
            while pending and len(in_flight) < 2 * workers:
                size = max(1, min(CHUNK, len(pending) // (4 * workers)))
                chunk = [pending.popleft() for _ in range(size)]
                in_flight[pool.submit(_work_many, [batch.sources[i] for i in chunk])] = chunk
            if not in_flight:
                break
            # Stopped when the batch runs out of time, or when no task has finished for as long as a whole task may
            # take: a file that hangs is not waited for until the batch's end once the others are read.
            limit = min(deadline, last + FILE_SECONDS * CHUNK)
            done, _ = wait(in_flight, timeout=max(0.0, limit - time.monotonic()), return_when=FIRST_COMPLETED)
            if not done:
                raise TimeoutError
            last = time.monotonic()
            broken = False
            for fut in done:
                added = len(pending)
                if _collect(fut, in_flight.pop(fut), batch):
                    broken = True
                if len(pending) > added:  # an e-mail's workbooks, read once it is opened
                    deadline += FILE_SECONDS * (1 + (len(pending) - added) // workers)
            if broken:
                break
    except (BrokenProcessPool, TimeoutError):
        pool.kill()
    except KeyboardInterrupt:
        _stop(pool, in_flight)
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    pending.clear()
    pending.extend(i for i in range(len(batch.sources)) if not batch.done(i))
    while pending:  # what the pool left, each alone (an e-mail's workbooks too, once it is opened)
        i = pending.popleft()
        batch.take(i, _isolated(batch.sources[i], context))
    return batch.reports()


class _Batch:
    """The sources of a run as they grow (an e-mail opened adds its workbooks), what each gave, and the order the
    reports are given back in."""

    def __init__(self, sources: list[Source], progress: Callable[[int], None] | None):
        self.sources = list(sources)
        self.progress = progress
        self.order = [(i, 0) for i in range(len(sources))]  # (the given source, attachment number) of each
        self.waiting = [1] * len(sources)  # per given source: sources of it not yet done
        self.results: dict[int, Report] = {}
        self.problems: dict[int, Report] = {}  # an e-mail's own report, by its index
        self.opened: set[int] = set()
        self.pending = deque(range(len(sources)))
        self.spool = Spool()

    def done(self, i: int) -> bool:
        return i in self.results or i in self.opened

    def take(self, i: int, got: Report | Opened) -> None:
        if isinstance(got, Opened):
            self.opened.add(i)
            if got.problem is not None:
                self.problems[i] = got.problem
            for k, source in enumerate(got.found, start=1):
                self.pending.append(len(self.sources))
                self.sources.append(source)
                self.order.append((i, k))
            self.waiting[i] += len(got.found)
        elif self.sources[i].is_email:  # it could not be opened (it crashed or hung its reader)
            self.opened.add(i)
            self.problems[i] = got
        else:
            self.results[i] = _spooled(got, self.spool)
        given = self.order[i][0]
        self.waiting[given] -= 1
        if self.waiting[given] == 0 and self.progress:
            self.progress(1)

    def reports(self) -> list[Report]:
        got = sorted(self.results, key=self.order.__getitem__)
        return [self.problems[i] for i in sorted(self.problems)] + [self.results[i] for i in got]


def _stop(pool: WorkerPool, in_flight: Iterable[Future]) -> None:
    """Interrupted: the files not started are dropped; those being read are let finish for a moment (a worker
    killed while it sends a result would leave the pool waiting for the rest of it), then any worker still busy
    (a file that hangs) is killed."""
    for fut in in_flight:
        fut.cancel()
    _, busy = wait(in_flight, timeout=STOP_SECONDS)
    if busy:
        pool.kill()


def _collect(fut: Future, chunk: list[int], batch: _Batch) -> bool:
    """Take a finished task's reports into the batch; True if the pool broke (its files are then retried alone)."""
    try:
        reports = fut.result()
    except BrokenProcessPool:
        return True
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # a bug or an unforeseen file: report it, keep the batch
        reports = [_failed(batch.sources[i], exc) for i in chunk]
    for i, report in zip(chunk, reports, strict=True):
        batch.take(i, report)
    return False


_LAST: dict[str, str] = {}  # metadata key -> the value last kept (see Metadata)


class Metadata(Mapping):
    """A return's metadata, read-only, in a fraction of a dict's memory: the keys (the same in every return of a
    round) are stored once for all returns, the values in a tuple, the repeated ones once."""

    __slots__ = ("_at", "_values")

    def __init__(self, items: Mapping[str, str]):
        self._at = positions(tuple(items))
        # A value the same as the last return's is kept once (the definition, round, area, ...). The partner's own
        # values are not interned: interning a round of unique texts costs more than it saves.
        values = []
        for key, value in items.items():
            last = _LAST.get(key)
            if last == value:
                value = last
            else:
                _LAST[key] = value
            values.append(value)
        self._values = tuple(values)

    def __getitem__(self, key: str) -> str:
        return self._values[self._at[key]]

    def __iter__(self):
        return iter(self._at)

    def __len__(self) -> int:
        return len(self._at)

    def __reduce__(self):
        return (Metadata, (dict(self),))


def _spooled(report: Report, spool: Spool) -> Report:
    """A worker's report as the main process keeps it: its answers and results in the spool file, its metadata
    compact."""
    ret = report.ret
    # Read-only from here on; reader.Return.metadata is typed as the dict the reader fills.
    ret.metadata = cast("dict[str, str]", Metadata(ret.metadata))
    spool.keep(ret.answers, ret.extra, ret.texts, ret.indicators, report.results)
    return report


def _isolated(source: Source, context: Context) -> Report | Opened:
    pool = WorkerPool(max_workers=1, initializer=_start_worker, initargs=(context,))
    future: Future | None = None
    try:
        future = pool.submit(_work, source)
        return future.result(timeout=FILE_SECONDS)
    except TimeoutError:
        pool.kill()
        return _crashed(source, f"{_doing(source)} took longer than {FILE_SECONDS} seconds")
    except BrokenProcessPool:
        return _crashed(source, f"{_doing(source)} crashed its reader (out of memory or a corrupt part)")
    except KeyboardInterrupt:
        _stop(pool, [future] if future else [])
        raise
    except SystemExit:
        raise
    except BaseException as exc:
        return _failed(source, exc)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
