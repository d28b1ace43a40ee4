"""A crafted county for the circulars: county A with seven teams ranked in October 2026, and a
serious finding in October about the best of them."""

import datetime as dt

import pytest
import time_machine

from assessments import services as assessments
from assessments.models import Escalation, MonthlyRanking
from reports.models import Circular

from .. import factories as f

OCTOBER = dt.date(2026, 10, 1)
NOW = dt.datetime(2026, 11, 20, 2, 0, tzinfo=dt.UTC)  # 10:00 in Shanghai
VILLAGES = ("东于村", "南庄村", "西边山村", "北营村", "高白村", "仁义村", "梁泉村")


@pytest.fixture(autouse=True)
def frozen():
    """The world and every test on 2026-11-20 (the world's last month is October 2026)."""
    with time_machine.travel(NOW, tick=False):
        yield


def place(world, team, period, rank, of, score=None):
    """Store a team's monthly ranking row as ranking_compute would have."""
    return MonthlyRanking.objects.update_or_create(
        team=team,
        period=period,
        defaults={
            "county": team.village.township.parent,
            "scheme": world.scheme_a,
            "members": 3,
            "presence_rate": "0.9500",
            "visit_rate": "0.8000",
            "bianfang_rate": "0.6000",
            "income_rate": "1.0000",
            "open_findings": rank - 1,
            "overdue_findings": 0,
            "serious_findings": 0,
            "score": score if score is not None else 100 - 5 * rank,
            "rank": rank,
            "of": of,
        },
    )[0]


def add_teams(world, n, township=None, first=1):
    """n more teams in county A (or in `township`), each with its own unit and a leader."""
    township = township or world.township_a
    teams = []
    for i in range(first, first + n):
        code = f"{township.code[:9]}{300 + i:03d}"
        village = f.village(code, f"{VILLAGES[i % len(VILLAGES)]}{i}", township)
        unit = f.unit(f"{township.name}第{i}派出单位", township.parent)
        team = f.team(village, unit)
        cadre = f.cadre(f"队长{i}", unit, township.parent)
        f.assign(cadre, team, leader=True, secretary=True)
        teams.append(team)
    return teams


def serious_finding(world, of, on=dt.date(2026, 10, 15), severity="serious", **extra):
    """A finding about the village of team `of` (about the team itself unless told)."""
    team = of
    inspection = assessments.inspection_create(
        region=world.county_a,
        kind="unannounced",
        on=on,
        title="十月暗访",
        inspectors="县督查组",
        villages=[team.village],
    )
    values = {
        "subject": "team",
        "team": team,
        "category": "discipline",
        "description": "工作队长擅自离岗三天",
    } | extra
    return assessments.finding_create(
        inspection=inspection,
        village=team.village,
        severity=severity,
        deadline=on + dt.timedelta(days=15),
        **values,
    )


@pytest.fixture
def crafted(world):
    """County A's October: seven teams ranked 1..7 (world.team_a first), and team A — the
    best — found with a serious violation on 2026-10-15. Returns the teams in rank order."""
    Circular.objects.filter(county=world.county_a).delete()  # the world's draft
    Escalation.objects.filter(county=world.county_a).delete()
    MonthlyRanking.objects.filter(county=world.county_a).delete()
    teams = [world.team_a, *add_teams(world, 6)]
    for rank, team in enumerate(teams, 1):
        place(world, team, OCTOBER, rank, len(teams))
    serious_finding(world, world.team_a)
    return teams
