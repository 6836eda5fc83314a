"""Print the CLI reference (every command's --help) as Markdown, for the README.

    .venv/bin/python scripts/cli_reference.py                    # print it
    .venv/bin/python scripts/cli_reference.py --write README.md  # put it in the README
A test checks that the README holds exactly this text between its cli-reference markers.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
from click.testing import CliRunner

from eif_xlsx.cli import main


def commands(group: click.Group, prefix: list[str]):
    yield prefix
    for name in sorted(group.commands):
        cmd = group.commands[name]
        if isinstance(cmd, click.Group):
            yield from commands(cmd, [*prefix, name])
        else:
            yield [*prefix, name]


def reference() -> str:
    parts = []
    for path in commands(main, []):
        out = CliRunner().invoke(main, [*path, "--help"], prog_name="eif-xlsx", terminal_width=100).output
        title = " ".join(["eif-xlsx", *path])
        parts.append(f"#### `{title}`\n\n```text\n{out.rstrip()}\n```\n")
    return "\n".join(parts)


START, END = "<!-- cli-reference:start -->", "<!-- cli-reference:end -->"


def update(readme: Path) -> None:
    text = readme.read_text(encoding="utf-8")
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    readme.write_text(f"{head}{START}\n{reference()}{END}{tail}", encoding="utf-8")


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--write":
        update(Path(sys.argv[2]))
    else:
        print(reference(), end="")
