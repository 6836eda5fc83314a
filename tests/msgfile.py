"""Write a minimal Outlook .msg (an OLE2 compound file) for tests: a sender and attachments.

Only what readers need: version-3 sectors of 512 bytes, no mini stream (text streams are padded with NULs to the
4,096-byte cutoff, so they live in regular sectors; readers strip the NULs), siblings chained to the right.
"""

from __future__ import annotations

import struct

SECTOR = 512
FREE, END, FATSECT, NOSTREAM = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF


def _u16(text: str) -> bytes:
    return text.encode("utf-16-le") + b"\x00\x00"


def build_msg(sender: str, attachments: list[tuple[str, bytes]]) -> bytes:
    # Tree: root -> [sender stream, attach storages...]; each storage -> [name stream, data stream].
    entries: list[dict] = [{"name": "Root Entry", "type": 5, "kids": []}]

    def add(parent: int, name: str, kind: int, data: bytes = b"") -> int:
        entries.append({"name": name, "type": kind, "data": data, "kids": []})
        entries[parent]["kids"].append(len(entries) - 1)
        return len(entries) - 1

    def text(value: str) -> bytes:
        return value.encode("utf-16-le").ljust(4096, b"\x00")

    add(0, "__substg1.0_0C1F001F", 2, text(sender))
    for i, (filename, data) in enumerate(attachments):
        st = add(0, f"__attach_version1.0_#{i:08X}", 1)
        add(st, "__substg1.0_3707001F", 2, text(filename))
        add(st, "__substg1.0_37010102", 2, data)
    # Sector plan: directory, then each stream's data.
    n_dir = -(-len(entries) * 128 // SECTOR)
    streams = [e for e in entries if e["type"] == 2]
    data_sectors = sum(max(1, -(-len(e["data"]) // SECTOR)) for e in streams)
    total = n_dir + data_sectors
    n_fat = 1
    while (total + n_fat) > n_fat * (SECTOR // 4):
        n_fat += 1
    fat = [FREE] * (n_fat * SECTOR // 4)
    for i in range(n_fat):
        fat[i] = FATSECT
    first_dir = n_fat
    for i in range(n_dir):
        fat[first_dir + i] = first_dir + i + 1 if i < n_dir - 1 else END
    cursor = first_dir + n_dir
    body = b""
    for e in streams:
        count = max(1, -(-len(e["data"]) // SECTOR))
        e["start"] = cursor
        for k in range(count):
            fat[cursor + k] = cursor + k + 1 if k < count - 1 else END
        body += e["data"].ljust(count * SECTOR, b"\x00")
        cursor += count
    # Directory entries: a storage's first kid is its child; later kids hang off the right sibling.
    right = {}
    child = {}
    for idx, e in enumerate(entries):
        if e["kids"]:
            child[idx] = e["kids"][0]
            for a, b in zip(e["kids"], e["kids"][1:], strict=False):
                right[a] = b
    directory = b""
    for idx, e in enumerate(entries):
        name = _u16(e["name"])
        start = e.get("start", END if e["type"] != 2 else 0)
        size = len(e.get("data", b""))
        directory += (name.ljust(64, b"\x00") + struct.pack("<HBB", len(name), e["type"], 1)
                      + struct.pack("<III", NOSTREAM, right.get(idx, NOSTREAM), child.get(idx, NOSTREAM))
                      + b"\x00" * 16 + b"\x00" * 4 + b"\x00" * 16 + struct.pack("<IQ", start, size))
    directory = directory.ljust(n_dir * SECTOR, b"\x00")
    difat = [i for i in range(n_fat)] + [FREE] * (109 - n_fat)
    header = (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 16 + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6)
              + b"\x00" * 6 + struct.pack("<IIIIIIIII", 0, n_fat, first_dir, 0, 4096, END, 0, END, 0)
              + struct.pack("<109I", *difat))
    assert len(header) == SECTOR
    fat_bytes = struct.pack(f"<{len(fat)}I", *fat)
    return header + fat_bytes + directory + body
