"""Escalation derived from the rankings: steps by consecutive bottom-three placements, a
unit named three times, counties confirming and recording what was carried out."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from assessments import services
from assessments.models import Escalation, MonthlyRanking
from common.errors import ApplicationError


def place(world, team, period, rank, of=5):
    MonthlyRanking.objects.update_or_create(
        team=team,
        period=period,
        defaults={
            "county": world.county_a,
            "scheme": world.scheme_a,
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
