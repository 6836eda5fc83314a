"""The package's shape: one folder per stage, imports only down the flow, no cycle, no state in the environment,
docs/architecture.md naming every module, and the library API importable from the package."""

from __future__ import annotations

import ast
import csv
import inspect
import re
from pathlib import Path

import eif_xlsx
from eif_xlsx import api

PACKAGE = Path(eif_xlsx.__file__).resolve().parent
DOC = PACKAGE.parent / "docs" / "architecture.md"
STAGES = ("domain", "template", "intake", "report", "rounds")
#: Where each part sits in the flow: a module may import only from its own part and parts of a lower rank.
RANK = {
    "base": 0,
    "domain": 1,
    "template": 2,
    "intake": 3,
    "report": 4,
    "rounds": 4,
    "api": 5,
    "demo": 6,
    "cli": 7,
    "eif_xlsx": 8,
    "__main__": 9,
}


def _modules() -> dict[str, Path]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def _imports(modules: dict[str, Path]) -> dict[str, set[str]]:
    """Every module of the package each module imports, wherever the import statement is (inside a function too)."""
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        deps = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.level:
                raise AssertionError(f"{path}: a relative import (the package imports itself by absolute names)")
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("eif_xlsx"):
                deps |= {
                    f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in modules else node.module
                    for a in node.names
                }
            elif isinstance(node, ast.Import):
                deps |= {a.name for a in node.names if a.name.startswith("eif_xlsx")}
        graph[name] = {d for d in deps if d in modules and d != name}
    return graph


def _part(module: str) -> str:
    parts = module.split(".")
    if len(parts) == 1:
        return "eif_xlsx"
    if parts[1] in STAGES or parts[1] in ("api", "demo", "cli", "__main__"):
        return parts[1]
    return "base"


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_no_import_cycle():
    graph = _imports(_modules())
    assert _cycles(graph) == []
    # the check itself finds a cycle when there is one
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_imports_only_point_down_the_flow():
    modules = _modules()
    assert {_part(m) for m in modules} == set(RANK), "every part of the flow is there, and nothing else"
    wrong = []
    for module, deps in _imports(modules).items():
        for dep in deps:
            a, b = _part(module), _part(dep)
            if a != b and (RANK[b] > RANK[a] or RANK[b] == RANK[a]):
                wrong.append(f"{module} ({a}) imports {dep} ({b})")
    assert wrong == []


def test_the_command_line_is_a_layer_over_the_api():
    """cli.py takes from the package only the API, the demo and the shared base modules (errors, printing)."""
    used = _imports(_modules())["eif_xlsx.cli"]
    assert "eif_xlsx.api" in used
    assert {_part(m) for m in used} <= {"api", "demo", "base"}, sorted(used)


def test_no_state_through_environment_variables():
    """The library reads no environment variable of its own: the definitions are an explicit Catalog, the --debug
    log is handed to the workers. Allowed: the command line's $EIF_XLSX_DEFINITIONS, the blank-template cache's
    location, openpyxl's own XML-hardening switch, and the environments of the programs we start."""
    allowed = {"cli.py", "intake/blank.py", "intake/container.py", "office.py", "report/board.py"}
    readers = {
        str(p.relative_to(PACKAGE))
        for p in PACKAGE.rglob("*.py")
        if re.search(r"os\.environ|os\.getenv|putenv", p.read_text(encoding="utf-8"))
    }
    assert readers <= allowed, readers - allowed
    assert "os.environ[" not in (PACKAGE / "cli.py").read_text(encoding="utf-8")  # read, never written


def test_the_architecture_doc_names_every_module_and_only_modules_that_exist():
    text = DOC.read_text(encoding="utf-8")
    named = set(re.findall(r"`(?:([a-z_]+)/)?([a-z_]+\.py)`", text))
    folders = set(re.findall(r"\*\*`([a-z_]+)/`", text))
    assert folders == set(STAGES)
    real = {str(p.relative_to(PACKAGE)) for p in PACKAGE.rglob("*.py") if p.name != "__init__.py"}
    by_name: dict[str, set[str]] = {}
    for rel in real:
        by_name.setdefault(Path(rel).name, set()).add(rel)
    mentioned = set()
    for folder, name in named:
        if folder and folder not in STAGES and (PACKAGE.parent / folder / name).is_file():
            continue  # a file of the repository (scripts/, tests/), not of the package
        candidates = {f"{folder}/{name}"} & real if folder else by_name.get(name, set())
        assert candidates, f"docs/architecture.md names {folder + '/' if folder else ''}{name}, which does not exist"
        mentioned |= candidates
    assert real - mentioned == set(), "modules docs/architecture.md does not describe"
    for stage in STAGES:
        assert (PACKAGE / stage / "__init__.py").read_text(encoding="utf-8").startswith('"""'), stage


def test_every_api_function_is_importable_from_the_package_documented_and_typed():
    functions = {n for n in api.__all__ if inspect.isfunction(getattr(api, n))}
    assert set(eif_xlsx.API) == functions
    for name in eif_xlsx.API:
        fn = getattr(eif_xlsx, name)
        assert fn is getattr(api, name)
        assert (fn.__doc__ or "").strip(), name
        sig = inspect.signature(fn)
        assert sig.return_annotation is not inspect.Signature.empty, name
        untyped = [p.name for p in sig.parameters.values() if p.annotation is inspect.Parameter.empty]
        assert not untyped, (name, untyped)
    for name in ("generate", "validate", "consolidate", "read_return", "load_definitions"):
        assert name in eif_xlsx.API


def test_a_round_through_the_api_only(tmp_path):
    from eif_xlsx import check, consolidate, generate, load_definitions, read_return, validate

    partners = tmp_path / "partners.csv"
    partners.write_text(
        "name,organisation,email\nAmira Haddad,Riverside Family Hub,amira@example.org\n"
        "Priya Raman,Northshire Maternity,priya@example.org\n",
        encoding="utf-8",
    )
    catalog = load_definitions()
    assert catalog.problems == [] and "maternity-early-years" in catalog.entries
    made = generate(
        "maternity-early-years",
        tmp_path / "sent",
        partners=partners,
        area="Northshire",
        deadline="2026-12-12",
        catalog=catalog,
    )
    assert len(made.files) == 2
    ret = read_return(made.files[0], catalog)
    assert ret.readable and ret.partner_id and ret.matrix_id == "maternity-early-years"
    report = check(ret, catalog)
    assert "nothing-filled" in {f.code for f in report.findings}  # nobody has ticked anything yet
    reports = validate([tmp_path / "sent"], manifest=made.manifest, catalog=catalog, jobs=1)
    assert sorted(r.file for r in reports) == sorted(p.name for p in made.files)
    result = consolidate(
        [tmp_path / "sent"], tmp_path / "out", manifest=made.manifest, catalog=catalog, jobs=1, pdf=False
    )
    assert (tmp_path / "out" / "summary.xlsx") in result.outputs
    with (tmp_path / "out" / "register.csv").open(encoding="utf-8-sig", newline="") as fh:
        register = list(csv.DictReader(fh))
    assert {r["partner_id"] for r in register} == {ret.partner_id, read_return(made.files[1]).partner_id}
