"""Crafted cases with expected answers: per-capita income, lines, the yearly fall."""

import datetime as dt
from decimal import Decimal

import pytest
import time_machine

from households import services as hs
from households.models import Household, HouseholdYear
from tests import factories as f
from villages.models import Level

TODAY = dt.datetime(2026, 8, 15, 12, tzinfo=dt.UTC)


@pytest.fixture
def family(world):
    """Head and spouse since 2016; the spouse leaves 10 April 2026; a child joins 15 July."""
    household = f.household(world.village_a, "140121100201_X1")
    f.member(household, "王一", relation="head")
    spouse = f.member(household, "李二", relation="spouse")
    hs.member_leave(member=spouse, left_on=dt.date(2026, 4, 10), reason="外嫁")
    f.member(
        household,
        "王三",
        relation="son",
        joined_on=dt.date(2026, 7, 15),
        id_number=f.id_number("140121", dt.date(2026, 7, 1)),
    )
    for month in range(1, 7):  # net 900 a month, January to June
        f.income(household, dt.date(2026, month, 1), wage=1000, production_cost=100)
    return household


def year_of(household, year=2026):
    return HouseholdYear.objects.get(household=household, year=year)


@time_machine.travel(TODAY, tick=False)
def test_per_capita_counts_members_month_by_month(family):
    row = year_of(family)
    # Person-months: Jan-Apr 2 (the spouse counts April, the month she left), May-Jun 1.
    assert (row.net_income, row.months, row.person_months) == (Decimal("5400.00"), 6, 10)
    assert row.per_capita == Decimal("6480.00")  # 5400 * 12 / 10
    f.income(family, dt.date(2026, 7, 1), wage=1000, production_cost=100)
    row = year_of(family)
    # July: the head and the son who joined on the 15th.
    assert (row.net_income, row.months, row.person_months) == (Decimal("6300.00"), 7, 12)
    assert row.per_capita == Decimal("6300.00")


@time_machine.travel(TODAY, tick=False)
def test_corrections_and_membership_changes_follow_at_once(family):
    hs.income_record_save(
        household=family, month=dt.date(2026, 1, 1), wage=2200, production_cost=100
    )
    assert year_of(family).net_income == Decimal("6600.00")
    spouse = family.members.get(name="李二")
    hs.member_update(member=spouse, joined_on=dt.date(2026, 3, 1))  # joined later after all
    # Jan-Feb: only the head now.
    assert year_of(family).person_months == 8


@time_machine.travel(TODAY, tick=False)
def test_the_most_specific_line_wins_and_a_change_moves_every_flag(world, family):
    flags = Household.objects.with_risk(year=2026)
    # The world's county line is 7 000; the family's 6 480 is under it.
    assert flags.get(pk=family.pk).line_amount == Decimal("7000.00")
    assert flags.get(pk=family.pk).under_line is True
    hs.income_line_set(year=2026, region=world.province, amount=Decimal("6000"))
    assert flags.get(pk=family.pk).under_line is True  # the county's line still overrides
    hs.income_line_set(year=2026, region=world.county_a, amount=Decimal("6400"))
    assert flags.get(pk=family.pk).under_line is False  # changed at once, nothing stored
    township_line = hs.income_line_set(year=2026, region=world.township_a, amount=Decimal("6500"))
    assert flags.get(pk=family.pk).line_amount == township_line.amount
    assert flags.get(pk=family.pk).under_line is True
    # County B keeps its own line.
    assert flags.get(pk=world.household_b.pk).line_amount == Decimal("7000.00")


@time_machine.travel(TODAY, tick=False)
def test_income_lower_than_last_year(world, family):
    flags = Household.objects.with_risk(year=2026)
    assert flags.get(pk=family.pk).fell is None  # no 2025 figures: unknown, not a guess
    for month in range(1, 13):
        f.income(family, dt.date(2025, month, 1), wage=1000)  # 2 members all 2025: 6 000
    assert year_of(family, 2025).per_capita == Decimal("6000.00")
    assert flags.get(pk=family.pk).fell is False  # 6 480 > 6 000
    hs.income_record_save(household=family, month=dt.date(2025, 12, 1), wage=7000)
    assert flags.get(pk=family.pk).fell is True


@time_machine.travel(TODAY, tick=False)
def test_report_bands_are_data(world, client, family):
    client.force_login(world.official_a)
    url = "/admin/households/household/"
    rows = client.get(url, {"band": "7500"}).context["cl"].result_list
    assert family.pk in {h.pk for h in rows}  # 6 480 < 7 500
    hs.report_band_create(region=world.county_a, amount=Decimal("4500"))
    rows = client.get(url, {"band": "4500"}).context["cl"].result_list
    assert family.pk not in {h.pk for h in rows}
    hs.report_band_create(region=world.county_b, amount=Decimal("9999"))
    response = client.get(url, {"band": "9999"})
    assert list(response.context["cl"].result_list) == []  # county B's band is not ours
    assert "9,999" not in response.content.decode()


@time_machine.travel(TODAY, tick=False)
def test_other_risk_flags(world, family):
    flags = Household.objects.with_risk(year=2026)
    row = flags.get(pk=family.pk)
    assert (row.no_cadre, row.missing_last_month, row.is_monitored) == (True, True, False)
    f.income(family, dt.date(2026, 7, 1), wage=900)
    hs.pairing_assign(household=family, cadre=world.cadre_a, start=dt.date(2026, 8, 1))
    hs.monitoring_identify(
        household=family,
        category="unstable",
        risk_types=["income_drop"],
        discovery="screening",
        identified_on=dt.date(2026, 8, 1),
    )
    row = flags.get(pk=family.pk)
    assert (row.no_cadre, row.missing_last_month, row.monitored_without_measure) == (
        False,
        False,
        True,
    )
    hs.measure_add(household=family, kind="employment", start=dt.date(2026, 8, 2))
    assert flags.get(pk=family.pk).monitored_without_measure is False


def test_future_months_cannot_be_registered(world):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        f.income(world.household_a, dt.date(2099, 1, 1), wage=1)


def test_region_level_is_kept_on_lines(world):
    assert world.line_a.prefix == "140121"
    assert world.county_a.level == Level.COUNTY
