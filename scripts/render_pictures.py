"""Render the README's pictures from real files: run the demo, print a generated workbook and the summary through
LibreOffice to PDF, and turn chosen pages of those and of the demo's report.pdf (printed by Chromium) into PNGs
(pdftoppm). Needs LibreOffice, Chromium and poppler-utils.

    .venv/bin/python scripts/render_pictures.py [--out docs/images]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import tempfile
from pathlib import Path

from eif_xlsx.demo import run_demo
from eif_xlsx.office import convert

PAGES = {  # picture name -> (file in the demo output, page number, dpi, crop box x, y, w, h or None)
    "workbook-cover": ("workbooks/northshire-maternity-services-priya-raman-nmw-01.xlsx", 1, 80, None),
    "workbook-sub-element": ("workbooks/northshire-maternity-services-priya-raman-nmw-01.xlsx", 4, 80, None),
    "summary-heat-map": ("summary.xlsx", None, 220, (80, 150, 1500, 560)),
    # the board's report: a page found by its heading
    "report-heat-map": ("report.pdf", "Heat map", 80, None),
    "report-distribution": ("report.pdf", "Distribution of levels", 80, None),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", default="docs/images")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if not shutil.which("pdftoppm"):
        raise SystemExit("pdftoppm (poppler-utils) is needed")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        run_demo(work / "demo", echo=lambda s: None)
        for name, (rel, page, dpi, crop) in PAGES.items():
            if rel.endswith(".pdf"):
                pdf = work / "demo" / rel
                if not pdf.exists():
                    raise SystemExit(f"{rel} was not written (is Chromium installed?)")
            else:
                pdf = convert(work / "demo" / rel, "pdf", work / "pdf" / name)
            if page is None:
                page = _page_with(pdf, "Scores by partner")
            elif isinstance(page, str):
                page = _page_with(pdf, page)
            box = ["-x", str(crop[0]), "-y", str(crop[1]), "-W", str(crop[2]), "-H", str(crop[3])] if crop else []
            subprocess.run(
                [
                    "pdftoppm",
                    "-r",
                    str(dpi),
                    "-png",
                    "-singlefile",
                    "-f",
                    str(page),
                    "-l",
                    str(page),
                    *box,
                    str(pdf),
                    str(out / name),
                ],
                check=True,
            )
            print(out / f"{name}.png")


def _page_with(pdf: Path, text: str) -> int:
    """The first page of the PDF that shows `text` (pdftotext)."""
    for page in range(1, 60):
        got = subprocess.run(
            ["pdftotext", "-f", str(page), "-l", str(page), str(pdf), "-"], capture_output=True, text=True
        )
        if got.returncode != 0:
            break
        if text in got.stdout:
            return page
    return 1


if __name__ == "__main__":
    main()
