"""The registry's rules: one household per person, one responsible cadre, 风险消除."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from common.errors import ApplicationError
from households import services as hs
from households.models import Household, Member, MonitoringEvent, Pairing
from tests import factories as f


def test_a_person_cannot_be_active_in_two_households(world):
    number = world.person_a.id_number
    with pytest.raises(ValidationError) as exc:
        f.member(world.household_b, "重复的人", id_number=number)
    message = str(exc.value)
    assert "一人不能同时在两户" in message
    assert number not in message
    assert number[:3] + "*" in message
    with pytest.raises(IntegrityError), transaction.atomic():
        Member.objects.create(
            household=world.household_b,
            name="绕过",
            id_number=number,
            relation="other",
            sex="M",
            birth_date=dt.date(1980, 1, 1),
            joined_on=dt.date(2020, 1, 1),
        )


def test_a_person_who_left_may_join_another_household(world):
    hs.member_leave(member=world.person_a, left_on=dt.date(2026, 3, 1), reason="迁出")
    moved = f.member(
        world.household_b, "迁入", id_number=world.person_a.id_number, joined_on=dt.date(2026, 3, 2)
    )
    assert moved.household == world.household_b
    world.household_a.refresh_from_db()
    assert world.household_a.head_name == ""  # the head left


def test_two_active_pairings_are_refused(world):
    other = f.cadre("另一干部", world.unit_a, world.county_a)
    with pytest.raises(ApplicationError) as exc:
        hs.pairing_assign(household=world.household_a, cadre=other, start=dt.date(2026, 5, 1))
    assert "一户一人" in exc.value.message
    with pytest.raises(IntegrityError), transaction.atomic():
        Pairing.objects.create(household=world.household_a, cadre=other, start=dt.date(2026, 5, 1))
    replaced = hs.pairing_assign(
        household=world.household_a, cadre=other, start=dt.date(2026, 5, 1), replace=True
    )
    assert list(world.household_a.pairings.filter(end__isnull=True)) == [replaced]


def test_a_cadre_of_another_county_cannot_be_paired(world):
    with pytest.raises(ApplicationError, match="不在该户所在县"):
        hs.pairing_assign(
            household=world.household_a,
            cadre=world.cadre_b,
            start=dt.date(2026, 5, 1),
            replace=True,
        )


def test_other_causes_at_most_two_and_not_the_main_one(world):
    with pytest.raises(ValidationError):
        f.household(world.village_a, "X-3", other_causes=["funds", "skills", "land"])
    with pytest.raises(ValidationError, match="不能与主要致贫原因相同"):
        f.household(world.village_a, "X-4", main_cause="illness", other_causes=["illness"])
    ok = f.household(world.village_a, "X-5", other_causes=["funds", "skills"])
    assert ok.other_causes == ["funds", "skills"]


def test_status_history(world):
    hs.household_change_status(
        household=world.household_a,
        status="returned",
        changed_on=dt.date(2026, 6, 1),
        reason="因病返贫",
    )
    hs.household_change_status(
        household=world.household_a, status="returned", changed_on=dt.date(2026, 6, 2)
    )  # no-op
    history = list(world.household_a.status_changes.order_by("id").values_list("old", "new"))
    assert history == [(None, "lifted"), ("lifted", "returned")]


def codes(household, today):
    return [x["code"] for x in hs.monitoring_elimination_check(household=household, today=today)]


def test_elimination_check_lists_exactly_the_failing_conditions(world):
    household = world.household_a  # identified 2026-01-10, measure from 2026-02-01, Jan income
    assert codes(household, dt.date(2026, 5, 1)) == ["too_recent", "income_missing"]
    for month in range(5, 11):  # one person, 800 a month: 9 600 a year > 7 000
        f.income(household, dt.date(2026, month, 1), wage=800)
    assert codes(household, dt.date(2026, 11, 15)) == []
    hs.income_record_save(household=household, month=dt.date(2026, 8, 1), wage=500)
    assert codes(household, dt.date(2026, 11, 15)) == ["income_below_line"]
    hs.income_record_save(household=household, month=dt.date(2026, 8, 1), wage=800)
    hs.household_update(household=household, housing_grade="C")
    hs.member_update(member=world.person_a, labour="lost")
    assert codes(household, dt.date(2026, 11, 15)) == ["guarantees", "no_labour"]


def test_eliminate_rollback_and_remark_keep_the_history(world):
    household = world.household_a
    with pytest.raises(ApplicationError) as exc:
        hs.monitoring_eliminate(monitoring=world.monitoring_a, eliminated_on=dt.date(2026, 5, 1))
    assert [x["code"] for x in exc.value.extra["failures"]] == ["too_recent", "income_missing"]
    for month in range(5, 11):
        f.income(household, dt.date(2026, month, 1), wage=800)
    done = hs.monitoring_eliminate(
        monitoring=world.monitoring_a, eliminated_on=dt.date(2026, 11, 15)
    )
    assert done.status == "eliminated"
    assert Household.objects.with_risk(year=2026).get(pk=household.pk).is_monitored is False
    back = hs.monitoring_rollback(monitoring=done, on=dt.date(2026, 11, 20), reason="核查有误")
    assert (back.status, back.eliminated_on) == ("monitoring", None)
    hs.monitoring_eliminate(monitoring=back, eliminated_on=dt.date(2026, 11, 21))
    again = hs.monitoring_identify(
        household=household,
        category="sudden",
        risk_types=["disaster"],
        discovery="self",
        identified_on=dt.date(2026, 11, 22),
    )
    steps = list(
        MonitoringEvent.objects.filter(monitoring__household=household)
        .order_by("id")
        .values_list("kind", flat=True)
    )
    assert steps == ["identified", "eliminated", "rolled_back", "eliminated", "remarked"]
    assert again.pk != world.monitoring_a.pk


def test_team_member_sees_only_their_village(world):
    assert list(Household.objects.visible_to(world.member_a)) == [world.household_a]
    assert list(Member.objects.visible_to(world.member_a)) == [world.person_a]
    assert (
        not Household.objects.visible_to(world.official_a).filter(pk=world.household_b.pk).exists()
    )
