"""A return's answers and results kept on disk, not in memory, between reading it and writing the outputs.

A worker pickles a return's answers and results once (`Spooled.pack`, `SpooledMap.pack`); the bytes travel to the
main process inside the report and are written there to one spool file (`Spool.keep`), so that the main process
holds a few hundred bytes per return whatever the size of the round. Consumers use `ret.answers` and
`report.results` as a list and a dict, as before: reading one loads it back from the file. The last few loaded are
cached, so a consumer working through the returns one at a time loads each once per pass.

Spool files are named files: in the folder of the `scratch()` block they were made in (an import makes one, and
removes it when it ends, however it ends), else in the system's temporary folder, each deleted once nothing refers
to it. A spooled value, a `Rows` list, and so a whole consolidation, therefore travel to another process (whatever
its start method) as a file name and offsets, and are read there from the file, read-only.
"""

from __future__ import annotations

import contextlib
import heapq
import io
import os
import pickle
import shutil
import tempfile
import weakref
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextvars import ContextVar
from typing import IO, Any

_RECENT = 4  # packed values that stay loaded: the outputs work on one return at a time


class _Scratch:
    """The folder of a scratch() block, and the spool files made in it."""

    def __init__(self, folder: str | None = None) -> None:
        self.path = folder or tempfile.mkdtemp(prefix="eif-xlsx-run-")
        self.pid = os.getpid()
        self.files: weakref.WeakSet[_File] = weakref.WeakSet()


_SCRATCH: ContextVar[_Scratch | None] = ContextVar("eif_xlsx_spool_scratch", default=None)


@contextlib.contextmanager
def scratch(folder: str | None = None) -> Iterator[str]:
    """A folder for the spool files (and other temporary files, see scratch_folder) made in this block, in this
    thread, removed with them when the block ends: done, failed or interrupted. A value spooled in the block stays
    readable in this process after it (through the open file; on POSIX systems), but then travels to another
    process as its bytes, no longer by name. folder: the folder of another process's block, for a process working
    for it: what is made here goes there, and that block removes it."""
    made = _Scratch(folder)
    token = _SCRATCH.set(made)
    try:
        yield made.path
    finally:
        _SCRATCH.reset(token)
        if folder is None and os.getpid() == made.pid:  # not in a process forked inside: the folder is its parent's
            for f in list(made.files):
                f.unlink()
            shutil.rmtree(made.path, ignore_errors=True)


def scratch_folder() -> str | None:
    """The folder of the scratch() block this runs in (None outside one): for temporary files that should go
    with the run's, e.g. XlsxWriter's tmpdir."""
    where = _SCRATCH.get()
    return where.path if where else None


def _close(fh: IO[bytes], path: str | None, pid: int) -> None:
    fh.close()
    if path is not None and os.getpid() == pid:  # a forked child drops its copy; the file is its parent's
        with contextlib.suppress(OSError):
            os.unlink(path)


class _File:
    """A named spool file. In the process that made it, open to append and read, and deleted once nothing refers to
    it (or when its scratch block ends); sent to another process, by its name, and opened there read-only."""

    __slots__ = ("fh", "path", "__weakref__")

    def __init__(self, fh: IO[bytes], path: str, owned: bool):
        self.fh: IO[bytes] = fh
        self.path: str | None = path
        weakref.finalize(self, _close, fh, path if owned else None, os.getpid())

    @classmethod
    def create(cls, suffix: str, buffering: int = -1) -> _File:
        where = _SCRATCH.get()
        fd, path = tempfile.mkstemp(prefix="eif-xlsx-", suffix=suffix, dir=where.path if where else None)
        try:
            fh = os.fdopen(fd, "w+b", buffering=buffering)
        except BaseException:
            os.close(fd)
            os.unlink(path)
            raise
        made = cls(fh, path, owned=True)
        if where is not None:
            where.files.add(made)
        return made

    def unlink(self) -> None:
        """Delete the file's name: still read here through the open file, no longer sent to another by name."""
        path, self.path = self.path, None
        if path is not None:
            with contextlib.suppress(OSError):  # Windows: not while open; _close deletes it later
                os.unlink(path)

    def __reduce__(self):
        if self.path is None:
            raise pickle.PicklingError("a spool file whose scratch folder is gone cannot be sent by name")
        if self.fh.writable():
            self.fh.flush()  # what was appended is in the file for the reader
        return (_opened, (self.path,))


_OPENED: weakref.WeakValueDictionary[str, _File] = weakref.WeakValueDictionary()


def _opened(path: str) -> _File:
    """A spool file sent by name, opened read-only (once per process while it is in use)."""
    got = _OPENED.get(path)
    if got is None:
        got = _OPENED[path] = _File(open(path, "rb"), path, owned=False)  # noqa: SIM115 (closed by _File)
    return got


def _pread(fh: IO[bytes], offset: int, length: int) -> bytes:
    """Bytes of a file at an offset: with os.pread where there is one, so that no file position is shared with
    anyone else reading the file."""
    if hasattr(os, "pread"):
        return os.pread(fh.fileno(), length, offset)
    fh.seek(offset)  # Windows: no pread
    return fh.read(length)


class _Packed:
    """A value held as its pickle: in memory while it travels, then at an offset of a spool file."""

    # Where it is in the spool: the file, and the offset and length as one number (offset << 32 | length): a round
    # keeps several per return in memory.
    __slots__ = ("_blob", "_file", "_span", "_count")
    _cache: OrderedDict[int, tuple[_Packed, Any, dict]] = OrderedDict()  # id -> (itself, value, index)

    def __init__(self, blob: bytes, count: int):
        self._blob: bytes | None = blob
        self._file: _File | None = None
        self._span = 0
        self._count = count

    @classmethod
    def pack(cls, value):
        """Pickle a list or dict once; an empty one stays as it is (an empty list as the one empty tuple)."""
        if not value:
            return () if isinstance(value, list) else value
        return cls(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL), len(value))

    def _bytes(self) -> bytes:
        if self._blob is not None:
            return self._blob
        assert self._file is not None  # Spool.keep set it when it took the bytes
        return _pread(self._file.fh, self._span >> 32, self._span & 0xFFFFFFFF)

    def _loaded(self) -> tuple[_Packed, Any, dict]:
        hit = self._cache.get(id(self))
        if hit is not None and hit[0] is self:
            self._cache.move_to_end(id(self))
            return hit
        hit = self._cache[id(self)] = (self, pickle.loads(self._bytes()), {})
        while len(self._cache) > _RECENT:
            self._cache.popitem(last=False)
        return hit

    def load(self):
        return self._loaded()[1]

    def __reduce__(self):
        # Travels (to another process, or as a copy) as where it is in its spool file while that file has a name,
        # else as its bytes; never as an open file.
        if self._blob is None and self._file is not None and self._file.path is not None:
            return (_at, (type(self), self._file, self._span, self._count))
        return (type(self), (self._bytes(), self._count))

    def __len__(self) -> int:
        return self._count

    def __iter__(self) -> Iterator:
        return iter(self.load())

    def __getitem__(self, key):
        return self.load()[key]

    def __eq__(self, other: object) -> bool:
        return self.load() == (other.load() if isinstance(other, _Packed) else other)

    # Not hashable: defining __eq__ without __hash__ makes Python set __hash__ to None.


def _at(cls: type[_Packed], file: _File, span: int, count: int) -> _Packed:
    value = cls.__new__(cls)
    value._blob, value._file, value._span, value._count = None, file, span, count
    return value


class Spooled(_Packed, Sequence):
    """A read-only list (a return's answers)."""

    __slots__ = ()

    def by_key(self) -> dict:
        """The answers by key (field, sub_element, item, column), cached with the loaded list."""
        _, items, idx = self._loaded()
        if not idx and items:
            idx.update((a.key, a) for a in items)
        return idx


class SpooledMap(_Packed, Mapping):
    """A read-only dict (a report's results)."""

    __slots__ = ()

    def __contains__(self, key: object) -> bool:
        return key in self.load()


class Spool:
    """One spool file for the packed values of a batch; the file is deleted once nothing refers to it."""

    def __init__(self) -> None:
        # Unbuffered: what is written is in the file at once, for pread (see _pread).
        self._file = _File.create(".spool", buffering=0)

    def keep(self, *values) -> None:
        """Move packed values' bytes to the file, in one write (anything else is left as it is)."""
        packed = [(v, v._blob) for v in values if isinstance(v, _Packed) and v._blob is not None]
        if not packed:
            return
        if any(len(blob) > 0xFFFFFFFF for _, blob in packed):
            raise ValueError("a packed value over 4 GiB")  # never: a return's parts are capped far below
        fh = self._file.fh
        where = fh.seek(0, 2)
        blobs = []
        for v, blob in packed:
            v._file, v._span = self._file, where << 32 | len(blob)
            where += len(blob)
            blobs.append(blob)
            v._blob = None
        data = memoryview(b"".join(blobs) if len(blobs) > 1 else blobs[0])
        while data:  # unbuffered: a write may take part of it
            written = fh.write(data)
            if not written:
                raise OSError("the spool file takes no more bytes")
            data = data[written:]


class _Region(io.RawIOBase):
    """Part of a file, read from its own position whoever else reads the file (os.pread), for a buffered reader."""

    def __init__(self, fh: IO[bytes], start: int, end: int):
        self._fh, self._at, self._end = fh, start, end

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        want = min(len(buffer), self._end - self._at)
        if want <= 0:
            return 0
        data = _pread(self._fh, self._at, want)
        buffer[: len(data)] = data
        self._at += len(data)
        return len(data)


def _pickles(fh: IO[bytes], start: int, end: int, count: int) -> Iterator[Any]:
    """`count` values pickled one after another (each on its own: its own memo) in fh from start to end, read back
    a little at a time from their own position (see _Region), whatever else reads or writes the file meanwhile."""
    reader = io.BufferedReader(_Region(fh, start, end), _READ)
    for _ in range(count):
        yield pickle.load(reader)  # an unpickler each: each value was pickled on its own


_READ = 16384  # bytes read from a file at a time by _pickles


class SortedRows:
    """Rows to write in an order known only once all are in (barriers by timescale, notes by sub-element), in
    bounded memory whatever their number: the rows added are kept until there are `run` of them, then sorted and
    written to a temporary file as one sorted run; reading merges the runs and the rows not yet written (heapq.merge),
    each run read from the file a little at a time. Rows with equal keys come back in the order they were added."""

    RUN = 1024  # rows kept in memory before they go to the file as a sorted run

    def __init__(self, run: int = RUN) -> None:
        self._run = max(1, run)
        self._fh: IO[bytes] | None = None  # made with the first run
        self._runs: list[tuple[int, int, int]] = []  # start, end and number of rows of each run in the file
        self._rows: list[tuple[Any, int, Any]] = []  # (key, number in order of arrival, row) not yet in a run
        self._count = 0

    def add(self, key, row) -> None:
        self._rows.append((key, self._count, row))
        self._count += 1
        if len(self._rows) >= self._run:
            self._spill()

    def _spill(self) -> None:
        if self._fh is None:
            self._fh = tempfile.TemporaryFile(prefix="eif-xlsx-", suffix=".rows", dir=scratch_folder())
        self._rows.sort()  # (key, number): the number decides a tie, and is never equal: rows are never compared
        fh = self._fh
        start = fh.seek(0, 2)
        dump = pickle.Pickler(fh, protocol=pickle.HIGHEST_PROTOCOL)
        for item in self._rows:
            dump.dump(item)
            dump.clear_memo()  # each row read back on its own
        fh.flush()
        self._runs.append((start, fh.tell(), len(self._rows)))
        self._rows = []

    def __len__(self) -> int:
        return self._count

    def __iter__(self) -> Iterator:
        tail = sorted(self._rows)
        if not self._runs:
            return (row for _, _, row in tail)
        fh = self._fh
        assert fh is not None  # made with the first run
        return (row for _, _, row in heapq.merge(*(_pickles(fh, *run) for run in self._runs), tail))


class Rows:
    """A list that grows on disk: each item is pickled to a spool file as it is appended, and iterating reads them
    back in order (as often as needed). For what a round has one or more of per return (indicator values). Sent to
    another process by the file's name (see _File), read-only there."""

    def __init__(self, items: Iterable[Any] = ()) -> None:
        self._file = _File.create(".rows")
        self._count = 0
        for item in items:
            self.append(item)

    def append(self, item) -> None:
        fh = self._file.fh
        fh.seek(0, 2)
        pickle.dump(item, fh, protocol=pickle.HIGHEST_PROTOCOL)
        self._count += 1

    def __len__(self) -> int:
        return self._count

    def __iter__(self) -> Iterator:
        fh = self._file.fh
        fh.flush()  # what was appended, in the file for os.pread
        yield from _pickles(fh, 0, os.fstat(fh.fileno()).st_size, self._count)

    def __reduce__(self):
        if self._file.path is not None:
            return (_rows_at, (self._file, self._count))
        return (Rows, (list(self),))  # its scratch folder is gone: as its items, to a new file


def _rows_at(file: _File, count: int) -> Rows:
    rows = Rows.__new__(Rows)
    rows._file, rows._count = file, count
    return rows
