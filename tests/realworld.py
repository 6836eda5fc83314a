"""Returns as partners really send them: filled, then saved by LibreOffice (xlsx and ods), Gnumeric, openpyxl or
the project's own writer, and some wrapped in a saved e-mail (.eml, .msg).

`build(folder, n, seed)` writes `n` distinct filled returns into `folder/returns/` and returns one `RealReturn`
per file, with the answers typed into it (`expected`: (field, sub_element, item, column) -> value as typed). The
benchmark and the fuzz harness use it as their corpus; the tests use small ones. A corpus is built once per folder
and parameters (`folder/corpus.json` records them) and reused after that.

How the programs come in: answers are typed with openpyxl into a workbook eif-xlsx generated (as a partner's
spreadsheet program would store them: ticks as text, dates as dates, numbers as numbers); the file is then opened
and saved again by LibreOffice headless (one `soffice` process for a whole batch) or by Gnumeric's `ssconvert`, so
that its bytes are in that program's shape. Where a program is missing its share goes to openpyxl, and
`RealReturn.source` says what each file really is.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import SMTP
from pathlib import Path

import openpyxl

from eif_xlsx.domain.catalog import Catalog
from eif_xlsx.domain.partners import Partner
from eif_xlsx.template.generate import generate_workbooks
from eif_xlsx.template.layout import BASELINE, COLUMNS, TEMPLATE_VERSION
from eif_xlsx.template.layout import build as build_layout

MATRIX_ID = "maternity-early-years"
INDICATORS_ID = "staffordshire-best-start"
#: Share of each source in a corpus, in the order files are assigned.
MIX = (
    ("libreoffice-xlsx", 0.34),
    ("libreoffice-ods", 0.13),
    ("openpyxl", 0.2),
    ("gnumeric", 0.08),
    ("eif-xlsx", 0.15),
    ("eml", 0.05),
    ("msg", 0.05),
)
SOURCES = tuple(name for name, _ in MIX)
CORPUS_VERSION = "2"

Key = tuple[str, str, str, str]
TICKS = ("✓",) * 8 + ("x", "X", "yes", "✔")
SECTORS = ("Health", "Local authority", "Voluntary sector", "Early years settings", "Public health")
TEXTS = (
    "Waiting lists for perinatal mental health support are long",
    "Data sharing agreement with the trust not yet signed — IG review due",
    "Café-based outreach in Ōtautahi-style community hubs (pilot)",
    "Staff turnover in health visiting; 3 vacancies since April",
    "Parents' forum: \"we didn't know the service existed\"",
    "Joint commissioning board to agree pooled budget, see minutes 14/03",
    "Line one of a longer note\nline two, after a line break",
    "Évaluation du programme – résumé à venir",
)
OWNERS = ("Head of Early Help", "Public health lead", "Midwifery matron", "Family hub manager", "")


@dataclass(frozen=True)
class RealReturn:
    path: Path
    source: str  # one of SOURCES
    partner_id: str
    expected: dict[Key, object]  # what was typed, by answer key

    def as_json(self) -> dict:
        return {
            "path": str(self.path),
            "source": self.source,
            "partner_id": self.partner_id,
            "expected": [[list(k), _plain(v)] for k, v in self.expected.items()],
        }


def _plain(value: object) -> object:
    return {"date": value.isoformat()} if isinstance(value, dt.date) else value


def _unplain(value: object) -> object:
    return dt.date.fromisoformat(value["date"]) if isinstance(value, dict) else value


def soffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def ssconvert() -> str | None:
    return shutil.which("ssconvert")


def partners(n: int, seed: int = 0) -> list[Partner]:
    rng = random.Random(f"partners-{seed}")
    first = ("Amira", "Priya", "Dafydd", "Zoë", "Seán", "Ngozi", "Tomasz", "Élodie", "Kwame", "Hannah", "Li", "Ruth")
    last = ("Haddad", "Raman", "Morgan", "O'Brien", "Nowak", "Adeyemi", "Müller", "Khan", "Smith", "Jones")
    orgs = (
        "Northshire Maternity Services",
        "Riverside Family Hub",
        "Family Nurse Partnership North",
        "Northshire Public Health",
        "Little Acorns Nursery",
        "Home-Start Northshire",
        "Children's Services",
    )
    out = []
    for i in range(n):
        name = f"{rng.choice(first)} {rng.choice(last)}"
        org = f"{rng.choice(orgs)} {i + 1}"
        email = f"partner{i + 1:04d}@example.org"
        out.append(Partner(f"P{seed:02d}-{i + 1:04d}", name, org, email, SECTORS[i % len(SECTORS)]))
    return out


def answers_for(layout, rng: random.Random) -> dict[Key, object]:
    """A realistic return: most sub-elements assessed at baseline (ticks up to a level, part of the next), some
    supporting information, a few barriers and actions, notes, the dates, and some indicator values."""
    out: dict[Key, object] = {}
    out[("assessment_date", "", "", BASELINE)] = dt.date(2026, 1 + rng.randrange(10), 1 + rng.randrange(28))
    for sheet in layout.by_role("sub_element"):
        if rng.random() < 0.12:  # left blank: not assessed
            continue
        criteria = sheet.rows_of("criterion")
        levels = list(dict.fromkeys(r.level for r in criteria))
        reach = rng.randrange(len(levels) + 1)
        for row in criteria:
            idx = levels.index(row.level)
            if idx < reach or (idx == reach and rng.random() < 0.5):
                out[("criterion", sheet.sub_element, row.key, BASELINE)] = rng.choice(TICKS)
        for row in sheet.rows_of("supporting_information"):
            if rng.random() < 0.3:
                out[("supporting_information", sheet.sub_element, row.cells[0].item, BASELINE)] = rng.choice(TICKS)
        if rng.random() < 0.2:
            out[("supporting_other", sheet.sub_element, "Other 1", "")] = rng.choice(TEXTS)
            out[("supporting_other_tick", sheet.sub_element, "Other 1", BASELINE)] = "✓"
        for i in range(1, 1 + rng.choice((0, 0, 1, 2, 3))):
            item = str(i)
            out[("barrier", sheet.sub_element, item, "")] = rng.choice(TEXTS)
            out[("priority_action", sheet.sub_element, item, "")] = rng.choice(TEXTS)
            out[("timescale", sheet.sub_element, item, "")] = rng.choice(("Short", "Medium", "Long"))
            owner = rng.choice(OWNERS)
            if owner:
                out[("owner", sheet.sub_element, item, "")] = owner
        if rng.random() < 0.3:
            out[("notes", sheet.sub_element, "", "")] = rng.choice(TEXTS)
    for sheet in layout.by_role("indicators"):
        for row in sheet.rows:
            if rng.random() > 0.15:
                continue
            kinds = {c.field: c for c in row.cells}
            out[("indicator_period", "", row.key, "")] = rng.choice(("2025/26 Q1", "2025/26 Q2", "2026"))
            value = kinds["indicator_value"]
            out[("indicator_value", "", row.key, "")] = (
                round(rng.uniform(20, 95), 1) if value.kind == "number" else rng.choice(TEXTS)
            )
            if "indicator_rag" in kinds:
                out[("indicator_rag", "", row.key, "")] = rng.choice(("Red", "Amber", "Green"))
    return out


def cover_details(p: Partner) -> dict[Key, object]:
    """What the writer puts on a personalised cover (the partner may correct it): part of what must arrive."""
    return {
        ("respondent_name", "", "", ""): p.name,
        ("respondent_role", "", "", ""): p.role,
        ("respondent_organisation", "", "", ""): p.organisation,
        ("respondent_email", "", "", ""): p.email,
    }


def _cells(layout) -> dict[Key, tuple[str, int, int]]:
    return {(c.field, c.sub_element, c.item, c.column): (s.name, r.row, c.col) for s, r, c in layout.inputs()}


def fill(path: Path, layout, answers: dict[Key, object], out: Path) -> Path:
    """Type `answers` into the workbook at `path` with openpyxl, as a partner's program stores them."""
    wb = openpyxl.load_workbook(path)
    where = _cells(layout)
    for key, value in answers.items():
        sheet, row, col = where[key]
        wb[sheet].cell(row=row + 1, column=col + 1).value = value
    wb.save(out)
    return out


def _batch_soffice(files: list[Path], fmt: str, out_dir: Path) -> None:
    """Open and save every file in one LibreOffice process (as xlsx or ods)."""
    exe = soffice()
    out_dir.mkdir(parents=True, exist_ok=True)
    filters = {"xlsx": "xlsx:Calc MS Excel 2007 XML", "ods": "ods"}
    with tempfile.TemporaryDirectory(prefix="eif-lo-") as profile:
        for start in range(0, len(files), 60):
            chunk = files[start : start + 60]
            cmd = [
                exe,
                f"-env:UserInstallation={Path(profile).as_uri()}",
                "--headless",
                "--norestore",
                "--convert-to",
                filters[fmt],
                "--outdir",
                str(out_dir),
                *map(str, chunk),
            ]
            subprocess.run(
                cmd, capture_output=True, timeout=60 + 10 * len(chunk), check=False, env={**os.environ, "HOME": profile}
            )
    missing = [f for f in files if not (out_dir / f"{f.stem}.{fmt}").exists()]
    if missing:
        raise RuntimeError(f"LibreOffice did not save {len(missing)} file(s), e.g. {missing[0]}")


def _gnumeric(src: Path, dst: Path) -> None:
    subprocess.run(
        [ssconvert(), "--export-type=Gnumeric_Excel:xlsx2", str(src), str(dst)],
        capture_output=True,
        timeout=120,
        check=True,
        env={**os.environ, "HOME": tempfile.gettempdir()},
    )


def wrap_eml(attachment: Path, sender: str, dst: Path) -> Path:
    msg = EmailMessage(policy=SMTP)
    msg["From"] = sender
    msg["To"] = "coordinator@example.org"
    msg["Subject"] = "Re: EIF maturity matrix self-assessment"
    msg["Message-ID"] = f"<{attachment.stem}@example.org>"
    msg.set_content("Hello, please find our return attached. Best wishes")
    ctype = (
        ("application", "vnd.oasis.opendocument.spreadsheet")
        if attachment.suffix == ".ods"
        else ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    )
    msg.add_attachment(attachment.read_bytes(), maintype=ctype[0], subtype=ctype[1], filename=attachment.name)
    dst.write_bytes(msg.as_bytes())
    return dst


def wrap_msg(attachment: Path, sender: str, dst: Path) -> Path:
    from msgfile import build_msg  # tests/msgfile.py: a minimal Outlook .msg writer

    dst.write_bytes(build_msg(sender, [(attachment.name, attachment.read_bytes())]))
    return dst


def plan_sources(n: int, seed: int, available: set[str]) -> list[str]:
    """Which program each of n returns comes from: the MIX shares, shuffled by seed; a missing program's share
    goes to openpyxl."""
    names: list[str] = []
    for name, share in MIX:
        names += [name] * round(share * n)
    names = (names + ["openpyxl"] * n)[:n]
    random.Random(f"sources-{seed}").shuffle(names)
    return [s if s in available else "openpyxl" for s in names]


def available_sources() -> set[str]:
    got = {"openpyxl", "eif-xlsx", "eml", "msg"}
    if soffice():
        got |= {"libreoffice-xlsx", "libreoffice-ods"}
    if ssconvert():
        got.add("gnumeric")
    return got


def build(
    folder: Path | str,
    n: int,
    seed: int = 0,
    *,
    indicators: bool = True,
    sources: set[str] | None = None,
    catalog: Catalog | None = None,
    replace: bool = True,
) -> list[RealReturn]:
    """n distinct filled returns in folder/returns (and the workbooks sent, in folder/sent, with manifest.csv).

    A corpus of the same parameters already there is reused; one of other parameters is made again (replace) or
    refused (not replace: a folder the caller named). A folder that holds anything but a corpus is never emptied:
    ValueError."""
    folder = Path(folder)
    sources = (sources or available_sources()) & available_sources()
    params = {
        "version": CORPUS_VERSION,
        "template": TEMPLATE_VERSION,
        "n": n,
        "seed": seed,
        "indicators": indicators,
        "sources": sorted(sources),
    }
    record = folder / "corpus.json"
    if record.exists():
        kept = json.loads(record.read_text(encoding="utf-8"))
        if kept["params"] == params and all(Path(r["path"]).exists() for r in kept["returns"]):
            return [
                RealReturn(
                    Path(r["path"]), r["source"], r["partner_id"], {tuple(k): _unplain(v) for k, v in r["expected"]}
                )
                for r in kept["returns"]
            ]
        if not replace:
            raise ValueError(
                f"{folder} holds a corpus of other parameters ({kept['params']}); give another folder, or remove "
                "it to build this one there"
            )
        print(f"realworld: {folder} holds a corpus of other parameters ({kept['params']}): made again", file=sys.stderr)
    elif folder.exists() and any(folder.iterdir()):
        # Built here, the folder is emptied first: never a folder that is not a corpus (returns, a checkout, ...).
        raise ValueError(f"{folder} is not empty and holds no corpus (corpus.json): choose an empty or new folder")
    shutil.rmtree(folder, ignore_errors=True)
    catalog = catalog or Catalog.default()
    matrix = catalog.matrix(MATRIX_ID)
    iset = catalog.indicator_set(INDICATORS_ID) if indicators else None
    layout = build_layout(matrix, iset)
    people = partners(n, seed)
    rng = random.Random(f"answers-{seed}")
    typed = {p.id: {**cover_details(p), **answers_for(layout, rng)} for p in people}
    plan = dict(zip((p.id for p in people), plan_sources(n, seed, sources), strict=True))
    sent = generate_workbooks(
        matrix,
        folder / "sent",
        people,
        indicators=iset,
        area="Northshire",
        deadline="2026-12-12",
        return_to="coordinator@example.org",
    )
    own = {p.id: ("", typed[p.id], {}) for p in people if plan[p.id] == "eif-xlsx"}
    written = (
        generate_workbooks(
            matrix,
            folder / "own",
            [p for p in people if p.id in own],
            indicators=iset,
            area="Northshire",
            deadline="2026-12-12",
            return_to="coordinator@example.org",
            prefill=own,
        )
        if own
        else None
    )
    returns = folder / "returns"
    staged = folder / "typed"
    returns.mkdir(parents=True)
    staged.mkdir()
    files = {row["partner_id"]: folder / "sent" / row["file"] for row in sent.rows}
    own_files = {row["partner_id"]: folder / "own" / row["file"] for row in written.rows} if written else {}
    filled: dict[str, Path] = {}
    for p in people:
        if plan[p.id] != "eif-xlsx":
            filled[p.id] = fill(files[p.id], layout, typed[p.id], staged / files[p.id].name)
    to_lo = {"libreoffice-xlsx": [], "libreoffice-ods": []}
    for p in people:
        if plan[p.id] in ("libreoffice-xlsx", "eml", "msg"):
            to_lo["libreoffice-xlsx"].append(filled[p.id])
        elif plan[p.id] == "libreoffice-ods":
            to_lo["libreoffice-ods"].append(filled[p.id])
    if to_lo["libreoffice-xlsx"]:
        _batch_soffice(to_lo["libreoffice-xlsx"], "xlsx", folder / "lo-xlsx")
    if to_lo["libreoffice-ods"]:
        _batch_soffice(to_lo["libreoffice-ods"], "ods", folder / "lo-ods")
    out: list[RealReturn] = []
    for p in people:
        source, name = plan[p.id], files[p.id].name
        stem = files[p.id].stem
        if source == "eif-xlsx":
            path = shutil.copy(own_files[p.id], returns / name)
        elif source == "openpyxl":
            path = shutil.copy(filled[p.id], returns / name)
        elif source == "libreoffice-xlsx":
            path = shutil.copy(folder / "lo-xlsx" / name, returns / name)
        elif source == "libreoffice-ods":
            path = shutil.copy(folder / "lo-ods" / f"{stem}.ods", returns / f"{stem}.ods")
        elif source == "gnumeric":
            path = returns / name
            _gnumeric(filled[p.id], path)
        elif source == "eml":
            path = wrap_eml(folder / "lo-xlsx" / name, p.email, returns / f"{stem}.eml")
        else:
            path = wrap_msg(folder / "lo-xlsx" / name, p.email, returns / f"{stem}.msg")
        out.append(RealReturn(Path(path), source, p.id, typed[p.id]))
    shutil.copy(sent.manifest, folder / "manifest.csv")
    for scratch in (staged, folder / "lo-xlsx", folder / "lo-ods", folder / "own"):
        shutil.rmtree(scratch, ignore_errors=True)
    record.write_text(
        json.dumps({"params": params, "returns": [r.as_json() for r in out]}, ensure_ascii=False), encoding="utf-8"
    )
    return out


def same(typed: object, answer) -> bool:
    """Whether an imported answer (eif_xlsx.intake.reader.Answer) holds exactly what was typed."""
    if isinstance(typed, dt.date):
        return answer.value == typed
    if isinstance(typed, float | int) and not isinstance(typed, bool):
        return isinstance(answer.value, float) and answer.value == float(typed)
    if answer.kind == "tick":
        return answer.value is True and answer.raw_text.strip() == typed
    return answer.raw_text == typed


def mismatches(ret, expected: dict[Key, object]) -> list[str]:
    """What a read return lost or changed of what was typed into it, in words (empty: every value arrived)."""
    got = {a.key: a for a in ret.answers if a.filled}
    out = []
    for key, typed in expected.items():
        a = got.get(key)
        if a is None:
            out.append(f"{key}: typed {typed!r}, not read")
        elif not same(typed, a):
            out.append(f"{key}: typed {typed!r}, read {a.raw_text!r}")
    for key, a in got.items():
        if key not in expected:
            out.append(f"{key}: read {a.raw_text!r}, nothing typed")
    return out


__all__ = [
    "COLUMNS",
    "MIX",
    "SOURCES",
    "RealReturn",
    "available_sources",
    "build",
    "fill",
    "mismatches",
    "partners",
    "same",
    "wrap_eml",
    "wrap_msg",
]
