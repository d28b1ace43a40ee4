"""Rules for people's data: ID numbers (GB 11643-1999) and phone numbers, and their masks."""

import datetime as dt
import re
import unicodedata
from operator import mul

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK_CHARS = "10X98765432"
_ID_RE = re.compile(r"^[1-9]\d{16}[\dX]$")
_MOBILE_RE = re.compile(r"^1[3-9]\d{9}$")
# Landline: area code 0xx or 0xxx, then 7-8 digits, optional extension.
_LANDLINE_RE = re.compile(r"^0\d{2,3}-?\d{7,8}(?:-\d{1,6})?$")
_EARLIEST_BIRTH = dt.date(1850, 1, 1)


def clean_text(value: str) -> str:
    """Full-width digits and letters to half-width (NFKC), trimmed."""
    return unicodedata.normalize("NFKC", value or "").strip()


def id_check_char(first17: str) -> str:
    if len(first17) != len(ID_WEIGHTS):
        raise ValueError("the first 17 characters of an ID number are expected")
    # map() keeps the sum in C: imports check hundreds of thousands of numbers.
    return ID_CHECK_CHARS[sum(map(mul, map(int, first17), ID_WEIGHTS)) % 11]


def normalize_id_number(value: str) -> str:
    """The canonical form of an ID number: half-width, no spaces, upper-case X."""
    return re.sub(r"\s+", "", clean_text(value)).upper()


def validate_id_number(value: str, *, today: dt.date | None = None) -> str:
    """Validate an 18-digit resident ID number and return it normalised.

    Checks length and characters, the birth date (a real date, not in the future) and the
    check digit. Error messages never repeat the number unmasked.
    """
    number = normalize_id_number(value)
    if len(number) != 18:
        raise ValidationError(_("身份证号应为18位。"), code="id_length")
    if not _ID_RE.match(number):
        raise ValidationError(_("身份证号前17位应为数字，最后一位为数字或X。"), code="id_chars")
    try:
        birth = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise ValidationError(_("身份证号中的出生日期不存在。"), code="id_birth") from None
    if not _EARLIEST_BIRTH <= birth <= (today or dt.date.today()):  # noqa: DTZ011
        raise ValidationError(_("身份证号中的出生日期不合理。"), code="id_birth")
    if id_check_char(number[:17]) != number[17]:
        raise ValidationError(_("身份证号校验位不正确，请核对。"), code="id_check")
    return number


def is_valid_id_number(value: str) -> bool:
    try:
        validate_id_number(value)
    except ValidationError:
        return False
    return True


def id_birth_date(number: str) -> dt.date:
    return dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))


def id_sex(number: str) -> str:
    """'M' or 'F' from the 17th digit (odd is male)."""
    return "M" if int(number[16]) % 2 else "F"


def normalize_phone(value: str) -> str:
    number = re.sub(r"[\s()（）]+", "", clean_text(value))
    if number.startswith("+86"):
        number = number[3:]
    return number


def validate_phone(value: str) -> str:
    """A mobile number (11 digits starting 13-19) or a landline with its area code."""
    number = normalize_phone(value)
    if _MOBILE_RE.match(number):
        return number
    if _LANDLINE_RE.match(number):
        return number
    raise ValidationError(
        _("电话号码格式不正确：手机号为11位，固定电话需带区号（如0351-1234567）。"),
        code="phone",
    )


def mask_id_number(value: str | None) -> str:
    """`110***********002X`: the first 3 and the last 4 characters."""
    if not value:
        return ""
    if len(value) <= 7:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


def mask_phone(value: str | None) -> str:
    """`138****5678` for mobiles; landlines keep the area code and the last 4 digits."""
    if not value:
        return ""
    if _MOBILE_RE.match(value):
        return value[:3] + "****" + value[-4:]
    if len(value) <= 4:
        return "*" * len(value)
    head = value.split("-")[0] if "-" in value else value[:4]
    return head + "*" * max(len(value) - len(head) - 4, 1) + value[-4:]
