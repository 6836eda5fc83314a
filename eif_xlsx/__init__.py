"""eif-xlsx: EIF maturity-matrix self-assessments by spreadsheet, from definition to consolidated summary.

The library API is eif_xlsx.api's, importable from here: `from eif_xlsx import generate, validate, consolidate`.
"""

from eif_xlsx.version import __version__

API = (
    "chase",
    "check",
    "check_address",
    "check_deadline",
    "consolidate",
    "definition_schema",
    "find_returns",
    "generate",
    "load_definition_file",
    "load_definitions",
    "read_partners",
    "read_return",
    "read_round_manifest",
    "scratch",
    "summary_schema",
    "validate",
    "write_email_drafts",
    "write_feedback",
    "write_report",
    "write_tracker",
)

__all__ = ["__version__", *API]


def __getattr__(name: str):
    # Loaded on first use (not at `import eif_xlsx`): `eif-xlsx --help` and the worker processes that read returns
    # need neither XlsxWriter nor the report's modules, which the API as a whole imports (measured: ~0.3 s).
    if name in API:
        from eif_xlsx import api

        return getattr(api, name)
    raise AttributeError(f"module 'eif_xlsx' has no attribute '{name}'")


def command() -> None:
    """The installed `eif-xlsx` command. Ctrl-C while the program is still loading (its imports take ~0.3 s) ends it
    as Ctrl-C does later, with 'Aborted!' and no traceback; then the command line (cli.py) takes over."""
    import signal

    signal.signal(signal.SIGINT, _aborted_while_loading)
    from eif_xlsx.cli import run  # loaded here, after the guard: the package itself stays light to import

    signal.signal(signal.SIGINT, signal.default_int_handler)
    run()


def _aborted_while_loading(signum, frame) -> None:
    # Ended here and now: an exception raised from a signal handler can be swallowed by a module being imported
    # (a bare 'except:'), and then the command would run on. Nothing is written yet, no process started.
    import os
    import sys

    sys.stderr.write("Aborted!\n")
    sys.stderr.flush()
    os._exit(1)
