"""xlsxwriter builders for the assessment workbook: one function per sheet, all placed by the layout."""

from .workbook import WorkbookSpec, write_workbook

__all__ = ["WorkbookSpec", "write_workbook"]
