"""Builders of circular test data: rankings placed as ranking_compute stores them, more teams,
serious findings, published circulars."""

import datetime as dt

from assessments import services as assessments
from assessments.models import MonthlyRanking
from reports import services

from .. import factories as f

OCTOBER = dt.date(2026, 10, 1)
VILLAGES = ("东于村", "南庄村", "西边山村", "北营村", "高白村", "仁义村", "梁泉村")


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


def publish_circulars(world, months, actor=None):
    """Published circulars of county A for `months`, each naming team A (ranked first of
    two: red). Returns the last one."""
    (other,) = add_teams(world, 1, first=90)
    circular = None
    for period in months:
        place(world, world.team_a, period, 1, 2)
        place(world, other, period, 2, 2)
        circular = services.circular_build(county=world.county_a, period=period)
        services.circular_publish(circular=circular, actor=actor or world.official_a)
    return circular
