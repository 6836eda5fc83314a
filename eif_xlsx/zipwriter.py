"""A zip container written from members whose bytes are known beforehand: stored as they are, or as raw deflate
pieces that join into one stream.

Python's zipfile has no public way to write bytes compressed beforehand, so the container is written here: local
headers, the central directory and its end record, as the zip specification (APPNOTE 6.3) lays them out. Two uses:
a personalised workbook is mostly pieces deflated once for the whole run (template/personalise.py), and the reader
hands python-calamine the parts the safety pass checked, stored, with the CRCs already known (intake/container.py
stored_zip). No zip64 (a workbook is far below 4 GB), no data descriptors. Every header field is the one XlsxWriter's
own container has (written by zipfile on Linux): the time it gives its members (1 January 1980), made by version 2.0
on Unix (system 3), read-write for the owner (0o600). Only the compressed sizes and offsets differ, as the deflate
is made in pieces (tests/test_personalise.py compares the two field by field). The bytes do not depend on the
platform: same members, same bytes.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

LEVEL = 6  # zlib's default, as zipfile (and so XlsxWriter) compresses
_DOS_TIME, _DOS_DATE = 0, (0 << 9) | (1 << 5) | 1  # 1980-01-01 00:00:00
_VERSION = 20  # 2.0: deflate
_MADE_ON = 3  # Unix, as zipfile marks the members it writes on any system but Windows
_MODE = 0o600 << 16  # rw-------, as zipfile gives the members written with writestr
_STORED = 0
_LOCAL = struct.Struct("<4sHHHHHIIIHH")
_CENTRAL = struct.Struct("<4sBBHHHHHIIIHHHHHII")
_END = struct.Struct("<4sHHHHIIH")
_LIMIT = 0xFFFFFFFF  # beyond this a member or the archive would need zip64


@dataclass(frozen=True)
class Member:
    """One member: its name, the CRC-32 and size of its bytes, and those bytes as they go into the file: its raw
    deflate stream in pieces, or (stored) the bytes themselves."""

    name: str
    crc: int
    size: int
    deflated: Sequence[bytes]
    stored: bool = False


def deflate(data: bytes, last: bool = True) -> bytes:
    """Raw deflate of data, compressed on its own: ended (Z_FINISH) when last, else flushed to a byte boundary
    (Z_SYNC_FLUSH) so that another piece's deflate may follow it in the same stream."""
    c = zlib.compressobj(LEVEL, zlib.DEFLATED, -15)
    return c.compress(data) + c.flush(zlib.Z_FINISH if last else zlib.Z_SYNC_FLUSH)


def write_zip(members: Iterable[Member]) -> bytes:
    """The zip file of these members, in this order."""
    out: list[bytes] = []
    central: list[bytes] = []
    offset = 0
    count = 0
    for m in members:
        name = m.name.encode("utf-8")
        flags = 0 if name.isascii() else 0x800  # bit 11: the name is UTF-8
        packed = sum(len(p) for p in m.deflated)
        if max(packed, m.size, offset) >= _LIMIT:
            raise ValueError(f"{m.name}: too big for a zip file without zip64")
        method = _STORED if m.stored else zlib.DEFLATED
        header = _LOCAL.pack(
            b"PK\x03\x04", _VERSION, flags, method, _DOS_TIME, _DOS_DATE, m.crc, packed, m.size, len(name), 0
        )
        out += (header, name, *m.deflated)
        central.append(
            _CENTRAL.pack(
                b"PK\x01\x02",
                _VERSION,
                _MADE_ON,
                _VERSION,
                flags,
                method,
                _DOS_TIME,
                _DOS_DATE,
                m.crc,
                packed,
                m.size,
                len(name),
                0,  # extra
                0,  # comment
                0,  # disk
                0,  # internal attributes
                _MODE,  # external attributes
                offset,
            )
            + name
        )
        offset += len(header) + len(name) + packed
        count += 1
    directory = b"".join(central)
    if count > 0xFFFF or offset >= _LIMIT:
        raise ValueError("too many or too big members for a zip file without zip64")
    end = _END.pack(b"PK\x05\x06", 0, 0, count, count, len(directory), offset, 0)
    return b"".join(out) + directory + end
