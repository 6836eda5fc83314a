"""Read one returned workbook, or validate a round's returns: files, folders and saved e-mails in, one checked Report
per workbook out."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

from eif_xlsx.domain.catalog import Catalog
from eif_xlsx.intake import batch
from eif_xlsx.intake.blank import template_grid
from eif_xlsx.intake.checks import Report
from eif_xlsx.intake.container import xml_guard
from eif_xlsx.intake.manifest import check_rounds, manifest_context
from eif_xlsx.intake.reader import Return, read_return
from eif_xlsx.intake.sources import source_of


def validate(
    paths: Iterable[Path | str],
    *,
    catalog: Catalog | None = None,
    manifest_rows: list[Mapping[str, str]] | None = None,
    expected_matrix: str | None = None,
    workdir: Path | None = None,
    jobs: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> list[Report]:
    """Read and check every file (folders expanded, e-mails opened: their attachments go to workdir, or a scratch
    folder); one Report per workbook found, in a stable order.

    manifest_rows: the round's manifest.csv as read_manifest read it (read once by the caller, who uses it too):
    returns are checked against who was sent what (the round's matrix unless expected_matrix is given, another
    partner's workbook sent in, a workbook of another round).
    """
    xml_guard()
    context = manifest_context(manifest_rows)
    expected_matrix = expected_matrix or context["expected_matrix"]
    reports = batch.run(
        [source_of(f) for f in batch.expand(paths)],
        catalog=catalog,
        jobs=jobs,
        expected_matrix=expected_matrix,
        partners_by_email=context["partners_by_email"],
        progress=progress,
        workdir=workdir,
    )
    check_rounds(reports, manifest_rows)
    return reports


def read_file(path: Path | str, catalog: Catalog | None = None) -> Return:
    """Every answer of one returned workbook, with its cell, read in this process (validate reads each file in a
    worker process of its own); problems reading it are findings, not exceptions."""
    xml_guard()
    return read_return(path, catalog, template=template_grid)
