"""The .csv form of an export: UTF-8 with a byte-order mark (so that Excel reads the Chinese
text right), comma-separated, CRLF line ends, the same typed columns as the .xlsx writer.

Formula injection: a text cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage
return is written with a leading apostrophe (`'=HYPERLINK(...)`), so that a spreadsheet
shows it as text and never evaluates it (the OWASP rule for CSV). Numbers and dates are never
prefixed: they are written from their Python values, not from text. Dates are written as
`yyyy-mm-dd`, times as `yyyy-mm-dd hh:mm:ss` in the project's time zone.
"""

import csv
import datetime as dt
import io
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import IO, Any

from django.utils import timezone

from .xlsx import CellKind, SheetColumn

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
GUARD = "'"


def guard_text(value: str) -> str:
    """Text that a spreadsheet will not read as a formula."""
    return GUARD + value if value.startswith(FORMULA_STARTS) else value


def _text(value: Any) -> str:
    if value is None:
        return ""
    return guard_text(value if isinstance(value, str) else str(value))


def _number(value: Any) -> str:
    if value is None:
        return ""
    if type(value) in (int, float, Decimal):
        return str(value)
    return _text(value)


def _date(value: Any) -> str:
    if isinstance(value, dt.datetime):
        return _datetime(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return _text(value)


def _datetime(value: Any) -> str:
    if isinstance(value, dt.datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value)
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, dt.date):
        return value.isoformat()
    return _text(value)


_CONVERT = {
    CellKind.TEXT: _text,
    CellKind.NUMBER: _number,
    CellKind.DATE: _date,
    CellKind.DATETIME: _datetime,
}


class CsvStreamWriter:
    """Write typed rows as CSV into a binary file object (which is not closed)."""

    def __init__(self, fileobj: IO[bytes], columns: Sequence[SheetColumn], *, title: str = ""):
        self.columns = list(columns)
        self.title = title
        self.rows = 0
        self.sheets = [title]
        self._text = io.TextIOWrapper(
            fileobj, encoding="utf-8-sig", newline="", write_through=False
        )
        self._csv = csv.writer(self._text, lineterminator="\r\n")
        self._convert = [_CONVERT[c.kind] for c in self.columns]
        self._csv.writerow([guard_text(str(c.title)) for c in self.columns])
        self._closed = False

    def write_row(self, values: Sequence[Any]) -> None:
        if len(values) != len(self.columns):
            raise ValueError(f"a row has {len(values)} values for {len(self.columns)} columns")
        self._csv.writerow([f(v) for f, v in zip(self._convert, values, strict=True)])
        self.rows += 1

    def write_rows(self, rows: Iterable[Sequence[Any]]) -> int:
        before = self.rows
        for values in rows:
            self.write_row(values)
        return self.rows - before

    def close(self) -> None:
        if not self._closed:
            self._text.flush()
            self._text.detach()  # leave the caller's file open
            self._closed = True

    def abort(self) -> None:
        self.close()

    def __enter__(self) -> "CsvStreamWriter":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self.close()
