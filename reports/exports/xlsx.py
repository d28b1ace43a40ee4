"""A streaming .xlsx writer for the big lists: constant memory, several times openpyxl's speed.

The sheet XML is written straight into the zip stream (deflate) row by row; nothing of a
sheet is kept in memory. Cells are typed by their column, never guessed from the value:

- text: an inline string (`t="inlineStr"`). An inline string is never a formula, whatever it
  starts with (`=`, `+`, `-`, `@`), and the writer never emits `<f>`: a name such as
  `=HYPERLINK(...)` reopens as that text. ID numbers and phones are text columns, so all 18
  characters survive. Characters XML cannot hold are dropped; `_xHHHH_` sequences are
  escaped so that readers do not decode them.
- number: `<v>` with the number as written by Python (int, float, Decimal). A value that is
  not a number (or NaN/infinity) falls back to text rather than producing a broken file.
- date / datetime: the Excel serial number with a date style (`yyyy-mm-dd`,
  `yyyy-mm-dd hh:mm:ss`); aware datetimes are shown in the project's time zone.

More than `MAX_DATA_ROWS` rows continue on a new sheet, with the header repeated. Every
cell carries its `r` reference (some readers need it). The header row is bold and frozen.

openpyxl stays the tool for small formatted workbooks (`common/xlsx.py`) and for reading.
"""

import datetime as dt
import enum
import math
import re
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import IO, Any
from xml.sax.saxutils import escape as _xml_escape

from django.utils import timezone

# Excel's grid holds 1 048 576 rows: the header and 1 048 575 data rows.
EXCEL_MAX_ROWS = 1_048_576
MAX_DATA_ROWS = EXCEL_MAX_ROWS - 1
SHEET_TITLE_MAX = 31
EPOCH = dt.date(1899, 12, 30)  # day 0 of the 1900 date system (with Excel's leap-year bug)
EPOCH_ORDINAL = EPOCH.toordinal()
# Flush the sheet buffer to the zip stream about every 256 KB.
FLUSH_CHARS = 256 * 1024


class CellKind(enum.StrEnum):
    TEXT = "text"
    NUMBER = "number"
    DATE = "date"
    DATETIME = "datetime"


@dataclass(frozen=True)
class SheetColumn:
    title: str
    kind: CellKind = CellKind.TEXT
    width: float = 12


# Style indexes in styles.xml (cellXfs).
STYLE_DEFAULT, STYLE_DATE, STYLE_DATETIME, STYLE_HEADER, STYLE_TEXT = range(5)

_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_NEEDS_ESCAPE = re.compile("[&<>\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]|_x")
_ENCODED_CHAR = re.compile("_(x[0-9A-Fa-f]{4}_)")


def xml_text(value: str) -> str:
    """Text as it may stand inside an element: XML-escaped, illegal characters dropped,
    `_xHHHH_` protected (OOXML readers decode those sequences)."""
    if _NEEDS_ESCAPE.search(value) is None:
        return value
    value = _ILLEGAL.sub("", value)
    if "_x" in value:
        value = _ENCODED_CHAR.sub(r"_x005F_\1", value)
    return _xml_escape(value)


def column_letter(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def date_serial(value: dt.date) -> int:
    return value.toordinal() - EPOCH_ORDINAL


def datetime_serial(value: dt.datetime) -> float:
    if timezone.is_aware(value):
        value = timezone.localtime(value)
    seconds = value.hour * 3600 + value.minute * 60 + value.second + value.microsecond / 1e6
    return value.toordinal() - EPOCH_ORDINAL + seconds / 86400


def _text_cell(ref: str, value: Any) -> str:
    if value is None or value == "":
        return f'<c r="{ref}"/>'
    text = xml_text(value if isinstance(value, str) else str(value))
    if text and (text[0] in " \t\n" or text[-1] in " \t\n"):
        return f'<c r="{ref}" t="inlineStr"><is><t xml:space="preserve">{text}</t></is></c>'
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'


def _number_cell(ref: str, value: Any) -> str:
    cls = type(value)
    if cls is int or cls is Decimal:
        if cls is Decimal and not value.is_finite():
            return _text_cell(ref, value)
        return f'<c r="{ref}"><v>{value}</v></c>'
    if cls is float:
        if math.isfinite(value):
            return f'<c r="{ref}"><v>{value!r}</v></c>'
        return _text_cell(ref, value)
    if value is None:
        return f'<c r="{ref}"/>'
    return _text_cell(ref, value)  # bool and anything else: shown as text, never lost


def _date_cell(ref: str, value: Any) -> str:
    if type(value) is dt.date:
        return f'<c r="{ref}" s="{STYLE_DATE}"><v>{value.toordinal() - EPOCH_ORDINAL}</v></c>'
    if isinstance(value, dt.datetime):
        return _datetime_cell(ref, value)
    if value is None:
        return f'<c r="{ref}"/>'
    return _text_cell(ref, value)


def _datetime_cell(ref: str, value: Any) -> str:
    if isinstance(value, dt.datetime):
        return f'<c r="{ref}" s="{STYLE_DATETIME}"><v>{datetime_serial(value)!r}</v></c>'
    if isinstance(value, dt.date):
        return _date_cell(ref, value)
    if value is None:
        return f'<c r="{ref}"/>'
    return _text_cell(ref, value)


_CELL = {
    CellKind.TEXT: _text_cell,
    CellKind.NUMBER: _number_cell,
    CellKind.DATE: _date_cell,
    CellKind.DATETIME: _datetime_cell,
}


# A row whose text cells hold nothing to escape (the usual case) is rendered by a function
# generated for the columns, with each cell's markup inlined; any other row goes through the
# per-cell functions above. Both give the same XML for the same row. `str.isprintable()` is
# False for every character XML cannot hold (C0 controls, surrogates, U+FFFE/U+FFFF) and for
# whitespace other than the space; spaces, markup characters and `_x` take the careful path.


def _plain(texts: tuple) -> bool:
    try:
        joined = "".join(texts)
    except TypeError:  # None or a number in a text column
        return False
    return joined.isprintable() and not (
        " " in joined or "&" in joined or "<" in joined or ">" in joined or "_x" in joined
    )


def _row_renderer(kinds: Sequence[CellKind], letters: Sequence[str]):
    """Build `render(n, values) -> str` for these columns (n: the row number as text).

    The generated function unpacks the row, checks its text once, and formats each cell with
    an f-string when the value has the usual type (str, date, int or finite Decimal); any
    other value goes through the per-cell function of its kind.
    """
    names = [f"v{i}" for i in range(len(kinds))]
    texts = [name for name, kind in zip(names, kinds, strict=True) if kind == CellKind.TEXT]
    lines = []
    for i, (name, kind, letter) in enumerate(zip(names, kinds, letters, strict=True)):
        ref = '"' + letter + '" + n'
        if kind == CellKind.TEXT:
            fast = "f'<c r=\"" + letter + '{n}" t="inlineStr"><is><t>{' + name + "}</t></is></c>'"
            test = name + ".__class__ is str and " + name
            slow_call = "_text(" + ref + ", " + name + ")"
        elif kind == CellKind.DATE:
            fast = (
                "f'<c r=\""
                + letter
                + '{n}" s="'
                + str(STYLE_DATE)
                + '"><v>{'
                + name
                + ".toordinal() - EPOCH_ORDINAL}</v></c>'"
            )
            test = name + ".__class__ is date"
            slow_call = "_date(" + ref + ", " + name + ")"
        elif kind == CellKind.NUMBER:
            fast = "f'<c r=\"" + letter + '{n}"><v>{' + name + "}</v></c>'"
            test = (
                name
                + ".__class__ is int or ("
                + name
                + ".__class__ is Decimal and "
                + name
                + ".is_finite())"
            )
            slow_call = "_number(" + ref + ", " + name + ")"
        else:
            lines.append(f"    c{i} = _datetime({ref}, {name})")
            continue
        lines.append(f"    c{i} = {fast} if {test} else {slow_call}")
    check = (
        f"    if not _plain(({', '.join(texts)},)):\n        return slow(n, row)\n" if texts else ""
    )
    cells = "".join("{c" + str(i) + "}" for i in range(len(kinds)))
    source = (
        "def render(n, row):\n"
        f"    {', '.join(names)}, = row\n"
        f"{check}" + "\n".join(lines) + "\n"
        '    return f\'<row r="{n}">' + cells + "</row>'\n"
    )
    funcs = [_CELL[k] for k in kinds]
    pairs = list(zip(letters, funcs, strict=True))

    def slow(n: str, row: Sequence[Any]) -> str:
        return (
            f'<row r="{n}">'
            + "".join(
                cell(letter + n, value) for (letter, cell), value in zip(pairs, row, strict=True)
            )
            + "</row>"
        )

    namespace = {
        "_text": _text_cell,
        "_date": _date_cell,
        "_number": _number_cell,
        "_datetime": _datetime_cell,
        "_plain": _plain,
        "date": dt.date,
        "Decimal": Decimal,
        "EPOCH_ORDINAL": EPOCH_ORDINAL,
        "slow": slow,
    }
    exec(compile(source, "<xlsx row renderer>", "exec"), namespace)  # noqa: S102 - our own code
    return namespace["render"], slow


def sheet_title(base: str, number: int) -> str:
    """`base`, then `base (2)`, `base (3)` …, within Excel's 31 characters and its charset."""
    clean = re.sub(r"[\[\]:*?/\\]", "", base).strip("'") or "Sheet"
    suffix = "" if number == 1 else f" ({number})"
    return clean[: SHEET_TITLE_MAX - len(suffix)] + suffix


class XlsxStreamWriter:
    """Write typed rows into an .xlsx file object, sheet after sheet.

    Use as a context manager; `write_row` takes the values in column order. The file object
    may be any writable binary file (a temporary file, a socket wrapper); it is not closed.
    """

    def __init__(
        self,
        fileobj: IO[bytes],
        columns: Sequence[SheetColumn],
        *,
        title: str,
        max_data_rows: int = MAX_DATA_ROWS,
        compresslevel: int = 1,
        creator: str = "",
    ):
        if not columns:
            raise ValueError("an export needs at least one column")
        if not 1 <= max_data_rows <= MAX_DATA_ROWS:
            raise ValueError(f"max_data_rows must be 1..{MAX_DATA_ROWS}")
        self.columns = list(columns)
        self.title = title
        self.creator = creator
        self.max_data_rows = max_data_rows
        self.rows = 0
        self.sheets: list[str] = []
        self._letters = [column_letter(i) for i in range(len(self.columns))]
        self._render, self._render_slow = _row_renderer(
            [c.kind for c in self.columns], self._letters
        )
        self._zip = zipfile.ZipFile(
            fileobj, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=compresslevel
        )
        self._stream: IO[bytes] | None = None
        self._buffer: list[str] = []
        self._buffered = 0
        self._sheet_rows = 0
        self._closed = False

    # -- rows ----------------------------------------------------------------------------

    def write_row(self, values: Sequence[Any]) -> None:
        if self._stream is None or self._sheet_rows == self.max_data_rows:
            self._next_sheet()
        self._sheet_rows += 1
        self.rows += 1
        if len(values) != len(self.columns):
            raise ValueError(f"a row has {len(values)} values for {len(self.columns)} columns")
        line = self._render(str(self._sheet_rows + 1), values)
        self._buffer.append(line)
        self._buffered += len(line)
        if self._buffered >= FLUSH_CHARS:
            self._flush()

    def write_rows(self, rows: Iterable[Sequence[Any]]) -> int:
        before = self.rows
        for values in rows:
            self.write_row(values)
        return self.rows - before

    # -- sheets --------------------------------------------------------------------------

    def _next_sheet(self) -> None:
        if self._stream is not None:
            self._end_sheet()
        number = len(self.sheets) + 1
        self.sheets.append(sheet_title(self.title, number))
        self._stream = self._zip.open(f"xl/worksheets/sheet{number}.xml", "w", force_zip64=True)
        self._sheet_rows = 0
        text_style = f' style="{STYLE_TEXT}"'
        cols = "".join(
            f'<col min="{i}" max="{i}" width="{c.width}" customWidth="1"'
            f"{text_style if c.kind == CellKind.TEXT else ''}/>"
            for i, c in enumerate(self.columns, 1)
        )
        header = "".join(
            f'<c r="{letter}1" s="{STYLE_HEADER}" t="inlineStr"><is><t>{xml_text(str(c.title))}'
            "</t></is></c>"
            for letter, c in zip(self._letters, self.columns, strict=True)
        )
        self._buffer.append(
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
            '<sheetViews><sheetView workbookViewId="0">'
            '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
            '<selection pane="bottomLeft" activeCell="A2" sqref="A2"/>'
            "</sheetView></sheetViews>"
            '<sheetFormatPr defaultRowHeight="15"/>'
            f"<cols>{cols}</cols><sheetData>"
            f'<row r="1">{header}</row>'
        )
        self._buffered += 1

    def _end_sheet(self) -> None:
        self._buffer.append(
            "</sheetData>"
            '<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" '
            'footer="0.3"/></worksheet>'
        )
        self._flush()
        if self._stream is not None:
            self._stream.close()
        self._stream = None

    def _flush(self) -> None:
        if self._buffer and self._stream is not None:
            self._stream.write("".join(self._buffer).encode("utf-8"))
        self._buffer.clear()
        self._buffered = 0

    # -- the package ---------------------------------------------------------------------

    def close(self) -> None:
        if self._closed:
            return
        if self._stream is None:
            self._next_sheet()  # an empty export still has its header
        self._end_sheet()
        self._write_package()
        self._zip.close()
        self._closed = True

    def abort(self) -> None:
        """Stop without finishing the package (the file is then incomplete: delete it)."""
        if self._stream is not None:
            self._stream.close()
            self._stream = None
        self._zip.close()
        self._closed = True

    def __enter__(self) -> "XlsxStreamWriter":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()

    def _write_package(self) -> None:
        n = len(self.sheets)
        sheets = "".join(
            f'<sheet name="{xml_text(name)}" sheetId="{i}" r:id="rId{i}"/>'
            for i, name in enumerate(self.sheets, 1)
        )
        self._zip.writestr(
            "xl/workbook.xml",
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
            '<workbookPr date1904="0"/>'
            '<bookViews><workbookView activeTab="0"/></bookViews>'
            f"<sheets>{sheets}</sheets></workbook>",
        )
        rels = "".join(
            f'<Relationship Id="rId{i}" Type="http://schemas.openxmlformats.org/officeDocument/'
            f'2006/relationships/worksheet" Target="worksheets/sheet{i}.xml"/>'
            for i in range(1, n + 1)
        )
        rels += (
            f'<Relationship Id="rId{n + 1}" Type="http://schemas.openxmlformats.org/'
            'officeDocument/2006/relationships/styles" Target="styles.xml"/>'
        )
        self._zip.writestr(
            "xl/_rels/workbook.xml.rels",
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            f"{rels}</Relationships>",
        )
        self._zip.writestr("xl/styles.xml", STYLES)
        created = timezone.now().astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        self._zip.writestr(
            "docProps/core.xml",
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/'
            'metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" '
            'xmlns:dcterms="http://purl.org/dc/terms/" '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
            f"<dc:title>{xml_text(self.title)}</dc:title>"
            f"<dc:creator>{xml_text(self.creator)}</dc:creator>"
            f'<dcterms:created xsi:type="dcterms:W3CDTF">{created}</dcterms:created>'
            "</cp:coreProperties>",
        )
        self._zip.writestr(
            "docProps/app.xml",
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/'
            'extended-properties"><Application>Zhucun</Application></Properties>',
        )
        self._zip.writestr(
            "_rels/.rels",
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
            'relationships/officeDocument" Target="xl/workbook.xml"/>'
            '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/'
            'relationships/metadata/core-properties" Target="docProps/core.xml"/>'
            '<Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
            'relationships/extended-properties" Target="docProps/app.xml"/>'
            "</Relationships>",
        )
        overrides = "".join(
            f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
            for i in range(1, n + 1)
        )
        self._zip.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/'
            'vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/styles.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
            '<Override PartName="/docProps/core.xml" ContentType="application/'
            'vnd.openxmlformats-package.core-properties+xml"/>'
            '<Override PartName="/docProps/app.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.extended-properties+xml"/>'
            f"{overrides}</Types>",
        )


# cellXfs: 0 default, 1 date, 2 date and time, 3 header (bold, grey fill), 4 text ("@").
STYLES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    '<numFmts count="2"><numFmt numFmtId="164" formatCode="yyyy-mm-dd"/>'
    '<numFmt numFmtId="165" formatCode="yyyy-mm-dd hh:mm:ss"/></numFmts>'
    '<fonts count="2"><font><sz val="11"/><name val="等线"/><family val="2"/></font>'
    '<font><b/><sz val="11"/><name val="等线"/><family val="2"/></font></fonts>'
    '<fills count="3"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill>'
    '<fill><patternFill patternType="solid"><fgColor rgb="FFDDE3EA"/>'
    '<bgColor indexed="64"/></patternFill></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="5">'
    '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="49" fontId="1" fillId="2" borderId="0" xfId="0" applyFont="1" '
    'applyFill="1" applyNumberFormat="1"/>'
    '<xf numFmtId="49" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    "</cellXfs>"
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
)
