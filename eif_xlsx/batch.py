"""Read and check many files at once, each isolated: a file that crashes, hangs or eats memory costs only itself."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor, TimeoutError, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path

from .blank import template_grid
from .checks import Report, check
from .errors import finding
from .reader import Return, read_return

WORKER_MEMORY = 1536 * 1024 * 1024  # address-space cap for one reading process
FILE_SECONDS = 60

SKIP_NAMES = {"manifest.csv", "summary.xlsx", "tracker.xlsx", "levels.csv", "answers.csv", "findings.csv",
              "indicators.csv", "summary.json", "registers.csv"}


@dataclass(frozen=True)
class Source:
    """A file to read: its path on disk, the name to report, and the sender when it came out of an email."""

    path: str
    name: str
    sender: str = ""


def expand(paths: Iterable[Path | str]) -> list[Path]:
    """Files given, and the files inside folders given (recursively), in a stable order."""
    out: list[Path] = []
    for p in paths:
        p = Path(p)
        if p.is_dir():
            for f in sorted(p.rglob("*")):
                if f.is_file() and not f.name.startswith((".", "~$")) and f.name not in SKIP_NAMES \
                        and not any(part.startswith(".") for part in f.relative_to(p).parts[:-1]):
                    out.append(f)
        else:
            out.append(p)
    return out


def _limit_memory() -> None:
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (WORKER_MEMORY, WORKER_MEMORY))
    except (ImportError, ValueError, OSError):
        pass


def _work(source: Source, expected_matrix: str | None, partners_by_email: dict[str, str]) -> Report:
    ret = read_return(source.path, display_name=source.name, template=template_grid)
    ret.sender = source.sender
    return slim(check(ret, expected_matrix=expected_matrix, partners_by_email=partners_by_email))


def slim(report: Report) -> Report:
    """What travels back from a worker: blank inputs, the layout's text in the metadata and the definition stay
    behind (the layout itself travels as a reference to a shared copy)."""
    ret = report.ret
    ret.answers = [a for a in ret.answers if a.raw is not None or a.formula or a.problem]
    ret.metadata = {k: v for k, v in ret.metadata.items() if not k.startswith("layout_")}
    ret.__dict__.pop("_idx", None)
    report.matrix = None
    return report


def _warm() -> None:
    """Load what every worker needs once, before the pool forks, so that each worker starts warm."""
    from .catalog import Catalog

    catalog = Catalog.default()
    for matrix in catalog.matrices():
        template_grid(matrix, None)
        for entry in catalog.entries.values():
            if entry.kind == "indicators":
                template_grid(matrix, entry.definition)


def _crashed(source: Source, why: str) -> Report:
    ret = Return(source.path, source.name, sender=source.sender)
    ret.findings.append(finding("damaged", source.name, detail=why))
    return Report(source.name, source.path, ret, findings=list(ret.findings))


def run(sources: list[Source], *, jobs: int | None = None, expected_matrix: str | None = None,
        partners_by_email: dict[str, str] | None = None,
        progress: Callable[[int], None] | None = None) -> list[Report]:
    """Reports in the order of `sources`."""
    partners_by_email = partners_by_email or {}
    jobs = max(1, jobs or os.cpu_count() or 1)
    if not sources:
        return []
    if len(sources) >= 8:
        _warm()
    results: dict[int, Report] = {}
    pending = list(range(len(sources)))
    workers = min(jobs, max(1, len(sources)))
    # First pass: a shared pool. Files it leaves (a worker died, or the batch ran out of time) are retried one
    # process each, where a hang or a crash can be pinned on its file.
    pool = ProcessPoolExecutor(max_workers=workers, initializer=_limit_memory)
    try:
        futures = {pool.submit(_work, sources[i], expected_matrix, partners_by_email): i for i in pending}
        budget = FILE_SECONDS * (1 + len(sources) // workers)
        for fut in as_completed(futures, timeout=budget):
            i = futures[fut]
            try:
                results[i] = fut.result()
            except BrokenProcessPool:
                break
            except MemoryError:
                results[i] = _crashed(sources[i], "reading it needed more memory than a return can")
            except (KeyboardInterrupt, SystemExit):
                raise
            except BaseException as exc:  # a bug or an unforeseen file: report it, keep the batch
                results[i] = _crashed(sources[i], f"{type(exc).__name__}: {exc}")
            if progress:
                progress(1)
    except (BrokenProcessPool, TimeoutError):
        _kill(pool)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    for i in [i for i in pending if i not in results]:
        results[i] = _isolated(sources[i], expected_matrix, partners_by_email)
        if progress:
            progress(1)
    return [results[i] for i in range(len(sources))]


def _isolated(source: Source, expected_matrix: str | None, partners_by_email: dict[str, str]) -> Report:
    pool = ProcessPoolExecutor(max_workers=1, initializer=_limit_memory)
    try:
        return pool.submit(_work, source, expected_matrix, partners_by_email).result(timeout=FILE_SECONDS)
    except TimeoutError:
        _kill(pool)
        return _crashed(source, f"reading it took longer than {FILE_SECONDS} seconds")
    except BrokenProcessPool:
        return _crashed(source, "the reader crashed on it (out of memory or a corrupt part)")
    except MemoryError:
        return _crashed(source, "reading it needed more memory than a return can")
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:
        return _crashed(source, f"{type(exc).__name__}: {exc}")
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _kill(pool: ProcessPoolExecutor) -> None:
    for proc in list(getattr(pool, "_processes", {}).values()):
        proc.kill()
