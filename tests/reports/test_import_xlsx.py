"""The streaming reader (fast scan and exact parse agree, with openpyxl too), cell cleaning and
conversion, and header matching."""

import datetime as dt
import io

import openpyxl
import pytest
from openpyxl.cell.rich_text import CellRichText, TextBlock
from openpyxl.cell.text import InlineFont

from reports.imports.cells import BLANK, CellProblemError, Converter
from reports.imports.layouts import HOUSEHOLDS_SYSTEM, UNITS
from reports.imports.sheets import LayoutReader, find_header
from reports.imports.upload import check_workbook
from reports.imports.xlsx import Cell, Workbook, _Scanner

from .. import factories as f
from .import_builders import shared_strings_xlsx, xlsx
from .test_import_upload import replace_part


def naive(*args) -> dt.datetime:
    """Excel's dates are wall-clock values without a time zone."""
    return dt.datetime(*args)  # noqa: DTZ001


def open_book(content: bytes) -> Workbook:
    return Workbook(check_workbook(io.BytesIO(content), size=len(content)))


def read_all(content: bytes) -> list[tuple[int, dict[str, Cell]]]:
    book = open_book(content)
    reader = book.sheet(book.sheets[0])
    return [(n, {k.decode(): reader.value(raw) for k, raw in cells.items()}) for n, cells in reader]


def varied_workbook() -> bytes:
    book = openpyxl.Workbook()
    ws = book.active
    ws.append(["文本", "数字", "日期", "是否", "公式", "富文本"])
    rich = CellRichText([TextBlock(InlineFont(b=True), "加粗"), "普通"])
    for i in range(300):
        ws.append(
            [
                f"张三&<{i}> ",
                i * 1.5,
                naive(2016, 1, 1) + dt.timedelta(days=i),
                i % 2 == 0,
                f"=B{i + 2}*2",
                rich if i % 7 == 0 else "_x000D_换行",
            ]
        )
    ws["A5"] = "110101199001011234"
    ws["A5"].data_type = "s"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_fast_scan_and_exact_parse_read_the_same(monkeypatch):
    content = varied_workbook()
    fast = read_all(content)

    def never(self, batch, columns):
        raise __import__("reports.imports.xlsx", fromlist=["x"])._IrregularError

    monkeypatch.setattr(_Scanner, "_fast", never)
    exact = read_all(content)
    assert fast == exact
    assert len(fast) == 301


def test_values_agree_with_openpyxl():
    content = varied_workbook()
    ours = read_all(content)
    theirs = openpyxl.load_workbook(io.BytesIO(content)).active
    for number, cells in ours:
        for letters, cell in cells.items():
            expected = theirs[f"{letters}{number}"].value
            if isinstance(expected, CellRichText):
                expected = str(expected)
            if isinstance(expected, str) and expected.startswith("="):
                assert cell.formula
                continue
            if expected == "_x000D_换行":
                expected = "\r换行"
            assert cell.value == expected, (letters, number)
    first = dict(ours)[2]
    assert first["C"].kind == "d"  # a date-formatted number is a date
    assert first["D"].kind == "b"
    assert dict(ours)[5]["A"] == Cell("110101199001011234", "s", False)


def sheet_xml(body: bytes, prefix: bytes = b"") -> bytes:
    p = prefix + b":" if prefix else b""
    ns = b"xmlns" + (b":" + prefix if prefix else b"")
    return (
        b'<?xml version="1.0" encoding="UTF-8"?><'
        + p
        + b"worksheet "
        + ns
        + b'="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><'
        + p
        + b"sheetData>"
        + body
        + b"</"
        + p
        + b"sheetData></"
        + p
        + b"worksheet>"
    )


def with_sheet(xml: bytes) -> bytes:
    return replace_part(xlsx([["x"]], headers=["a"]), "xl/worksheets/sheet1.xml", xml)


def test_a_namespace_prefix_is_read():
    body = (
        '<x:row r="1"><x:c r="A1" t="inlineStr"><x:is><x:t>姓名</x:t></x:is></x:c></x:row>'
        '<x:row r="2"><x:c r="A2" t="inlineStr"><x:is><x:t>张三</x:t></x:is></x:c>'
        '<x:c r="B2"><x:v>3</x:v></x:c></x:row>'
    ).encode()
    rows = read_all(with_sheet(sheet_xml(body, b"x")))
    assert rows == [
        (1, {"A": Cell("姓名", "s", False)}),
        (2, {"A": Cell("张三", "s", False), "B": Cell(3.0, "n", False)}),
    ]


def test_irregular_xml_goes_to_the_exact_parser():
    body = (
        b'<row r="1">\n  <c t="inlineStr"><is><t>a</t></is></c>\n  <!-- a comment -->\n'
        b'  <c t="inlineStr" r="C1"><is><t xml:space="preserve"> b </t></is></c>\n</row>\n'
        b'<row><c><v>7</v></c></row><row r="9" spans="1:3" ht="20" customHeight="1"/>'
    )
    book = open_book(with_sheet(sheet_xml(body)))
    reader = book.sheet(book.sheets[0])
    rows = [(n, {k.decode(): reader.value(raw) for k, raw in c.items()}) for n, c in reader]
    assert rows == [
        (1, {"A": Cell("a", "s", False), "C": Cell(" b ", "s", False)}),
        (2, {"A": Cell(7.0, "n", False)}),
    ]
    assert reader.exact_batches == 1


def test_shared_strings_with_rich_text_and_phonetic_guides():
    strings = (
        '<?xml version="1.0"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/'
        'main" count="3" uniqueCount="3"><si><t>姓名</t></si><si><r><t>张</t></r><r><rPr><b/>'
        '</rPr><t>三</t></r><rPh sb="0" eb="1"><t>zhang</t></rPh></si>'
        '<si><t xml:space="preserve"> A&amp;B </t></si></sst>'
    ).encode()
    content = shared_strings_xlsx(
        [["姓名", 1], ["张三", 2.5], [" A&B ", None]], strings_xml=strings
    )
    assert read_all(content) == [
        (1, {"A": Cell("姓名", "s", False), "B": Cell(1.0, "n", False)}),
        (2, {"A": Cell("张三", "s", False), "B": Cell(2.5, "n", False)}),
        (3, {"A": Cell(" A&B ", "s", False)}),
    ]


def test_a_shared_strings_file_imports_like_an_inline_one(world):
    from .import_builders import headers, member_row
    from .test_import_households import check

    rows = [member_row(world.village_a, "S1", "张三", f.id_number(), "户主")]
    plain = [[v.isoformat() if isinstance(v, dt.date) else v for v in r] for r in rows]
    job = check(world.official_a, shared_strings_xlsx([headers(), *plain]))
    assert (job.status, job.counts["members"]["created"]) == ("ready", 1)


def test_a_big_sheet_is_read_in_batches_with_bounded_memory():
    rows = [[f"人{i}", f"{i:018d}", i] for i in range(30_000)]
    book = open_book(xlsx(rows, headers=["姓名", "号码", "数"]))
    reader = book.sheet(book.sheets[0])
    count = sum(1 for _ in reader)
    assert count == 30_001
    assert reader.fast_batches > 1  # read piece by piece, never as a whole


# --- cells -----------------------------------------------------------------------------------


def column(layout, key, level=None):
    return next(c for c in layout.columns if c.key == key and (level is None or c.level == level))


def convert(col, value, kind="s", formula=False):
    return Converter(col)(Cell(value, kind, formula))


def test_id_numbers_stored_as_numbers_are_refused_per_row_with_the_fix():
    col = column(HOUSEHOLDS_SYSTEM, "id_number")
    with pytest.raises(CellProblemError) as exc:
        convert(col, 1.10101199001011e17, "n")
    assert "文本" in exc.value.message
    assert "身份证号" in exc.value.message
    with pytest.raises(CellProblemError, match="文本"):
        convert(col, "1.10101199001011E+17")
    phone = column(HOUSEHOLDS_SYSTEM, "phone", "member")
    with pytest.raises(CellProblemError, match="电话号码被存成了数字"):
        convert(phone, 13912345678.0, "n")


def test_cleaning_full_width_spaces_and_lower_x():
    col = column(HOUSEHOLDS_SYSTEM, "id_number")
    assert convert(col, " １１０１０１１９９００１０１１２３ｘ ") == "11010119900101123X"
    assert convert(column(HOUSEHOLDS_SYSTEM, "name"), " 张　 三 ") == "张三"
    assert convert(column(HOUSEHOLDS_SYSTEM, "name"), "阿依古丽·买买提") == "阿依古丽·买买提"
    assert convert(column(HOUSEHOLDS_SYSTEM, "code"), " Ｈ-0０１ ") == "H-001"


def test_formulas_and_error_values_are_refused():
    col = column(HOUSEHOLDS_SYSTEM, "name")
    with pytest.raises(CellProblemError, match="公式"):
        convert(col, "张三", formula=True)
    with pytest.raises(CellProblemError, match="#N/A"):
        convert(col, "#N/A", "e")


@pytest.mark.parametrize(
    "value",
    [
        Cell(naive(2016, 3, 1), "d", False),
        Cell("2016-03-01", "s", False),
        Cell("2016/3/1", "s", False),
        Cell("2016.03.01", "s", False),
        Cell("2016年3月1日", "s", False),
        Cell("20160301", "s", False),
        Cell(20160301.0, "n", False),
        Cell(42430.0, "n", False),  # an Excel serial that lost its date format
    ],
)
def test_dates(value):
    assert Converter(column(HOUSEHOLDS_SYSTEM, "joined_on"))(value) == dt.date(2016, 3, 1)


def test_bad_dates_years_and_numbers():
    with pytest.raises(CellProblemError, match="不是有效的日期"):
        convert(column(HOUSEHOLDS_SYSTEM, "joined_on"), "2016-02-30")
    year = column(HOUSEHOLDS_SYSTEM, "year_identified")
    assert convert(year, "2016年") == 2016
    assert convert(year, 2016.0, "n") == 2016
    assert convert(year, naive(2016, 10, 1), "d") == 2016
    with pytest.raises(CellProblemError, match="不是有效的年份"):
        convert(year, "十六年")
    months = column(HOUSEHOLDS_SYSTEM, "migrant_months")
    assert convert(months, "6个月") == 6
    with pytest.raises(CellProblemError, match="应为整数"):
        convert(months, 6.5, "n")


def test_codes_by_label_code_or_synonym_and_the_choices_listed():
    relation = column(HOUSEHOLDS_SYSTEM, "relation")
    assert convert(relation, "户主") == "head"
    assert convert(relation, "本人") == "head"
    assert convert(relation, "head") == "head"
    assert convert(column(HOUSEHOLDS_SYSTEM, "ethnicity"), "回") == "03"
    assert convert(column(HOUSEHOLDS_SYSTEM, "housing_grade"), "B级") == "B"
    assert convert(column(HOUSEHOLDS_SYSTEM, "other_causes"), "因病、缺技术；因学") == [
        "illness",
        "skills",
        "schooling",
    ]
    with pytest.raises(CellProblemError) as exc:
        convert(relation, "邻居")
    assert "可选：户主、配偶" in exc.value.message
    safe_water = column(HOUSEHOLDS_SYSTEM, "safe_water")
    assert convert(safe_water, "是") is True
    assert convert(safe_water, "否") is False
    assert convert(safe_water, True, "b") is True
    assert convert(safe_water, "  ") is BLANK


# --- headers ---------------------------------------------------------------------------------


def test_a_column_twice_is_a_problem():
    content = xlsx([["x", "y", "z", "w"]], headers=["单位名称", "单位层级", "单位类型", "单位名称"])
    book = open_book(content)
    reader = LayoutReader(book, UNITS)
    assert list(reader.rows()) == []
    (problem,) = reader.file_problems
    assert "“单位名称”列出现了多次（A、D列）" in problem.message


def test_header_found_below_titles_and_over_two_rows():
    content = xlsx(
        [["x"] * 4],
        title_rows=[["派出单位名单（2026年）"], ["", "单位信息", "", ""]],
        headers=["单位名称", "单位层级", "单位类型", "*所属区划 代码"],
    )
    book = open_book(content)
    reader = book.sheet(book.sheets[0])
    header = find_header(reader, UNITS, list(reader))
    assert header.row == 3
    assert header.complete
