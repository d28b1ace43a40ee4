"""Workbooks for import tests, written with openpyxl as Excel users' files are."""

import datetime as dt
import io
import zipfile
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


def exported(user, profile: str, *, unmasked: bool = True, **filters: Any) -> bytes:
    """The file of a real export job of `profile` (requested and run in-process, as the
    Celery task would run it), with full values unless `unmasked` is False."""
    from reports.exports import services as exports

    job = exports.export_job_request(
        user=user,
        profile=profile,
        filters=filters,
        unmasked=unmasked,
        reason="导出修改后导入" if unmasked else "",
    )
    exports.export_job_run(export_job_id=job.pk)
    job.refresh_from_db()
    assert job.status == "succeeded", job.error
    with job.file.open("rb") as fh:
        return fh.read()


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


def shared_strings_xlsx(
    rows: Sequence[Sequence[Any]], *, strings_xml: bytes | None = None
) -> bytes:
    """A workbook as Excel writes it: text in a shared string table (openpyxl writes inline
    strings). `rows` hold str (shared), numbers, or None."""
    from xml.sax.saxutils import escape

    from reports.imports.xlsx import column_letters

    table: dict[str, int] = {}
    body = []
    for r, values in enumerate(rows, 1):
        cells = []
        for c, value in enumerate(values):
            ref = f"{column_letters(c)}{r}"
            if value is None:
                continue
            if isinstance(value, str):
                index = table.setdefault(value, len(table))
                cells.append(f'<c r="{ref}" t="s"><v>{index}</v></c>')
            else:
                cells.append(f'<c r="{ref}"><v>{value}</v></c>')
        body.append(f'<row r="{r}">{"".join(cells)}</row>')
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    if strings_xml is None:
        strings_xml = (
            f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{main}" count="{len(table)}">'
            + "".join(f"<si><t>{escape(s)}</t></si>" for s in table)
            + "</sst>"
        ).encode()
    parts = {
        "[Content_Types].xml": (
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
            'package/2006/content-types"><Default Extension="rels" ContentType="application/'
            'vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" '
            'ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType='
            '"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            "</Types>"
        ),
        "_rels/.rels": (
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
            'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" '
            f'Type="{rel}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
        ),
        "xl/workbook.xml": (
            f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{main}" xmlns:r="{rel}">'
            '<sheets><sheet name="名单" sheetId="1" r:id="rId1"/></sheets></workbook>'
        ),
        "xl/_rels/workbook.xml.rels": (
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
            'openxmlformats.org/package/2006/relationships">'
            f'<Relationship Id="rId1" Type="{rel}/worksheet" Target="worksheets/sheet1.xml"/>'
            f'<Relationship Id="rId2" Type="{rel}/sharedStrings" Target="sharedStrings.xml"/>'
            "</Relationships>"
        ),
        "xl/worksheets/sheet1.xml": (
            f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{main}"><sheetData>'
            + "".join(body)
            + "</sheetData></worksheet>"
        ),
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as book:
        for name, text in parts.items():
            book.writestr(name, text.encode())
        book.writestr("xl/sharedStrings.xml", strings_xml)
    return buffer.getvalue()
