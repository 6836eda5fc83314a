"""Many returns -> what the board sees: the consolidation, summary.xlsx, the indicator tracker, the files for
analysts and the board's report.html/report.pdf."""
