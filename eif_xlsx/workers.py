"""The pool of worker processes every stage uses (reading returns, writing workbooks, writing the summary beside
the import): it leaves Ctrl-C to the process that started it, and knows its own processes so that it can kill them.

Ctrl-C reaches every process of the command. A worker interrupted while it takes a task or sends a result leaves
the pool's pipes half-read, and the command hangs in the pool's shutdown; a worker interrupted while it is still
starting prints a traceback. So a worker ignores SIGINT from its first instruction: the pool's processes are started
with SIGINT blocked (held back in the starting process, not lost: it arrives once they are started), and each
ignores it before unblocking it. The process that started the pool is interrupted as usual and stops the pool
(cancelling what has not started, killing what must not finish).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import signal
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor

_WINDOWS_MOST = 61  # processes a ProcessPoolExecutor may have on Windows (it raises ValueError beyond)
_CAN_BLOCK = hasattr(signal, "pthread_sigmask")  # POSIX; on Windows Ctrl-C reaches the console's processes anew


class WorkerPool(ProcessPoolExecutor):
    """A ProcessPoolExecutor whose workers ignore Ctrl-C from the start (see the module), with kill()."""

    def __init__(self, max_workers: int, initializer: Callable | None = None, initargs: tuple = ()):
        self._before = {p.pid for p in multiprocessing.active_children()}
        if sys.platform == "win32":
            max_workers = min(max_workers, _WINDOWS_MOST)
        super().__init__(max_workers=max_workers, initializer=_started, initargs=(initializer, initargs))

    def submit(self, fn, /, *args, **kwargs) -> Future:
        with _held():  # a submit may start the pool's processes (all of them with 'fork', one with others)
            return super().submit(fn, *args, **kwargs)

    def kill(self) -> None:
        """Kill the pool's processes at once (a hung one, or when the command is interrupted)."""
        for proc in multiprocessing.active_children():
            if proc.pid not in self._before:
                proc.kill()


@contextlib.contextmanager
def _held() -> Iterator[None]:
    if not _CAN_BLOCK:
        yield
        return
    before = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, before)


def _started(initializer: Callable | None, initargs: tuple) -> None:
    """A worker's first step: ignore Ctrl-C, then let signals through, then the pool's own set-up."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if _CAN_BLOCK:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    if initializer is not None:
        initializer(*initargs)
