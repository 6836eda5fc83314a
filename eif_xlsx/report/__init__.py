"""Outputs of an import: the summary workbook, the indicator tracker and the flat CSV/JSON exports."""
