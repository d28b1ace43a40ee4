"""Changelists run the same number of queries with 5 and with 50 rows."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests import factories as f


def grow(world, first: int, last: int) -> None:
    """Villages first..last-1 in county A, each with a unit, a team and three cadres."""
    for i in range(first, last):
        village = f.village(f"140121100{300 + i:03d}", f"新村{i}", world.township_a)
        unit = f.unit(f"清徐县第{i}局", world.county_a)
        team = f.team(village, unit)
        for k in range(3):
            cadre = f.cadre(f"队员{i}-{k}", unit, world.county_a)
            f.assign(cadre, team, leader=k == 0, secretary=k == 0)


def run(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries), len(response.context["cl"].result_list)


# Expected queries per page, the same at both sizes (role permissions cost no query):
#   session, user, the user's region (scope prefix), one query per related-field filter
#   (scoped choices: townships / units / regions), the page count, the page of rows with
#   their select_related joins and warning subqueries in the same statement, and the
#   session's expiry renewal (savepoint, update, release).
EXPECTED = {
    "teams_workteam": 10,  # filters: township, lead unit
    "teams_cadre": 9,  # filter: unit
    "teams_assignment": 9,  # filter: township
    "villages_village": 9,  # filter: township
    "teams_dispatchingunit": 8,  # no related filter
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_changelist_queries_do_not_grow_with_rows(client, world, name):
    client.force_login(world.official_a)
    url = reverse(f"admin:{name}_changelist")
    grow(world, 0, 4)  # with the world's own: 5 teams, 5 villages, 6 units
    small, rows_small = run(client, url)
    grow(world, 4, 49)  # 50 teams, 50 villages, 51 units, 151 cadres and assignments
    large, rows_large = run(client, url)
    assert rows_small >= 5
    assert rows_large >= 50
    assert (small, large) == (EXPECTED[name], EXPECTED[name])
