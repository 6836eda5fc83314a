"""The library's front door: generate(), read_return(), check(), validate(), consolidate(), chase()."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from eif_xlsx.intake import batch
from eif_xlsx.intake import sources as intake
from eif_xlsx.intake.checks import Report
from eif_xlsx.intake.checks import check as _check
from eif_xlsx.intake.container import xml_guard
from eif_xlsx.intake.reader import Return
from eif_xlsx.intake.reader import read_return as _read_return
from eif_xlsx.rounds.chase import ChaseResult
from eif_xlsx.spec.catalog import Catalog
from eif_xlsx.spec.partners import Partner, read_partners
from eif_xlsx.template.generate import Generated, generate_workbooks

__all__ = ["chase", "check", "consolidate", "generate", "read_return", "validate"]


def read_return(path: Path | str, catalog: Catalog | None = None) -> Return:
    """Every answer of one returned file, with its cell; problems reading it are findings, not exceptions."""
    from eif_xlsx.intake.blank import template_grid

    xml_guard()
    return _read_return(path, catalog, template=template_grid)


def check(ret: Return, catalog: Catalog | None = None, **options) -> Report:
    """The findings and scores for one return."""
    return _check(ret, catalog, **options)


def generate(matrix_id: str, out_dir: Path | str = "output", *, partners: Path | str | list[Partner] | None = None,
             indicators: str | None = None, area: str = "", deadline: str = "", return_to: str = "",
             password: str = "", catalog: Catalog | None = None, progress=None, **more) -> Generated:
    """Write personalised workbooks (one blank one without partners) and manifest.csv into out_dir."""
    catalog = catalog or Catalog.default()
    matrix = catalog.matrix(matrix_id)
    iset = catalog.indicator_set(indicators) if indicators else None
    people = read_partners(partners) if isinstance(partners, str | Path) else partners
    return generate_workbooks(matrix, out_dir, people, indicators=iset, area=area, deadline=deadline,
                              return_to=return_to, password=password, progress=progress, **more)


def validate(paths: Iterable[Path | str], *, jobs: int | None = None, expected_matrix: str | None = None,
             partners_by_email: dict[str, str] | None = None, workdir: Path | None = None,
             progress: Callable[[int], None] | None = None, manifest: Path | str | None = None) -> list[Report]:
    """Read and check every file (folders expanded, emails opened); one Report per workbook found.

    manifest: the round's manifest.csv (as import and chase take it): returns are checked against who was sent
    what: the round's matrix (unless expected_matrix is given), another partner's workbook sent in (other-partner),
    a workbook of another round (wrong-round).
    """
    from eif_xlsx.report.consolidate import check_rounds, manifest_context, read_manifest

    xml_guard()
    rows = read_manifest(manifest) if manifest else None
    context = manifest_context(rows)
    expected_matrix = expected_matrix or context["expected_matrix"]
    by_email = {**context["partners_by_email"], **(partners_by_email or {})}
    sources, email_reports = intake.sources(batch.expand(paths), workdir)
    reports = email_reports + batch.run(sources, jobs=jobs, expected_matrix=expected_matrix,
                                        partners_by_email=by_email, progress=progress)
    check_rounds(reports, rows)
    return reports


def chase(paths: Iterable[Path | str], manifest: Path | str, *, sender: str, out_dir: Path | str = "chase",
          deadline: str = "", return_to: str = "", sender_name: str = "", sender_organisation: str = "",
          matrix: str | None = None, dry_run: bool = False, jobs: int | None = None,
          progress: Callable[[int], None] | None = None) -> ChaseResult:
    """Chase and feedback email drafts for a round: one .eml per partner who has not returned or whose latest
    return needs correcting, their feedback copies and chase.csv in out_dir (nothing when dry_run). See
    chase.chase."""
    from eif_xlsx.rounds.chase import chase as _chase

    return _chase(paths, manifest, sender=sender, out_dir=out_dir, deadline=deadline, return_to=return_to,
                  sender_name=sender_name, sender_organisation=sender_organisation, matrix=matrix, dry_run=dry_run,
                  jobs=jobs, progress=progress)


def consolidate(paths: Iterable[Path | str], out_dir: Path | str = "output", **options):
    """Import every return and write the summary, tracker and flat exports. See consolidate.run."""
    from eif_xlsx.report.consolidate import run

    return run(paths, out_dir, **options)
