"""Small formatted workbooks for admin reports (openpyxl). The big lists get the streaming
writer of the export jobs; these are page-sized tables a county prints or mails on."""

import datetime as dt
import io
from collections.abc import Iterable, Sequence
from urllib.parse import quote

from django.http import HttpResponse
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

HEADER = PatternFill("solid", fgColor="DDE3EA")


def add_sheet(
    workbook: Workbook, title: str, headers: Sequence[str], rows: Iterable[Sequence], note: str = ""
) -> None:
    sheet = workbook.create_sheet(title=title[:31])
    start = 1
    if note:
        sheet.cell(row=1, column=1, value=note).font = Font(bold=True)
        start = 3
    for col, text in enumerate(headers, 1):
        cell = sheet.cell(row=start, column=col, value=text)
        cell.font, cell.fill = Font(bold=True), HEADER
        cell.alignment = Alignment(wrap_text=True, vertical="center")
    widths = [len(str(h)) * 2 + 2 for h in headers]
    for r, row in enumerate(rows, start + 1):
        for c, value in enumerate(row, 1):
            cell = sheet.cell(row=r, column=c, value=value)
            if isinstance(value, str):
                cell.data_type = "s"  # never a formula, whatever the text starts with
            elif isinstance(value, dt.date):
                cell.number_format = "yyyy-mm-dd"
            widths[c - 1] = min(60, max(widths[c - 1], len(str(value)) + 2))
    for c, width in enumerate(widths, 1):
        sheet.column_dimensions[get_column_letter(c)].width = width
    sheet.freeze_panes = sheet.cell(row=start + 1, column=1)


def workbook_response(filename: str, sheets: list[tuple[str, Sequence[str], Iterable, str]]):
    """An .xlsx download of the given sheets: (title, headers, rows, note)."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    for title, headers, rows, note in sheets:
        add_sheet(workbook, title, headers, rows, note)
    buffer = io.BytesIO()
    workbook.save(buffer)
    response = HttpResponse(
        buffer.getvalue(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(filename)}"
    return response
