"""The generator: what a generated workbook holds (read back with openpyxl), and the partner list / CLI around it."""

from __future__ import annotations

import csv
import hashlib
import re
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from eif_xlsx.cells import MAX_SHEET_NAME, a1, safe_sheet_name
from eif_xlsx.cli import main
from eif_xlsx.domain.model import NOT_YET_BASIC, Matrix
from eif_xlsx.domain.partners import read_partners
from eif_xlsx.errors import UsageError
from eif_xlsx.template import layout as layout_mod
from eif_xlsx.template.generate import generate_workbooks
from eif_xlsx.template.layout import (
    COL_12M,
    COL_BASE,
    COL_KEY,
    COL_LEVEL,
    COL_NOTE,
    COL_TEXT,
    GD_LAST,
    GD_MARK,
    GD_TEXT,
    GUIDANCE_SHEET,
    META_KEY_COL,
    META_PARTNER_ID_ROW,
    META_SHEET,
    META_VALUE_COL,
    OTHER_ROWS,
    OV_CODE,
    OV_DIM,
    TICK,
    WorkbookLayout,
)

from .conftest import ANN, BOB, INDICATORS_ID, MATRIX_ID, press_ctrl_c

FORBIDDEN = set("[]:*?/\\")
SAFE_FILE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*\.xlsx$")


# --- helpers -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def generated(tmp_path_factory, matrix, indicator_set):
    """One workbook for ANN with the indicator sheet, opened with openpyxl, and the layout it should follow."""
    out = tmp_path_factory.mktemp("gen")
    result = generate_workbooks(matrix, out, [ANN], indicators=indicator_set, area="Northshire", deadline="2026-12-12")
    path = result.files[0]
    return path, openpyxl.load_workbook(path), layout_mod.build(matrix, indicator_set)


def col(c: int) -> int:
    """Zero-based layout column -> openpyxl's one-based column."""
    return c + 1


def row_of(ws, text: str, column: int = COL_KEY) -> int:
    """The one-based row whose cell in `column` holds exactly `text` (exactly one such row)."""
    hits = [r for r in range(1, ws.max_row + 1) if ws.cell(r, col(column)).value == text]
    assert len(hits) == 1, f"{ws.title}: expected one row with {text!r} in column {column}, found {hits}"
    return hits[0]


def header(ws, r: int, n: int) -> list:
    return [ws.cell(r, c).value for c in range(1, n + 1)]


def validation_cells(ws) -> dict[str, object]:
    """A1 -> the data validation covering it (asserting no cell has two)."""
    out: dict[str, object] = {}
    for dv in ws.data_validations.dataValidation:
        for rng in dv.sqref.ranges:
            for r, c in rng.cells:
                ref = a1(r - 1, c - 1)
                assert ref not in out, f"{ws.title}!{ref} has two data validations"
                out[ref] = dv
    return out


def list_items(dv) -> list[str]:
    assert dv.type == "list"
    text = dv.formula1
    assert text.startswith('"') and text.endswith('"'), text
    return text[1:-1].split(",")


def metadata(wb) -> dict[str, str]:
    ws = wb[META_SHEET]
    return {r[0]: (r[1] or "") for r in ws.iter_rows(min_row=2, max_col=2, values_only=True) if r[0]}


def write_csv(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows(rows)
    return path


def read_manifest(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(newline="", encoding="utf-8-sig") as fh:  # written with a BOM, as Excel wants
        reader = csv.DictReader(fh)
        rows = list(reader)
        return list(reader.fieldnames or []), rows


def run_generate(*args: str):
    return CliRunner().invoke(main, ["generate", MATRIX_ID, *args], catch_exceptions=False)


# --- sheets and their content ----------------------------------------------------------------------


def test_sheet_names(generated, matrix):
    _, wb, lay = generated
    subs = [sub for _, _, sub in matrix.sub_elements()]
    names = wb.sheetnames
    assert names[:3] == ["Cover", "Guidance", "Overview"]
    assert names[-2:] == ["Indicators", META_SHEET]
    sub_names = names[3:-2]
    assert len(sub_names) == len(subs)
    for name, sub in zip(sub_names, subs, strict=True):
        assert name.startswith(sub.code + " "), name
        assert len(name) <= MAX_SHEET_NAME
        assert not FORBIDDEN & set(name)
    assert "1.1 Vision, strategy & plan" in names
    assert "2 Commissioning" in names
    # The one name over 31 characters in the built-in matrix is shortened, keeping its code.
    long = next(n for n in sub_names if n.startswith("7.2 "))
    assert len(long) <= MAX_SHEET_NAME and long != "7.2 Evidence-based programmes / interventions"
    assert len({n.lower() for n in names}) == len(names)
    assert names == [s.name for s in lay.sheets] + [META_SHEET]
    assert wb[META_SHEET].sheet_state == "hidden"
    assert all(wb[n].sheet_state == "visible" for n in names if n != META_SHEET)


def test_criteria_on_each_sub_element_sheet(generated, matrix):
    _, wb, lay = generated
    for _, _, sub in matrix.sub_elements():
        ws = wb[lay.sub_element_sheet(sub.code).name]
        assert ws["A1"].value == sub.title
        h = row_of(ws, "Code")
        assert header(ws, h, 5) == ["Code", "Progress level", "Criteria", "Baseline", "12 months"]
        for i, crit in enumerate(sub.criteria, start=1):
            r = row_of(ws, crit.code)
            assert r == h + i, f"{crit.code} is not in matrix order under the header"
            assert ws.cell(r, col(COL_LEVEL)).value == crit.level
            assert ws.cell(r, col(COL_TEXT)).value == crit.text  # verbatim
            assert ws.cell(r, col(COL_BASE)).value is None and ws.cell(r, col(COL_12M)).value is None
        # Nothing else in column A between the header and the last criterion.
        assert ws.cell(h + len(sub.criteria) + 1, col(COL_KEY)).value is None


def test_supporting_information_and_other_rows(generated, matrix):
    _, wb, lay = generated
    for _, _, sub in matrix.sub_elements():
        ws = wb[lay.sub_element_sheet(sub.code).name]
        h = row_of(ws, "Ref")
        assert header(ws, h, 5) == ["Ref", "Progress level", "Supporting information", "Baseline", "12 months"]
        for i, item in enumerate(sub.supporting_information, start=1):
            # Each item keyed by its id; a heading line is shown (bold) with no key and no input.
            assert ws.cell(h + i, col(COL_TEXT)).value == item.text
            if item.heading:
                assert ws.cell(h + i, col(COL_KEY)).value is None
                assert ws.cell(h + i, col(COL_TEXT)).font.b
                assert ws.cell(h + i, col(COL_BASE)).protection.locked
                continue
            r = row_of(ws, item.id)
            assert r == h + i
            assert (ws.cell(r, col(COL_LEVEL)).value or None) == item.level
            assert not ws.cell(r, col(COL_BASE)).protection.locked
        last = h + len(sub.supporting_information)
        for i in range(1, OTHER_ROWS + 1):
            r = row_of(ws, f"Other {i}")
            assert r == last + i
            assert ws.cell(r, col(COL_LEVEL)).value == "Other (describe)"
            assert ws.cell(r, col(COL_TEXT)).value is None  # the partner describes it here
        assert ws.cell(last + OTHER_ROWS + 1, col(COL_KEY)).value is None


def test_barrier_and_action_table(generated, matrix):
    _, wb, lay = generated
    for _, _, sub in matrix.sub_elements():
        ws = wb[lay.sub_element_sheet(sub.code).name]
        h = row_of(ws, "Barrier to change", COL_LEVEL)
        assert header(ws, h, 5) == ["#", "Barrier to change", "Priority action", "Timescale", "Owner"]
        n = 0
        while ws.cell(h + n + 1, col(COL_KEY)).value == f"#{n + 1}":
            n += 1
        assert n >= 6
        # The rows are empty, to be filled in.
        for r in range(h + 1, h + n + 1):
            assert all(ws.cell(r, c).value is None for c in range(col(COL_LEVEL), col(COL_NOTE) + 1))


def test_overview_lists_every_sub_element(generated, matrix):
    _, wb, lay = generated
    ws = wb["Overview"]
    ov = lay.sheet("Overview")
    for _, _, sub in matrix.sub_elements():
        r = row_of(ws, sub.code, layout_mod.OV_CODE)
        assert ws.cell(r, col(layout_mod.OV_NAME)).value == sub.name
        row = next(x for x in ov.rows if x.key == sub.code)
        assert row.row == r - 1


# --- data validation ---------------------------------------------------------------------------


def test_validations_are_on_exactly_the_input_cells(generated, matrix, indicator_set):
    _, wb, lay = generated
    assert lay == layout_mod.build(matrix, indicator_set)
    expected = {(s.name, a1(r.row, c.col)): c for s, r, c in lay.inputs() if c.kind != "text"}
    free_text = {(s.name, a1(r.row, c.col)) for s, r, c in lay.inputs() if c.kind == "text"}
    assert expected and free_text
    found: dict[tuple[str, str], object] = {}
    for ws in wb.worksheets:
        for ref, dv in validation_cells(ws).items():
            found[(ws.title, ref)] = dv
    assert set(found) == set(expected)
    assert not set(found) & free_text

    kinds_seen = set()
    for key, cell in expected.items():
        dv = found[key]
        kinds_seen.add(cell.kind)
        if cell.kind == "tick":
            assert list_items(dv) == [TICK], key
        elif cell.kind == "choice":
            assert list_items(dv) == list(cell.choices), key
        elif cell.kind == "date":
            assert dv.type == "date", key
        elif cell.kind == "number":
            assert dv.type == "decimal", key
        else:  # pragma: no cover - a kind the test does not know
            pytest.fail(f"unknown input kind {cell.kind} at {key}")
    assert kinds_seen == {"tick", "choice", "date", "number"}


def test_validation_lists(generated, matrix):
    _, wb, lay = generated
    # Timescale on every barrier/action row.
    ws = wb["2 Commissioning"]
    dvs = validation_cells(ws)
    h = row_of(ws, "Barrier to change", COL_LEVEL)
    assert list_items(dvs[a1(h, COL_BASE)]) == ["Short", "Medium", "Long"]
    # Ticks on a criterion, in both columns.
    r = row_of(ws, "2a") - 1
    assert list_items(dvs[a1(r, COL_BASE)]) == [TICK]
    assert list_items(dvs[a1(r, COL_12M)]) == [TICK]
    # Overall rating and assessment dates on the Overview.
    ov = wb["Overview"]
    dvs = validation_cells(ov)
    r = row_of(ov, "2", layout_mod.OV_CODE) - 1
    for c in layout_mod.COLUMNS:
        assert list_items(dvs[a1(r, layout_mod.OV_RATING[c])]) == [NOT_YET_BASIC, *matrix.level_names]
    assert list_items(dvs[a1(r, layout_mod.OV_RATING["baseline"])]) == [
        "Not yet basic",
        "Basic level",
        "Early progress",
        "Substantial progress",
        "Mature",
    ]
    dates = [ref for ref, dv in dvs.items() if dv.type == "date"]
    assert len(dates) == 2
    for label in ("Baseline assessment date", "12 months assessment date"):
        dr = row_of(ov, label) - 1
        assert a1(dr, layout_mod.OV_DATE_COL) in dates


# --- protection ----------------------------------------------------------------------------------


def test_every_sheet_protected(generated):
    _, wb, _ = generated
    for ws in wb.worksheets:
        assert ws.protection.sheet is True, ws.title
        if ws.title == META_SHEET:
            continue
        # In OOXML a true flag means the action is *protected*: false means partners may do it.
        assert ws.protection.sort is False, ws.title
        assert ws.protection.autoFilter is False, ws.title
        assert ws.protection.formatRows is False, ws.title


def test_inputs_unlocked_labels_locked(generated, matrix):
    _, wb, lay = generated
    for s, r, c in lay.inputs():
        cell = wb[s.name].cell(r.row + 1, c.col + 1)
        assert cell.protection.locked is False, f"{s.name}!{cell.coordinate} ({c.field}) is locked"
    input_cells = {(s.name, r.row, c.col) for s, r, c in lay.inputs()}
    for s in lay.by_role("sub_element"):
        ws = wb[s.name]
        for row in s.rows:
            if row.label:  # criteria and supporting information: code, level and text are fixed
                for c in (COL_KEY, COL_LEVEL, COL_TEXT):
                    assert (s.name, row.row, c) not in input_cells
                    assert ws.cell(row.row + 1, c + 1).protection.locked is True, f"{s.name} {row.key} col {c}"
        # The live level and score cells are formulas, locked.
        for c in ("baseline", "12_months"):
            lr = s.marks[f"level_{c}"]
            for cc in (COL_TEXT, COL_BASE):
                cell = ws.cell(lr + 1, cc + 1)
                assert str(cell.value).startswith("=")
                assert cell.protection.locked is True
    ov = wb["Overview"]
    for _, _, sub in matrix.sub_elements():
        r = row_of(ov, sub.code, layout_mod.OV_CODE)
        assert ov.cell(r, col(layout_mod.OV_CODE)).protection.locked is True
        assert ov.cell(r, col(layout_mod.OV_NAME)).protection.locked is True


# --- metadata ----------------------------------------------------------------------------------


def test_metadata_sheet(generated, matrix, indicator_set):
    _, wb, lay = generated
    meta = metadata(wb)
    assert meta["definition_id"] == matrix.id == MATRIX_ID
    assert meta["definition_version"] == matrix.version
    assert meta["definition_hash"] == matrix.content_hash
    assert meta["partner_id"] == ANN.id
    assert meta["partner_name"] == ANN.name
    assert meta["round"] == "baseline"
    assert meta["template_version"] == layout_mod.TEMPLATE_VERSION
    assert meta["indicators_id"] == INDICATORS_ID
    assert meta["layout_1"]
    chunks = [meta[f"layout_{i}"] for i in range(1, 100) if f"layout_{i}" in meta]
    assert all(len(c) <= 32767 for c in chunks)
    stored = WorkbookLayout.unpack(chunks)
    assert stored == lay == layout_mod.build(matrix, indicator_set)
    assert wb[META_SHEET].protection.sheet is True


# --- determinism -------------------------------------------------------------------------------


def test_same_inputs_same_bytes(tmp_path, matrix, indicator_set):
    runs = []
    for name in ("one", "two"):
        res = generate_workbooks(
            matrix, tmp_path / name, [ANN, BOB], indicators=indicator_set, area="Northshire", deadline="2026-12-12"
        )
        runs.append(res)
    a, b = runs
    assert [r["file"] for r in a.rows] == [r["file"] for r in b.rows]
    for fa, fb in zip(a.files, b.files, strict=True):
        assert fa.read_bytes() == fb.read_bytes()
    _, ma = read_manifest(a.manifest)
    _, mb = read_manifest(b.manifest)
    assert [r["sha256"] for r in ma] == [r["sha256"] for r in mb]
    assert a.manifest.read_bytes() == b.manifest.read_bytes()
    # Different partners, different files.
    ann, bob = a.files
    assert ann.read_bytes() != bob.read_bytes()
    assert ma[0]["sha256"] != ma[1]["sha256"]


# --- partner lists and the CLI -------------------------------------------------------------------

GOOD = ["Ann Example", "Northshire Midwifery", "ann@example.org"]

BAD_LISTS = {
    "no name and no organisation": (
        [["name", "organisation", "email"], GOOD, ["", "", "nobody@example.org"]],
        3,
        "no name and no organisation",
    ),
    "duplicate id": (
        [
            ["id", "name", "organisation", "email"],
            ["P-1", *GOOD],
            ["P-2", "Bob", "Hub", "bob@example.org"],
            ["p-1", "Cat", "Hub", "cat@example.org"],
        ],
        4,
        "duplicate id 'p-1' (also row 2)",
    ),
    "duplicate email": (
        [["name", "organisation", "email"], GOOD, ["Bob", "Hub", "bob@example.org"], ["Cat", "Hub", "ANN@example.org"]],
        4,
        "duplicate email 'ANN@example.org' (also row 2)",
    ),
    "malformed email": (
        [["name", "organisation", "email"], GOOD, ["Bob", "Hub", "bob.example.org"]],
        3,
        "'bob.example.org' is not a valid email address",
    ),
    "missing header column": ([["name", "email"], ["Ann Example", "ann@example.org"]], 1, "missing: organisation"),
}


@pytest.mark.parametrize("case", list(BAD_LISTS))
def test_bad_partner_list(tmp_path, case):
    rows, row_no, message = BAD_LISTS[case]
    path = write_csv(tmp_path / "partners.csv", rows)
    with pytest.raises(UsageError) as exc:
        read_partners(path)
    assert f"row {row_no}: " in str(exc.value)
    assert message in str(exc.value)

    out = tmp_path / "out"
    result = run_generate("--partners", str(path), "--out", str(out))
    assert result.exit_code == 2, result.output
    assert f"row {row_no}: " in result.output and message in result.output
    assert "Traceback" not in result.output
    assert not out.exists() or not any(out.iterdir()), "nothing may be written for a bad partner list"


def test_every_bad_row_is_reported(tmp_path):
    path = write_csv(
        tmp_path / "partners.csv",
        [
            ["name", "organisation", "email"],
            GOOD,
            ["", "", ""],
            ["", "", "x@example.org"],
            ["Bob", "Hub", "not an email"],
            ["Cat", "Hub", "ann@example.org"],
            ["Dan", "Hub", "dan@example.org"],
        ],
    )
    out = tmp_path / "out"
    result = run_generate("--partners", str(path), "--out", str(out))
    assert result.exit_code == 2
    # Row 3 is blank (skipped); rows 4, 5 and 6 are wrong; 2 and 7 are fine.
    for n in (4, 5, 6):
        assert f"row {n}: " in result.output
    for n in (2, 3, 7):
        assert f"row {n}: " not in result.output
    assert not out.exists() or not any(out.iterdir())


def test_xlsx_partner_list(tmp_path):
    path = tmp_path / "partners.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Name", "Organization", "E-mail", "Role"])  # aliases and any case
    ws.append(["Ann Example", "Northshire Midwifery", "ann@example.org", "Head of midwifery"])
    ws.append(["Bob Sample", "Family Hubs North", "bob@example.org", None])
    ws.append([None, None, None, None])
    ws.append(["", "Health visiting", "", ""])
    wb.save(path)
    people = read_partners(path)
    assert [(p.name, p.organisation, p.email, p.role, p.row) for p in people] == [
        ("Ann Example", "Northshire Midwifery", "ann@example.org", "Head of midwifery", 2),
        ("Bob Sample", "Family Hubs North", "bob@example.org", "", 3),
        ("", "Health visiting", "", "", 5),
    ]

    out = tmp_path / "out"
    result = run_generate("--partners", str(path), "--out", str(out), "--quiet")
    assert result.exit_code == 0, result.output
    _, rows = read_manifest(out / "manifest.csv")
    assert [r["name"] for r in rows] == ["Ann Example", "Bob Sample", ""]
    assert all((out / r["file"]).is_file() for r in rows)

    # A bad row in an XLSX list is reported by its spreadsheet row number too.
    ws.append(["Eve", "Hub", "eve@@example"])
    wb.save(path)
    with pytest.raises(UsageError, match=r"row 6: 'eve@@example' is not a valid email address"):
        read_partners(path)


def test_made_up_ids_are_stable_and_distinct(tmp_path):
    rows = [
        ["name", "organisation", "email"],
        GOOD,
        ["Bob Sample", "Family Hubs North", "bob@example.org"],
        ["Bob Sample", "Family Hubs South", ""],
    ]
    first = read_partners(write_csv(tmp_path / "a.csv", rows))
    again = read_partners(write_csv(tmp_path / "b.csv", rows))
    ids = [p.id for p in first]
    assert ids == [p.id for p in again]
    assert len(set(ids)) == len(ids)
    assert all(re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}", i) for i in ids)
    # The id comes from the row's content, not its position: reordering the list keeps each partner's id.
    moved = read_partners(write_csv(tmp_path / "c.csv", [rows[0], rows[3], rows[1], rows[2]]))
    assert {p.email + p.organisation: p.id for p in moved} == {p.email + p.organisation: p.id for p in first}
    # And across two runs of the CLI the manifest ids are the same.
    got = []
    for name in ("o1", "o2"):
        result = run_generate("--partners", str(tmp_path / "a.csv"), "--out", str(tmp_path / name), "-q")
        assert result.exit_code == 0, result.output
        got.append([r["partner_id"] for r in read_manifest(tmp_path / name / "manifest.csv")[1]])
    assert got[0] == got[1] == ids


def test_safe_file_names(tmp_path):
    path = write_csv(
        tmp_path / "partners.csv",
        [
            ["name", "organisation", "email"],
            ["../../etc/passwd", "", "a@example.org"],
            ["Ann/Bob", "Team: A/B \\ C", "b@example.org"],
            ["Дмитрий Иванов", "東京保健センター", "c@example.org"],
            ["..", "..", "d@example.org"],
            ["CON", "NUL:", "e@example.org"],
        ],
    )
    out = tmp_path / "deep" / "out"
    result = run_generate("--partners", str(path), "--out", str(out), "-q")
    assert result.exit_code == 0, result.output
    _, rows = read_manifest(out / "manifest.csv")
    files = [r["file"] for r in rows]
    assert len(files) == 5 and len({f.lower() for f in files}) == 5
    for f in files:
        assert SAFE_FILE.match(f), f
        assert (out / f).is_file() and (out / f).resolve().parent == out.resolve()
    assert sorted(p.name for p in out.iterdir()) == sorted([*files, "manifest.csv"])
    assert not (tmp_path / "etc").exists() and not (tmp_path / "deep" / "etc").exists()
    assert "etc-passwd" in files[0]


def test_manifest(tmp_path):
    path = write_csv(
        tmp_path / "partners.csv",
        [
            ["id", "name", "organisation", "email", "role"],
            ["P-ANN", "Ann Example", "Northshire Midwifery", "ann@example.org", "Head of midwifery"],
            ["P-BOB", "Bob Sample", "Family Hubs North", "bob@example.org", ""],
        ],
    )
    out = tmp_path / "out"
    result = run_generate("--partners", str(path), "--out", str(out), "--indicators", INDICATORS_ID, "-q")
    assert result.exit_code == 0, result.output
    fields, rows = read_manifest(out / "manifest.csv")
    for name in ("partner_id", "name", "organisation", "email", "file", "matrix_id", "matrix_version", "sha256"):
        assert name in fields
    assert [r["partner_id"] for r in rows] == ["P-ANN", "P-BOB"]
    assert rows[0]["email"] == "ann@example.org" and rows[1]["organisation"] == "Family Hubs North"
    for r in rows:
        data = (out / r["file"]).read_bytes()
        assert r["sha256"] == hashlib.sha256(data).hexdigest()
        assert r["matrix_id"] == MATRIX_ID
        wb = openpyxl.load_workbook(out / r["file"])
        meta = metadata(wb)
        assert meta["partner_id"] == r["partner_id"]
        assert r["matrix_version"] == meta["definition_version"]
        assert "Indicators" in wb.sheetnames


def test_blank_workbook_without_partners(tmp_path, matrix):
    out = tmp_path / "out"
    result = run_generate("--out", str(out))
    assert result.exit_code == 0, result.output
    _, rows = read_manifest(out / "manifest.csv")
    assert len(rows) == 1
    row = rows[0]
    assert row["partner_id"] == "" and row["name"] == "" and row["email"] == ""
    assert row["file"] == f"{MATRIX_ID}-blank.xlsx"
    assert sorted(p.name for p in out.iterdir()) == sorted([row["file"], "manifest.csv"])
    wb = openpyxl.load_workbook(out / row["file"])
    assert "Indicators" not in wb.sheetnames
    assert metadata(wb)["partner_id"] == ""
    assert wb["Overview"]["A2"].value == "Workshop copy"
    assert hashlib.sha256((out / row["file"]).read_bytes()).hexdigest() == row["sha256"]


# --- sheet names ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "7.2 Evidence-based programmes / interventions",
        "1.1 " + "A very long sub-element name " * 4,
        "3 [Draft]: who? what* a/b\\c",
        "4 Partnership [] : * ? / \\ and more words to make it long",
        "'5 Quoted'",
        "6.1    lots     of   spaces",
    ],
)
def test_safe_sheet_name(name):
    got = safe_sheet_name(name)
    assert 0 < len(got) <= MAX_SHEET_NAME
    assert not FORBIDDEN & set(got)
    assert not got.startswith("'") and not got.endswith("'")
    assert got == got.strip() and "  " not in got
    code = name.strip("'").split()[0]
    assert got.startswith(code + " ")
    if len(name) > MAX_SHEET_NAME:
        assert got.endswith("…")


def test_guidance_sheet_holds_the_matrixs_guidance_verbatim(generated, matrix):
    """The seed's 'Using the matrix' and 'Early childhood services', paragraph by paragraph in the cells the layout
    gives (bullets marked in their own column), then each dimension with its description; printable on A4."""
    _, wb, lay = generated
    sheet = lay.sheet(GUIDANCE_SHEET)
    assert sheet.rows == () and sheet.role == "guidance"
    ws = wb[GUIDANCE_SHEET]
    assert ws["A1"].value == sheet.title
    mk = sheet.marks
    for i, section in enumerate(matrix.guidance):
        assert ws.cell(mk[f"section:{i}"] + 1, GD_MARK + 1).value == section.title
        for j, para in enumerate(section.paragraphs):
            r = mk[f"paragraph:{i}:{j}"] + 1
            if para.bullet:
                assert (ws.cell(r, GD_MARK + 1).value, ws.cell(r, GD_TEXT + 1).value) == ("•", para.text)
            else:
                assert ws.cell(r, GD_MARK + 1).value == para.text and ws.cell(r, GD_MARK + 1).alignment.wrap_text
    texts = [p.text for s in matrix.guidance for p in s.paragraphs]
    assert len(texts) == 12 and texts[-1] == "information and advice services for parents and prospective parents."
    for k, dim in enumerate(matrix.dimensions):
        r = mk[f"dimension:{k}"] + 1
        assert ws.cell(r, GD_TEXT + 1).value == dim.name
        assert str(ws.cell(r, GD_LAST + 1).value).startswith(dim.description)  # rich text: openpyxl gives the text
    assert "the Notes box at the foot of each sub-element's sheet" in ws.cell(mk["workbook"] + 1, 1).value
    assert ws.page_setup.paperSize == 9 and ws.page_setup.orientation == "portrait"
    assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.page_setup.fitToWidth in (None, 1)  # 1: the default
    assert ws.page_setup.fitToHeight == 0
    assert ws.protection.sheet


def test_dimension_descriptions_beside_each_dimension(generated, matrix):
    _, wb, lay = generated
    ov = wb["Overview"]
    rows = {r.key: r.row for r in lay.sheet("Overview").rows if r.key_col == OV_CODE}
    for dim, el, sub in matrix.sub_elements():
        assert dim.description
        assert ov.cell(rows[sub.code] + 1, OV_DIM + 1).value == f"{dim.name}\n{dim.description}"
        sheet = lay.sub_element_sheet(sub.code)
        context = wb[sheet.name].cell(sheet.marks["context"] + 1, 1).value
        assert context == f"{dim.name} ({dim.description}) · {el.number} {el.name}"


def test_cover_says_where_the_opposite_page_is(generated, matrix):
    _, wb, _ = generated
    cover = [str(c.value) for row in wb["Cover"].iter_rows() for c in row if c.value]
    step = next(t for t in cover if "make a note on the opposite page" in t)
    assert step == matrix.how_to_use[0]  # the EIF's words, verbatim
    assert "In this workbook, 'the opposite page' is the Notes box at the foot of each sub-element's sheet." in cover
    assert any("The Guidance sheet" in t for t in cover)


def test_partner_id_is_where_the_layout_says(generated):
    """checks.py points other-partner at this cell (layout.META_PARTNER_ID_ROW)."""
    _, wb, _ = generated
    ws = wb[META_SHEET]
    assert ws.cell(META_PARTNER_ID_ROW + 1, META_KEY_COL + 1).value == "partner_id"
    assert ws.cell(META_PARTNER_ID_ROW + 1, META_VALUE_COL + 1).value == ANN.id


def test_safe_sheet_name_unique():
    taken = {"Cover", "Overview"}
    names = []
    for _ in range(3):
        got = safe_sheet_name("1.1 " + "x" * 40, taken)
        assert len(got) <= MAX_SHEET_NAME and got.lower() not in {t.lower() for t in taken}
        taken.add(got)
        names.append(got)
    assert len(set(names)) == 3
    assert safe_sheet_name("cover", {"Cover"}) != "cover"


def test_long_and_odd_sub_element_names_in_a_workbook(tmp_path, matrix):
    data = matrix.model_dump(mode="json")
    subs = data["dimensions"][0]["elements"][0]["sub_elements"]
    subs[0]["name"] = "[Draft] Vision: strategy/plan * what? \\ and a very long name indeed"
    subs[1]["name"] = "[Draft] Vision: strategy/plan * what? \\ and a very long name again"
    odd = Matrix.model_validate(data)
    res = generate_workbooks(odd, tmp_path, None)
    wb = openpyxl.load_workbook(res.files[0])
    names = wb.sheetnames
    assert len({n.lower() for n in names}) == len(names)
    for code in ("1.1", "1.2"):
        name = next(n for n in names if n.startswith(code + " "))
        assert len(name) <= MAX_SHEET_NAME and not FORBIDDEN & set(name)
        # The full title is still on the sheet.
        assert wb[name]["A1"].value == odd.sub_element(code).title


@pytest.mark.slow
def test_ctrl_c_while_workbooks_are_written_in_worker_processes_ends_quietly(tmp_path):
    """Workbooks written whole go to worker processes when there are many (here: organisations whose text
    XlsxWriter escapes, so none is made by substitution). Ctrl-C reaches every process; interrupted at several
    moments, generate ends at once with 'Aborted!', no traceback and no process left."""
    import subprocess
    import sys
    import time

    partners = tmp_path / "partners.csv"
    lines = ["id,name,organisation,email,role"]
    lines += [f"P{i:03},Partner {i},Hub_x0041_ {i},p{i}@example.org,Lead" for i in range(120)]
    partners.write_text("\n".join(lines) + "\n", encoding="utf-8")
    root = Path(__file__).resolve().parent.parent
    for trial, delay in enumerate((0.0, 0.5, 1.2, 2.2)):
        out = tmp_path / f"out-{trial}"
        cmd = [sys.executable, "-m", "eif_xlsx.cli", "generate", "maternity-early-years"]
        cmd += ["--partners", str(partners), "--out", str(out), "--jobs", "2"]
        proc = subprocess.Popen(
            cmd, cwd=root, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
        )
        while not out.exists() and proc.poll() is None:  # loaded, writing (python -m: no guard while loading)
            time.sleep(0.005)
        time.sleep(delay)
        if proc.poll() is not None:
            continue
        press_ctrl_c(proc, f"generate, {delay} s into writing")


def test_partner_details_that_look_like_markup_or_escapes_read_back_as_given(tmp_path, matrix):
    """A name shaped like rich-text XML or an organisation holding overlapping '_xHHHH_' patterns is written into
    the cover and the metadata as given: the workbook reads back unaltered (it said metadata-altered)."""
    from eif_xlsx.domain.partners import Partner
    from eif_xlsx.intake.reader import read_return

    odd = Partner("P1", "<r>Ann</r>", "_x0041_x0042_ Trust", "ann@example.org")
    (path,) = generate_workbooks(matrix, tmp_path, [odd]).files
    ret = read_return(path)
    assert [f.code for f in ret.findings if f.code.startswith("metadata")] == []
    assert (ret.metadata["partner_name"], ret.metadata["partner_organisation"]) == ("<r>Ann</r>", "_x0041_x0042_ Trust")
