"""Incremental sync semantics: what changed comes again, what did not stays away, every way
of writing restamps a row, link changes restamp the parent, deletions come through the
deletion feed in scope, and old deletion cursors are refused.

Tests that resume after new writes let each write commit on its own (`committed`), as in
production: inside one transaction every row carries the same stamp, so nothing could come
again."""

import datetime as dt
from datetime import UTC

import pghistory.models
import pytest
import time_machine
from django.utils import timezone

from accounts.models import ApiPull
from assessments import services as assessments
from common.models import Tombstone
from common.sync import tombstones_purge
from households import services as hs
from households.models import Household, Measure
from teams.models import WorkTeam
from tests import factories as f

committed = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def drain(client, url: str, **params) -> tuple[list[dict], str]:
    """All rows now available, and the link to resume from later."""
    rows, response = [], client.get(url, params)
    while True:
        body = response.json()
        assert response.status_code == 200, body
        rows += body["results"]
        if not body["has_more"]:
            return rows, body["next"]
        response = client.get(body["next"])


@committed
def test_resume_serves_only_what_changed(world, callers):
    client = callers["province"].client
    rows, resume = drain(client, "/api/v1/households/", page_size=1)
    assert {r["id"] for r in rows} == {world.household_a.pk, world.household_b.pk}

    again, resume = drain(client, resume)
    assert again == []  # nothing changed, nothing served

    hs.household_update(household=world.household_b, card_colour="red")
    new = f.household(world.village_a, f"{world.village_a.code}0099")
    changed, resume = drain(client, resume)
    assert [r["id"] for r in changed] == [world.household_b.pk, new.pk]
    assert changed[0]["card_colour"] == "red"
    assert drain(client, resume)[0] == []


@committed
def test_every_way_of_writing_restamps_the_row(world, callers):
    client = callers["province"].client
    _rows, resume = drain(client, "/api/v1/households/")
    # QuerySet.update() leaves auto_now alone; the database stamp still moves
    Household.objects.filter(pk=world.household_a.pk).update(relocated=True)
    rows, resume = drain(client, resume)
    assert [(r["id"], r["relocated"]) for r in rows] == [(world.household_a.pk, True)]

    _rows, resume = drain(client, "/api/v1/rankings/")
    assessments.ranking_black_list(
        county=world.county_a, period=world.ranking_a.period, team_ids=[world.team_a.pk]
    )
    rows, resume = drain(client, resume)
    assert [(r["id"], r["black_listed"]) for r in rows] == [(world.ranking_a.pk, True)]


@committed
def test_link_changes_serve_the_parent_again_without_an_empty_audit_event(world, callers):
    client = callers["province"].client
    joint = f.unit("清徐县教育局", world.county_a)
    _rows, resume = drain(client, "/api/v1/teams/")
    events = pghistory.models.Events.objects.tracks(world.team_a).count()
    world.team_a.other_units.add(joint)
    rows, resume = drain(client, resume)
    assert [(r["id"], r["other_units"]) for r in rows] == [(world.team_a.pk, [joint.pk])]
    world.team_a.other_units.remove(joint)
    rows, resume = drain(client, resume)
    assert [(r["id"], r["other_units"]) for r in rows] == [(world.team_a.pk, [])]
    assert pghistory.models.Events.objects.tracks(world.team_a).count() == events
    assert WorkTeam.objects.get(pk=world.team_a.pk).updated_at == world.team_a.updated_at

    _rows, resume = drain(client, "/api/v1/inspections/")
    world.inspection_a.villages.add(world.village_b)
    rows, _resume = drain(client, resume)
    assert [(r["id"], r["villages"]) for r in rows] == [
        (world.inspection_a.pk, sorted([world.village_a.pk, world.village_b.pk]))
    ]


@committed
def test_deletions_come_through_the_feed_in_scope(world, callers):
    province, county_a = callers["province"].client, callers["county_admin"].client
    _rows, resume_province = drain(province, "/api/v1/deletions/")
    _rows, resume_a = drain(county_a, "/api/v1/deletions/")
    doomed_a = hs.measure_add(household=world.household_a, kind="other", start=dt.date(2026, 1, 1))
    doomed_b = hs.measure_add(household=world.household_b, kind="other", start=dt.date(2026, 1, 1))
    ids = doomed_a.pk, doomed_b.pk
    Measure.objects.filter(pk__in=ids).delete()  # one statement, two tombstones

    seen, _ = drain(province, resume_province)
    assert sorted((r["resource"], r["object_id"]) for r in seen) == [
        ("measures", ids[0]),
        ("measures", ids[1]),
    ]
    seen, _ = drain(county_a, resume_a)
    assert [(r["resource"], r["object_id"]) for r in seen] == [("measures", ids[0])]
    codes = dict(Tombstone.objects.filter(object_id__in=ids).values_list("object_id", "scope_code"))
    assert codes == {ids[0]: world.village_a.code, ids[1]: world.village_b.code}
    only, _ = drain(province, "/api/v1/deletions/", resource="households")
    assert only == []
    # `since`: the deletions at or after a time (the tombstones' own time, not the request's)
    Tombstone.objects.filter(object_id=ids[0]).update(
        deleted_at=dt.datetime(2026, 3, 1, tzinfo=UTC)
    )
    Tombstone.objects.filter(object_id=ids[1]).update(
        deleted_at=dt.datetime(2026, 5, 1, tzinfo=UTC)
    )
    later, _ = drain(
        province, "/api/v1/deletions/", resource="measures", since="2026-04-01T00:00:00+08:00"
    )
    assert [r["object_id"] for r in later] == [ids[1]]
    both, _ = drain(
        province, "/api/v1/deletions/", resource="measures", since="2026-03-01T08:00:00+08:00"
    )
    assert sorted(r["object_id"] for r in both) == sorted(ids)


def test_deleting_a_household_leaves_a_tombstone_for_it_and_its_rows(world, callers):
    household = f.household(world.village_b, f"{world.village_b.code}0777")
    member = f.member(household, "临时户主", relation="head")
    ids = household.pk, member.pk
    household.delete()
    rows, _ = drain(callers["province"].client, "/api/v1/deletions/")
    assert {("households", ids[0]), ("members", ids[1])} <= {
        (r["resource"], r["object_id"]) for r in rows
    }


def test_old_deletion_cursors_are_refused_and_old_tombstones_purged(world, callers):
    client = callers["province"].client
    hs.measure_add(household=world.household_a, kind="other", start=dt.date(2026, 1, 1)).delete()
    _rows, resume = drain(client, "/api/v1/deletions/")
    later = timezone.now() + dt.timedelta(days=91)
    with time_machine.travel(later, tick=False):
        response = client.get(resume)
        assert response.status_code == 410
        assert "重新全量同步" in response.json()["message"]
        assert tombstones_purge() == 1
    assert not Tombstone.objects.exists()
    assert client.get(resume).status_code == 200  # within the retention it still works


def test_pull_logs_are_purged_after_their_retention(world, callers):
    from accounts.services import api_pulls_purge

    callers["province"].client.get("/api/v1/villages/")
    assert ApiPull.objects.count() == 1
    assert api_pulls_purge() == 0
    with time_machine.travel(timezone.now() + dt.timedelta(days=181), tick=False):
        assert api_pulls_purge() == 1


@pytest.mark.parametrize("resource", ["households", "members", "visits"])
def test_updated_since_is_a_plain_filter(world, callers, resource):
    client = callers["province"].client
    rows, _ = drain(client, f"/api/v1/{resource}/", updated_since="2000-01-01T00:00:00+08:00")
    assert len(rows) == 2
