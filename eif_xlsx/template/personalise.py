"""Personalised workbooks by substitution: the workbook is written once with a placeholder for each partner value,
and each partner's is that one with their values put in.

Every partner's baseline workbook is the same but for a handful of values: the partner's id, name, organisation,
email and role (on the cover, the Overview's "who" line, each sheet's footer and the hidden metadata sheet) and
the metadata's checksum. A `Template` is the workbook written whole by write_workbook once with placeholders in
their place, its members cut at the placeholders, each constant piece deflated once; a partner's workbook is those
pieces with the partner's values, escaped as XlsxWriter escapes them where each goes, deflated on their own between
them (zipwriter.py); the cuts are made once, so a value that looks like a placeholder is only text. Which personal
values are empty changes the layout (an empty value is a blank cell, the cover's "Partner id" row is left out when
there is no id), so a template is kept per set of empty fields.

Only values that XlsxWriter writes as plain escaped text are substituted (`substitutable`); for any other, and for
a footer over Excel's 255 characters (which workbook.page_footer cuts short), the partner's workbook is written
whole (`Personaliser.workbook` returns None).
"""

from __future__ import annotations

import html
import re
import zlib
from dataclasses import dataclass, replace
from io import BytesIO
from zipfile import ZipFile

from eif_xlsx.template.workbook import (
    FOOTER_LIMIT,
    WorkbookSpec,
    footer_text,
    metadata_rows,
    utf16_len,
    write_workbook,
)
from eif_xlsx.zipwriter import Member, deflate, write_zip

FIELDS = ("id", "name", "organisation", "email", "role")  # a partner's values that go into their workbook
MAX_VALUE = 2000  # longer values are written whole (a footer holds 255 characters; a cell 32,767)

# XlsxWriter writes a text as "<si><t>text</t></si>" with only '&', '<' and '>' escaped unless it holds characters
# XML cannot carry (written '_xHHHH_', so '_xHHHH_' typed is escaped too), starts or ends with white space
# (xml:space="preserve") or looks like rich-text XML ('<r>…</r>', written raw). In a footer, '&G' and '&[Picture]'
# are image placeholders. Every control character (tab and line feed too), lone surrogates and U+FFFE/U+FFFF are
# refused as well: none is worth a special case.
_NOT_PLAIN = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]|_x[0-9a-fA-F]{4}_|^\s|\s$|&G|&\[Picture\]")
_FOOTER = re.compile(rb"<oddFooter>(.*?)</oddFooter>", re.S)


def substitutable(value: str) -> bool:
    """Whether a partner value goes into a workbook by substitution: XlsxWriter would write it everywhere as the
    text with '&', '<' and '>' escaped (and '&' doubled in a footer), and nothing else."""
    return (
        len(value) <= MAX_VALUE
        and not _NOT_PLAIN.search(value)
        and not value.startswith("<r>")
        and not value.endswith("</r>")
    )


def _placeholder(field: str) -> str:
    return f"EIFXLSXPLACEHOLDER{field.upper()}Q"  # plain ASCII: no escaping changes it


def _text(value: str) -> bytes:
    """A value as XlsxWriter writes it in a shared string or a footer's XML."""
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").encode("utf-8")


@dataclass(frozen=True)
class _Part:
    """A member of the template: deflated whole (no placeholders), or cut at its placeholders."""

    name: str
    crc: int = 0
    size: int = 0
    whole: bytes = b""  # deflated, when there are no placeholders
    raw: tuple[bytes, ...] = ()  # the constant pieces around the placeholders
    deflated: tuple[bytes, ...] = ()  # each deflated on its own (the last one ends the stream)
    slots: tuple[str, ...] = ()  # the placeholder between raw[i] and raw[i + 1]
    footer: bool = False  # the placeholders are in the page footer: '&' is doubled


@dataclass(frozen=True)
class Template:
    """One workbook written with placeholders for the partner values that are not empty, cut up for substitution."""

    base: WorkbookSpec
    fields: tuple[str, ...]  # the partner fields that have a placeholder (the others are empty)
    checksum: str  # the template's own metadata checksum: a placeholder too
    parts: tuple[_Part, ...]
    footers: tuple[str, ...]  # the footer texts (as set_footer had them), placeholders in

    @classmethod
    def build(cls, base: WorkbookSpec, fields: tuple[str, ...]) -> Template:
        partner = {f: _placeholder(f) if f in fields else "" for f in FIELDS}
        spec = replace(base, partner=partner)
        checksum = metadata_rows(spec)[-1][1]
        slots = {_placeholder(f): f for f in fields} | {checksum: "checksum"}
        cut = re.compile("|".join(re.escape(s) for s in slots).encode())
        parts: list[_Part] = []
        footers: list[str] = []
        with ZipFile(BytesIO(write_workbook(spec))) as z:
            for info in z.infolist():
                data = z.read(info)
                hits = list(cut.finditer(data))
                if not hits:
                    parts.append(_Part(info.filename, zlib.crc32(data), len(data), deflate(data)))
                    continue
                footer = info.filename.startswith("xl/worksheets/")
                if footer:
                    found = _FOOTER.search(data)
                    if found is None or any(not (found.start(1) <= h.start() < found.end(1)) for h in hits):
                        raise ValueError(f"{info.filename}: a partner value outside the footer")
                    footers.append(html.unescape(found.group(1).decode("utf-8")))
                elif info.filename != "xl/sharedStrings.xml":
                    raise ValueError(f"{info.filename}: a partner value where none was expected")
                raw, at = [], 0
                for h in hits:
                    raw.append(data[at : h.start()])
                    at = h.end()
                raw.append(data[at:])
                deflated = tuple(deflate(p, last=i == len(raw) - 1) for i, p in enumerate(raw))
                names = tuple(slots[h.group().decode()] for h in hits)
                parts.append(_Part(info.filename, raw=tuple(raw), deflated=deflated, slots=names, footer=footer))
        return cls(base, fields, checksum, tuple(parts), tuple(footers))

    def fits(self, partner: dict[str, str]) -> bool:
        """Whether every footer with this partner's values is one XlsxWriter writes (not too long)."""
        if not self.footers:
            return True
        longest = max(self.footers, key=utf16_len)
        for f in self.fields:
            longest = longest.replace(_placeholder(f), footer_text(partner[f]))
        return utf16_len(longest) <= FOOTER_LIMIT

    def fill(self, partner: dict[str, str]) -> bytes:
        """This partner's workbook (their values substitutable, the same fields empty as the template's)."""
        values = {f: partner[f] for f in self.fields}
        values["checksum"] = metadata_rows(replace(self.base, partner=partner))[-1][1]
        text = {k: _text(v) for k, v in values.items()}
        in_footer = {k: _text(footer_text(v)) for k, v in values.items()}
        members = []
        for part in self.parts:
            if not part.slots:
                members.append(Member(part.name, part.crc, part.size, (part.whole,)))
                continue
            own = in_footer if part.footer else text
            crc, size = 0, 0
            pieces: list[bytes] = []
            for raw, packed, slot in zip(part.raw, part.deflated, part.slots, strict=False):
                value = own[slot]
                crc = zlib.crc32(value, zlib.crc32(raw, crc))
                size += len(raw) + len(value)
                pieces += (packed, deflate(value, last=False))
            crc = zlib.crc32(part.raw[-1], crc)
            size += len(part.raw[-1])
            pieces.append(part.deflated[-1])
            members.append(Member(part.name, crc, size, pieces))
        return write_zip(members)


class Personaliser:
    """The personalised workbooks of one run (one base spec): a template per set of empty partner fields, made when
    first needed."""

    def __init__(self, base: WorkbookSpec):
        self.base = base
        self.templates: dict[tuple[str, ...], Template] = {}
        # A re-issue's or feedback copy's workbook (answers, locks, notes, comments) is always written whole, and so
        # is any beside an area name so long that the Overview's line of name, organisation and area could be cut.
        self.plain = not (base.answers or base.locked_columns or base.notes_for_partner or base.comments) and (
            len(base.area) <= MAX_VALUE
        )

    def template(self, partner: dict[str, str]) -> Template | None:
        """The template this partner's workbook is made from, or None: their workbook is written whole."""
        if (
            not self.plain
            or set(partner) - set(FIELDS)
            or not all(isinstance(v, str) and substitutable(v) for v in partner.values())
        ):
            return None
        full = {f: partner.get(f, "") for f in FIELDS}
        fields = tuple(f for f in FIELDS if full[f])
        t = self.templates.get(fields)
        if t is None:
            t = self.templates[fields] = Template.build(self.base, fields)
        return t if t.fits(full) else None

    def workbook(self, partner: dict[str, str]) -> bytes | None:
        """The partner's workbook, reading the same as write_workbook's for them (not byte for byte: the values have
        shared strings of their own); None when it must be written whole (see substitutable)."""
        t = self.template(partner)
        return None if t is None else t.fill({f: partner.get(f, "") for f in FIELDS})
