"""A crafted county for the circulars: county A with seven teams ranked in October 2026, and a
serious finding in October about the best of them."""

import datetime as dt

import pytest
import time_machine

from assessments.models import Escalation, MonthlyRanking
from reports.models import Circular

from .builders import OCTOBER, add_teams, place, serious_finding

NOW = dt.datetime(2026, 11, 20, 2, 0, tzinfo=dt.UTC)  # 10:00 in Shanghai


@pytest.fixture(autouse=True)
def frozen():
    """The world and every test on 2026-11-20 (the world's last month is October 2026)."""
    with time_machine.travel(NOW, tick=False):
        yield


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


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    """Uploaded files and reports go to a directory of the test's own."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT
