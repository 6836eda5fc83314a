"""LibreOffice headless: convert or re-save a workbook, recalculating every formula on load."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from eif_xlsx.errors import EifError

_PROFILE_XCU = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema"
 xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>0</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="ODFRecalcMode" oor:op="fuse"><value>0</value></prop></item>
</oor:items>
"""
FILTERS = {"xlsx": "xlsx:Calc MS Excel 2007 XML", "ods": "ods", "pdf": "pdf", "csv": "csv"}


def soffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def convert(path: Path | str, fmt: str, out_dir: Path | str, timeout: int = 180) -> Path:
    """Open `path` in LibreOffice (formulas recalculated) and save it as `fmt` into out_dir; returns the new file."""
    exe = soffice()
    if not exe:
        raise EifError("LibreOffice (soffice) is not installed")
    path, out_dir = Path(path).resolve(), Path(out_dir).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="eif-lo-") as profile:
        user = Path(profile) / "user"
        user.mkdir(parents=True)
        (user / "registrymodifications.xcu").write_text(_PROFILE_XCU, encoding="utf-8")
        cmd = [
            exe,
            f"-env:UserInstallation={Path(profile).as_uri()}",
            "--headless",
            "--norestore",
            "--convert-to",
            FILTERS.get(fmt, fmt),
            "--outdir",
            str(out_dir),
            str(path),
        ]
        env = {**os.environ, "HOME": profile}
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    target = out_dir / f"{path.stem}.{fmt}"
    if proc.returncode != 0 or not target.exists():
        raise EifError(
            f"{path}: LibreOffice could not convert it to {fmt}: {proc.stderr.strip() or proc.stdout.strip()}"
        )
    return target
