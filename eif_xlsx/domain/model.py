"""pydantic models of a definition: a maturity matrix or a commissioning-indicator set (frozen, strict)."""

from __future__ import annotations

import hashlib
import json
import re
from functools import cached_property
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

Text = Annotated[str, StringConstraints(min_length=1)]
Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9._-]*$", max_length=64)]
SupportingId = Annotated[str, StringConstraints(pattern=r"^\d+(\.\d+)?-s\d{2,}$")]
NOT_ASSESSED = "Not assessed"
NOT_YET_BASIC = "Not yet basic"


class RuleViolations(ValueError):
    """Raised by a model validator: a list of (field path, message) beyond what types can say. A repeat adds a
    third item, the field path of the first occurrence, which the loader turns into "(also line N)"."""

    def __init__(self, problems: list[tuple[str, ...]]):
        self.problems = problems
        super().__init__("; ".join(f"{p[0]}: {p[1]}" for p in problems))


class Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=False)


def natural_key(code: str) -> tuple:
    """'1.10b' -> (1, 10, 'b'): the order codes are printed in."""
    return tuple(int(p) if p.isdigit() else p for p in re.findall(r"\d+|[A-Za-z]+", code))


# --- maturity matrix -----------------------------------------------------------------------------


class Level(Strict):
    name: Text
    meaning: Text


class Timescale(Strict):
    name: Text
    meaning: Text


class Criterion(Strict):
    code: Text
    level: Text
    text: Text


class SupportingItem(Strict):
    """One line of a sub-element's supporting-information checklist, as the seed prints it.

    `id` is stable and unique in the whole matrix ("<sub-element code>-s<NN>", numbered in document order when
    first written and never renumbered); answers are carried by it, never by the wording, which can repeat.
    `level` is the progress level of the criterion row the item stands beside, where the seed shows it.
    A `heading` ("Strategy covers:") introduces the bullet items after it: it is shown, not ticked, and has no id.
    """

    id: SupportingId | None = None
    text: Text
    level: str | None = None
    heading: bool = False

    @model_validator(mode="after")
    def _id_unless_heading(self) -> SupportingItem:
        if self.heading and self.id is not None:
            raise RuleViolations([("id", "a heading is not ticked and has no id")])
        if not self.heading and self.id is None:
            raise RuleViolations(
                [
                    (
                        "id",
                        "a supporting-information item needs an id (e.g. '1.1-s01'); "
                        "only a line with 'heading: true' has none",
                    )
                ]
            )
        return self


class SubElement(Strict):
    code: Text
    name: Text
    criteria: tuple[Criterion, ...] = Field(min_length=1)
    supporting_information: tuple[SupportingItem, ...] = ()

    @property
    def title(self) -> str:
        return f"{self.code} {self.name}"

    @property
    def supporting_items(self) -> tuple[SupportingItem, ...]:
        """The supporting-information items that are ticked (each with an id): headings left out."""
        return tuple(item for item in self.supporting_information if not item.heading)


class Element(Strict):
    number: int = Field(ge=1)
    name: Text
    focus: Text
    sub_elements: tuple[SubElement, ...] = ()
    # An element with no sub-elements is assessed as itself: it carries its criteria directly.
    criteria: tuple[Criterion, ...] = ()
    supporting_information: tuple[SupportingItem, ...] = ()

    @model_validator(mode="after")
    def _one_shape(self) -> Element:
        if self.sub_elements and (self.criteria or self.supporting_information):
            raise RuleViolations([("criteria", "an element has either sub_elements or its own criteria, not both")])
        if not self.sub_elements and not self.criteria:
            raise RuleViolations([("criteria", "an element needs sub_elements or criteria")])
        return self

    @cached_property
    def assessed(self) -> tuple[SubElement, ...]:
        """The sub-elements that are assessed: its own, or itself as a single sub-element."""
        if self.sub_elements:
            return self.sub_elements
        return (
            SubElement(
                code=str(self.number),
                name=self.name,
                criteria=self.criteria,
                supporting_information=self.supporting_information,
            ),
        )

    @property
    def has_own_criteria(self) -> bool:
        return not self.sub_elements


class Dimension(Strict):
    """PLAN, LEAD, DELIVER or EVALUATE. `description` is what the seed says the dimension is ("strategy and
    planning", "leading change", …: the seed's only description of each), verbatim, where it has one."""

    name: Text
    description: Text | None = None
    elements: tuple[Element, ...] = Field(min_length=1)


class GuidanceParagraph(Strict):
    text: Text
    bullet: bool = False


class GuidanceSection(Strict):
    """A section of the matrix's own guidance ("Using the matrix"), verbatim: its heading and its paragraphs in
    order; a paragraph the seed prints as a list item has `bullet: true` (the seed's bold run-in kept as text)."""

    title: Text
    paragraphs: tuple[GuidanceParagraph, ...] = Field(min_length=1)


DEFAULT_TIMESCALES = (
    Timescale(name="Short", meaning="next 6 months"),
    Timescale(name="Medium", meaning="6–24 months"),
    Timescale(name="Long", meaning="after that"),
)


class Matrix(Strict):
    kind: Literal["matrix"]
    id: Slug
    title: Text
    subtitle: str = ""
    publisher: str = ""
    edition: Text
    version: Text
    source: Text
    levels: tuple[Level, ...] = Field(min_length=2)
    timescales: tuple[Timescale, ...] = DEFAULT_TIMESCALES
    how_to_use: tuple[str, ...] = ()
    guidance: tuple[GuidanceSection, ...] = ()
    dimensions: tuple[Dimension, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _rules(self) -> Matrix:
        problems: list[tuple[str, ...]] = []
        names = [lv.name for lv in self.levels]
        rank = {n: i for i, n in enumerate(names)}
        listing = ", ".join(names)
        if len(set(names)) != len(names):
            problems.append(("levels", "progress level names must be unique"))
        if len({t.name for t in self.timescales}) != len(self.timescales):
            problems.append(("timescales", "timescale names must be unique"))
        numbers: list[int] = []
        sub_codes: list[str] = []
        first_sub: dict[str, str] = {}
        first_crit: dict[str, str] = {}
        first_item: dict[str, str] = {}
        for d, dim in enumerate(self.dimensions):
            for e, el in enumerate(dim.elements):
                epath = f"dimensions[{d}].elements[{e}]"
                if numbers and el.number <= numbers[-1]:
                    problems.append(
                        (f"{epath}.number", f"element {el.number} is out of order or repeated (after {numbers[-1]})")
                    )
                numbers.append(el.number)
                for s, sub in enumerate(el.assessed):
                    spath = epath if el.has_own_criteria else f"{epath}.sub_elements[{s}]"
                    if not el.has_own_criteria and not (
                        sub.code == str(el.number) or sub.code.startswith(f"{el.number}.")
                    ):
                        problems.append(
                            (f"{spath}.code", f"sub-element '{sub.code}' does not belong to element {el.number}")
                        )
                    if sub.code in first_sub:
                        problems.append(
                            (f"{spath}.code", f"duplicate sub-element code '{sub.code}'", first_sub[sub.code])
                        )
                    elif sub_codes and natural_key(sub.code) < natural_key(sub_codes[-1]):
                        problems.append(
                            (f"{spath}.code", f"sub-element '{sub.code}' is out of order (after '{sub_codes[-1]}')")
                        )
                    sub_codes.append(sub.code)
                    first_sub.setdefault(sub.code, f"{spath}.code")
                    last_code, last_rank = None, -1
                    for c, crit in enumerate(sub.criteria):
                        cpath = f"{spath}.criteria[{c}]"
                        if crit.level not in rank:
                            problems.append((f"{cpath}.level", f"'{crit.level}' is not a progress level ({listing})"))
                        elif rank[crit.level] < last_rank:
                            problems.append(
                                (
                                    f"{cpath}.level",
                                    f"criteria must be in ascending progress level: '{crit.level}' after a higher level",
                                )
                            )
                        else:
                            last_rank = rank[crit.level]
                        if crit.code in first_crit:
                            problems.append(
                                (f"{cpath}.code", f"duplicate criterion code '{crit.code}'", first_crit[crit.code])
                            )
                        elif not crit.code.startswith(sub.code) or not crit.code[len(sub.code) :].isalpha():
                            problems.append(
                                (
                                    f"{cpath}.code",
                                    f"criterion code '{crit.code}' must be the sub-element code '{sub.code}' followed by a letter",
                                )
                            )
                        elif last_code and natural_key(crit.code) <= natural_key(last_code):
                            problems.append(
                                (f"{cpath}.code", f"criterion '{crit.code}' is out of order (after '{last_code}')")
                            )
                        first_crit.setdefault(crit.code, f"{cpath}.code")
                        last_code = crit.code
                    for i, item in enumerate(sub.supporting_information):
                        ipath = f"{spath}.supporting_information[{i}]"
                        if item.level is not None and item.level not in rank:
                            problems.append((f"{ipath}.level", f"'{item.level}' is not a progress level ({listing})"))
                        if item.id is None:
                            continue
                        if item.id in first_item:
                            problems.append(
                                (f"{ipath}.id", f"duplicate supporting-information id '{item.id}'", first_item[item.id])
                            )
                        elif item.id.rsplit("-s", 1)[0] != sub.code:
                            problems.append(
                                (
                                    f"{ipath}.id",
                                    f"supporting-information id '{item.id}' must start with "
                                    f"the sub-element code: '{sub.code}-s01', '{sub.code}-s02'…",
                                )
                            )
                        first_item.setdefault(item.id, f"{ipath}.id")
        if problems:
            raise RuleViolations(problems)
        return self

    # -- derived views ---------------------------------------------------------------------------

    @property
    def level_names(self) -> tuple[str, ...]:
        return tuple(lv.name for lv in self.levels)

    @property
    def timescale_names(self) -> tuple[str, ...]:
        return tuple(t.name for t in self.timescales)

    def sub_elements(self) -> list[tuple[Dimension, Element, SubElement]]:
        return [(dim, el, sub) for dim in self.dimensions for el in dim.elements for sub in el.assessed]

    def sub_element(self, code: str) -> SubElement:
        for _, _, sub in self.sub_elements():
            if sub.code == code:
                return sub
        raise KeyError(code)

    def supporting_item(self, ident: str) -> tuple[SubElement, SupportingItem]:
        """The sub-element and the supporting-information item with this id."""
        found = self._supporting_by_id.get(ident)
        if found is None:
            raise KeyError(ident)
        return found

    @cached_property
    def _supporting_by_id(self) -> dict[str, tuple[SubElement, SupportingItem]]:
        return {
            item.id: (sub, item)
            for _, _, sub in self.sub_elements()
            for item in sub.supporting_items
            if item.id is not None
        }

    @cached_property
    def content_hash(self) -> str:
        return content_hash(self)


# --- commissioning-indicator set -----------------------------------------------------------------

IndicatorKind = Literal["population-outcome", "service-performance"]
Unit = Literal["percentage", "count", "rate", "number", "text"]
Direction = Literal["higher", "lower", "none"]


class Indicator(Strict):
    """One population outcome or service performance indicator of a commissioning intention.

    `direction` says which value is better, as the wording says it: "higher" ("% of children achieving…",
    "Increase the %…", "% reduction of referrals": a percentage of reduction), "lower" ("Reducing the number of…",
    "Infant mortality", "Reduction in second pregnancies…": the thing itself is counted) or "none" where the wording
    does not say (a narrative, "currently being decided", a topic heading, a volume such as "Number of looked after
    children"). The tracker's RAG and trend use it; it is always written, never guessed at load.

    Grouping is data, as the seed prints it: `group` is the heading the indicator is listed under in its column,
    verbatim ("Public Health Outcomes:"), the same string on each indicator of the group (a group's indicators are
    consecutive); `parent` is the id of the indicator it is a sub-item of (the seed's nested list: cp2b-3-po24 to
    po26 under cp2b-3-po23), an earlier indicator of the same intention, column and group, one level deep.
    """

    id: Slug
    kind: IndicatorKind
    text: Text
    unit: Unit
    direction: Direction
    group: Text | None = None
    parent: Slug | None = None


class Intention(Strict):
    """A commissioning intention. `lead_commissioners` are the people (or posts) named as leads, one per entry;
    `lead_commissioners_note` is other text the seed puts in that column (a note on them, not a commissioner)."""

    id: Slug
    commissioned: Text
    target_population: Text
    lead_commissioners: tuple[Text, ...] = Field(min_length=1)
    lead_commissioners_note: Text | None = None
    indicators: tuple[Indicator, ...] = ()


class CorePurpose(Strict):
    id: Slug
    number: str = ""
    name: Text
    includes: tuple[Text, ...] = ()
    intentions: tuple[Intention, ...] = Field(min_length=1)

    @property
    def title(self) -> str:
        return f"{self.number} {self.name}".strip()


class IndicatorSet(Strict):
    kind: Literal["indicators"]
    id: Slug
    title: Text
    organisation: str = ""
    outcome: Text
    version: Text
    source: Text
    core_purposes: tuple[CorePurpose, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_ids(self) -> IndicatorSet:
        problems: list[tuple[str, ...]] = []
        first: dict[str, str] = {}
        for p, cp in enumerate(self.core_purposes):
            entries = [(f"core_purposes[{p}].id", cp.id)]
            for i, it in enumerate(cp.intentions):
                entries.append((f"core_purposes[{p}].intentions[{i}].id", it.id))
                entries += [
                    (f"core_purposes[{p}].intentions[{i}].indicators[{k}].id", ind.id)
                    for k, ind in enumerate(it.indicators)
                ]
                problems += _grouping(f"core_purposes[{p}].intentions[{i}]", it.indicators)
            for path, ident in entries:
                if ident in first:
                    problems.append((path, f"duplicate id '{ident}'", first[ident]))
                first.setdefault(ident, path)
        if problems:
            raise RuleViolations(problems)
        return self

    def indicators(self) -> list[tuple[CorePurpose, Intention, Indicator]]:
        return [(cp, it, ind) for cp in self.core_purposes for it in cp.intentions for ind in it.indicators]

    @cached_property
    def content_hash(self) -> str:
        return content_hash(self)


def _grouping(path: str, indicators: tuple[Indicator, ...]) -> list[tuple[str, ...]]:
    """An intention's groups are consecutive within a column; a parent is an earlier indicator of the same column
    and group, itself not a sub-item."""
    problems: list[tuple[str, ...]] = []
    earlier: dict[str, Indicator] = {}
    closed: set[tuple[str, str]] = set()
    previous: tuple[str, str | None] | None = None
    for k, ind in enumerate(indicators):
        where = f"{path}.indicators[{k}]"
        if previous is not None and previous != (ind.kind, ind.group) and previous[1] is not None:
            closed.add((previous[0], previous[1]))
        if ind.group is not None and (ind.kind, ind.group) in closed:
            problems.append((f"{where}.group", f"group '{ind.group}' is split: its indicators must be consecutive"))
        previous = (ind.kind, ind.group)
        if ind.parent is not None:
            parent = earlier.get(ind.parent)
            if parent is None:
                problems.append((f"{where}.parent", f"'{ind.parent}' is not an earlier indicator of this intention"))
            elif parent.parent is not None:
                problems.append((f"{where}.parent", f"'{ind.parent}' is itself a sub-item (one level only)"))
            elif (parent.kind, parent.group) != (ind.kind, ind.group):
                problems.append((f"{where}.parent", f"'{ind.parent}' is in another column or group"))
        earlier[ind.id] = ind
    return problems


Definition = Annotated[Matrix | IndicatorSet, Field(discriminator="kind")]


def content_hash(model: BaseModel) -> str:
    """A short, stable fingerprint of a definition's content."""
    blob = json.dumps(model.model_dump(mode="json"), sort_keys=True, ensure_ascii=False).encode()
    return hashlib.sha256(blob).hexdigest()[:16]
