"""The audit trail records actor and source for admin edits, Celery tasks and bulk updates."""

import datetime as dt
import uuid

import pghistory.models
import pytest
from celery.contrib.testing.worker import start_worker
from django.urls import reverse

from common.audit import Source, audit_context
from config.celery import app as celery_app
from teams import services
from teams.models import Cadre, TeamStatus, WorkTeam
from teams.tasks import teams_end_term_task
from tests import factories as f


def events_of(obj):
    return list(pghistory.models.Events.objects.tracks(obj).order_by("pgh_created_at", "pgh_id"))


def test_admin_change_records_actor_and_source(client, world):
    client.force_login(world.official_a)
    response = client.post(
        reverse("admin:teams_dispatchingunit_change", args=[world.unit_a.pk]),
        {
            "name": "清徐县农业农村局（新）",
            "level": "county",
            "kind": "agency",
            "region": world.county_a.pk,
            "principal_leader": "王主任",
            "contact_name": "",
            "contact_phone": "",
        },
        REMOTE_ADDR="10.1.2.3",
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    last = events_of(world.unit_a)[-1]
    assert last.pgh_label == "update"
    assert last.pgh_diff["name"] == ["清徐县农业农村局", "清徐县农业农村局（新）"]
    assert last.pgh_context["source"] == Source.ADMIN
    assert last.pgh_context["actor"] == "official_a"
    assert last.pgh_context["ip"] == "10.1.2.3"


def test_admin_history_page_shows_who_and_from_where_masked(client, world):
    services.cadre_update(cadre=world.cadre_a, id_number="11010519491231002X")
    client.force_login(world.official_a)
    with audit_context(source=Source.ADMIN, actor=world.official_a):
        services.cadre_update(cadre=Cadre.objects.get(pk=world.cadre_a.pk), position="科长")
    page = client.get(reverse("admin:teams_cadre_history", args=[world.cadre_a.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    assert "official_a" in html
    assert "管理后台" in html
    assert "科长" in html
    assert "11010519491231002X" not in html
    assert "内容受保护" in html


def test_bulk_update_records_each_row_with_its_context(world):
    second = f.cadre("第二人", world.unit_a, world.county_a)
    target = f.unit("清徐县乡村振兴局", world.county_a)
    with audit_context(source=Source.COMMAND, actor=world.official_a, command="unit_merge"):
        moved = services.unit_merge(source=world.unit_a, target=target)
    assert moved == 3
    for cadre in (world.cadre_a, second):
        last = events_of(cadre)[-1]
        assert last.pgh_diff["unit_id"] == [world.unit_a.pk, target.pk]
        assert last.pgh_context["source"] == Source.COMMAND
        assert last.pgh_context["actor"] == "official_a"


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_service_inside_a_celery_task_records_actor_and_source(world):
    """A real worker on Redis runs the task; its writes carry source "task" and the actor."""
    queue = f"test-{uuid.uuid4().hex[:8]}"
    with start_worker(
        celery_app, pool="solo", perform_ping_check=False, queues=[queue], shutdown_timeout=10
    ):
        result = teams_end_term_task.apply_async(
            kwargs={
                "team_ids": [world.team_a.pk],
                "ended_on": "2026-06-30",
                "actor_id": world.official_a.pk,
            },
            queue=queue,
        )
        deadline = dt.datetime.now(tz=dt.UTC) + dt.timedelta(seconds=30)
        while WorkTeam.objects.get(pk=world.team_a.pk).status != TeamStatus.ENDED:
            assert dt.datetime.now(tz=dt.UTC) < deadline, "the worker did not run the task"
            import time

            time.sleep(0.1)
    assert result.id
    last = events_of(world.team_a)[-1]
    assert last.pgh_diff["status"] == ["active", "ended"]
    assert last.pgh_context["source"] == Source.TASK
    assert last.pgh_context["task"] == "teams.tasks.teams_end_term_task"
    assert last.pgh_context["actor"] == "official_a"
    assignment_event = events_of(world.assignment_a)[-1]
    assert assignment_event.pgh_context["source"] == Source.TASK


def test_joint_units_of_a_team_are_audited(world):
    from teams.models import TeamUnitEvent

    with audit_context(source=Source.ADMIN, actor=world.official_a):
        services.team_update(team=world.team_a, other_units=[world.unit_b])
        services.team_update(team=world.team_a, other_units=[])
    labels = list(TeamUnitEvent.objects.order_by("pgh_id").values_list("pgh_label", flat=True))
    assert labels == ["unit.add", "unit.remove"]
    assert TeamUnitEvent.objects.last().pgh_context.metadata["actor"] == "official_a"
