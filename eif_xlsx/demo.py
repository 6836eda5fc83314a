"""The demo round trip: generate for the sample partners, fill the workbooks as partners would, validate, import."""

from __future__ import annotations

import datetime as dt
import os
import random
import shutil
from pathlib import Path

from eif_xlsx import api
from eif_xlsx.domain.catalog import Catalog
from eif_xlsx.domain.model import Matrix
from eif_xlsx.domain.partners import Partner, read_partners
from eif_xlsx.office import convert, soffice
from eif_xlsx.template import layout as layout_mod
from eif_xlsx.template.generate import generate_workbooks
from eif_xlsx.template.layout import BASELINE, TWELVE_MONTHS

MATRIX_ID = "maternity-early-years"
INDICATORS_ID = "staffordshire-best-start"
# The sample partners: packaged inside the wheel, or the repository's samples/ in a checkout.
SAMPLES = next(
    (
        p
        for p in (Path(__file__).with_name("samples"), Path(__file__).resolve().parent.parent / "samples")
        if (p / "partners.csv").is_file()
    ),
    Path(__file__).resolve().parent.parent / "samples",
)
RETURN_TO = "early.years@northshire-council.example"
TICK_VARIANTS = ("✓", "✓", "✓", "✓", "x", "X", "yes", "✔", " ✓ ")

BARRIERS = [
    (
        "Data from maternity and health visiting systems cannot be linked.",
        "Agree a data-sharing protocol between the trust and the council.",
        "Short",
        "Public health intelligence",
    ),
    (
        "Staff turnover in the early years workforce.",
        "Develop a shared induction and training offer.",
        "Medium",
        "Early years workforce lead",
    ),
    (
        "No single strategy owner across partners.",
        "Name a lead officer and set a review date.",
        "Short",
        "Director of Children's Services",
    ),
    (
        "Families do not know what the family hub offers.",
        "Co-produce a local offer with parents.",
        "Medium",
        "Family hub managers",
    ),
    (
        "Evidence-based programmes are not commissioned at scale.",
        "Review the parenting programme portfolio.",
        "Long",
        "Commissioning",
    ),
    ("Evaluation capacity is limited.", "Partner with the university for a local evaluation.", "Long", "Public health"),
]
NOTES = [
    "We feel we fall between Early progress and Substantial progress here.",
    "Discussed at the partnership meeting; view shared by the health visiting team.",
    "Strategy refresh due next spring — expect this to move.",
    "Kaynak: yerel veri. 数据来源：本地数据。 Evidence from local data.",
]


def _profile(rng: random.Random) -> float:
    return rng.uniform(0.6, 3.4)


def fill_answers(
    matrix: Matrix,
    lay: layout_mod.WorkbookLayout,
    partner: Partner,
    seed: int,
    *,
    twelve_months: bool = False,
    indicators=None,
    today: dt.date | None = None,
) -> dict:
    """Realistic answers for one partner: ticks by a maturity profile, evidence, barriers, actions and notes."""
    rng = random.Random(seed)
    today = today or dt.date(2026, 11, 2)
    level = _profile(rng)
    answers: dict = {}
    for _, _, sub in matrix.sub_elements():
        target = max(0, min(4, round(level + rng.uniform(-0.9, 0.9))))
        for column in (BASELINE, TWELVE_MONTHS) if twelve_months else (BASELINE,):
            reach = target if column == BASELINE else min(4, target + rng.choice((0, 1, 1)))
            names = matrix.level_names
            for crit in sub.criteria:
                rank = names.index(crit.level) + 1
                ticked = rank <= reach or (rank == reach + 1 and rng.random() < 0.35)
                if rank == 1 and reach >= 3 and rng.random() < 0.4:
                    ticked = False  # basic descriptors stop being true as an area matures
                if ticked:
                    answers[("criterion", sub.code, crit.code, column)] = rng.choice(TICK_VARIANTS)
            for item in sub.supporting_items:  # evidence mostly at the levels reached
                rank = names.index(item.level) + 1 if item.level else 1
                if reach >= max(2, rank) and rng.random() < 0.3 + 0.1 * reach:
                    answers[("supporting_information", sub.code, item.id, column)] = "✓"
            if reach >= 1 and rng.random() < 0.25:
                answers[("overall_rating", sub.code, "", column)] = names[min(3, max(0, reach - 1))]
        if rng.random() < 0.2:
            answers[("supporting_other", sub.code, "Other 1", "")] = rng.choice(
                ["Partnership board minutes, May 2026", "Parent forum feedback report", "Joint inspection letter"]
            )
            answers[("supporting_other_tick", sub.code, "Other 1", BASELINE)] = "✓"
        for n in range(1, rng.choice((0, 0, 1, 2)) + 1):
            barrier, action, timescale, owner = rng.choice(BARRIERS)
            for fld, value in (
                ("barrier", barrier),
                ("priority_action", action),
                ("timescale", timescale),
                ("owner", owner),
            ):
                answers[(fld, sub.code, str(n), "")] = value
        if rng.random() < 0.15:
            answers[("notes", sub.code, "", "")] = rng.choice(NOTES)
    answers[("assessment_date", "", "", BASELINE)] = today - dt.timedelta(days=rng.randint(5, 30))
    if twelve_months:
        answers[("assessment_date", "", "", TWELVE_MONTHS)] = today
    if indicators is not None and partner.id.startswith(("PH", "COM")):
        # Area-wide figures: whoever reports an indicator for a period gives the same one (public health's data),
        # but for one figure the commissioners' differs (the tracker's Conflicts sheet). Public health gives the
        # first quarter, the others the second (the tracker's trend).
        period = "2026 Q1" if partner.id == "PH-01" else "2026 Q2"
        for k, (_, _, ind) in enumerate(indicators.indicators()[: 12 if partner.id.startswith("PH") else 6]):
            figure = random.Random(f"{ind.id}:{period}")
            ind_value: str | float
            if ind.unit == "text":
                ind_value = "Case studies collected from three schools."
            else:
                ind_value = round(figure.uniform(40, 80), 1) + (4.5 if partner.id == "COM-01" and k == 2 else 0)
            answers[("indicator_period", "", ind.id, "")] = period
            answers[("indicator_value", "", ind.id, "")] = ind_value
            answers[("indicator_rag", "", ind.id, "")] = figure.choice(("Red", "Amber", "Green"))
    return answers


def _with_problems(answers: dict, matrix: Matrix) -> dict:
    """One partner's return with the sort of problems a coordinator meets."""
    out = dict(answers)
    out[("criterion", "1.1", "1.1a", BASELINE)] = "maybe"
    # Sub-element 2 at Basic level, with one Mature criterion ticked far above the rest.
    for key in [k for k in out if k[0] == "criterion" and k[1] == "2" and k[3] == BASELINE]:
        del out[key]
    sub = next(sub for _, _, sub in matrix.sub_elements() if sub.code == "2")
    for crit in sub.criteria:
        if crit.level == matrix.level_names[0]:
            out[("criterion", "2", crit.code, BASELINE)] = "✓"
    out[("criterion", "2", "2k", BASELINE)] = "✓"
    out[("notes", "3", "", "")] = "=SUM(A1:A9) is how we counted the workforce"
    out[("assessment_date", "", "", BASELINE)] = dt.date(2027, 3, 1)
    out[("criterion", "4", "4a", TWELVE_MONTHS)] = "✓"
    return out


def run_demo(
    out: Path, echo=print, catalog: Catalog | None = None, partners_file: Path | None = None, *, pdf: bool = True
) -> str:
    """The whole round trip into out, told step by step through echo; returns the closing summary. pdf=False: no
    report.pdf (Chromium's time)."""
    catalog = catalog or Catalog.default()
    matrix = catalog.matrix(MATRIX_ID)
    iset = catalog.indicator_set(INDICATORS_ID)
    partners = read_partners(partners_file or SAMPLES / "partners.csv")
    out = Path(out)
    for sub in ("workbooks", "returns", "feedback", "chase"):
        shutil.rmtree(out / sub, ignore_errors=True)
    echo(f"1. Generating {len(partners)} personalised workbooks for {MATRIX_ID} ...")
    sent = api.generate(
        MATRIX_ID,
        out / "workbooks",
        partners=partners,
        indicators=INDICATORS_ID,
        area="Northshire (demo)",
        deadline="2026-12-11",
        return_to=RETURN_TO,
        catalog=catalog,
    )
    lay = layout_mod.build(matrix, iset)
    echo("2. Partners fill them in (tick variants, evidence, barriers, notes, indicator values) ...")
    returns = out / "returns"
    returns.mkdir(parents=True, exist_ok=True)
    missing = partners[-1]  # one partner never returns
    prefill: dict[str, tuple[str, dict, dict]] = {}
    for n, p in enumerate(partners):
        if p is missing:
            continue
        answers = fill_answers(matrix, lay, p, seed=1000 + n, twelve_months=(n % 4 == 1), indicators=iset)
        if n == 3:
            answers = _with_problems(answers, matrix)
        prefill[p.id] = ("", answers, {})
    filled = generate_workbooks(
        matrix,
        out / ".filled",
        [p for p in partners if p is not missing],
        indicators=iset,
        area="Northshire (demo)",
        deadline="2026-12-11",
        prefill=prefill,
        return_to=RETURN_TO,
    )
    files = []
    for row in filled.rows:
        target = returns / row["file"]
        shutil.copyfile(out / ".filled" / row["file"], target)
        files.append(target)
    # One partner sends twice: an earlier draft, then the final version.
    twice = partners[2]
    early = fill_answers(matrix, lay, twice, seed=77, indicators=iset)
    draft = generate_workbooks(
        matrix,
        out / ".draft",
        [twice],
        indicators=iset,
        area="Northshire (demo)",
        deadline="2026-12-11",
        prefill={twice.id: ("", early, {})},
        return_to=RETURN_TO,
    )
    draft_path = returns / ("EARLY DRAFT " + draft.rows[0]["file"])
    shutil.copyfile(draft.files[0], draft_path)
    os.utime(draft_path, (1_780_000_000, 1_780_000_000))
    # One partner's attachment arrives cut short (a damaged download): it is rejected, with the reason.
    broken = files[6]
    broken.write_bytes(broken.read_bytes()[: broken.stat().st_size // 3])
    echo(f"   {broken.name}: arrived damaged (cut short)")
    shutil.rmtree(out / ".filled", ignore_errors=True)
    shutil.rmtree(out / ".draft", ignore_errors=True)
    # One partner works in LibreOffice and saves as .ods.
    if soffice():
        source = files[4]
        try:
            ods = convert(source, "ods", returns)
            source.unlink()
            echo(f"   {ods.name}: re-saved by LibreOffice as .ods")
        except Exception as exc:  # LibreOffice is optional for the demo
            echo(f"   (LibreOffice could not re-save {source.name}: {exc})")
    else:
        echo("   (LibreOffice not installed: no .ods return in this run)")
    echo(f"   {len(list(returns.iterdir()))} files in {returns}; {missing.name} has not returned")
    echo("3. Validating and importing ...")
    result = api.consolidate([returns], out, manifest=sent.manifest, indicators=INDICATORS_ID, catalog=catalog, pdf=pdf)
    superseded = {row.file for row in result.consolidation.register if row.status == "superseded"}
    counted = [r for r in result.consolidation.reports if r.file not in superseded]  # not the draft sent again
    feedback = api.write_feedback(counted, out / "feedback", catalog=catalog)
    echo("4. Chasing: email drafts for the partner who has not returned and for the returns to correct ...")
    chased = api.chase(
        [returns],
        sent.manifest,
        sender=RETURN_TO,
        out_dir=out / "chase",
        deadline="2026-12-18",
        sender_name="Sam Patel",
        sender_organisation="Northshire County Council (demo)",
        catalog=catalog,
    )
    lines = [
        result.describe(),
        f"Feedback copies (each return that counts, with findings, marked up for its partner): {len(feedback)} in "
        f"{out / 'feedback'}",
        f"Chase and feedback email drafts: {chased.summary()}; {len(chased.drafts)} drafts in {out / 'chase'}",
        f"Generated workbooks and manifest: {out / 'workbooks'}",
        f"Simulated returns: {returns}",
    ]
    return "\n".join(lines)
