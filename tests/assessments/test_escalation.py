"""Escalation derived from the rankings: steps by consecutive bottom-three placements, a
unit named three times, counties confirming and recording what was carried out."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from assessments import services
from assessments.models import Escalation, MonthlyRanking
from common.errors import ApplicationError


def place(world, team, period, rank, of=5, county=None, black_listed=False):
    county = county or world.county_a
    MonthlyRanking.objects.update_or_create(
        team=team,
        period=period,
        defaults={
            "county": county,
            "scheme": world.scheme_a if county == world.county_a else world.scheme_b,
            "members": 3,
            "presence_rate": 1,
            "visit_rate": 1,
            "bianfang_rate": 1,
            "income_rate": 1,
            "open_findings": 0,
            "overdue_findings": 0,
            "serious_findings": 0,
            "score": 100 - rank,
            "rank": rank,
            "of": of,
            "black_listed": black_listed,
        },
    )


@pytest.fixture
def clean(world):
    Escalation.objects.all().delete()
    MonthlyRanking.objects.all().delete()
    return world


def derive(world, month: int, year: int = 2026):
    services.escalation_derive(county=world.county_a, period=dt.date(year, month, 1))
    return {
        (e.period.month, e.step, e.streak)
        for e in Escalation.objects.filter(team=world.team_a, period=dt.date(year, month, 1))
    }


def test_steps_follow_consecutive_bottom_placements(clean):
    world = clean
    for month, rank in ((7, 1), (8, 5), (9, 4), (10, 3), (11, 2), (12, 5)):
        place(world, world.team_a, dt.date(2026, month, 1), rank)
    assert derive(world, 7) == set()
    assert derive(world, 8) == {(8, "talk", 1)}
    assert derive(world, 9) == {(9, "admonish", 2)}
    assert derive(world, 10) == {(10, "handling", 3)}
    assert derive(world, 11) == set()  # second of five: out of the bottom three
    assert derive(world, 12) == {(12, "talk", 1)}  # the streak starts again
    escalation = Escalation.objects.get(period=dt.date(2026, 10, 1), team=world.team_a)
    assert escalation.leader == world.cadre_a
    assert "第3/5名" in escalation.basis
    summons = Escalation.objects.filter(step="summon")
    assert [(e.unit, e.streak, e.period) for e in summons] == [
        (world.unit_a, 3, dt.date(2026, 10, 1))
    ]


def test_a_recomputed_ranking_moves_pending_steps_only(clean):
    world = clean
    place(world, world.team_a, dt.date(2026, 8, 1), 5)
    derive(world, 8)
    place(world, world.team_a, dt.date(2026, 8, 1), 1)
    assert derive(world, 8) == set()  # pending: withdrawn
    place(world, world.team_a, dt.date(2026, 8, 1), 5)
    derive(world, 8)
    escalation = Escalation.objects.get()
    services.escalation_confirm(escalation=escalation, actor=world.official_a)
    place(world, world.team_a, dt.date(2026, 8, 1), 1)
    assert derive(world, 8) == {(8, "talk", 1)}  # confirmed: it stands


def test_confirm_then_record_what_was_done(clean, client):
    world = clean
    place(world, world.team_a, dt.date(2026, 8, 1), 5)
    derive(world, 8)
    escalation = Escalation.objects.get()
    with pytest.raises(ApplicationError, match="请先确认"):
        services.escalation_done(
            escalation=escalation,
            actor=world.official_a,
            carried_out_on=dt.date(2026, 9, 3),
            note="已约谈",
        )
    client.force_login(world.official_a)
    url = reverse("admin:assessments_escalation_changelist")
    client.post(url, {"action": "confirm", "_selected_action": [escalation.pk], "apply": "1"})
    with pytest.raises(ValidationError):
        services.escalation_done(
            escalation=escalation,
            actor=world.official_a,
            carried_out_on=dt.date(2026, 9, 3),
            note="",
        )
    client.post(
        url,
        {
            "action": "done",
            "_selected_action": [escalation.pk],
            "apply": "1",
            "carried_out_on": "2026-09-03",
            "note": "县委组织部约谈队长",
        },
    )
    escalation.refresh_from_db()
    assert (escalation.status, escalation.confirmed_by, escalation.carried_out_on) == (
        "done",
        world.official_a,
        dt.date(2026, 9, 3),
    )
    client.force_login(world.official_b)
    assert client.get(
        reverse("admin:assessments_escalation_change", args=[escalation.pk])
    ).status_code in (302, 404)


def test_a_black_listing_counts_like_a_bottom_placement(clean):
    """Top of five in September but black-listed by the circular: the October bottom place
    is the second in a row. Withdrawing the listing (a correcting circular) moves it back."""
    world = clean
    place(world, world.team_a, dt.date(2026, 9, 1), 1)
    place(world, world.team_a, dt.date(2026, 10, 1), 5)
    assert derive(world, 10) == {(10, "talk", 1)}
    services.ranking_black_list(
        county=world.county_a, period=dt.date(2026, 9, 1), team_ids=[world.team_a.pk]
    )
    assert derive(world, 9) == {(9, "talk", 1)}
    assert derive(world, 10) == {(10, "admonish", 2)}
    september = Escalation.objects.get(team=world.team_a, period=dt.date(2026, 9, 1))
    assert "列入黑榜" in september.basis
    services.ranking_black_list(county=world.county_a, period=dt.date(2026, 9, 1), team_ids=[])
    assert derive(world, 9) == set()
    assert derive(world, 10) == {(10, "talk", 1)}


def test_a_recomputed_ranking_keeps_the_published_listing(clean):
    world = clean
    place(world, world.team_a, dt.date(2026, 9, 1), 1)
    services.ranking_black_list(
        county=world.county_a, period=dt.date(2026, 9, 1), team_ids=[world.team_a.pk]
    )
    (row,) = services.ranking_compute(county=world.county_a, period=dt.date(2026, 9, 1))
    assert row.black_listed


def test_black_listing_needs_a_ranking(clean):
    world = clean
    with pytest.raises(ApplicationError, match="尚无这些工作队的月度排名"):
        services.ranking_black_list(
            county=world.county_a, period=dt.date(2026, 9, 1), team_ids=[world.team_a.pk]
        )


def test_a_unit_named_three_times_across_its_teams(clean):
    """Three teams of one unit, each named once in different months: its principal leader
    is summoned on the third naming, once."""
    from .. import factories as f

    world = clean
    villages = [f.village(f"14012110020{n}", f"村{n}", world.township_a) for n in (2, 3)]
    teams = [world.team_a] + [f.team(v, world.unit_a) for v in villages]
    for month, team in ((7, teams[0]), (8, teams[1]), (9, teams[2])):
        place(world, team, dt.date(2026, month, 1), 5)
        services.escalation_derive(county=world.county_a, period=dt.date(2026, month, 1))
    summons = list(Escalation.objects.filter(step="summon"))
    assert [(e.unit, e.streak, e.period) for e in summons] == [
        (world.unit_a, 3, dt.date(2026, 9, 1))
    ]
    steps = Escalation.objects.filter(step="talk").values_list("team", "streak")
    assert sorted(steps) == sorted((t.pk, 1) for t in teams)


def named_steps(county, period):
    return {
        (e.team_id, e.step, e.streak)
        for e in Escalation.objects.filter(county=county, period=period, team__isnull=False)
    }


def summonses():
    return sorted(
        (e.county.name, e.unit.name, f"{e.period:%Y-%m}", e.streak)
        for e in Escalation.objects.filter(step="summon").select_related("county", "unit")
    )


@pytest.mark.parametrize("more", [4, 14])
def test_derivation_queries_do_not_grow_with_the_teams(clean, more):
    """One derivation that withdraws, changes and adds steps and summonses, in the same number
    of queries for 6 teams and for 16."""
    from ..reports.builders import add_teams

    world = clean
    teams = [world.team_a, *add_teams(world, more + 1)]  # each added team has its own unit
    of = len(teams)
    for month in (8, 9, 10):
        for rank, team in enumerate(teams, 1):
            place(world, team, dt.date(2026, month, 1), rank, of, black_listed=True)
    october = dt.date(2026, 10, 1)
    services.escalation_derive(county=world.county_a, period=october)
    assert len(summonses()) == of  # every unit named in August, September and October
    # A correcting circular: rank 1 off October's black list (its step and its unit's
    # summons are withdrawn), ranks 2 and 3 off September's (a new streak of one: changed;
    # their units' summonses withdrawn); rank 4's step deleted meanwhile (made again).
    MonthlyRanking.objects.filter(team=teams[0], period=october).update(black_listed=False)
    MonthlyRanking.objects.filter(team__in=teams[1:3], period=dt.date(2026, 9, 1)).update(
        black_listed=False
    )
    Escalation.objects.filter(team=teams[3], period=october).delete()
    with CaptureQueriesContext(connection) as queries:
        services.escalation_derive(county=world.county_a, period=october)
    # savepoint, advisory lock, the county's named rows, the leaders, the existing steps (for
    # update), delete the withdrawn, insert the new, update the changed, release.
    assert len(queries) == 9, [q["sql"] for q in queries.captured_queries]
    ids = [t.pk for t in teams]
    assert named_steps(world.county_a, october) == {
        (ids[1], "talk", 1),
        (ids[2], "talk", 1),
        *((pk, "handling", 3) for pk in ids[3:]),
    }
    assert len(summonses()) == of - 3


def test_a_unit_is_counted_and_summoned_by_each_county_apart(clean, client):
    """A provincial unit leads two teams in county A and one in county B. Each county counts
    the namings of its own teams: B names its team in July, August and September and
    summons the unit in September; A's two teams are named in July and August, and A
    summons the unit in October, on its own third naming, whatever B did."""
    from .. import factories as f

    world = clean
    unit = f.unit("省农业农村厅", world.province, level="province")
    a1, a2 = (
        f.team(f.village(f"14012110030{n}", f"甲村{n}", world.township_a), unit) for n in (1, 2)
    )
    b1 = f.team(f.village("140122100301", "乙村", world.township_b), unit)
    named = {7: [a1, b1], 8: [a2, b1], 9: [b1], 10: [a1]}
    for month, teams in named.items():
        period = dt.date(2026, month, 1)
        for team in teams:
            place(world, team, period, 5, county=team.village.township.parent)
        for county in (world.county_a, world.county_b):
            services.escalation_derive(county=county, period=period)
    assert summonses() == [
        ("清徐县", "省农业农村厅", "2026-10", 3),
        ("阳曲县", "省农业农村厅", "2026-09", 3),
    ]
    # Each county's staff see their own county's summons only.
    for official in (world.official_a, world.official_b):
        own = Escalation.objects.get(step="summon", county=official.region)
        client.force_login(official)
        page = client.get(
            reverse("admin:assessments_escalation_changelist"), {"step__exact": "summon"}
        )
        assert [e.pk for e in page.context["cl"].result_list] == [own.pk]


def test_a_unit_is_summoned_once_a_year_and_counted_afresh_each_january(clean):
    """Named in November and December 2025 and January 2026: not three in one year, no
    summons. February and March 2026 make three: summoned in March. April makes a fourth:
    no second summons that year."""
    world = clean
    months = [dt.date(2025, 11, 1), dt.date(2025, 12, 1)]
    months += [dt.date(2026, m, 1) for m in (1, 2, 3, 4)]
    for period in months:
        place(world, world.team_a, period, 5)
        services.escalation_derive(county=world.county_a, period=period)
        if period == dt.date(2026, 1, 1):
            assert summonses() == []
    assert summonses() == [("清徐县", "清徐县农业农村局", "2026-03", 3)]
    summons = Escalation.objects.get(step="summon")
    assert "本年度在本县累计3次" in summons.basis


def test_a_pending_summons_follows_the_black_list_and_a_confirmed_one_stands(clean):
    """Team A bottom in July and August, black-listed in September: the unit's third naming,
    summoned. A correcting circular takes the listing back: the pending summons goes; listed
    again and confirmed, a later withdrawal leaves it standing."""
    world = clean
    september = dt.date(2026, 9, 1)
    place(world, world.team_a, dt.date(2026, 7, 1), 5)
    place(world, world.team_a, dt.date(2026, 8, 1), 5)
    place(world, world.team_a, september, 1)
    for month in (7, 8, 9):
        services.escalation_derive(county=world.county_a, period=dt.date(2026, month, 1))
    assert summonses() == []
    services.ranking_black_list(county=world.county_a, period=september, team_ids=[world.team_a.pk])
    assert summonses() == [("清徐县", "清徐县农业农村局", "2026-09", 3)]
    services.ranking_black_list(county=world.county_a, period=september, team_ids=[])
    assert summonses() == []
    services.ranking_black_list(county=world.county_a, period=september, team_ids=[world.team_a.pk])
    services.escalation_confirm(
        escalation=Escalation.objects.get(step="summon"), actor=world.official_a
    )
    services.ranking_black_list(county=world.county_a, period=september, team_ids=[])
    assert summonses() == [("清徐县", "清徐县农业农村局", "2026-09", 3)]
