"""The streaming .xlsx writer and the .csv writer: typed cells, no formula ever, the sheet
rollover, and files that openpyxl and python-calamine read back to the same values."""

import csv
import datetime as dt
import io
import zipfile
from decimal import Decimal
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from python_calamine import CalamineWorkbook

from reports.exports import xlsx
from reports.exports.csv_writer import CsvStreamWriter
from reports.exports.xlsx import CellKind, SheetColumn, XlsxStreamWriter

SHANGHAI = ZoneInfo("Asia/Shanghai")
HYPERLINK = '=HYPERLINK("http://x","y")'
ID_NUMBER = "11010519491231002X"
COLUMNS = [
    SheetColumn("户编号"),
    SheetColumn("姓名"),
    SheetColumn("证件号码"),
    SheetColumn("电话"),
    SheetColumn("人均纯收入", CellKind.NUMBER),
    SheetColumn("人数", CellKind.NUMBER),
    SheetColumn("风险识别时间", CellKind.DATE),
    SheetColumn("更新时间", CellKind.DATETIME),
]
ROWS = [
    (
        "140121100201001",
        HYPERLINK,
        ID_NUMBER,
        "13812345678",
        Decimal("6800.50"),
        4,
        dt.date(2026, 1, 10),
        dt.datetime(2026, 1, 10, 1, 30, tzinfo=dt.UTC),
    ),
    ("140121100201002", "+SUM(A1:A2)", "110105194912310021", "0351-1234567", 0, 1, None, None),
    ("140121100201003", "-2+3", "-", "@cmd", 12.25, 0, dt.date(2000, 2, 29), None),
    ("140121100201004", " 前后空格 ", "a & b < c > d", "", Decimal(-3), 2, None, None),
]


def write(rows, columns=COLUMNS, **kwargs) -> bytes:
    buffer = io.BytesIO()
    with XlsxStreamWriter(buffer, columns, title="帮扶户", **kwargs) as writer:
        writer.write_rows(rows)
    return buffer.getvalue()


def openpyxl_rows(data: bytes) -> dict[str, list[tuple]]:
    book = openpyxl.load_workbook(io.BytesIO(data))
    return {
        sheet.title: [tuple(c.value for c in row) for row in sheet.iter_rows()] for sheet in book
    }


def calamine_rows(data: bytes) -> dict[str, list[list]]:
    book = CalamineWorkbook.from_filelike(io.BytesIO(data))
    return {name: book.get_sheet_by_name(name).to_python() for name in book.sheet_names}


def local(*args) -> dt.datetime:
    """A wall-clock time in Beijing, without its zone (as spreadsheets hold times)."""
    return dt.datetime(*args, tzinfo=SHANGHAI).replace(tzinfo=None)


def normal(value):
    """One form for what both readers return: empty is None, whole datetimes are dates,
    numbers are floats."""
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime) and value.time() == dt.time(0):
        return value.date()
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return float(value)
    return value


def test_formulas_never_written_and_text_kept_as_is():
    data = write(ROWS)
    book = openpyxl.load_workbook(io.BytesIO(data))
    sheet = book.active
    cell = sheet["B2"]
    assert (cell.value, cell.data_type) == (HYPERLINK, "s")
    for ref, text in (("B3", "+SUM(A1:A2)"), ("B4", "-2+3"), ("C4", "-"), ("D4", "@cmd")):
        assert (sheet[ref].value, sheet[ref].data_type) == (text, "s")
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        xml = package.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in xml
    assert "<f " not in xml
    assert 't="str"' not in xml  # a formula's cached string type
    assert calamine_rows(data)["帮扶户"][1][1] == HYPERLINK


def test_id_numbers_and_phones_are_text_with_every_character():
    sheet = openpyxl.load_workbook(io.BytesIO(write(ROWS))).active
    assert (sheet["C2"].value, sheet["C2"].data_type) == (ID_NUMBER, "s")
    assert (sheet["C3"].value, sheet["C3"].data_type) == ("110105194912310021", "s")
    assert len(sheet["C3"].value) == 18
    assert (sheet["D2"].value, sheet["D2"].data_type) == ("13812345678", "s")
    assert sheet["D3"].value == "0351-1234567"


def test_numbers_stay_numbers_and_dates_are_dates():
    sheet = openpyxl.load_workbook(io.BytesIO(write(ROWS))).active
    assert (sheet["E2"].value, sheet["E2"].data_type) == (6800.5, "n")
    assert (sheet["F2"].value, sheet["F2"].data_type) == (4, "n")
    assert (sheet["E3"].value, sheet["E5"].value) == (0, -3)
    assert sheet["G2"].is_date
    assert sheet["G2"].number_format == "yyyy-mm-dd"
    assert sheet["G2"].value == local(2026, 1, 10)
    assert sheet["G4"].value == local(2000, 2, 29)
    # An aware time is shown in Beijing time.
    assert sheet["H2"].is_date
    assert sheet["H2"].value == local(2026, 1, 10, 9, 30)
    assert sheet["G3"].value is None


def test_markup_and_spaces_survive_and_illegal_characters_are_dropped():
    rows = [("1", "a\x01b\x0bc", "tab\there", "line\nbreak", 1, 1, None, None)]
    sheet = openpyxl.load_workbook(io.BytesIO(write(ROWS + rows))).active
    assert sheet["B5"].value == " 前后空格 "
    assert sheet["C5"].value == "a & b < c > d"
    assert sheet["B6"].value == "abc"
    assert sheet["C6"].value == "tab\there"
    assert sheet["D6"].value == "line\nbreak"


def test_encoded_character_sequences_are_escaped_for_excel():
    """`_x0041_` in text would show as "A" in Excel; it is written as `_x005F_x0041_`, which
    spec-following readers (Excel, calamine) turn back into the original text."""
    rows = [("1", "_x0041_", "", "", 1, 1, None, None)]
    data = write(rows)
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        assert "_x005F_x0041_" in package.read("xl/worksheets/sheet1.xml").decode()
    assert calamine_rows(data)["帮扶户"][1][1] == "_x0041_"


def test_header_is_frozen_bold_and_text_columns_are_text_formatted():
    sheet = openpyxl.load_workbook(io.BytesIO(write(ROWS))).active
    assert [c.value for c in sheet[1]] == [c.title for c in COLUMNS]
    assert sheet.freeze_panes == "A2"
    assert sheet["A1"].font.b
    assert sheet.column_dimensions["C"].number_format == "@"


def test_rows_continue_on_a_new_sheet_with_the_header_repeated():
    rows = [(f"{i:03d}", f"名{i}", ID_NUMBER, "", i, i, None, None) for i in range(7)]
    buffer = io.BytesIO()
    with XlsxStreamWriter(buffer, COLUMNS, title="帮扶户", max_data_rows=3) as writer:
        writer.write_rows(rows)
    assert (writer.rows, writer.sheets) == (7, ["帮扶户", "帮扶户 (2)", "帮扶户 (3)"])
    sheets = openpyxl_rows(buffer.getvalue())
    assert list(sheets) == ["帮扶户", "帮扶户 (2)", "帮扶户 (3)"]
    header = tuple(c.title for c in COLUMNS)
    for name, expected in zip(sheets, ([0, 1, 2], [3, 4, 5], [6]), strict=True):
        assert sheets[name][0] == header
        assert [int(r[4]) for r in sheets[name][1:]] == expected
    assert calamine_rows(buffer.getvalue())["帮扶户 (3)"][1][0] == "006"


def test_the_real_sheet_limit_is_excels_grid_less_the_header():
    assert xlsx.EXCEL_MAX_ROWS == 1_048_576  # Excel's rows per sheet
    assert xlsx.MAX_DATA_ROWS == 1_048_575  # + 1 header row = the whole grid
    buffer = io.BytesIO()
    writer = XlsxStreamWriter(buffer, COLUMNS, title="x")
    assert writer.max_data_rows == 1_048_575
    writer.close()
    with pytest.raises(ValueError, match="max_data_rows"):
        XlsxStreamWriter(io.BytesIO(), COLUMNS, title="x", max_data_rows=1_048_576)


def test_an_empty_export_has_its_header():
    sheets = openpyxl_rows(write([]))
    assert sheets == {"帮扶户": [tuple(c.title for c in COLUMNS)]}


def test_the_fast_row_path_and_the_careful_one_write_the_same_xml():
    writer = XlsxStreamWriter(io.BytesIO(), COLUMNS, title="x")
    plain = ("1", "张三", ID_NUMBER, "13812345678", Decimal("1.5"), 3, dt.date(2026, 1, 1), None)
    for row in (plain, *ROWS, ("", "", "", "", None, None, None, None)):
        assert writer._render("7", row) == writer._render_slow("7", row)
    writer.close()


def test_openpyxl_and_calamine_read_the_same_values():
    rows = ROWS * 50
    data = write(rows, max_data_rows=120)
    ours = openpyxl_rows(data)
    theirs = calamine_rows(data)
    assert list(ours) == list(theirs) == ["帮扶户", "帮扶户 (2)"]
    for name in ours:
        assert [[normal(v) for v in row] for row in ours[name]] == [
            [normal(v) for v in row] for row in theirs[name]
        ]
    # And both give back what was written (times in Beijing time, without the zone).
    expected = [[normal(timezone_free(v)) for v in row] for row in rows[:120]]
    assert [[normal(v) for v in row] for row in ours["帮扶户"][1:]] == expected


def timezone_free(value):
    if isinstance(value, dt.datetime) and value.tzinfo:
        return value.astimezone(SHANGHAI).replace(tzinfo=None)
    return value


def test_a_row_of_the_wrong_length_is_refused():
    writer = XlsxStreamWriter(io.BytesIO(), COLUMNS, title="x")
    with pytest.raises(ValueError, match="values for"):
        writer.write_row(("1", "2"))
    writer.abort()


def test_sheet_titles_fit_excels_rules():
    assert xlsx.sheet_title("a/b:c*d?[e]", 1) == "abcde"
    long = "帮" * 40
    assert len(xlsx.sheet_title(long, 12)) == 31
    assert xlsx.sheet_title(long, 12).endswith(" (12)")


def test_csv_has_a_bom_guards_formulas_and_keeps_values():
    buffer = io.BytesIO()
    with CsvStreamWriter(buffer, COLUMNS, title="帮扶户") as writer:
        writer.write_rows(ROWS)
    data = buffer.getvalue()
    assert data.startswith(b"\xef\xbb\xbf")
    assert not buffer.closed
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0] == [c.title for c in COLUMNS]
    assert rows[1] == [
        "140121100201001",
        "'" + HYPERLINK,
        ID_NUMBER,
        "13812345678",
        "6800.50",
        "4",
        "2026-01-10",
        "2026-01-10 09:30:00",
    ]
    assert rows[2][1] == "'+SUM(A1:A2)"
    assert rows[3][1:4] == ["'-2+3", "'-", "'@cmd"]
    assert rows[4][1] == " 前后空格 "
    assert rows[4][4] == "-3"  # a number is never prefixed
    assert b"\r\n" in data
