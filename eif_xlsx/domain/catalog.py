"""Find, load and validate definitions: the built-in ones and a user's own folders."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import yaml
from pydantic import TypeAdapter, ValidationError
from pydantic_core import ErrorDetails

from eif_xlsx.domain.model import Definition as _Definition
from eif_xlsx.domain.model import IndicatorSet, Matrix, RuleViolations
from eif_xlsx.errors import DefinitionError

ENV_VAR = "EIF_XLSX_DEFINITIONS"  # read by the command line (--definitions) only
_ADAPTER: TypeAdapter = TypeAdapter(_Definition)


def builtin_dir() -> Path:
    """Built-in definitions: packaged inside the wheel, or the repository's definitions/ in a checkout."""
    package = Path(__file__).resolve().parent.parent
    packaged = package / "definitions"
    if packaged.is_dir():
        return packaged
    return package.parent / "definitions"


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that refuses a key given twice in one mapping (PyYAML would keep the last silently)."""


if TYPE_CHECKING:  # a base chosen at run time; libyaml's loader has SafeLoader's interface
    _SafeLoaderBase = yaml.SafeLoader
else:
    _SafeLoaderBase = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _FastLoader(_SafeLoaderBase):
    """The same with libyaml's parser where PyYAML has it (many times faster); a file it refuses is parsed again
    with _UniqueKeyLoader, whose messages name the offending character."""


def _construct_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    seen: set = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in seen:
            raise yaml.constructor.ConstructorError(None, None, f"duplicate key '{key}'", key_node.start_mark)
        seen.add(key)
    return yaml.SafeLoader.construct_mapping(loader, node, deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_FastLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _format_path(loc: tuple | list) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def _parse_path(path: str) -> list:
    parts: list = []
    for chunk in path.replace("]", "").split("."):
        if not chunk:
            continue
        name, *indices = chunk.split("[")
        if name:
            parts.append(name)
        parts += [int(i) for i in indices]
    return parts


def _line_of(root: yaml.Node | None, loc: list) -> int:
    """1-based line of the deepest YAML node the path reaches."""
    node, line = root, (root.start_mark.line + 1 if root is not None else 1)
    for part in loc:
        if isinstance(node, yaml.MappingNode) and isinstance(part, str):
            for k, v in node.value:
                if k.value == part:
                    line, node = k.start_mark.line + 1, v
                    break
            else:
                break
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            break
    return line


def _describe(err: ErrorDetails) -> str:
    kind, msg = err["type"], err["msg"]
    if kind == "missing":
        return "required field is missing"
    if kind == "extra_forbidden":
        return "unknown field"
    if kind == "literal_error" and err["loc"] and err["loc"][-1] == "kind":
        return f"{msg}"
    value = err.get("input")
    if isinstance(value, str | int | float) and kind not in ("missing",):
        return f"{value!r}: {msg}"
    return msg


def load_file(path: Path | str) -> Matrix | IndicatorSet:
    """Load and validate one definition file; raise DefinitionError listing every problem."""
    path = Path(path)
    name = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DefinitionError([f"{name}:1: cannot read the file: {exc}"]) from exc
    try:
        try:
            data = yaml.load(text, Loader=_FastLoader)
        except yaml.YAMLError:
            data = yaml.load(text, Loader=_UniqueKeyLoader)  # for its clearer message (it fails too)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        raise DefinitionError([f"{name}:{line}: not valid YAML: {exc.problem or exc}"]) from exc
    except yaml.YAMLError as exc:
        raise DefinitionError([f"{name}:1: not valid YAML: {exc}"]) from exc
    if not isinstance(data, dict):
        raise DefinitionError([f"{name}:1: a definition must be a mapping with 'kind: matrix' or 'kind: indicators'"])
    try:
        return _ADAPTER.validate_python(data)
    except ValidationError:
        pass
    # Only a definition with problems is parsed a second time, for the line number of each problem.
    problems = _problems(name, yaml.compose(text, Loader=_FastLoader), data)
    if isinstance(problems, list):
        raise DefinitionError(problems)
    return problems


def _problems(name: str, root: yaml.Node | None, data: dict) -> list[str] | Matrix | IndicatorSet:
    """Validate; on failure list every problem, also those the rules find once unknown keys are set aside."""
    try:
        return _ADAPTER.validate_python(data)
    except ValidationError as exc:
        errors = [
            e for e in exc.errors() if not (e["type"] == "too_short" and len(e["input"]) >= e["ctx"]["min_length"])
        ]
    problems = [_format(name, root, err) for err in errors]
    extras = [err["loc"] for err in errors if err["type"] == "extra_forbidden"]
    if extras and len(extras) == len(errors):
        cleaned = copy.deepcopy(data)
        for loc in extras:
            parent = cleaned
            for part in loc[1:-1]:  # loc[0] is the discriminator tag
                parent = parent[part]
            parent.pop(loc[-1], None)
        again = _problems(name, root, cleaned)
        if isinstance(again, list):
            problems += [p for p in again if p not in problems]
    return [line for err_lines in problems for line in err_lines.split("\n")]


def _format(name: str, root: yaml.Node | None, err: ErrorDetails) -> str:
    loc = list(err["loc"][1:])  # drop the discriminator tag (not a field: "indicators" is also one)
    cause = (err.get("ctx") or {}).get("error")
    if isinstance(cause, RuleViolations):
        lines = []
        for sub_path, message, *first in cause.problems:
            full = loc + _parse_path(sub_path)
            if first:  # a repeat: where the value was first given
                message += f" (also line {_line_of(root, loc + _parse_path(first[0]))})"
            lines.append(f"{name}:{_line_of(root, full)}: {_format_path(full)}: {message}")
        return "\n".join(lines)
    return f"{name}:{_line_of(root, loc)}: {_format_path(loc) or '(top)'}: {_describe(err)}"


@dataclass(frozen=True)
class Entry:
    definition: Matrix | IndicatorSet
    path: Path
    builtin: bool

    @property
    def kind(self) -> str:
        return self.definition.kind


_DEFAULT: dict = {}


class Catalog:
    """Every definition that can be used: built-ins first, then user folders (which may add, not replace)."""

    def __init__(self, extra_dirs: list[Path | str] | None = None):
        self.entries: dict[str, Entry] = {}
        self.problems: list[str] = []
        dirs: list[tuple[Path, bool]] = [(builtin_dir(), True)]
        extra = [Path(d) for d in (extra_dirs or [])]
        dirs += [(d, False) for d in extra]
        for folder, builtin in dirs:
            if not folder.exists():
                self.problems.append(f"{folder}: definitions folder not found")
                continue
            files = [folder] if folder.is_file() else sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")])
            for file in files:
                try:
                    definition = load_file(file)
                except DefinitionError as exc:
                    self.problems.extend(exc.problems)
                    continue
                if definition.id in self.entries:
                    other = self.entries[definition.id].path
                    self.problems.append(f"{file}:1: id: '{definition.id}' is already defined by {other}; ignored")
                    continue
                self.entries[definition.id] = Entry(definition, file, builtin)

    @classmethod
    def default(cls) -> Catalog:
        """The built-in definitions, loaded once per process."""
        if "catalog" not in _DEFAULT:
            _DEFAULT["catalog"] = cls()
        return _DEFAULT["catalog"]

    def get(self, ident: str) -> Matrix | IndicatorSet:
        try:
            return self.entries[ident].definition
        except KeyError:
            known = ", ".join(sorted(self.entries)) or "none"
            raise DefinitionError([f"no definition with id '{ident}' (known: {known})"]) from None

    def matrix(self, ident: str) -> Matrix:
        found = self.get(ident)
        if not isinstance(found, Matrix):
            raise DefinitionError([f"'{ident}' is an indicator set, not a matrix"])
        return found

    def indicator_set(self, ident: str) -> IndicatorSet:
        found = self.get(ident)
        if not isinstance(found, IndicatorSet):
            raise DefinitionError([f"'{ident}' is a matrix, not an indicator set"])
        return found

    def indicator_set_for(self, *metadata: dict[str, str]) -> IndicatorSet | None:
        """The indicator set returns were made with (by their metadata), if it is known here: the first id in
        sorted order, so that the same returns always give the same set."""
        ids = sorted({m.get("indicators_id", "") for m in metadata} - {""})
        entry = self.entries.get(ids[0]) if ids else None
        return entry.definition if entry is not None and isinstance(entry.definition, IndicatorSet) else None

    def matrices(self) -> list[Matrix]:
        return [e.definition for e in self.entries.values() if isinstance(e.definition, Matrix)]


def schema() -> dict:
    """JSON Schema for people writing their own definitions."""
    return _ADAPTER.json_schema()
