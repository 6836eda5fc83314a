"""Write a minimal Outlook .msg (an OLE2 compound file, [MS-OXMSG]) for tests: a sender, a subject and attachments.

What readers (extract-msg, olefile) need: version-3 sectors of 512 bytes, a mini stream for streams under 4,096
bytes, a property stream in the message and in each attachment, string properties as Unicode (PT_UNICODE, 001F)
or, for an ANSI message as older Outlook saves it, in cp1252 (PT_STRING8, 001E). An attachment is either a file
(attach method 1, its bytes in __substg1.0_37010102) or a whole message embedded in it (method 5, a storage
__substg1.0_3701000D): give it as (name, {"sender": ..., "attachments": [...]}). Siblings are chained to the right.
"""

from __future__ import annotations

import struct

SECTOR, MINI, CUTOFF = 512, 64, 4096
FREE, END, FATSECT = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD
NOSTREAM = 0xFFFFFFFF
STORE_UNICODE_OK = 0x00040000
PT_LONG, PT_BINARY, PT_OBJECT = 0x0003, 0x0102, 0x000D


def build_msg(
    sender: str,
    attachments: list[tuple[str, bytes | dict]],
    *,
    unicode: bool = True,
    subject: str = "Re: EIF maturity matrix self-assessment",
) -> bytes:
    entries: list[dict] = [{"name": "Root Entry", "type": 5, "kids": []}]

    def add(parent: int, name: str, kind: int, data: bytes = b"") -> int:
        entries.append({"name": name, "type": kind, "data": data, "kids": []})
        entries[parent]["kids"].append(len(entries) - 1)
        return len(entries) - 1

    string_type = 0x001F if unicode else 0x001E

    def encode(text: str) -> bytes:
        return (text.encode("utf-16-le") + b"\x00\x00") if unicode else (text.encode("cp1252", "replace") + b"\x00")

    def prop(tag: int, kind: int, value: int = 0, size: int = 0) -> bytes:
        # tag, flags (readable, writable), then the value or, for a variable-length property, its size
        body = struct.pack("<I", value) + b"\x00" * 4 if size == 0 and kind == PT_LONG else struct.pack("<II", size, 0)
        return struct.pack("<II", (tag << 16) | kind, 6) + body

    def message(parent: int, sender: str, atts: list, top: bool) -> None:
        props = []
        for tag, text in ((0x001A, "IPM.Note"), (0x0037, subject), (0x0C1F, sender), (0x5D01, sender)):
            data = encode(text)
            add(parent, f"__substg1.0_{tag:04X}{string_type:04X}", 2, data)
            props.append(prop(tag, string_type, size=len(data)))
        props.append(prop(0x340D, PT_LONG, STORE_UNICODE_OK if unicode else 0))
        for i, (filename, data) in enumerate(atts):
            st = add(parent, f"__attach_version1.0_#{i:08X}", 1)
            name = encode(filename)
            add(st, f"__substg1.0_3707{string_type:04X}", 2, name)
            aprops = [prop(0x3707, string_type, size=len(name))]
            if isinstance(data, dict):
                aprops.append(prop(0x3705, PT_LONG, 5))
                aprops.append(prop(0x3701, PT_OBJECT, size=0xFFFFFFFF))
                inner = add(st, "__substg1.0_3701000D", 1)
                message(inner, data.get("sender", ""), data.get("attachments", []), top=False)
            else:
                aprops.append(prop(0x3705, PT_LONG, 1))
                aprops.append(prop(0x3701, PT_BINARY, size=len(data)))
                add(st, "__substg1.0_37010102", 2, data)
            add(st, "__properties_version1.0", 2, b"\x00" * 8 + b"".join(aprops))
        header = b"\x00" * 8 + struct.pack("<IIII", 0, len(atts), 0, len(atts)) + (b"\x00" * 8 if top else b"")
        add(parent, "__properties_version1.0", 2, header + b"".join(props))

    message(0, sender, attachments, top=True)
    nameid = add(0, "__nameid_version1.0", 1)  # named properties: none, but the storage is always there
    for tag in ("00020102", "00030102", "00040102"):
        add(nameid, f"__substg1.0_{tag}", 2, b"")
    return _compound(entries)


def _compound(entries: list[dict]) -> bytes:
    streams = [e for e in entries if e["type"] == 2]
    small = [e for e in streams if len(e["data"]) < CUTOFF]
    large = [e for e in streams if len(e["data"]) >= CUTOFF]
    # The mini stream: small streams in 64-byte sectors, chained in the mini FAT.
    mini = b""
    minifat: list[int] = []
    for e in small:
        count = -(-len(e["data"]) // MINI)
        e["start"] = len(minifat) if count else END
        for k in range(count):
            minifat.append(len(minifat) + 1 if k < count - 1 else END)
        mini += e["data"].ljust(count * MINI, b"\x00")
    minifat_bytes = struct.pack(f"<{len(minifat)}I", *minifat) if minifat else b""
    # Regular sectors: directory, mini FAT, mini stream, then each large stream.
    n_dir = -(-len(entries) * 128 // SECTOR)
    n_minifat = -(-len(minifat_bytes) // SECTOR)
    n_mini = -(-len(mini) // SECTOR)
    blocks = [("dir", n_dir), ("minifat", n_minifat), ("mini", n_mini)] + [
        (id(e), -(-len(e["data"]) // SECTOR)) for e in large
    ]
    total = sum(n for _, n in blocks)
    n_fat = 1
    while total + n_fat > n_fat * (SECTOR // 4):
        n_fat += 1
    fat = [FREE] * (n_fat * SECTOR // 4)
    for i in range(n_fat):
        fat[i] = FATSECT
    cursor = n_fat
    starts = {}
    for key, count in blocks:
        starts[key] = cursor if count else END
        for k in range(count):
            fat[cursor + k] = cursor + k + 1 if k < count - 1 else END
        cursor += count
    for e in large:
        e["start"] = starts[id(e)]
    entries[0]["start"], entries[0]["size"] = starts["mini"], len(mini)
    right, child = {}, {}
    for idx, e in enumerate(entries):
        if e["kids"]:
            child[idx] = e["kids"][0]
            for a, b in zip(e["kids"], e["kids"][1:], strict=False):
                right[a] = b
    directory = b""
    for idx, e in enumerate(entries):
        name = e["name"].encode("utf-16-le") + b"\x00\x00"
        start = e.get("start", END if e["type"] != 2 else 0)
        size = e.get("size", len(e.get("data", b"")))
        directory += (
            name.ljust(64, b"\x00")
            + struct.pack("<HBB", len(name), e["type"], 1)
            + struct.pack("<III", NOSTREAM, right.get(idx, NOSTREAM), child.get(idx, NOSTREAM))
            + b"\x00" * 16
            + b"\x00" * 4
            + b"\x00" * 16
            + struct.pack("<IQ", start, size)
        )
    body = (
        directory.ljust(n_dir * SECTOR, b"\x00")
        + minifat_bytes.ljust(n_minifat * SECTOR, b"\x00")
        + mini.ljust(n_mini * SECTOR, b"\x00")
        + b"".join(e["data"].ljust(-(-len(e["data"]) // SECTOR) * SECTOR, b"\x00") for e in large)
    )
    difat = list(range(n_fat)) + [FREE] * (109 - n_fat)
    header = (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
        + b"\x00" * 16
        + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6)
        + b"\x00" * 6
        + struct.pack(
            "<IIIIIIIII", 0, n_fat, starts["dir"], 0, CUTOFF, starts["minifat"] if n_minifat else END, n_minifat, END, 0
        )
        + struct.pack("<109I", *difat)
    )
    assert len(header) == SECTOR
    return header + struct.pack(f"<{len(fat)}I", *fat) + body
