"""The workbook sent to partners: the layout (the one source of every cell) and the xlsxwriter builders."""
