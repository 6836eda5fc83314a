"""Bad, broken and hostile files: each one gives its finding with a message naming the problem, reading never
raises, memory stays small, and in a batch a bad file costs only itself (see tests/corpus.py for the files)."""

from __future__ import annotations

import datetime as dt
import faulthandler
import json
import multiprocessing
import os
import random
import re
import resource
import shutil
import subprocess
import sys
import time
import zipfile
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest

from eif_xlsx.api import check, read_return, validate
from eif_xlsx.domain.catalog import Catalog
from eif_xlsx.domain.partners import Partner
from eif_xlsx.errors import FINDINGS, Severity
from eif_xlsx.intake import batch
from eif_xlsx.intake import container as container_mod
from eif_xlsx.intake import sources as sources_mod
from eif_xlsx.intake.container import inspect
from eif_xlsx.template.layout import COVER_SHEET, META_SHEET

from .conftest import ANN, BOB, MATRIX_ID, make_workbook, need_soffice, saved_email
from .corpus import (
    EXPECTED,
    KNOWN_BUGS,
    OTHER_MATRIX_ID,
    build_corpus,
    first_sub_element_sheet,
    formula_cells,
    other_catalog,
    rewrite,
    shared_formula_cells,
    sheet_parts,
)

CAT = Partner("P-CAT", "Cat Person", "Southshire Health Visiting", "cat@example.org", "Lead")
TICK = "✓"


def answers_for(n: int) -> dict:
    """A filled return: a date, ticks up to Early progress in 1.1 with evidence, a tick in 1.2, some notes."""
    base = {
        ("assessment_date", "", "", "baseline"): dt.date(2025, 1, 15 + n),
        ("criterion", "1.1", "1.1a", "baseline"): TICK,
        ("criterion", "1.1", "1.1b", "baseline"): TICK,
        ("criterion", "1.2", "1.2a", "baseline"): TICK,
        ("supporting_information", "1.1", "1.1-s01", "baseline"): TICK,  # items by id (round two)
        ("notes", "1.1", "", ""): f"Strategy refresh due in spring (return {n})",
    }
    if n:
        base[("criterion", "2", "2a", "baseline")] = TICK
    return base


def expected(value):
    return True if value == TICK else value


# --- the corpus, built once ----------------------------------------------------------------------

#: The files LibreOffice makes (an .ods and its variants): the tests reading them are slow.
OFFICE_FILES = [name for name in EXPECTED if name.startswith("ods-")]
SLOW = pytest.mark.slow


@pytest.fixture(scope="module")
def hostile(tmp_path_factory, matrix):
    """The corpus without the files LibreOffice makes (the fast loop)."""
    root = tmp_path_factory.mktemp("hostile")
    good = make_workbook(root / "good", matrix, answers_for(0))
    corpus = build_corpus(root / "corpus", good, office=False)
    assert not set(OFFICE_FILES) & set(corpus)
    sheet, part = first_sub_element_sheet(good)
    return {"root": root, "good": good, "corpus": corpus, "sheet": sheet, "part": part}


@pytest.fixture(scope="module")
def hostile_office(hostile):
    """The whole corpus, the .ods files LibreOffice makes included (slow tests only)."""
    need_soffice()
    corpus = build_corpus(hostile["root"] / "corpus-office", hostile["good"])
    assert set(OFFICE_FILES) <= set(corpus)
    return {**hostile, "corpus": corpus}


def corpus_of(request, name: str) -> dict:
    """The corpus that holds `name`: the .ods files only in the slow one."""
    return request.getfixturevalue("hostile_office" if name in OFFICE_FILES else "hostile")


def corpus_file(request, name: str) -> Path:
    return corpus_of(request, name)["corpus"][name][0]


def answers_of(ret) -> dict:
    return {a.key: a.value for a in ret.answers}


def typed_answers_of(ret) -> dict:
    """The answers a partner typed (a batch keeps only these)."""
    return {a.key: a.value for a in ret.answers if a.raw_text}


def every_text(ret) -> str:
    """Everything a return carries that a person or an export could see."""
    parts = [f.message for f in ret.findings] + list(ret.metadata.values())
    for a in ret.answers + ret.extra:
        parts += [a.raw_text, a.value_text()]
    return "\n".join(parts)


#: Words each file's finding message must contain (case-blind); SHEET stands for the first sub-element sheet.
MESSAGES = {
    "random-bytes.xlsx": ["not an .xlsx"],
    "empty.xlsx": ["empty (0 bytes)"],
    "truncated.xlsx": ["truncated"],
    "legacy-ole.xlsx": [".xls", "save as .xlsx"],
    "csv-renamed.xlsx": ["csv"],
    "pdf-renamed.xlsx": ["pdf"],
    "html-saved-as.xls": ["HTML", ".xlsx"],
    "plain-zip.xlsx": ["zip archive"],
    "password-ole.xlsx": ["password"],
    "macro.xlsm": ["macro", "no macro was run"],
    "billion-laughs.xlsx": ["xl/sharedStrings.xml", "entities"],
    "xxe.xlsx": ["PART", "DTD"],
    "xxe-utf16.xlsx": ["PART", "DTD"],
    "bomb.xlsx": ["300 MB"],
    "bomb-lying.xlsx": ["xl/sharedStrings.xml", "compression bomb"],
    "size-lie.xlsx": ["PART", "lies about its size"],
    "duplicate-part.xlsx": ["PART", "twice"],
    "far-cell.xlsx": ["SHEET", "XFD1048576", "far outside the template"],
    "far-cell-in-early-row.xlsx": ["SHEET", "KM1048576"],
    "far-cell-long-column.xlsx": ["SHEET", "AAAAAAAAAAAA60"],
    "far-cell-prefixed.xlsx": ["SHEET", "KM1048576"],
    "rows-without-refs.xlsx": ["SHEET", "far outside the template"],
    "spread-over-sheets.xlsx": ["cells together"],
    "sheet-outside.xlsx": ["SHEET", "XFD1048576"],
    "malformed-sheet.xlsx": ["SHEET", "not well-formed"],
    "no-workbook-part.xlsx": ["xl/workbook.xml", "missing"],
    "missing-sheet-part.xlsx": ["SHEET", "PART", "missing"],
    "strict.xlsx": ["Strict"],
    "no-metadata.xlsx": [f"matched to '{MATRIX_ID}'"],
    "metadata-edited.xlsx": ["metadata has been edited"],
    "foreign.xlsx": ["no eif-xlsx metadata"],
    "formulas.xlsx": ["=1+1"],
    "shared-formulas.xlsx": ['=IF(TRUE,"✓")'],
    "other-matrix.xlsx": [OTHER_MATRIX_ID],
    "ods-bad-repeat.ods": ["'two'", "not a number"],
    "ods-far-cell.ods": ["far outside the template"],
}
#: Where each file's finding points, for the files where it has a place: (sheet, cell). SHEET stands for the first
#: sub-element sheet; a cell of None for any cell (a computed one), checked to be a cell reference.
WHERE = {
    "far-cell.xlsx": ("SHEET", "XFD1048576"),
    "far-cell-in-early-row.xlsx": ("SHEET", "KM1048576"),
    "far-cell-long-column.xlsx": ("SHEET", ""),  # its column is past XFD: there is no cell to name, only the sheet
    "far-cell-prefixed.xlsx": ("SHEET", "KM1048576"),
    "rows-without-refs.xlsx": ("SHEET", "A{after_30000_rows}"),  # rows without 'r' follow the template's last row
    "sheet-outside.xlsx": ("SHEET", "XFD1048576"),
    "metadata-edited.xlsx": (META_SHEET, None),
    "ods-far-cell.ods": (COVER_SHEET, None),
}
CELL = re.compile(r"[A-Z]{1,3}[1-9][0-9]*")
READABLE_INTACT = ["macro.xlsm", "huge-dimension.xlsx", "no-metadata.xlsx", "metadata-edited.xlsx", "ods-renamed.xlsx"]


def expected_where(hostile, name: str) -> tuple[str, str | None] | None:
    """(sheet, cell) the finding of file `name` must carry; None where the file has no place to point at."""
    if name not in WHERE:
        return None
    sheet, cell = WHERE[name]
    if cell and "{" in cell:
        with zipfile.ZipFile(hostile["good"]) as zf:
            last = max(int(r) for r in re.findall(rb'<row r="(\d+)"', zf.read(hostile["part"])))
        cell = cell.format(after_30000_rows=last + 30000 + 1)
    return (hostile["sheet"] if sheet == "SHEET" else sheet), cell


def assert_where(found: list, where: tuple[str, str | None], name: str) -> None:
    """Each finding in `found` is at `where` (one finding per file)."""
    sheet, cell = where
    assert [f.sheet for f in found] == [sheet], (name, [f.where for f in found])
    if cell is None:
        assert CELL.fullmatch(found[0].cell), (name, found[0].where)
    else:
        assert found[0].cell == cell, (name, found[0].where)


def _params(names):
    return [
        pytest.param(n, marks=pytest.mark.xfail(strict=True, reason=KNOWN_BUGS[n]))
        if n in KNOWN_BUGS
        else pytest.param(n, marks=SLOW)
        if n in OFFICE_FILES
        else n
        for n in names
    ]


# --- each file -----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", _params(EXPECTED))
def test_each_file_gives_its_finding(request, name):
    hostile = corpus_of(request, name)
    path = corpus_file(request, name)
    code = EXPECTED[name]
    ret = read_return(path)  # never raises
    report = check(ret)
    codes = [f.code for f in report.findings]
    if code is None or FINDINGS[code].severity != Severity.ERROR:
        assert ret.readable and report.accepted, [f.message for f in report.findings]
        assert not [f for f in report.findings if f.severity == Severity.ERROR]
    else:
        assert not report.accepted
        assert report.reason(), "a rejected file must say why"
    if code is None:
        return
    assert code in codes, [f"{f.code}: {f.message}" for f in report.findings]
    found = [f for f in report.findings if f.code == code]
    message = " | ".join(f.message for f in found)
    assert all(f.file == path.name for f in found)
    for word in MESSAGES.get(name, []):
        word = {"SHEET": hostile["sheet"], "PART": hostile["part"]}.get(word, word)
        assert word.lower() in message.lower(), (word, message)
    where = expected_where(hostile, name)
    if where is not None:
        assert_where(found, where, name)


@pytest.mark.parametrize("name", _params(READABLE_INTACT))
def test_readable_files_keep_every_answer(request, name):
    hostile = corpus_of(request, name)
    path = corpus_file(request, name)
    good = answers_of(read_return(hostile["good"]))
    ret = read_return(path)
    assert ret.readable, [f.message for f in ret.findings]
    got = answers_of(ret)
    assert got == good
    for key, value in answers_for(0).items():
        assert got[key] == expected(value), key


def test_macro_workbook_is_read_as_xlsm_with_an_info_finding(hostile):
    ret = read_return(hostile["corpus"]["macro.xlsm"][0])
    assert ret.format == "xlsm"
    macro = [f for f in ret.findings if f.code == "macro-workbook"]
    assert len(macro) == 1 and macro[0].severity == Severity.INFO


@SLOW
def test_ods_renamed_xlsx_is_recognised_by_its_content(hostile_office):
    # The safety pass knows it is an .ods whatever the name says (reading it through calamine: see KNOWN_BUGS).
    assert inspect(hostile_office["corpus"]["ods-renamed.xlsx"][0]).format == "ods"


def test_external_entity_never_reaches_an_answer(hostile):
    secret = (
        Path("/etc/passwd").read_text(encoding="utf-8", errors="replace").splitlines()[:3]
        if Path("/etc/passwd").exists()
        else []
    )
    secret = [line for line in secret if line.strip()] or ["root:x:0:0"]
    for name in ("xxe.xlsx", "xxe-utf16.xlsx", "billion-laughs.xlsx"):
        ret = read_return(hostile["corpus"][name][0])
        assert not ret.readable and not ret.answers
        text = every_text(ret)
        assert not any(line in text for line in secret), name
        assert "lollol" not in text


def test_formulas_in_inputs_are_flagged_at_their_cells_and_kept_as_text(hostile):
    path = hostile["corpus"]["formulas.xlsx"][0]
    sheet = hostile["sheet"]
    tick_cell, notes_cell = formula_cells(hostile["good"])
    ret = read_return(path)
    report = check(ret)
    assert report.accepted
    where = {f.where: f for f in report.findings if f.code == "formula-in-input"}
    assert set(where) == {f"{sheet}!{tick_cell}", f"{sheet}!{notes_cell}"}
    assert "=1+1" in where[f"{sheet}!{tick_cell}"].message
    assert '=HYPERLINK("http://x","y")' in where[f"{sheet}!{notes_cell}"].message
    tick = ret.answer("criterion", "1.1", "1.1a", "baseline")
    notes = ret.answer("notes", "1.1", "", "")
    assert tick.raw_text == "=1+1" and tick.value is False and tick.problem == "formula-in-input"
    assert notes.raw_text == '=HYPERLINK("http://x","y")'
    # The other answers are untouched.
    assert ret.answer("criterion", "1.1", "1.1b", "baseline").value is True


def test_filled_down_and_array_formulas_are_flagged_in_every_cell(hostile):
    """Excel stores a formula filled down once (a shared formula) and an array formula once: every cell counts."""
    down, array = shared_formula_cells(hostile["good"])
    ret = read_return(hostile["corpus"]["shared-formulas.xlsx"][0])
    sheet = hostile["sheet"]
    flagged = {f.where for f in ret.findings if f.code == "formula-in-input"}
    assert flagged == {f"{sheet}!{c}" for c in down + array}
    for item in ("1.1a", "1.1b", "1.1c"):
        a = ret.answer("criterion", "1.1", item, "baseline")
        assert a.raw_text == '=IF(TRUE,"✓")' and a.value is False  # its cached ✓ is not taken as a tick


def test_another_matrix_is_different_or_unknown(hostile, tmp_path):
    path = hostile["corpus"]["other-matrix.xlsx"][0]
    catalog = other_catalog(tmp_path / "definitions")
    ret = read_return(path, catalog)
    assert ret.readable and ret.matrix_id == OTHER_MATRIX_ID
    assert check(ret, catalog).accepted
    report = check(ret, catalog, expected_matrix=MATRIX_ID)
    assert not report.accepted
    different = [f for f in report.findings if f.code == "different-matrix"]
    assert len(different) == 1
    assert OTHER_MATRIX_ID in different[0].message and f"'{MATRIX_ID}'" in different[0].message


def test_unknown_matrix_is_refused_naming_it(hostile):
    ret = read_return(hostile["corpus"]["other-matrix.xlsx"][0])
    assert [(f.code, f.file) for f in ret.findings] == [("unknown-matrix", "other-matrix.xlsx")]
    assert f"'{OTHER_MATRIX_ID}'" in ret.findings[0].message
    assert not check(ret).accepted


#: Parts that hold the answers: cut short, the file is refused. Parts that hold none: cut short, it costs nothing.
HOLD_ANSWERS = ["xl/workbook.xml", "xl/_rels/workbook.xml.rels", "xl/sharedStrings.xml"]  # and every sheet
HOLD_NO_ANSWERS = ["xl/theme/theme1.xml", "docProps/core.xml", "docProps/app.xml"]


def test_a_damaged_copy_of_every_part_is_refused_or_read_intact(hostile, tmp_path):
    """Each part in turn cut short, then with bytes flipped. Each copy is either refused with one 'damaged' finding
    naming the file (and the sheet and its part, or the part, that could not be read), or read with every answer of
    the good file, any new finding a warning at a Sheet!A1 cell of the workbook."""
    good = hostile["good"]
    good_answers = answers_of(read_return(good))
    good_findings = {(f.code, f.where) for f in check(read_return(good)).findings}
    sheets = {part: name for name, part in sheet_parts(good).items()}  # part -> sheet name
    rng = random.Random(7)
    with zipfile.ZipFile(good) as zf:
        parts = {i.filename: zf.read(i) for i in zf.infolist()}
    assert set(HOLD_ANSWERS + HOLD_NO_ANSWERS) <= set(parts), sorted(parts)
    readable = {}
    for i, (part, data) in enumerate(parts.items()):
        cut = rewrite(good, tmp_path / f"cut{i}.xlsx", {part: data[: len(data) // 3]})
        flipped = bytearray(data)
        for _ in range(3):
            flipped[rng.randrange(len(flipped))] = rng.choice(b'<>/"=&;x\x00\xff')
        flip = rewrite(good, tmp_path / f"flip{i}.xlsx", {part: bytes(flipped)})
        for how, path in (("cut", cut), ("flipped", flip)):
            ret = read_return(path)
            report = check(ret)
            what = (part, how, [f"{f.code} {f.where}: {f.message}" for f in report.findings])
            assert all(f.file == path.name for f in report.findings), what
            readable[part, how] = ret.readable
            if ret.readable:
                assert report.accepted, what
                assert answers_of(ret) == good_answers, what
                for f in report.findings:
                    if (f.code, f.where) not in good_findings:
                        assert f.severity == Severity.WARNING and f.sheet in sheets.values(), what
                        assert CELL.fullmatch(f.cell), what
            else:
                assert not report.accepted and not ret.answers, what
                assert [f.code for f in report.findings] == ["damaged"], what
                message = report.findings[0].message
                if part in sheets:
                    assert f"'{sheets[part]}'" in message and part in message, what
                elif part in ("xl/workbook.xml", "xl/_rels/workbook.xml.rels"):
                    assert part in message, what
    for part in [*sheets, *HOLD_ANSWERS]:
        assert readable[part, "cut"] is False, part
    for part in HOLD_NO_ANSWERS:
        assert readable[part, "cut"] is True and readable[part, "flipped"] is True, part


# --- batches -------------------------------------------------------------------------------------


@pytest.mark.parametrize("corpus", ["hostile", pytest.param("hostile_office", marks=SLOW)])
def test_batch_of_good_and_bad_files(request, corpus, matrix, tmp_path):
    """Good returns in a batch with every bad file keep every answer; each bad file gets its own finding, naming it
    and its Sheet!A1 cell where it has one; the readable ones keep every answer too."""
    hostile = request.getfixturevalue(corpus)
    folder = tmp_path / "inbox"
    folder.mkdir()
    good = {}
    for n, partner in enumerate((ANN, BOB, CAT)):
        made = make_workbook(tmp_path / f"good{n}", matrix, answers_for(n), partner=partner)
        good[f"good-{n}.xlsx"] = answers_for(n)
        shutil.copy(made, folder / f"good-{n}.xlsx")
    for name, (path, _) in hostile["corpus"].items():
        shutil.copy(path, folder / name)
    started = time.monotonic()
    reports = {r.file: r for r in validate([folder])}
    elapsed = time.monotonic() - started
    assert elapsed < 50, f"the batch took {elapsed:.0f} s"
    assert set(reports) == set(good) | set(hostile["corpus"])
    for name, answers in good.items():
        report = reports[name]
        assert report.accepted, [f.message for f in report.findings]
        assert all(f.file == name for f in report.findings), name
        for key, value in answers.items():
            assert report.ret.answer(*key).value == expected(value), (name, key)
    good_answers = typed_answers_of(read_return(hostile["good"]))
    assert set(answers_for(0)) <= set(good_answers)
    for name, (_, code) in hostile["corpus"].items():
        if name in KNOWN_BUGS:
            continue
        report = reports[name]
        codes = [f.code for f in report.findings]
        assert all(f.file == name for f in report.findings), (name, [(f.file, f.code) for f in report.findings])
        if code is not None:
            found = [f for f in report.findings if f.code == code]
            assert found, (name, codes)
            where = expected_where(hostile, name)
            if where is not None:
                assert_where(found, where, name)
        should_reject = code is not None and FINDINGS[code].severity == Severity.ERROR
        assert report.accepted is not should_reject, (name, [f.message for f in report.findings])
        if should_reject:
            assert not report.ret.answers, name
        if name in READABLE_INTACT:
            assert typed_answers_of(report.ret) == good_answers, name


def test_batch_worker_runs_under_the_memory_limit():
    with ProcessPoolExecutor(max_workers=1, initializer=batch._limit_memory) as pool:
        soft, hard = pool.submit(resource.getrlimit, resource.RLIMIT_AS).result(timeout=60)
    assert soft == batch.WORKER_MEMORY and hard == batch.WORKER_MEMORY


@pytest.fixture
def real_crash(hostile, monkeypatch):
    """A file that gets past the safety pass and makes the reader abort (a dense grid of 10 GB, refused by the
    worker's address-space limit).

    No real file gets past container.py any more, so its extent limits are raised for these tests (the worker
    processes are forked and inherit them); the crash itself is real: calamine aborts the worker process.
    """
    if multiprocessing.get_start_method(allow_none=False) != "fork":
        pytest.skip("the worker must inherit the lowered safety limits (fork start method)")
    monkeypatch.setattr(container_mod, "MAX_ROWS", 10**9)
    monkeypatch.setattr(container_mod, "MAX_COLS", 10**9)
    monkeypatch.setattr(container_mod, "MAX_CELLS", 10**18)
    soft, hard = resource.getrlimit(resource.RLIMIT_CORE)
    resource.setrlimit(resource.RLIMIT_CORE, (0, hard))  # no core file from the aborted worker
    dumping = faulthandler.is_enabled()
    faulthandler.disable()  # the forked worker would print a 'Fatal Python error' traceback as it aborts
    try:
        yield hostile["corpus"]["far-cell-in-early-row.xlsx"][0]
    finally:
        resource.setrlimit(resource.RLIMIT_CORE, (soft, hard))
        if dumping:
            faulthandler.enable(file=sys.__stderr__)


def _crashed(report) -> bool:
    return (
        not report.accepted
        and [f.code for f in report.findings] == ["damaged"]
        and ("crashed" in report.findings[0].message)
    )


def test_batch_survives_a_worker_killed_by_a_real_crash(hostile, real_crash):
    """The crashing file costs only itself, in the pool and read alone."""
    good = hostile["good"]
    sources = [
        batch.Source(str(good), "first.xlsx"),
        batch.Source(str(real_crash), "crash.xlsx"),
        batch.Source(str(good), "last.xlsx"),
    ]
    started = time.monotonic()
    reports = batch.run(sources, jobs=2)
    alone = batch._isolated(sources[1], batch.Context(Catalog.default()))
    assert time.monotonic() - started < 50
    assert [r.file for r in reports] == ["first.xlsx", "crash.xlsx", "last.xlsx"]
    assert reports[0].accepted and reports[2].accepted
    assert _crashed(reports[1]) and _crashed(alone)


def test_a_crashing_workbook_in_an_e_mail_costs_only_itself(hostile, real_crash, tmp_path):
    """An e-mail's workbooks are read each as a file of its own, after the e-mail is opened: one that crashes its
    reader costs neither the other workbooks of its e-mail nor the files beside it."""
    good = hostile["good"].read_bytes()
    mail = tmp_path / "returns.eml"
    mail.write_bytes(saved_email([("a.xlsx", good), ("crash.xlsx", real_crash.read_bytes()), ("b.xlsx", good)]))
    with sources_mod.scratch():
        reports = batch.run(
            [batch.Source(str(hostile["good"]), "first.xlsx"), sources_mod.source_of(mail)],
            jobs=2,
            workdir=tmp_path / "work",
        )
    assert [r.file for r in reports] == [
        "first.xlsx",
        "returns.eml › a.xlsx",
        "returns.eml › crash.xlsx",
        "returns.eml › b.xlsx",
    ]
    assert reports[0].accepted and reports[1].accepted and reports[3].accepted
    assert _crashed(reports[2])


# --- memory ---------------------------------------------------------------------------------------

_MEASURE = """
import json, resource, sys
resource.setrlimit(resource.RLIMIT_AS, (3 * 1024 ** 3, 3 * 1024 ** 3))
from eif_xlsx.intake.reader import read_return
from eif_xlsx.intake.checks import check
def peak():
    kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kb * 1024 if sys.platform != "darwin" else kb
check(read_return(sys.argv[1]))  # imports and first read
before = peak()
codes = {}
for path in sys.argv[2:]:
    codes[path] = [f.code for f in read_return(path).findings]
print(json.dumps({"before": before, "after": peak(), "codes": codes}))
"""


def test_reading_bombs_keeps_memory_small(hostile):
    names = [
        "bomb.xlsx",
        "bomb-lying.xlsx",
        "size-lie.xlsx",
        "huge-dimension.xlsx",
        "far-cell.xlsx",
        "far-cell-in-early-row.xlsx",
        "far-cell-long-column.xlsx",
        "far-cell-prefixed.xlsx",
        "rows-without-refs.xlsx",
        "spread-over-sheets.xlsx",
        "sheet-outside.xlsx",
        "billion-laughs.xlsx",
    ]
    paths = [str(hostile["corpus"][n][0]) for n in names]
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    proc = subprocess.run(
        [sys.executable, "-c", _MEASURE, str(hostile["good"]), *paths],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    for name, path in zip(names, paths, strict=True):
        assert EXPECTED[name] in got["codes"][path] or EXPECTED[name] is None, (name, got["codes"][path])
    growth = (got["after"] - got["before"]) / 1024**2
    assert growth < 100, f"peak memory grew by {growth:.0f} MB reading the bombs"


def test_far_cell_finding_names_its_sheet_and_cell(tmp_path, matrix):
    """A cell far outside the template is refused with Sheet!A1 in the finding itself, not only in its words."""
    import zipfile

    from eif_xlsx.intake.reader import read_return

    from .conftest import make_workbook

    good = make_workbook(tmp_path / "gen", matrix)
    sheet, part = first_sub_element_sheet(good)
    bad = tmp_path / "far.xlsx"
    with zipfile.ZipFile(good) as zin, zipfile.ZipFile(bad, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename == part:
                data = data.replace(
                    b"</sheetData>",
                    b'<row r="900000"><c r="B900000" t="inlineStr"><is><t>x</t></is></c></row></sheetData>',
                )
            zout.writestr(info, data)
    ret = read_return(bad)
    found = [f for f in ret.findings if f.code == "too-large"]
    assert [(f.sheet, f.cell) for f in found] == [(sheet, "B900000")]
    assert "B900000" in found[0].message and not ret.readable


def test_other_office_formats_get_a_way_forward(tmp_path):
    """An .xlsb or a Numbers file named .xlsx is refused with what to do instead."""
    import zipfile

    from eif_xlsx.intake.reader import read_return

    xlsb = tmp_path / "binary.xlsx"
    with zipfile.ZipFile(xlsb, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/workbook.bin", b"\x83\x01\x00")
    numbers = tmp_path / "numbers.xlsx"
    with zipfile.ZipFile(numbers, "w") as z:
        z.writestr("Index/Document.iwa", b"\x00\x01")
        z.writestr("Metadata/Properties.plist", b"<plist/>")
    for path, words in ((xlsb, ".xlsb"), (numbers, "Export To")):
        ret = read_return(path)
        assert [f.code for f in ret.findings] == ["not-a-workbook"]
        assert words in ret.findings[0].message
