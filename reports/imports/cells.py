"""One cell to one typed value: cleaning, then conversion by the column's kind.

Cleaning before anything else: full-width digits, letters and punctuation to half-width
(NFKC), spaces trimmed (and dropped inside ID numbers, phones and codes, and between the
characters of a Chinese name), a lower-case x in an ID number made upper-case.

Refused here, each with a message saying how to fix the column: an ID number, phone or
户编号 stored as a number (Excel keeps 15 digits and drops the leading zeros), an ID number or
phone masked with * (a file exported without full values: importing it would write the
masks), a formula in a data column, an error value (#N/A), a code outside its list, a date or
number that is not one.
Everything a model or service decides (the ID check digit, phone format, ranges) is left to
the services.
"""

import datetime as dt
import re
import unicodedata
from typing import Any

from django.utils.translation import gettext as _

from common.people import mask_id_number, mask_phone, normalize_id_number, normalize_phone

from .layouts import Column, header_text
from .xlsx import Cell

BLANK: Any = type("Blank", (), {"__repr__": lambda self: "BLANK", "__bool__": lambda self: False})()
_SPACES = re.compile(r"\s+")
_CJK_GAP = re.compile(r"(?<=[\u3400-\u9fff])\s+(?=[\u3400-\u9fff])")
_SEPARATORS = re.compile(r"[、,;/\s]+")
_SCIENTIFIC = re.compile(r"^\d(\.\d+)?E\+\d+$", re.IGNORECASE)
_DATE_TEXT = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[ T].*)?$")
_YEAR_TEXT = re.compile(r"^(\d{4})\s*年?$")
_INT_TEXT = re.compile(r"^(\d+)\s*(?:个月|月|个|人)?$")
TRUE_TEXTS = frozenset({"是", "有", "y", "yes", "true", "1", "√", "✓", "对"})
FALSE_TEXTS = frozenset({"否", "无", "没有", "n", "no", "false", "0", "×", "✗", "不是"})
MEMO_KINDS = frozenset({"code", "codes", "bool", "date", "year", "int", "status", "role", "danger"})


class CellProblemError(Exception):
    def __init__(self, message: str, code: str = "invalid"):
        super().__init__(message)
        self.message, self.code = message, code


def clean_text(value: str) -> str:
    """Full-width to half-width, runs of spaces to one, trimmed."""
    return _SPACES.sub(" ", unicodedata.normalize("NFKC", value)).strip()


def _number_text(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(value)


def cell_text(cell: Cell) -> str:
    """The cell as text, the way it reads in the sheet (for display and text columns)."""
    value = cell.value
    if value is None:
        return ""
    if cell.kind == "n":
        return _number_text(value)
    if cell.kind == "b":
        return _("是") if value else _("否")
    if cell.kind == "d":
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(" ")
    return str(value)


def display(column: Column | None, cell: Cell) -> str:
    """The value shown in the problem list: ID numbers and phones masked."""
    text = cell_text(cell).strip()
    if column is not None and column.kind == "id_number":
        return mask_id_number(normalize_id_number(text))
    if column is not None and column.kind == "phone":
        return mask_phone(normalize_phone(text))
    return text[:100]


class Converter:
    """Turns the cells of one column into values for its field; answers for codes, dates and
    other repeated values are remembered."""

    def __init__(self, column: Column, *, statuses: dict[str, str] | None = None):
        self.column = column
        self.header = header_text(column.header)
        self.memo: dict[tuple, Any] = {}
        self.kind = column.kind
        self.convert = getattr(self, "_" + column.kind)
        if self.kind in ("code", "codes", "role"):
            self.codes = _code_map(column.choices, column.synonyms)
        elif self.kind == "status":
            self.codes = {_key(name): code for name, code in (statuses or {}).items()}
            self.codes.update({_key(code): code for code in (statuses or {}).values()})

    def __call__(self, cell: Cell) -> Any:
        if cell.formula:
            raise CellProblemError(
                _("“%s”列不接受公式：请复制该列后“选择性粘贴 → 数值”，再导入。") % self.header,
                "formula",
            )
        if cell.kind == "e":
            raise CellProblemError(
                _("单元格是错误值 %s，请改为正确的值。") % cell.value, "error_value"
            )
        if cell.value is None or (cell.kind == "s" and not cell.value.strip()):
            return BLANK
        if self.kind not in MEMO_KINDS:
            return self.convert(cell)
        key = (cell.kind, cell.value)
        found = self.memo.get(key)
        if found is None:
            try:
                found = (self.convert(cell), None)
            except CellProblemError as exc:
                found = (None, exc)
            self.memo[key] = found
        if found[1] is not None:
            raise found[1]
        return found[0]

    # --- kinds --------------------------------------------------------------------------

    def _text(self, cell: Cell) -> Any:
        return clean_text(cell_text(cell)) or BLANK

    def _unit(self, cell: Cell) -> Any:
        return self._text(cell)

    def _name(self, cell: Cell) -> Any:
        return _CJK_GAP.sub("", clean_text(cell_text(cell))) or BLANK

    def _numeric(self, what: str) -> CellProblemError:
        return CellProblemError(
            _(
                "%(what)s被存成了数字（Excel 只保留15位有效数字，并去掉开头的0）。"
                "请把“%(header)s”列设置为“文本”格式后重新填写，或在号码前加英文单引号 '。"
            )
            % {"what": what, "header": self.header},
            "numeric",
        )

    def _id_number(self, cell: Cell) -> Any:
        if cell.kind == "n":
            raise self._numeric(_("身份证号"))
        text = normalize_id_number(cell_text(cell)).lstrip("'")
        if _SCIENTIFIC.match(text):
            raise self._numeric(_("身份证号"))
        if "*" in text:
            raise CellProblemError(
                _(
                    "身份证号已脱敏（含*），请用完整导出的文件导入（导出时勾选“含完整证件号码和电话”）。"
                ),
                "masked",
            )
        return text or BLANK

    def _phone(self, cell: Cell) -> Any:
        if cell.kind == "n":
            raise self._numeric(_("电话号码"))
        text = normalize_phone(cell_text(cell)).lstrip("'")
        if _SCIENTIFIC.match(text):
            raise self._numeric(_("电话号码"))
        if "*" in text:
            raise CellProblemError(
                _(
                    "电话号码已脱敏（含*），请用完整导出的文件导入；"
                    "不修改电话时也可清空“%s”列（空白表示保持不变）。"
                )
                % self.header,
                "masked",
            )
        return text or BLANK

    def _key(self, cell: Cell) -> Any:
        if cell.kind == "n":
            if not float(cell.value).is_integer() or abs(cell.value) >= 1e15:
                raise self._numeric(self.header)
            return _number_text(cell.value)
        return _SPACES.sub("", clean_text(cell_text(cell))).lstrip("'") or BLANK

    def _region_code(self, cell: Cell) -> Any:
        text = self._key(cell)
        if text is not BLANK and not (len(text) == 12 and text.isdigit()):
            raise CellProblemError(
                _("“%(header)s”应为12位数字的统计用区划代码，而不是“%(value)s”。")
                % {"header": self.header, "value": text[:20]}
            )
        return text

    def _code(self, cell: Cell) -> Any:
        text = _key(cell_text(cell))
        if text in self.codes:
            return self.codes[text]
        raise self._unknown(cell_text(cell))

    def _role(self, cell: Cell) -> Any:
        return self._code(cell)

    def _status(self, cell: Cell) -> Any:
        return self._code(cell)

    def _unknown(self, text: str) -> CellProblemError:
        labels = (
            self.column.labels()
            if self.kind != "status"
            else sorted({k for k in self.codes if not k.isascii()})
        )
        shown = "、".join(label for label in labels if label)
        if len(labels) > 12:
            shown = "、".join(label for label in labels[:12] if label) + _("等")
        return CellProblemError(
            _("“%(value)s”不是有效的%(header)s，可选：%(labels)s。")
            % {"value": text.strip()[:30], "header": self.header, "labels": shown},
            "choice",
        )

    def _codes(self, cell: Cell) -> Any:
        out = []
        for part in _SEPARATORS.split(clean_text(cell_text(cell))):
            if not part:
                continue
            code = self.codes.get(_key(part))
            if code is None:
                raise self._unknown(part)
            out.append(code)
        return out

    def _bool(self, cell: Cell) -> Any:
        if cell.kind == "b":
            return bool(cell.value)
        text = _key(cell_text(cell)).lower()
        if text in TRUE_TEXTS:
            return True
        if text in FALSE_TEXTS:
            return False
        raise CellProblemError(
            _("“%(header)s”应填“是”或“否”，而不是“%(value)s”。")
            % {"header": self.header, "value": cell_text(cell)[:30]},
            "choice",
        )

    def _danger(self, cell: Cell) -> Any:
        return self._bool(cell)

    def _date(self, cell: Cell) -> Any:
        day = _to_date(cell)
        if day is None or not 1900 <= day.year <= 2100:
            raise CellProblemError(
                _("“%(header)s”不是有效的日期：“%(value)s”，请写成 2016-01-01。")
                % {"header": self.header, "value": cell_text(cell)[:30]},
                "date",
            )
        return day

    def _year(self, cell: Cell) -> Any:
        year = None
        if cell.kind == "n" and float(cell.value).is_integer():
            year = int(cell.value)
            if year > 9999:  # a date without its date format: an Excel serial or 20160101
                day = _to_date(cell)
                year = day.year if day else None
        elif cell.kind == "d":
            year = cell.value.year
        else:
            text = clean_text(cell_text(cell))
            match = _YEAR_TEXT.match(text)
            if match:
                year = int(match.group(1))
            else:
                day = _to_date(cell)
                year = day.year if day else None
        if year is None or not 1900 <= year <= 2100:
            raise CellProblemError(
                _("“%(header)s”不是有效的年份：“%(value)s”，请写成 2016。")
                % {"header": self.header, "value": cell_text(cell)[:30]},
                "year",
            )
        return year

    def _int(self, cell: Cell) -> Any:
        if cell.kind == "n":
            if float(cell.value).is_integer():
                return int(cell.value)
        else:
            match = _INT_TEXT.match(clean_text(cell_text(cell)))
            if match:
                return int(match.group(1))
        raise CellProblemError(
            _("“%(header)s”应为整数，而不是“%(value)s”。")
            % {"header": self.header, "value": cell_text(cell)[:30]},
            "number",
        )


def _key(text: str) -> str:
    """A code list's lookup key: half-width, no spaces, no brackets' width difference."""
    return _SPACES.sub("", unicodedata.normalize("NFKC", text or ""))


def _code_map(choices, synonyms: dict[str, str]) -> dict[str, str]:
    codes = {}
    for value, label in choices:
        codes[_key(str(label))] = value
        if value:
            codes[_key(str(value))] = value
    codes.update({_key(text): value for text, value in synonyms.items()})
    return codes


def _to_date(cell: Cell) -> dt.date | None:
    if cell.kind == "d":
        return cell.value.date()
    if cell.kind == "n":
        number = cell.value
        if float(number).is_integer() and 19000101 <= number <= 21001231:
            text = str(int(number))
            try:
                return dt.date(int(text[:4]), int(text[4:6]), int(text[6:]))
            except ValueError:
                return None
        if 1 <= number < 2958466:  # an Excel date serial that lost its format
            return (dt.datetime(1899, 12, 30) + dt.timedelta(days=number)).date()  # noqa: DTZ001
        return None
    text = clean_text(cell_text(cell))
    if text.isdigit() and len(text) == 8:
        text = f"{text[:4]}-{text[4:6]}-{text[6:]}"
    match = _DATE_TEXT.match(text)
    if not match:
        return None
    try:
        return dt.date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    except ValueError:
        return None
