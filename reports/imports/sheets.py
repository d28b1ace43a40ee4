"""Finding a layout's header in a workbook, and reading its data rows as typed values.

The header is looked for in the first rows of every visible sheet, so title rows above it,
merged title cells, a header of two rows (a group title over its columns), extra columns and
any column order are all fine. Headers match after cleaning (half-width, no spaces, no *
marks) against the layout's header and the other names it accepts. A sheet is read when its
header has every required column; when no sheet has, the problem names the missing columns.
"""

import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from django.conf import settings
from django.utils.translation import gettext as _

from .cells import BLANK, MEMO_KINDS, CellProblemError, Converter, display
from .layouts import HOUSEHOLD, Column, Layout, header_text
from .upload import RefusedFileError
from .xlsx import EMPTY, Cell, SheetInfo, SheetReader, Workbook

HEADER_ROWS = 30  # how far down a header is looked for
MEMO_SIZE = 5000  # remembered answers per code-like column


def normalize_header(text: str) -> str:
    text = unicodedata.normalize("NFKC", text or "")
    return "".join(ch for ch in text if not ch.isspace() and ch not in "*").lower()


class Ref(NamedTuple):
    """A row of the uploaded file, as problems name it (a tuple: there is one per row)."""

    sheet: str
    row: int
    level: str = ""

    def __str__(self) -> str:
        return _("第%(row)d行") % {"row": self.row}


@dataclass
class Problem:
    sheet: str
    row: int
    column: str  # the header as in the file ("" for the whole row or file)
    value: str  # as shown: ID numbers and phones masked
    message: str
    code: str = "invalid"
    letters: str = ""  # the column in the file, for the marked report


@dataclass
class Header:
    sheet: SheetInfo
    row: int  # the last header row
    columns: dict[bytes, Column]  # column letters in the file → layout column
    found: dict[str, str]  # layout key → header text as in the file
    missing: list[Column] = field(default_factory=list)
    duplicates: list[tuple[Column, list[str]]] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return not self.missing and not self.duplicates

    def letters_of(self, key: str) -> str:
        for letters, column in self.columns.items():
            if column.key == key:
                return letters.decode()
        return ""


def _lookup(layout: Layout) -> dict[str, Column]:
    names: dict[str, Column] = {}
    for column in layout.columns:
        for text in (column.header, *column.aliases):
            names.setdefault(normalize_header(header_text(text)), column)
    return names


def find_header(reader: SheetReader, layout: Layout, rows: list[tuple[int, dict]]) -> Header | None:
    """The best header among the first rows (one row, or two rows read together)."""
    names = _lookup(layout)
    texts: list[tuple[int, dict[bytes, str]]] = []
    for number, cells in rows:
        row = {}
        for letters, raw in cells.items():
            value = reader.value(raw)
            if value.kind == "s" and value.value:
                row[letters] = value.value
        texts.append((number, row))
    best: tuple[int, int, Header] | None = None
    for i, (number, row) in enumerate(texts):
        candidates = [(number, [row])]
        if i + 1 < len(texts) and texts[i + 1][0] == number + 1:
            candidates.append((number + 1, [row, texts[i + 1][1]]))
        for last, parts in candidates:
            header = _match(reader.info, last, parts, names, layout)
            score = len({c.key for c in header.columns.values() if c.imported})
            if score >= 2 and (best is None or score > best[0]):
                best = (score, -last, header)
    return best[2] if best else None


def _match(sheet, last, parts, names, layout) -> Header:
    columns: dict[bytes, Column] = {}
    found: dict[str, str] = {}
    seen: dict[str, list[str]] = {}
    letters_all = sorted({k for part in parts for k in part}, key=lambda k: (len(k), k))
    for letters in letters_all:
        column, text = None, ""
        for part in reversed(parts):  # the lower row names the column; the upper groups it
            text = part.get(letters, "")
            column = names.get(normalize_header(text))
            if column is not None:
                break
        if column is None:
            continue
        columns[letters] = column
        if column.imported:
            found.setdefault(column.key + column.level, text)
            seen.setdefault(column.key + "/" + column.level, []).append(letters.decode())
    missing = [c for c in layout.columns if c.required and (c.key + c.level) not in found]
    duplicates = []
    for column in layout.columns:
        places = seen.get(column.key + "/" + column.level, [])
        if column.imported and len(places) > 1:
            duplicates.append((column, places))
    return Header(sheet, last, columns, found, missing, duplicates)


@dataclass(slots=True)
class Row:
    ref: Ref
    values: list[Any]  # by layout column index; BLANK for empty or absent
    problems: list[Problem]
    repeat: bool = False  # its household's cells are the same as on the row before


class LayoutReader:
    """The data rows of every sheet of a workbook that has the layout's header."""

    def __init__(self, book: Workbook, layout: Layout, *, statuses: dict[str, str] | None = None):
        self.book, self.layout = book, layout
        # Columns only exports write (key "") are never read: they need no converter.
        self.converters = [
            Converter(c, statuses=statuses) if c.imported else None for c in layout.columns
        ]
        self.memos = [{} if c.kind in MEMO_KINDS else None for c in layout.columns]
        self.headers: list[Header] = []
        self.file_problems: list[Problem] = []
        self.skipped_sheets: list[str] = []
        self.rows_read = 0
        self.rows_expected = 0  # from the sheets' dimensions, for progress
        self.data_rows = 0
        self.max_rows = settings.ZHUCUN_IMPORT_MAX_ROWS

    def sheets(self) -> Iterator[tuple[Header, SheetReader, list]]:
        best_incomplete: Header | None = None
        for info in self.book.sheets:
            if not info.visible:
                continue
            reader = self.book.sheet(info)
            iterator = iter(reader)
            head = []
            for item in iterator:
                head.append(item)
                if len(head) >= HEADER_ROWS:
                    break
            header = find_header(reader, self.layout, head)
            if header is None:
                self.skipped_sheets.append(info.name)
                continue
            if not header.complete:
                if best_incomplete is None or len(header.found) > len(best_incomplete.found):
                    best_incomplete = header
                self.skipped_sheets.append(info.name)
                continue
            self.headers.append(header)
            self.rows_expected += max(reader.dimension_rows - header.row, 0)
            reader.columns = frozenset(header.columns)
            rest = [item for item in head if item[0] > header.row]
            yield header, reader, _chain(rest, iterator)
        if not self.headers:
            self.file_problems.append(self._header_problem(best_incomplete))

    def _header_problem(self, header: Header | None) -> Problem:
        if header is None:
            required = "、".join(header_text(c.header) for c in self.layout.columns if c.required)
            return Problem(
                "",
                0,
                "",
                "",
                _("没有找到“%(title)s”的表头：表头须包含这些列：%(columns)s。")
                % {"title": header_text(self.layout.title), "columns": required},
                "header",
            )
        parts = []
        if header.missing:
            parts.append(
                _("缺少必填列：%s") % "、".join(header_text(c.header) for c in header.missing)
            )
        for column, places in header.duplicates:
            parts.append(
                _("“%(header)s”列出现了多次（%(places)s列）")
                % {"header": header_text(column.header), "places": "、".join(places)}
            )
        return Problem(header.sheet.name, header.row, "", "", "；".join(parts) + "。", "header")

    def rows(self) -> Iterator[Row]:
        """Every data row with at least one value in an imported column.

        A household's columns repeat on each of its members' rows: when they are the same
        cells as on the row before, their values (and problems, reported once) are reused.
        """
        for header, reader, iterator in self.sheets():
            positions = [
                (letters, self.layout.columns.index(column))
                for letters, column in header.columns.items()
                if column.imported
            ]
            shared = [p for p in positions if self.layout.columns[p[1]].level == HOUSEHOLD]
            own = [p for p in positions if self.layout.columns[p[1]].level != HOUSEHOLD]
            previous: tuple | None = None
            previous_values: list = []
            for number, cells in iterator:
                self.rows_read += 1
                values: list[Any] = [BLANK] * len(self.layout.columns)
                problems: list[Problem] = []
                raw = tuple([cells.get(letters) for letters, _i in shared])
                repeat = bool(shared) and raw == previous
                if repeat:
                    for (_letters, index), value in zip(shared, previous_values, strict=True):
                        values[index] = value
                    empty = all(v is BLANK for v in previous_values)
                else:
                    empty = self._convert(header, reader, number, cells, shared, values, problems)
                    previous, previous_values = raw, [values[i] for _letters, i in shared]
                empty = (
                    self._convert(header, reader, number, cells, own, values, problems) and empty
                )
                if not empty:
                    self.data_rows += 1
                    if self.data_rows > self.max_rows:
                        self._too_many_rows()
                    yield Row(Ref(header.sheet.name, number), values, problems, repeat)

    def _too_many_rows(self) -> None:
        """A file of more data rows than one import takes (settings.ZHUCUN_IMPORT_MAX_ROWS)
        is refused as soon as the reading passes the limit: the rest is never read."""
        rows = max(self.data_rows, self.rows_expected)
        raise RefusedFileError(
            _("文件约有 %(rows)d 行数据，超过单次导入的上限 %(max)d 行，请分成几个文件导入。")
            % {"rows": rows, "max": self.max_rows},
            extra={"rows": rows, "max": self.max_rows},
        )

    def _convert(self, header, reader, number, cells, positions, values, problems) -> bool:
        """Convert the cells at `positions` into `values`; True when all were empty.

        Code-like columns repeat a few values over and over: their answers are remembered by
        the raw cell (style, type, value), which skips reading and converting the cell again.
        """
        empty = True
        memos, converters = self.memos, self.converters
        for letters, index in positions:
            raw = cells.get(letters)
            if raw is None:
                continue
            memo = memos[index]
            found = memo.get(raw) if memo is not None else None
            if found is None:
                cell = reader.value(raw)
                try:
                    found = (converters[index](cell), None)
                except CellProblemError as exc:
                    column = self.layout.columns[index]
                    found = (None, (exc.message, exc.code, display(column, cell)))
                if memo is not None and len(memo) < MEMO_SIZE:
                    memo[raw] = found
            value, problem = found
            if problem is not None:
                column = self.layout.columns[index]
                problems.append(
                    Problem(
                        header.sheet.name,
                        number,
                        header.found.get(column.key + column.level, ""),
                        problem[2],
                        problem[0],
                        problem[1],
                        letters.decode(),
                    )
                )
                empty = False
            elif value is not BLANK:
                values[index] = value
                empty = False
        return empty


def _chain(first: list, rest: Iterator) -> Iterator:
    yield from first
    yield from rest


def cell_of(reader: SheetReader, cells: dict, letters: str) -> Cell:
    raw = cells.get(letters.encode())
    return reader.value(raw) if raw is not None else EMPTY
