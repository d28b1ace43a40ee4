"""The workbooks of imports: the downloadable templates, the report of bad rows, and the
layout writer (given rows in an import layout: the import benchmark's big file).

Exports that import back are the export jobs' profiles made from the layouts
(`reports.exports.layouts.from_import`), written by the exports' streaming writer.

Templates and reports are small and formatted: openpyxl. The layout writer streams rows of
any number into a plain .xlsx of its own (inline strings, three styles), bounded in memory:
ID numbers, phones and codes are text cells, dates are dates, nothing is ever a formula.
"""

import datetime as dt
import io
import re
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, BinaryIO
from xml.sax.saxutils import escape

from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook as OpenpyxlWorkbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from .layouts import TEXT_KINDS, Column, Layout, header_text
from .sheets import Header, Problem
from .xlsx import Workbook, column_index

HEADER_FILL = PatternFill("solid", fgColor="DDE3EA")
REQUIRED_FILL = PatternFill("solid", fgColor="F6D7A7")
BAD_FILL = PatternFill("solid", fgColor="F4B6B6")
CHOICE_KINDS = frozenset({"code", "bool", "status", "role", "danger"})
TEMPLATE_ROWS = 5000  # rows prepared with formats and drop-down lists
AUTHOR = "驻村通"


# --- templates ---------------------------------------------------------------------------


def choice_values(column: Column, statuses: Sequence[str] = ()) -> list[str]:
    if column.kind in ("bool", "danger"):
        return [_("是"), _("否")]
    if column.kind == "status":
        return list(statuses)
    return [label for label in column.labels() if label]


def layout_template(layout: Layout) -> tuple[bytes, str]:
    """The layout's template with the household statuses in use, and its file name (the
    admin's download and the API's)."""
    from households.models import HouseholdStatus

    statuses = list(HouseholdStatus.objects.values_list("name", flat=True))
    return template(layout, statuses), _("%s导入模板.xlsx") % header_text(layout.title)


def template(layout: Layout, statuses: Sequence[str] = ()) -> bytes:
    """An empty workbook of the layout: an instructions sheet, the header row (required
    columns marked and coloured, a comment on each), frozen; ID, phone and code columns
    formatted as text; drop-down lists for coded columns (from a hidden code sheet)."""
    book = OpenpyxlWorkbook()
    sheet = book.active
    sheet.title = header_text(layout.sheet)[:31]
    codes = book.create_sheet(_("代码表"))
    codes.sheet_state = "hidden"
    code_column = 0
    columns = [c for c in layout.columns if c.template]
    for index, column in enumerate(columns, 1):
        letter = get_column_letter(index)
        text = header_text(column.header)
        cell = sheet.cell(row=1, column=index, value=("*" if column.required else "") + text)
        cell.font = Font(bold=True)
        cell.fill = REQUIRED_FILL if column.required else HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="center", horizontal="center")
        sheet.column_dimensions[letter].width = max(column.width, len(text) * 2 + 2)
        note = _column_note(column, statuses)
        if note:
            cell.comment = Comment(note, AUTHOR, width=320, height=160)
        if column.kind in TEXT_KINDS or column.kind in ("text", "name", "unit"):
            sheet.column_dimensions[letter].number_format = "@"
        elif column.kind == "date":
            sheet.column_dimensions[letter].number_format = "yyyy-mm-dd"
        values = choice_values(column, statuses) if column.kind in CHOICE_KINDS else []
        if values and column.imported:
            code_column += 1
            code_letter = get_column_letter(code_column)
            codes.cell(row=1, column=code_column, value=text)
            for row, value in enumerate(values, 2):
                codes.cell(row=row, column=code_column, value=value)
            validation = DataValidation(
                type="list",
                formula1=f"'{codes.title}'!${code_letter}$2:${code_letter}${len(values) + 1}",
                allow_blank=True,
                showErrorMessage=True,
                errorTitle=_("请从列表中选择"),
                error=_("“%s”只能填写下拉列表中的值。") % text,
            )
            validation.add(f"{letter}2:{letter}{TEMPLATE_ROWS + 1}")
            sheet.add_data_validation(validation)
        elif column.kind == "date" and column.imported:
            validation = DataValidation(
                type="date",
                operator="between",
                formula1="DATE(1900,1,1)",
                formula2="DATE(2100,12,31)",
                allow_blank=True,
                showErrorMessage=True,
                error=_("请填写日期，如 2016-01-01。"),
            )
            validation.add(f"{letter}2:{letter}{TEMPLATE_ROWS + 1}")
            sheet.add_data_validation(validation)
    sheet.freeze_panes = "A2"
    sheet.row_dimensions[1].height = 32
    _instructions(book, layout, columns, statuses)
    book.move_sheet(sheet, offset=-book.index(sheet))
    book.active = 0
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _column_note(column: Column, statuses: Sequence[str]) -> str:
    parts = []
    if column.note:
        parts.append(str(column.note))
    if not column.imported:
        parts.append(_("仅供核对，导入时不读取。"))
    if column.kind in CHOICE_KINDS:
        values = choice_values(column, statuses)
        if values:
            parts.append(
                _("可选：%s") % "、".join(values[:20]) + ("……" if len(values) > 20 else "")
            )
    if column.kind == "codes":
        parts.append(_("可填多项，用“、”分隔；可选：%s") % "、".join(column.labels()))
    return "\n".join(parts)


def _instructions(book, layout: Layout, columns: list[Column], statuses) -> None:
    sheet = book.create_sheet(_("填写说明"))
    sheet.column_dimensions["A"].width = 26
    sheet.column_dimensions["B"].width = 10
    sheet.column_dimensions["C"].width = 90
    sheet.append([header_text(layout.title)])
    sheet["A1"].font = Font(bold=True, size=14)
    for note in layout.notes:
        sheet.append(["", "", str(note)])
    sheet.append([])
    sheet.append([_("列"), _("必填"), _("说明")])
    for cell in sheet[sheet.max_row]:
        cell.font, cell.fill = Font(bold=True), HEADER_FILL
    for column in columns:
        sheet.append(
            [
                header_text(column.header),
                _("是") if column.required else "",
                _column_note(column, statuses).replace("\n", "；"),
            ]
        )
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")


# --- the report of bad rows ----------------------------------------------------------------


def fill_values_and_report(book: Workbook, headers: list[Header], problems: list[Problem]) -> bytes:
    """The bad rows of the file, as uploaded, with each bad cell marked red and its problem
    as the cell's comment; a column lists every problem of the row. ID numbers and phones are
    masked. Problems found by the services (which know no cells) get their cell's value
    filled in on the way."""
    from .cells import display

    by_sheet: dict[str, dict[int, list[Problem]]] = {}
    for problem in problems:
        if problem.row:
            by_sheet.setdefault(problem.sheet, {}).setdefault(problem.row, []).append(problem)
    out = OpenpyxlWorkbook(write_only=True)
    for header in headers:
        rows = by_sheet.get(header.sheet.name)
        if not rows:
            continue
        reader = book.sheet(header.sheet)
        reader.columns = None
        sheet = out.create_sheet(header.sheet.name[:31])
        letters: list[str] = []
        header_cells: dict[str, str] = {}
        kinds = {k.decode(): c for k, c in header.columns.items()}
        for number, cells in reader:
            if number <= header.row:
                for key, raw in cells.items():
                    value = reader.value(raw)
                    if value.kind == "s" and value.value:
                        header_cells[key.decode()] = str(value.value)  # the lowest header row
                continue
            if not letters:
                letters = sorted(header_cells, key=column_index)
                titles = [_("原行号"), _("问题"), *(header_cells[k] for k in letters)]
                sheet.append([_bold(sheet, t) for t in titles])
            found = rows.get(number)
            if not found:
                continue
            marks: dict[str, list[str]] = {}
            for problem in found:
                if problem.letters:
                    marks.setdefault(problem.letters, []).append(problem.message)
            line = [number, "\n".join(dict.fromkeys(p.message for p in found))]
            for key in letters:
                raw = cells.get(key.encode())
                value = reader.value(raw) if raw is not None else None
                column = kinds.get(key)
                text = display(column, value) if value is not None else ""
                for problem in found:
                    if problem.letters == key and not problem.value:
                        problem.value = text
                if key in marks:
                    cell = WriteOnlyCell(sheet, value=text)
                    cell.fill = BAD_FILL
                    cell.comment = Comment("\n".join(marks[key]), AUTHOR, width=300, height=120)
                    line.append(cell)
                else:
                    line.append(text)
            sheet.append(line)
    if not out.worksheets:
        sheet = out.create_sheet(_("问题"))
    summary = out.create_sheet(_("问题清单"))
    summary.append(
        [_bold(summary, t) for t in (_("工作表"), _("行号"), _("列"), _("内容"), _("问题"))]
    )
    for problem in problems:
        summary.append(
            [problem.sheet, problem.row or "", problem.column, problem.value, problem.message]
        )
    buffer = io.BytesIO()
    out.save(buffer)
    return buffer.getvalue()


def _bold(sheet, text: str) -> WriteOnlyCell:
    cell = WriteOnlyCell(sheet, value=text)
    cell.font, cell.fill = Font(bold=True), HEADER_FILL
    return cell


# --- the layout writer -----------------------------------------------------------------------

_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" '
    'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.spreadsheetml.styles+xml"/>'
    "{sheets}</Types>"
)
_SHEET_TYPE = (
    '<Override PartName="/xl/worksheets/sheet{n}.xml" ContentType="application/'
    'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
)
_ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'
)
# Styles: 0 general, 1 text (@), 2 date, 3 bold header.
_STYLES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    '<numFmts count="1"><numFmt numFmtId="164" formatCode="yyyy-mm-dd"/></numFmts>'
    '<fonts count="2"><font><sz val="11"/><name val="等线"/></font>'
    '<font><b/><sz val="11"/><name val="等线"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="4"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="49" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/></cellXfs>'
    "</styleSheet>"
)
_EPOCH = dt.date(1899, 12, 30)
MAX_ROWS = 1_048_575  # data rows per sheet; more continue on the next sheet


def _cell_xml(ref: str, value: Any, text: bool) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        value = _("是") if value else _("否")
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        return f'<c r="{ref}" s="2"><v>{(value - _EPOCH).days}</v></c>'
    if isinstance(value, int | float) and not text:
        return f'<c r="{ref}"><v>{value}</v></c>'
    value = _ILLEGAL.sub("", str(value))
    space = ' xml:space="preserve"' if value != value.strip() else ""
    style = ' s="1"' if text else ""
    return f'<c r="{ref}"{style} t="inlineStr"><is><t{space}>{escape(value)}</t></is></c>'


def write_layout(
    target: BinaryIO, layout: Layout, rows: Iterable[Sequence[Any]], *, title: str = ""
) -> int:
    """Stream rows (values in the layout's column order) into an .xlsx; returns the rows."""
    columns = list(layout.columns)
    letters = [_letters(i) for i in range(len(columns))]
    text = [c.kind in TEXT_KINDS or c.kind in ("text", "name", "unit") for c in columns]
    names: list[str] = []
    count = 0
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as book:
        iterator = iter(rows)
        while True:
            n = len(names) + 1
            name = (title or header_text(layout.sheet))[:28] + (f"{n}" if n > 1 else "")
            written, more = _sheet(book, n, columns, letters, text, iterator)
            names.append(name)
            count += written
            if not more:
                break
        sheets = "".join(
            f'<sheet name="{escape(name)}" sheetId="{i}" r:id="rId{i}"/>'
            for i, name in enumerate(names, 1)
        )
        rels = "".join(
            f'<Relationship Id="rId{i}" Type="http://schemas.openxmlformats.org/officeDocument/'
            f'2006/relationships/worksheet" Target="worksheets/sheet{i}.xml"/>'
            for i in range(1, len(names) + 1)
        )
        rels += (
            f'<Relationship Id="rId{len(names) + 1}" Type="http://schemas.openxmlformats.org/'
            'officeDocument/2006/relationships/styles" Target="styles.xml"/>'
        )
        book.writestr(
            "[Content_Types].xml",
            _CONTENT_TYPES.format(
                sheets="".join(_SHEET_TYPE.format(n=i) for i in range(1, len(names) + 1))
            ),
        )
        book.writestr("_rels/.rels", _ROOT_RELS)
        book.writestr(
            "xl/workbook.xml",
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
            f"<sheets>{sheets}</sheets></workbook>",
        )
        book.writestr(
            "xl/_rels/workbook.xml.rels",
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            f"{rels}</Relationships>",
        )
        book.writestr("xl/styles.xml", _STYLES)
    return count


def _letters(index: int) -> str:
    return get_column_letter(index + 1)


def _sheet(book, n, columns, letters, text, rows: Iterator) -> tuple[int, bool]:
    count = 0
    more = False
    with book.open(f"xl/worksheets/sheet{n}.xml", "w", force_zip64=True) as part:
        head = "".join(
            f'<c r="{letter}1" s="3" t="inlineStr">'
            f"<is><t>{escape(header_text(c.header))}</t></is></c>"
            for letter, c in zip(letters, columns, strict=True)
        )
        cols = "".join(
            f'<col min="{i}" max="{i}" width="{c.width + 2}" customWidth="1"'
            + (' style="1"' if t else "")
            + "/>"
            for i, (c, t) in enumerate(zip(columns, text, strict=True), 1)
        )
        part.write(
            (
                '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
                '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
                '<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" '
                'activePane="bottomLeft" state="frozen"/></sheetView></sheetViews>'
                f'<cols>{cols}</cols><sheetData><row r="1">{head}</row>'
            ).encode()
        )
        buffer = []
        for values in rows:
            count += 1
            r = count + 1
            cells = "".join(
                _cell_xml(f"{letter}{r}", value, t)
                for letter, value, t in zip(letters, values, text, strict=True)
            )
            buffer.append(f'<row r="{r}">{cells}</row>')
            if len(buffer) >= 2000:
                part.write("".join(buffer).encode())
                buffer = []
            if count >= MAX_ROWS:
                more = True
                break
        part.write(("".join(buffer) + "</sheetData></worksheet>").encode())
    return count, more


def export_filename(layout: Layout) -> str:
    return f"{header_text(layout.title)}-{timezone.localdate():%Y%m%d}.xlsx"
