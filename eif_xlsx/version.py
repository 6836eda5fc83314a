"""The version of eif-xlsx (as pyproject.toml gives it: a test keeps them equal)."""

__version__ = "0.1.0"
