"""eif-xlsx: EIF maturity-matrix self-assessments by spreadsheet, from definition to consolidated summary.

The library API is eif_xlsx.api's, importable from here: `from eif_xlsx import generate, validate, consolidate`.
"""

from eif_xlsx.version import __version__

API = (
    "chase",
    "check",
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
