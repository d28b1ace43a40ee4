"""Workbooks for import tests, written with openpyxl as Excel users' files are."""

import datetime as dt
import io
from collections.abc import Sequence
from typing import Any

import openpyxl
from django.core.files.uploadedfile import SimpleUploadedFile

from reports.imports.layouts import HOUSEHOLDS_SYSTEM, Layout, header_text


class Number:
    """A value written as a number cell (what Excel does to a long ID typed as digits)."""

    def __init__(self, value: float):
        self.value = value


class Formula:
    def __init__(self, text: str):
        self.text = text


def xlsx(
    rows: Sequence[Sequence[Any]],
    *,
    headers: Sequence[str] | None = None,
    title_rows: Sequence[Sequence[Any]] = (),
    sheet: str = "帮扶户",
    merges: Sequence[str] = (),
    extra_sheets: dict[str, Sequence[Sequence[Any]]] | None = None,
) -> bytes:
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = sheet
    for row in title_rows:
        ws.append(list(row))
    if headers is not None:
        ws.append(list(headers))
    for row in rows:
        ws.append([_cell(v) for v in row])
    for r in ws.iter_rows():
        for cell in r:
            if isinstance(cell.value, str) and not cell.value.startswith("="):
                cell.data_type = "s"  # text stays text, whatever it looks like
    for rng in merges:
        ws.merge_cells(rng)
    for name, extra in (extra_sheets or {}).items():
        other = book.create_sheet(name)
        for row in extra:
            other.append(list(row))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _cell(value: Any) -> Any:
    if isinstance(value, Number):
        return value.value
    if isinstance(value, Formula):
        return value.text
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value
    return value


def upload(content: bytes, name: str = "帮扶户.xlsx") -> SimpleUploadedFile:
    return SimpleUploadedFile(
        name, content, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )


def headers(layout: Layout = HOUSEHOLDS_SYSTEM) -> list[str]:
    return [header_text(c.header) for c in layout.columns]


def row(layout: Layout = HOUSEHOLDS_SYSTEM, **values: Any) -> list[Any]:
    """A row in the layout's column order; keys are fields, or "household.phone" /
    "member.phone" where a field name is in both levels."""
    out = []
    for column in layout.columns:
        key = f"{column.level}.{column.key}"
        out.append(values.get(key, values.get(column.key)) if column.key else None)
    return out


def member_row(village, code: str, name: str, id_number: str, relation: str = "户主", **extra):
    values = {
        "village_code": village.code,
        "code": code,
        "status": "已脱贫",
        "household_type": "一般贫困户",
        "main_cause": "因病",
        "year_identified": 2016,
        "name": name,
        "id_number": id_number,
        "relation": relation,
        "ethnicity": "汉族",
        "education": "初中",
        "health": "健康",
        "labour": "普通劳动力",
        "joined_on": dt.date(2016, 1, 1),
    }
    values.update(extra)
    return row(**values)
