"""A return's answers and results kept on disk, not in memory, between reading it and writing the outputs.

A worker pickles a return's answers and results once (`Spooled.pack`, `SpooledMap.pack`); the bytes travel to the
main process inside the report and are written there to one temporary spool file (`Spool.keep`), so that the main
process holds a few hundred bytes per return whatever the size of the round. Consumers use `ret.answers` and
`report.results` as a list and a dict, as before: reading one loads it back from the file. The last few loaded are
cached, so a consumer working through the returns one at a time loads each once per pass.
"""

from __future__ import annotations

import os
import pickle
import tempfile
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import IO, Any

_RECENT = 4  # packed values that stay loaded: the outputs work on one return at a time


class _Packed:
    """A value held as its pickle: in memory while it travels, then at an offset of a spool file."""

    # Where it is in the spool: the file, and the offset and length as one number (offset << 32 | length): a round
    # keeps several per return in memory.
    __slots__ = ("_blob", "_fh", "_span", "_count")
    _cache: OrderedDict[int, tuple[_Packed, Any, dict]] = OrderedDict()  # id -> (itself, value, index)

    def __init__(self, blob: bytes, count: int):
        self._blob: bytes | None = blob
        self._fh: IO[bytes] | None = None
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
        fh, offset, length = self._fh, self._span >> 32, self._span & 0xFFFFFFFF
        assert fh is not None  # Spool.keep set it when it took the bytes
        if hasattr(os, "pread"):  # no shared file position: safe whoever else reads the file
            return os.pread(fh.fileno(), length, offset)
        fh.seek(offset)  # Windows: no pread
        return fh.read(length)

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
        # Travels (to another process, or as a deep copy) as its bytes, never with a file handle.
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
    """One temporary file for the packed values of a batch; the file is deleted once nothing refers to it."""

    def __init__(self, directory: str | None = None):
        # Unbuffered: what is written is in the file at once, for pread (see _Packed._bytes).
        self._fh: IO[bytes] = tempfile.TemporaryFile(prefix="eif-xlsx-", suffix=".spool", dir=directory, buffering=0)

    def keep(self, *values) -> None:
        """Move packed values' bytes to the file, in one write (anything else is left as it is)."""
        packed = [(v, v._blob) for v in values if isinstance(v, _Packed) and v._blob is not None]
        if not packed:
            return
        if any(len(blob) > 0xFFFFFFFF for _, blob in packed):
            raise ValueError("a packed value over 4 GiB")  # never: a return's parts are capped far below
        where = self._fh.seek(0, 2)
        blobs = []
        for v, blob in packed:
            v._fh, v._span = self._fh, where << 32 | len(blob)
            where += len(blob)
            blobs.append(blob)
            v._blob = None
        data = memoryview(b"".join(blobs) if len(blobs) > 1 else blobs[0])
        while data:  # unbuffered: a write may take part of it
            written = self._fh.write(data)
            if not written:
                raise OSError("the spool file takes no more bytes")
            data = data[written:]


class SortedRows:
    """Rows to write in an order known only once all are in (barriers by timescale, notes by sub-element): each
    row goes to a temporary file as it is added, and only its sort key stays in memory. Rows with equal keys come
    back in the order they were added."""

    def __init__(self) -> None:
        self._fh: IO[bytes] = tempfile.TemporaryFile(prefix="eif-xlsx-", suffix=".rows")
        self._keys: list[tuple[Any, int, int]] = []

    def add(self, key, row) -> None:
        data = pickle.dumps(row, protocol=pickle.HIGHEST_PROTOCOL)
        self._fh.seek(0, 2)  # at the end, also after an iteration moved the file
        self._keys.append((key, self._fh.tell(), len(data)))
        self._fh.write(data)

    def __len__(self) -> int:
        return len(self._keys)

    def __iter__(self) -> Iterator:
        for _, offset, length in sorted(self._keys):
            self._fh.seek(offset)
            yield pickle.loads(self._fh.read(length))


class Rows:
    """A list that grows on disk: each item is pickled to a temporary file as it is appended, and iterating reads
    them back in order (as often as needed). For what a round has one or more of per return (indicator values)."""

    def __init__(self, items: Iterable[Any] = ()) -> None:
        self._fh: IO[bytes] = tempfile.TemporaryFile(prefix="eif-xlsx-", suffix=".rows")
        self._count = 0
        for item in items:
            self.append(item)

    def append(self, item) -> None:
        self._fh.seek(0, 2)
        pickle.dump(item, self._fh, protocol=pickle.HIGHEST_PROTOCOL)
        self._count += 1

    def __len__(self) -> int:
        return self._count

    def __iter__(self) -> Iterator:
        offset = 0
        for _ in range(self._count):
            self._fh.seek(offset)  # where this iteration is, whatever another one did in between
            item = pickle.load(self._fh)
            offset = self._fh.tell()
            yield item
