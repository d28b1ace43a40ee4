import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from common.people import (
    id_birth_date,
    id_sex,
    is_valid_id_number,
    mask_id_number,
    mask_phone,
    validate_id_number,
    validate_phone,
)
from teams.models import Cadre


@pytest.mark.parametrize("number", ["11010519491231002X", "440524188001010014"])
def test_valid_id_numbers(number):
    assert validate_id_number(number) == number


def test_wrong_check_digit_is_refused_with_a_chinese_message():
    with pytest.raises(ValidationError) as exc:
        validate_id_number("110105194912310021")
    assert "校验位" in exc.value.messages[0]


def test_lower_case_x_and_full_width_digits_are_normalised():
    assert validate_id_number("11010519491231002x") == "11010519491231002X"
    assert validate_id_number("１１０１０５１９４９１２３１００２Ｘ ") == "11010519491231002X"


@pytest.mark.parametrize(
    ("number", "code"),
    [
        ("1101051949123100", "id_length"),
        ("11010519491231002A", "id_chars"),
        ("110105194902300028", "id_birth"),  # 30 February
        ("110105209901010011", "id_birth"),  # in the future
    ],
)
def test_bad_id_numbers(number, code):
    with pytest.raises(ValidationError) as exc:
        validate_id_number(number)
    assert exc.value.code == code


def test_birth_date_and_sex_are_derived():
    assert id_birth_date("11010519491231002X") == dt.date(1949, 12, 31)
    assert id_sex("11010519491231002X") == "F"  # 17th digit 2: even
    assert id_sex("440524188001010014") == "M"  # 17th digit 1: odd


def test_masks():
    assert mask_id_number("11010519491231002X") == "110***********002X"
    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone("0351-7654321").endswith("4321")
    assert "765" not in mask_phone("0351-7654321")


@pytest.mark.parametrize("value", ["13812345678", "+86 138 1234 5678", "0351-7654321"])
def test_valid_phones(value):
    validate_phone(value)


@pytest.mark.parametrize("value", ["12812345678", "1381234567", "abc", "7654321"])
def test_bad_phones(value):
    with pytest.raises(ValidationError):
        validate_phone(value)


def test_cadre_table_holds_no_clear_id_number_or_phone(world):
    """A raw SQL dump of the cadre table and its audit events holds no valid ID number."""
    clear = [(c.id_number, c.phone) for c in Cadre.objects.all()]
    assert all(is_valid_id_number(number) for number, _phone in clear)
    with connection.cursor() as cursor:
        cursor.execute("SELECT t::text FROM teams_cadre t")
        dump = "\n".join(row[0] for row in cursor.fetchall())
        cursor.execute("SELECT t::text FROM teams_cadreevent t")
        dump += "\n".join(row[0] for row in cursor.fetchall())
    for number, phone in clear:
        assert number not in dump
        assert phone not in dump
    # Nothing that looks like any valid ID number either.
    import re

    candidates = re.findall(r"\d{17}[\dX]", dump)
    assert not [c for c in candidates if is_valid_id_number(c)]


def test_cadre_is_found_by_its_keyed_hash(world):
    from common.crypto import keyed_hash

    found = Cadre.objects.get(id_hash=keyed_hash(world.cadre_a.id_number))
    assert found == world.cadre_a
    assert found.id_number == world.cadre_a.id_number  # decrypted on load


def test_encrypted_field_refuses_plain_lookups(world):
    with pytest.raises(TypeError):
        list(Cadre.objects.filter(id_number=world.cadre_a.id_number))
