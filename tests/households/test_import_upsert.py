"""household_import_upsert, the bulk service every household import goes through (the Excel
import now, the API later): what it checks, what it writes, what it leaves alone."""

import datetime as dt

import pytest

from common.errors import ApplicationError
from households.models import Household, Member
from households.services import (
    NOT_GIVEN,
    HouseholdImport,
    HouseholdRow,
    MemberRow,
    household_import_upsert,
)

from .. import factories as f

HOUSEHOLD_FIELDS = ("status", "main_cause", "year_identified", "card_colour")
MEMBER_FIELDS = ("name", "relation", "joined_on", "phone")


def data(*households):
    return HouseholdImport(HOUSEHOLD_FIELDS, MEMBER_FIELDS, list(households))


def household(world, code, *members, **kwargs):
    values = kwargs.pop("values", ("lifted", "illness", 2016, NOT_GIVEN))
    return HouseholdRow(
        ref=f"{code}户",
        code=code,
        village_code=world.village_a.code,
        values=values,
        members=list(members),
        **kwargs,
    )


def member(name, number, relation="head", phone=NOT_GIVEN, ref=None):
    return MemberRow(
        ref=ref or name, id_number=number, values=(name, relation, dt.date(2016, 1, 1), phone)
    )


def test_a_dry_run_checks_counts_and_writes_nothing(world):
    result = household_import_upsert(
        data=data(
            household(
                world, "U1", member("甲", f.id_number()), member("乙", f.id_number(), "spouse")
            )
        ),
        actor=world.official_a,
        dry_run=True,
    )
    assert result.issues == []
    assert result.counts["households"]["created"] == 1
    assert result.counts["members"]["created"] == 2
    assert not Household.objects.filter(code="U1").exists()


def test_values_not_given_keep_what_is_stored(world):
    number = f.id_number()
    household_import_upsert(
        data=data(household(world, "U1", member("甲", number, phone="13912345678"))),
        actor=world.official_a,
    )
    kept = MemberRow(
        ref="甲", id_number=number, values=(NOT_GIVEN, NOT_GIVEN, NOT_GIVEN, NOT_GIVEN)
    )
    result = household_import_upsert(
        data=data(household(world, "U1", kept, values=(NOT_GIVEN, NOT_GIVEN, NOT_GIVEN, "red"))),
        actor=world.official_a,
    )
    assert result.counts["households"] == {"created": 0, "updated": 1, "unchanged": 0}
    assert result.counts["members"] == {"created": 0, "updated": 0, "unchanged": 1}
    stored = Member.objects.get(household__code="U1")
    assert (stored.name, stored.phone) == ("甲", "13912345678")
    assert Household.objects.get(code="U1").card_colour == "red"


def test_defaults_apply_to_new_rows_only(world):
    number = f.id_number()
    no_date = MemberRow(ref="甲", id_number=number, values=("甲", "head", NOT_GIVEN, NOT_GIVEN))
    result = household_import_upsert(
        data=data(
            household(
                world,
                "U1",
                no_date,
                values=(NOT_GIVEN, "illness", 2016, NOT_GIVEN),
                defaults={"status": "lifted"},
                member_defaults={"joined_on": dt.date(2016, 1, 1)},
            )
        ),
        actor=world.official_a,
    )
    assert result.issues == []
    assert Household.objects.get(code="U1").status_id == "lifted"
    assert Member.objects.get(household__code="U1").joined_on == dt.date(2016, 1, 1)


def test_the_same_rules_and_messages_as_member_add(world):
    from django.core.exceptions import ValidationError

    from households.services import member_add

    number = world.person_a.id_number
    with pytest.raises(ValidationError) as exc:
        member_add(
            household=world.household_b,
            name="某人",
            id_number=number,
            relation="son",
            joined_on=dt.date(2020, 1, 1),
        )
    result = household_import_upsert(
        data=data(household(world, "U1", member("某人", number))), actor=world.official_a
    )
    (issue,) = result.issues
    assert issue.message == exc.value.message_dict["id_number"][0]
    assert (issue.ref, issue.field, issue.code) == ("某人", "id_number", "taken")


def test_rows_a_caller_could_not_read_are_never_written(world):
    row = household(world, "U1", member("甲", f.id_number()), incomplete=True)
    with pytest.raises(ApplicationError, match="未能读取"):
        household_import_upsert(data=data(row), actor=world.official_a)
    assert not Household.objects.filter(code="U1").exists()


def test_fields_outside_the_import_are_refused(world):
    with pytest.raises(ApplicationError, match="不能导入"):
        household_import_upsert(
            data=HouseholdImport(("village",), (), [household(world, "U1", values=(1,))]),
            actor=world.official_a,
        )


def test_a_household_code_twice_is_refused(world):
    result = household_import_upsert(
        data=data(
            household(world, "U1", member("甲", f.id_number())),
            household(world, "U1", member("乙", f.id_number())),
        ),
        actor=world.official_a,
        dry_run=True,
    )
    assert [(i.field, i.code) for i in result.issues] == [("code", "duplicate")]
