"""The filters of the circulars and the yearly assessments: each narrows the rows as its
documentation says, and a bad value is a 400 naming the filter."""

import datetime as dt

import pytest
from django.utils import timezone

from assessments.models import Assessment
from reports import services as reports

from ..reports.builders import add_teams, place
from .cases import CASES
from .conftest import finalize_assessment, last_month, publish_circular


def lister(client, resource):
    def ids(**params) -> set[int]:
        response = client.get(f"/api/v1/{resource}/", params)
        assert response.status_code == 200, response.content
        return {row["id"] for row in response.json()["results"]}

    return ids


@pytest.fixture
def two_lists(world):
    """County A's circular of last month with team A on the black list (last of two) and a
    new team on the red list, published; county B's with team B on the black list."""
    period = last_month()
    (other,) = add_teams(world, 1, first=90)
    place(world, world.team_a, period, 2, 2)
    place(world, other, period, 1, 2)
    a = reports.circular_build(county=world.county_a, period=period)
    a = reports.circular_publish(circular=a, actor=world.official_a)
    b = publish_circular(county=world.county_b, team=world.team_b, actor=world.official_b)
    return a, b, other


def test_circular_filters(world, callers, two_lists):
    a, b, other = two_lists
    assert {(e.kind, e.team_id) for e in a.entries.all()} == {
        ("black", world.team_a.pk),
        ("red", other.pk),
    }
    ids = lister(callers["province"].client, "circulars")
    assert ids() == {a.pk, b.pk}
    assert ids(county=world.county_a.pk) == {a.pk}
    assert ids(region=world.county_b.code) == {b.pk}
    assert ids(region=world.township_a.code[:9]) == {a.pk}  # it names a team there
    period = last_month()
    assert ids(period=period.isoformat()) == {a.pk, b.pk}
    assert ids(period_from=(period + dt.timedelta(days=31)).replace(day=1).isoformat()) == set()
    today = timezone.localdate()
    assert ids(published_from=today.isoformat()) == {a.pk, b.pk}
    assert ids(published_to=(today - dt.timedelta(days=1)).isoformat()) == set()
    # team and kind are one condition on one entry
    assert ids(team=world.team_a.pk) == {a.pk}
    assert ids(kind="red") == {a.pk}
    assert ids(kind="black") == {a.pk, b.pk}
    assert ids(team=other.pk, kind="red") == {a.pk}
    assert ids(team=world.team_a.pk, kind="red") == set()
    assert ids(team=world.team_b.pk, kind="black") == {b.pk}
    # a correction: the corrected one is superseded, the correction published
    assert ids(status="superseded") == set()
    correction = reports.circular_correct(circular=a, actor=world.official_a, reason="更正")
    assert ids(status="published") == {a.pk, b.pk}  # the correction's draft is not served
    reports.circular_publish(circular=correction, actor=world.official_a)
    assert ids(status="superseded") == {a.pk}
    assert ids(status="published") == {correction.pk, b.pk}


def test_assessment_filters(world, callers):
    a, b = CASES["assessments"](world)
    team_a = finalize_assessment(
        Assessment.objects.get(kind="team", team=world.team_a, year=2026), actor=world.official_a
    )
    ids = lister(callers["province"].client, "assessments")
    assert ids() == {a.pk, b.pk, team_a.pk}
    assert ids(county=world.county_b.pk) == {b.pk}
    assert ids(region=world.village_a.code) == {a.pk, team_a.pk}
    assert ids(kind="cadre") == {a.pk, b.pk}
    assert ids(kind="team") == {team_a.pk}
    assert ids(cadre=world.cadre_a.pk) == {a.pk}
    assert ids(team=world.team_b.pk) == {b.pk}
    assert ids(village=world.village_a.pk) == {a.pk, team_a.pk}
    assert ids(year=2026) == {a.pk, b.pk, team_a.pk}
    assert ids(year=2025) == set()
    assert ids(grade=a.grade, cadre=world.cadre_a.pk) == {a.pk}
    assert ids(grade="不存在的等次") == set()
    assert ids(grade_rank=a.grade_rank, county=world.county_a.pk) == {
        x.pk for x in (a, team_a) if x.grade_rank == a.grade_rank
    }


@pytest.mark.parametrize(
    ("resource", "params", "field"),
    [
        ("circulars", {"status": "draft"}, "status"),
        ("circulars", {"kind": "green"}, "kind"),
        ("circulars", {"team": "-1"}, "team"),
        ("circulars", {"team": ""}, "team"),
        ("circulars", {"period": "2026-13-01"}, "period"),
        ("circulars", {"published_from": "yesterday"}, "published_from"),
        ("circulars", {"county": "99999999999999999999"}, "county"),
        ("assessments", {"kind": "unit"}, "kind"),
        ("assessments", {"year": "2026.5"}, "year"),
        ("assessments", {"grade": "优" * 17}, "grade"),
        ("assessments", {"grade": "优\x00秀"}, "grade"),
        ("assessments", {"grade_rank": "first"}, "grade_rank"),
        ("assessments", {"cadre": "0"}, "cadre"),
    ],
)
def test_bad_filter_values_are_a_400_naming_the_filter(world, callers, resource, params, field):
    response = callers["province"].client.get(f"/api/v1/{resource}/", params)
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["message"]
    assert field in body["extra"]["fields"], body
