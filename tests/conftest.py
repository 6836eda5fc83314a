"""Shared fixtures: the built-in definitions, and workbooks generated (and filled) in tmp_path."""

from __future__ import annotations

import os
import shutil
import sys
from email.message import EmailMessage
from email.policy import SMTP
from pathlib import Path

import pytest

from eif_xlsx.domain.catalog import Catalog
from eif_xlsx.domain.partners import Partner
from eif_xlsx.template.generate import generate_workbooks
from eif_xlsx.template.layout import TEMPLATE_VERSION

MATRIX_ID = "maternity-early-years"
INDICATORS_ID = "staffordshire-best-start"
ANN = Partner("P-ANN", "Ann Example", "Northshire Midwifery", "ann@example.org", "Head of midwifery")
BOB = Partner("P-BOB", "Bob Sample", "Family Hubs North", "bob@example.org", "Manager")


def pytest_configure(config):
    # The blank-template cache (blank.py) goes to a folder of this run's, not the user's ~/.cache: tests and the
    # processes they start share it, and start from an empty one.
    if "EIF_XLSX_CACHE" not in os.environ:
        import tempfile

        os.environ["EIF_XLSX_CACHE"] = config._eif_cache = tempfile.mkdtemp(prefix="eif-xlsx-test-cache-")


def pytest_unconfigure(config):
    if getattr(config, "_eif_cache", None):
        shutil.rmtree(config._eif_cache, ignore_errors=True)


def email_message(attachments: list, sender: str = "Ann <ann@example.org>", text: str = "attached") -> EmailMessage:
    """An e-mail from sender with these attachments: (name, bytes) as a file, (name, bytes, subtype) as a file of
    type application/subtype, or an EmailMessage attached whole (forwarded as an attachment)."""
    msg = EmailMessage(policy=SMTP)
    msg["From"] = sender
    msg["Subject"] = "return"
    msg.set_content(text)
    for item in attachments:
        if isinstance(item, EmailMessage):
            msg.add_attachment(item)
        else:
            name, data, *subtype = item
            msg.add_attachment(
                data, maintype="application", subtype=subtype[0] if subtype else "octet-stream", filename=name
            )
    return msg


def saved_email(attachments: list, sender: str = "Ann <ann@example.org>") -> bytes:
    """A saved e-mail (.eml) from sender with these attachments (see email_message); tests/msgfile.py makes an
    Outlook .msg."""
    return email_message(attachments, sender).as_bytes()


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return Catalog.default()


@pytest.fixture(scope="session")
def matrix(catalog):
    return catalog.matrix(MATRIX_ID)


@pytest.fixture(scope="session")
def indicator_set(catalog):
    return catalog.indicator_set(INDICATORS_ID)


def make_workbook(
    folder: Path, matrix, answers: dict | None = None, partner: Partner | None = ANN, indicators=None, **spec
) -> Path:
    """Generate one workbook, pre-filled with `answers` ((field, sub_element, item, column) -> value).

    The writer's output is byte-identical for the same inputs (a test checks it), so a workbook asked for again
    is the same files written again from the first time's bytes: a third of the fast loop was writing the same
    workbooks."""
    key = (
        TEMPLATE_VERSION,
        matrix.content_hash,
        indicators.content_hash if indicators is not None else "",
        repr(partner),
        repr(sorted((answers or {}).items(), key=repr)),
        repr(sorted(spec.items(), key=repr)),
    )
    made = _MADE.get(key)
    if made is None:
        prefill = {partner.id if partner else "": ("", answers or {}, spec)} if (answers or spec) else None
        result = generate_workbooks(
            matrix,
            folder,
            [partner] if partner else None,
            indicators=indicators,
            area="Northshire",
            deadline="2026-12-12",
            prefill=prefill,
        )
        made = (
            result.files[0].name,
            {
                p.name: p.read_bytes()
                for p in sorted(Path(folder).iterdir())
                if p.is_file() and p.name in (result.files[0].name, "manifest.csv")
            },
        )
        if len(_MADE) < 256:
            _MADE[key] = made
        return result.files[0]
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in made[1].items():
        (folder / name).write_bytes(data)
    return folder / made[0]


_MADE: dict[tuple, tuple[str, dict[str, bytes]]] = {}  # make_workbook's: its inputs -> the files it wrote


@pytest.fixture
def blank_workbook(tmp_path, matrix) -> Path:
    return make_workbook(tmp_path / "gen", matrix)


def soffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


# --- the fast loop: a test that runs a real program is marked slow -------------------------------------------
# `pytest -m "not slow"` must stay fast, so a test (or a fixture set up for it) that starts LibreOffice, Gnumeric,
# Chromium or poppler and is not marked slow fails, saying so. Two checks: need_program() below, and an audit hook
# (sys.addaudithook, a public API) that sees every program started through subprocess, e.g. by office.convert.

#: The programs that make a test slow, by the name of their executable.
REAL_PROGRAMS = {
    "soffice": "LibreOffice",
    "soffice.bin": "LibreOffice",
    "libreoffice": "LibreOffice",
    "ssconvert": "Gnumeric",
    "chromium": "Chromium",
    "chromium-browser": "Chromium",
    "google-chrome": "Chromium",
    "google-chrome-stable": "Chromium",
    "pdftotext": "poppler",
    "pdfinfo": "poppler",
    "pdftoppm": "poppler",
}
_running: dict = {"item": None, "started": []}  # the test being set up or run, and the real programs it started


def real_program(argv) -> str | None:
    """The real program a command line (a list, or a string) starts, or None. Playwright's driver counts as
    Chromium."""
    if isinstance(argv, (str, bytes, os.PathLike)):
        argv = os.fsdecode(argv).split()
    argv = [os.fsdecode(a) for a in argv if isinstance(a, (str, bytes, os.PathLike))]
    if not argv:
        return None
    if os.path.basename(argv[0]) in REAL_PROGRAMS:
        return REAL_PROGRAMS[os.path.basename(argv[0])]
    return "Chromium (Playwright)" if any("playwright" in a for a in argv) else None


def _watch_programs(event: str, args: tuple) -> None:
    if event == "subprocess.Popen" and _running["item"] is not None:
        program = real_program(args[1]) or (real_program([args[0]]) if args[0] else None)
        if program:
            _running["started"].append(program)


sys.addaudithook(_watch_programs)


def _must_be_slow(item, what: str) -> None:
    if item.get_closest_marker("slow") is None:
        pytest.fail(
            f"{item.nodeid} runs {what}: mark it slow (@pytest.mark.slow), so that the fast loop "
            f"(pytest -m 'not slow') stays fast",
            pytrace=False,
        )


def _watching(item):
    _running["item"], _running["started"] = item, []
    try:
        result = yield
    finally:
        _running["item"] = None
    if _running["started"]:
        _must_be_slow(item, ", ".join(sorted(set(_running["started"]))))
    return result


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item):
    return (yield from _watching(item))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    return (yield from _watching(item))


def need_program(found: str | None, what: str) -> str:
    """A real program a test drives: required under CI (a missing program fails the run, and says which); locally
    the test may be skipped. found: its path, as shutil.which gives it (None: not installed). The test must be
    marked slow."""
    if _running["item"] is not None:
        _must_be_slow(_running["item"], what)
    if found:
        return found
    if os.environ.get("CI"):
        pytest.fail(f"{what} is not installed, and CI requires it")
    pytest.skip(f"{what} is not installed")


def need_soffice() -> str:
    return need_program(soffice(), "LibreOffice (soffice)")


@pytest.fixture(scope="session")
def demo(tmp_path_factory) -> Path:
    """The demo's output folder (report.pdf included), made once for the run; tests only read it."""
    from eif_xlsx.demo import run_demo

    out = tmp_path_factory.mktemp("demo")
    run_demo(out, echo=lambda *_: None)
    return out


@pytest.fixture
def debug_log(tmp_path):
    """The --debug log (errors.set_debug_log) pointed at a file of this test's, and unset after it."""
    from eif_xlsx.errors import set_debug_log

    log = tmp_path / "debug.log"
    set_debug_log(log)
    yield log
    set_debug_log(None)


def press_ctrl_c(proc, what: str) -> None:
    """Ctrl-C to a command started in a session of its own (start_new_session=True): SIGINT to every process of it,
    as a terminal sends it. It must end within a minute, say 'Aborted!' with exit 1 and no traceback, and leave no
    process of its session running."""
    import os
    import signal
    import subprocess
    import time

    os.killpg(proc.pid, signal.SIGINT)
    try:
        _, stderr = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        pytest.fail(f"{what}: hung after Ctrl-C")
    assert "Traceback" not in stderr, (what, stderr)
    assert proc.returncode == 1 and "Aborted!" in stderr, (what, proc.returncode, stderr)
    time.sleep(0.2)
    left = subprocess.run(["pgrep", "-s", str(proc.pid)], capture_output=True, text=True).stdout.split()
    assert left == [], (what, left)
