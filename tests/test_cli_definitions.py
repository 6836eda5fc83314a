"""`eif-xlsx definitions ...` through click's CliRunner."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from eif_xlsx.cli import DEFINITIONS_ENV as ENV_VAR
from eif_xlsx.cli import main
from eif_xlsx.domain.catalog import builtin_dir

BUILTIN_MATRIX = builtin_dir() / "maternity-early-years.yaml"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    """No user definitions from the environment; and undo what --definitions writes into os.environ."""
    monkeypatch.setenv(ENV_VAR, "")


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def run(runner: CliRunner, *args: str, env: dict | None = None):
    result = runner.invoke(main, list(args), env=env, catch_exceptions=False)
    assert "Traceback" not in result.output
    return result


def user_matrix(folder: Path, ident: str = "my-matrix", title: str = "My own matrix") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    text = BUILTIN_MATRIX.read_text(encoding="utf-8")
    assert text.count("id: maternity-early-years\n") == 1
    text = text.replace("id: maternity-early-years\n", f"id: {ident}\n").replace(
        'title: "Maternity & early years"', f'title: "{title}"', 1
    )
    path = folder / f"{ident}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def rows(output: str) -> dict[str, list[str]]:
    """The table printed by `definitions list`, by id (columns split on runs of 2+ spaces)."""
    lines = output.strip().splitlines()
    assert re.split(r"\s{2,}", lines[0]) == ["id", "kind", "title", "version", "from"]
    return {cols[0]: cols for cols in (re.split(r"\s{2,}", line.strip()) for line in lines[1:])}


def test_list_builtins(runner, matrix, indicator_set):
    result = run(runner, "definitions", "list")
    assert result.exit_code == 0
    assert result.stderr == ""
    table = rows(result.stdout)
    assert table == {
        "maternity-early-years": ["maternity-early-years", "matrix", matrix.title, matrix.version, "built-in"],
        "staffordshire-best-start": [
            "staffordshire-best-start",
            "indicators",
            indicator_set.title,
            indicator_set.version,
            "built-in",
        ],
    }
    assert table["maternity-early-years"][2:4] == ["Maternity & early years", "2020-11"]


def test_show_json_equals_the_model(runner, matrix):
    result = run(runner, "definitions", "show", "maternity-early-years", "--json")
    assert result.exit_code == 0
    shown = json.loads(result.stdout)
    assert shown == matrix.model_dump(mode="json")
    assert (
        sum(len(s["criteria"]) for d in shown["dimensions"] for e in d["elements"] for s in (e["sub_elements"] or [e]))
        == 123
    )


def test_show_json_indicator_set(runner, indicator_set):
    result = run(runner, "definitions", "show", "staffordshire-best-start", "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout) == indicator_set.model_dump(mode="json")


def test_show_summary(runner, matrix):
    result = run(runner, "definitions", "show", "maternity-early-years")
    assert result.exit_code == 0
    out = result.stdout
    assert out.startswith(f"maternity-early-years: {matrix.title} (version {matrix.version})\n")
    assert "levels: Basic level, Early progress, Substantial progress, Mature" in out
    assert "    5 Leadership: 5 criteria (1 Basic level, 1 Early progress, 2 Substantial progress, 1 Mature);" in out
    assert "    1.1 Vision, strategy & plan: 8 criteria" in out
    for dim in ("PLAN", "LEAD", "DELIVER", "EVALUATE"):
        assert f"\n{dim}\n" in out


def test_show_unknown_id(runner):
    result = run(runner, "definitions", "show", "no-such-thing")
    assert result.exit_code == 2  # a usage error (issue 17 section 6)
    assert result.stdout == ""
    assert result.stderr.strip() == (
        "no definition with id 'no-such-thing' (known: maternity-early-years, staffordshire-best-start)"
    )


def test_check_good_file(runner):
    result = run(runner, "definitions", "check", str(BUILTIN_MATRIX))
    assert result.exit_code == 0
    assert result.stdout.strip() == f"{BUILTIN_MATRIX}: ok (matrix 'maternity-early-years', version 2020-11)"


def test_check_bad_file(runner, tmp_path):
    text = BUILTIN_MATRIX.read_text(encoding="utf-8")
    lines = text.splitlines(keepends=True)
    # break criterion 1.1b's level, and add an unknown key at the top
    level_line = next(i for i, line in enumerate(lines) if 'code: "1.1b"' in line) + 1
    assert lines[level_line].strip() == 'level: "Early progress"'
    lines[level_line] = lines[level_line].replace('"Early progress"', '"Advanced"')
    lines.insert(1, "colour: red\n")
    bad = tmp_path / "bad.yaml"
    bad.write_text("".join(lines), encoding="utf-8")

    result = run(runner, "definitions", "check", str(bad))
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"{bad}:2: colour: unknown field",
        f"{bad}:{level_line + 2}: dimensions[0].elements[0].sub_elements[0].criteria[1].level: "
        "'Advanced' is not a progress level (Basic level, Early progress, Substantial progress, Mature)",
    ]
    assert "Traceback" not in result.stderr and "Error" not in result.stderr


def test_check_invalid_yaml(runner, tmp_path):
    bad = tmp_path / "broken.yaml"
    bad.write_text("kind: matrix\nid: x\ntitle: [unclosed\n", encoding="utf-8")
    result = run(runner, "definitions", "check", str(bad))
    assert result.exit_code == 1
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"{bad}:") and ": not valid YAML: " in line


def test_check_unknown_key_in_an_indicator(runner, tmp_path):
    # the field 'indicators' shares its name with the set's kind tag; this once crashed with a KeyError
    text = (builtin_dir() / "staffordshire-best-start.yaml").read_text(encoding="utf-8")
    text = text.replace(
        '            unit: "percentage"\n', '            unit: "percentage"\n            colour: red\n', 1
    )
    bad = tmp_path / "set.yaml"
    bad.write_text(text, encoding="utf-8")
    result = run(runner, "definitions", "check", str(bad))
    assert result.exit_code == 1
    assert _line_of(bad, "colour: red") == 26
    assert result.stderr.splitlines() == [
        f"{bad}:26: core_purposes[0].intentions[0].indicators[0].colour: unknown field"
    ]


def test_check_missing_file_is_a_usage_error(runner, tmp_path):
    result = run(runner, "definitions", "check", str(tmp_path / "nope.yaml"))
    assert result.exit_code == 2
    assert "does not exist" in result.stderr


def test_schema(runner):
    result = run(runner, "definitions", "schema")
    assert result.exit_code == 0
    schema = json.loads(result.stdout)
    assert schema["discriminator"]["propertyName"] == "kind"
    assert set(schema["discriminator"]["mapping"]) == {"matrix", "indicators"}
    assert schema["$defs"]["Matrix"]["properties"]["kind"]["const"] == "matrix"
    assert schema["$defs"]["IndicatorSet"]["properties"]["kind"]["const"] == "indicators"
    assert schema["$defs"]["Matrix"]["additionalProperties"] is False
    # the fields issue 17 added, as the model has them
    defs = schema["$defs"]
    item = defs["SupportingItem"]["properties"]
    assert set(item) == {"id", "text", "level", "heading"}
    assert item["id"]["anyOf"][0]["pattern"] == r"^\d+(\.\d+)?-s\d{2,}$"
    assert item["heading"] == {"default": False, "title": "Heading", "type": "boolean"}
    assert "direction" in defs["Indicator"]["required"]
    assert defs["Indicator"]["properties"]["direction"]["enum"] == ["higher", "lower", "none"]
    assert {"group", "parent"} <= set(defs["Indicator"]["properties"])
    assert "lead_commissioners_note" in defs["Intention"]["properties"]
    assert "description" in defs["Dimension"]["properties"]
    assert defs["Matrix"]["properties"]["guidance"]["items"] == {"$ref": "#/$defs/GuidanceSection"}
    assert set(defs["GuidanceParagraph"]["properties"]) == {"text", "bullet"}


def test_the_builtin_definitions_follow_the_printed_schema(runner):
    jsonschema = pytest.importorskip("jsonschema")
    import yaml

    schema = json.loads(run(runner, "definitions", "schema").stdout)
    for path in sorted(builtin_dir().glob("*.yaml")):
        jsonschema.validate(yaml.safe_load(path.read_text(encoding="utf-8")), schema)
    # and a supporting item with an unknown field does not
    data = yaml.safe_load(BUILTIN_MATRIX.read_text(encoding="utf-8"))
    data["dimensions"][0]["elements"][0]["sub_elements"][0]["supporting_information"][0]["tickable"] = True
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, schema)


def test_definitions_option_adds_a_user_definition(runner, tmp_path):
    path = user_matrix(tmp_path / "mine")
    result = run(runner, "definitions", "list", "--definitions", str(tmp_path / "mine"))
    assert result.exit_code == 0
    assert result.stderr == ""
    table = rows(result.stdout)
    assert table["my-matrix"] == ["my-matrix", "matrix", "My own matrix", "2020-11", str(path.resolve())]
    assert table["maternity-early-years"][-1] == "built-in"
    assert list(table) == ["maternity-early-years", "staffordshire-best-start", "my-matrix"]

    shown = run(runner, "definitions", "show", "my-matrix", "--json", "--definitions", str(path))
    assert shown.exit_code == 0
    assert json.loads(shown.stdout)["title"] == "My own matrix"


def test_environment_variable_adds_a_user_definition(runner, tmp_path):
    first = user_matrix(tmp_path / "a", "first-matrix", "First")
    second = user_matrix(tmp_path / "b", "second-matrix", "Second")
    env = {ENV_VAR: os.pathsep.join([str(first.parent), str(second.parent)])}
    result = run(runner, "definitions", "list", env=env)
    assert result.exit_code == 0
    table = rows(result.stdout)
    assert table["first-matrix"][2:] == ["First", "2020-11", str(first)]
    assert table["second-matrix"][2:] == ["Second", "2020-11", str(second)]
    assert len(table) == 4


def test_a_user_definition_cannot_replace_a_builtin(runner, tmp_path):
    same = user_matrix(tmp_path / "mine", "maternity-early-years", "Impostor")
    result = run(runner, "definitions", "list", "--definitions", str(same.parent))
    assert result.exit_code == 0
    assert rows(result.stdout)["maternity-early-years"][2:] == ["Maternity & early years", "2020-11", "built-in"]
    assert "is already defined by" in result.stderr and result.stderr.startswith("warning: ")


def test_broken_user_definition_is_a_warning(runner, tmp_path):
    folder = tmp_path / "mine"
    good = user_matrix(folder)
    broken = folder / "broken.yaml"
    broken.write_text(
        good.read_text(encoding="utf-8")
        .replace("id: my-matrix\n", "id: broken\nauthor: me\n")
        .replace('level: "Basic level"', 'level: "Advanced"', 1),
        encoding="utf-8",
    )
    result = run(runner, "definitions", "list", "--definitions", str(folder))
    assert result.exit_code == 0
    assert set(rows(result.stdout)) == {"maternity-early-years", "staffordshire-best-start", "my-matrix"}
    warnings = result.stderr.splitlines()
    resolved = broken.resolve()
    level_line = _line_of(broken, 'level: "Advanced"')
    assert warnings == [
        f"warning: {resolved}:3: author: unknown field",
        f"warning: {resolved}:{level_line}: "
        "dimensions[0].elements[0].sub_elements[0].criteria[0].level: "
        "'Advanced' is not a progress level (Basic level, Early progress, Substantial progress, Mature)",
    ]


def _line_of(path: Path, needle: str) -> int:
    return next(i for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if needle in line)


def test_missing_definitions_folder_in_environment_is_a_warning(runner, tmp_path):
    result = run(runner, "definitions", "list", env={ENV_VAR: str(tmp_path / "absent")})
    assert result.exit_code == 0
    assert set(rows(result.stdout)) == {"maternity-early-years", "staffordshire-best-start"}
    assert result.stderr.strip() == f"warning: {tmp_path / 'absent'}: definitions folder not found"


def _walk(command: click.Command, path: tuple[str, ...] = ()):
    yield path, command
    if isinstance(command, click.Group):
        for name, sub in command.commands.items():
            yield from _walk(sub, (*path, name))


def test_every_command_has_help(runner):
    seen = []
    for path, command in _walk(main):
        seen.append(" ".join(path))
        assert (command.help or "").strip(), f"`eif-xlsx {' '.join(path)}` has no help text"
        assert command.get_short_help_str().strip()
        result = run(runner, *path, "--help")
        assert result.exit_code == 0, path
        assert result.stdout.startswith("Usage: ")
        assert command.help.strip().splitlines()[0].strip() in " ".join(result.stdout.split())
    assert {"definitions", "definitions list", "definitions show", "definitions check", "definitions schema"} <= set(
        seen
    )


def test_definitions_help_lists_the_subcommands(runner):
    result = run(runner, "definitions", "--help")
    assert result.exit_code == 0
    for name in ("list", "show", "check", "schema"):
        assert f"\n  {name} " in result.stdout


REPEATS_MATRIX = """\
kind: matrix
id: repeats
title: "Repeats"
edition: "test"
version: "1"
source: "test"
levels:
  - {name: "Basic level", meaning: "b"}
  - {name: "Mature", meaning: "m"}
dimensions:
  - name: "PLAN"
    elements:
      - number: 1
        name: "Strategy"
        focus: "This element focuses on x."
        sub_elements:
          - code: "1.1"
            name: "Vision"
            criteria:
              - {code: "1.1a", level: "Basic level", text: "First."}
              - {code: "1.1b", level: "Mature", text: "Second."}
            supporting_information:
              - {id: "1.1-s01", text: "Minutes"}
              - {id: "1.1-s02", text: "Minutes"}
          - code: "1.2"
            name: "Needs"
            criteria:
              - {code: "1.2a", level: "Basic level", text: "Third."}
"""

REPEATS_SET = """\
kind: indicators
id: repeats-set
title: "Repeats"
outcome: "Better"
version: "1"
source: "test"
core_purposes:
  - id: "cp1"
    name: "First"
    intentions:
      - id: "cp1-1"
        commissioned: "Something"
        target_population: "Everyone"
        lead_commissioners: ["A Person"]
        indicators:
          - {id: "cp1-1-po1", kind: "population-outcome", text: "a", unit: "number", direction: "higher"}
          - {id: "cp1-1-po2", kind: "population-outcome", text: "b", unit: "number", direction: "lower"}
  - id: "cp2"
    name: "Second"
    intentions:
      - id: "cp2-1"
        commissioned: "Something else"
        target_population: "Everyone"
        lead_commissioners: ["A Person"]
"""


@pytest.mark.parametrize(
    ("text", "changes", "line", "first", "message"),
    [
        (
            REPEATS_MATRIX,
            {'code: "1.2a"': 'code: "1.1a"'},
            28,
            20,
            "dimensions[0].elements[0].sub_elements[1].criteria[0].code: duplicate criterion code '1.1a'",
        ),
        (
            REPEATS_MATRIX,
            {'id: "1.1-s02"': 'id: "1.1-s01"'},
            24,
            23,
            "dimensions[0].elements[0].sub_elements[0].supporting_information[1].id: "
            "duplicate supporting-information id '1.1-s01'",
        ),
        (
            REPEATS_MATRIX,
            {'code: "1.2"\n': 'code: "1.1"\n', 'code: "1.2a"': 'code: "1.1c"'},
            25,
            17,
            "dimensions[0].elements[0].sub_elements[1].code: duplicate sub-element code '1.1'",
        ),
        (
            REPEATS_SET,
            {'id: "cp1-1-po2"': 'id: "cp1-1-po1"'},
            17,
            16,
            "core_purposes[0].intentions[0].indicators[1].id: duplicate id 'cp1-1-po1'",
        ),
        (
            REPEATS_SET,
            {'id: "cp2-1"': 'id: "cp1-1"'},
            21,
            11,
            "core_purposes[1].intentions[0].id: duplicate id 'cp1-1'",
        ),
        (REPEATS_SET, {'id: "cp2"': 'id: "cp1"'}, 18, 8, "core_purposes[1].id: duplicate id 'cp1'"),
    ],
    ids=["criterion", "supporting-item", "sub-element", "indicator", "intention", "core-purpose"],
)
def test_check_rejects_a_repeated_id(runner, tmp_path, text, changes, line, first, message):
    path = tmp_path / "repeats.yaml"
    path.write_text(text, encoding="utf-8")
    assert run(runner, "definitions", "check", str(path)).exit_code == 0
    for old, new in changes.items():
        assert text.count(old) == 1
        text = text.replace(old, new)
    path.write_text(text, encoding="utf-8")
    result = run(runner, "definitions", "check", str(path))
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == [f"{path}:{line}: {message} (also line {first})"]
    # the two lines named are where the repeated id is written
    repeated = re.search(r"'([^']+)'$", message).group(1)
    lines = path.read_text(encoding="utf-8").splitlines()
    assert f'"{repeated}"' in lines[line - 1] and f'"{repeated}"' in lines[first - 1]
