"""eif-xlsx: EIF maturity-matrix self-assessments by spreadsheet, from definition to consolidated summary."""

__version__ = "0.1.0"

__all__ = ["__version__", "check", "consolidate", "generate", "read_return"]


def __getattr__(name: str):
    # The API is imported on first use so that `eif-xlsx --help` and the models stay light.
    if name in ("check", "consolidate", "generate", "read_return"):
        from eif_xlsx import api

        return getattr(api, name)
    raise AttributeError(name)
