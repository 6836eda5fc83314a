"""Generate personalised assessment workbooks and their manifest."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from eif_xlsx.csvfile import write_csv
from eif_xlsx.domain.model import IndicatorSet, Matrix
from eif_xlsx.domain.partners import Partner, file_name
from eif_xlsx.errors import UsageError
from eif_xlsx.normalise import date as parse_date
from eif_xlsx.template import layout as layout_mod
from eif_xlsx.template.personalise import Personaliser, Template
from eif_xlsx.template.workbook import WorkbookSpec, write_workbook
from eif_xlsx.workers import WorkerPool

MANIFEST_COLUMNS = (
    "partner_id",
    "name",
    "organisation",
    "email",
    "role",
    "file",
    "matrix_id",
    "matrix_version",
    "template_version",
    "round",
    "prefilled_from",
    "sha256",
)


@dataclass
class Generated:
    out_dir: Path
    manifest: Path
    rows: list[dict[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what the coordinator should know (a 12-months re-issue's)

    @property
    def files(self) -> list[Path]:
        return [self.out_dir / r["file"] for r in self.rows]


def format_deadline(text: str) -> str:
    """'2026-12-12' -> '12 December 2026'; free text that is not a date is refused."""
    if not text:
        return ""
    when = parse_date(text)
    if when is None:
        raise UsageError(f"--deadline: '{text}' is not a date (use e.g. 2026-12-12)")
    return f"{when.day} {when:%B %Y}"


def generate_workbooks(
    matrix: Matrix,
    out_dir: Path | str,
    partners: list[Partner] | None = None,
    *,
    indicators: IndicatorSet | None = None,
    area: str = "",
    deadline: str = "",
    return_to: str = "",
    round: str = "baseline",
    password: str = "",
    prefill: dict[str, tuple[str, dict, dict]] | None = None,
    progress=None,
    jobs: int | None = 1,
) -> Generated:
    """Write one workbook per partner (or one blank one) and manifest.csv into out_dir.

    prefill maps a partner id to (source file, answers, extra spec fields) for a re-issue.
    """
    out = Path(out_dir)
    shown_deadline = format_deadline(deadline)
    lay = layout_mod.build(matrix, indicators)
    out.mkdir(parents=True, exist_ok=True)
    taken: set[str] = {"manifest.csv"}
    result = Generated(out, out / "manifest.csv")
    targets: list[Partner | None] = list(partners) if partners else [None]
    base = {
        "matrix": matrix,
        "layout": lay,
        "indicators": indicators,
        "area": area,
        "deadline": shown_deadline,
        "return_to": return_to,
        "round": round,
        "password": password,
    }
    for partner, data in zip(targets, _write_all(base, targets, prefill or {}, jobs), strict=True):
        source = (prefill or {}).get(partner.id if partner else "", ("", {}, {}))[0]
        name = file_name(partner, matrix.id, taken)
        (out / name).write_bytes(data)
        p = partner.as_dict() if partner else {"id": "", "name": "", "organisation": "", "email": "", "role": ""}
        result.rows.append(
            {
                "partner_id": p["id"],
                "name": p["name"],
                "organisation": p["organisation"],
                "email": p["email"],
                "role": p["role"],
                "file": name,
                "matrix_id": matrix.id,
                "matrix_version": matrix.version,
                "template_version": lay.template_version,
                "round": round,
                "prefilled_from": source,
                "sha256": hashlib.sha256(data).hexdigest(),
            }
        )
        if progress:
            progress(1)
    write_manifest(result.manifest, result.rows)
    return result


def write_manifest(path: Path, rows: list[dict[str, str]]) -> None:
    """manifest.csv as the analysts' CSVs are written (report/flat.py): UTF-8 with a byte-order mark (Excel shows
    'Zoë', not 'ZoÃ«'), RFC 4180 with CRLF line ends, text formula-guarded (consolidate.read_manifest undoes it and
    reads a manifest with or without the mark)."""

    write_csv(path, MANIFEST_COLUMNS, (tuple(row.get(k, "") for k in MANIFEST_COLUMNS) for row in rows))


_BASE: dict = {}  # what every workbook of the run shares (see _start_writer)


def _start_writer(base: dict, matrix: Matrix, indicators: IndicatorSet | None) -> None:
    """Set up a process writing workbooks: the run's shared settings, and the layout built here from the definition
    (as generate_workbooks built it), so that a worker started by any method (fork, spawn, forkserver) has it. Ctrl-C
    is left to the process that started it (eif_xlsx/workers.py; see _write_all)."""
    _BASE.clear()
    _BASE.update(base, matrix=matrix, indicators=indicators, layout=layout_mod.build(matrix, indicators))


def _one(partner: Partner | None, prefill: tuple[str, dict, dict]) -> bytes:
    _, answers, extra = prefill
    spec = WorkbookSpec(**_BASE, partner=partner.as_dict() if partner else {}, answers=answers, **extra)
    return write_workbook(spec)


def _write_all(base: dict, targets: list, prefill: dict, jobs: int | None):
    """Workbook bytes in the order of targets. A partner's workbook without pre-filled answers is made from the
    run's template by substitution (personalise.py), in this process; the others (a re-issue's, the blank one, a
    partner with a value that cannot be substituted) are written whole: here too, or (for many) in worker processes,
    each set up once with what the workbooks share, while this one makes the rest."""
    personal = Personaliser(WorkbookSpec(**base))
    work = [(p, prefill.get(p.id if p else "", ("", {}, {}))) for p in targets]
    templates = [personal.template(p.as_dict()) if p and p.id not in prefill else None for p in targets]
    whole = [w for w, t in zip(work, templates, strict=True) if t is None]
    jobs = jobs or os.cpu_count() or 1
    if jobs <= 1 or len(whole) < 8:
        _BASE.clear()
        _BASE.update(base)
        written: Iterator[bytes] = (_one(p, pre) for p, pre in whole)
        yield from _in_order(work, templates, written)
        return
    shared = {k: v for k, v in base.items() if k not in ("matrix", "indicators", "layout")}
    setup = (shared, base["matrix"], base["indicators"])
    pool = WorkerPool(max_workers=jobs, initializer=_start_writer, initargs=setup)
    try:
        yield from _in_order(work, templates, pool.map(_one, *zip(*whole, strict=True), chunksize=4))
    finally:  # interrupted: the workbooks not started are dropped, those being written finish (~0.1 s each)
        pool.shutdown(wait=True, cancel_futures=True)


def _in_order(work: list, templates: list[Template | None], written: Iterator[bytes]) -> Iterator[bytes]:
    """Each target's workbook: filled in from its template, or the next of those written whole."""
    for (partner, _), template in zip(work, templates, strict=True):
        yield template.fill(partner.as_dict()) if template else next(written)
