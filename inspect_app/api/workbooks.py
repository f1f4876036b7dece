"""Rows of the workbooks (.xlsx) the product gives out: checklists, the rectification ledger,
rankings and bulletins."""
from __future__ import annotations

from typing import Any

from openpyxl.worksheet.worksheet import Worksheet

from .fields import CONTROL_CHARACTERS


def append_row(sheet: Worksheet, values: list[Any]) -> None:
    """Append a row to ``sheet``. Text loses its control characters (openpyxl refuses them,
    and text stored before the API refused them may hold some) and is stored as text, so
    nothing a person typed ("=HYPERLINK(…)") becomes a formula in the reader's Excel."""
    sheet.append([CONTROL_CHARACTERS.sub("", value) if isinstance(value, str) else value
                  for value in values])
    for cell in sheet[sheet.max_row]:
        if isinstance(cell.value, str):
            cell.data_type = "s"
