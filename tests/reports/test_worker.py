"""With real workers: the beat task drafts a circular end to end on a Celery worker over Redis
(delivered twice, one draft), and concurrent publishes never share a number."""

import datetime as dt
import threading
import time

import pytest
from celery.contrib.testing.worker import start_worker
from django.db import connection
from django.utils import timezone

from assessments.models import RankingRun
from config.celery import app as celery_app
from reports import services
from reports.models import Circular, CircularRun
from reports.tasks import circular_run_task, monthly_circulars_task

from .builders import add_teams, place

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def frozen():
    """Real time here: the worker and the publishing threads run beside the test."""
    return


def last_month() -> dt.date:
    return (timezone.localdate().replace(day=1) - dt.timedelta(days=1)).replace(day=1)


def wait_for(condition, seconds=30):
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the worker did not finish"
        time.sleep(0.1)


def test_beat_to_draft_on_a_real_worker(world):
    period = last_month()
    Circular.objects.filter(county=world.county_a).delete()  # the world's draft
    teams = [world.team_a, *add_teams(world, 3)]
    for rank, team in enumerate(teams, 1):
        place(world, team, period, rank, len(teams))
    RankingRun.objects.create(county=world.county_a, period=period, status="succeeded")
    celery_app.control.purge()  # nothing stale on this test's Redis database
    # The default queue, where delay() sends, named explicitly: a worker started earlier in
    # the run with its own queues leaves the app selecting only those.
    default = celery_app.conf.task_default_queue
    with start_worker(
        celery_app, pool="solo", perform_ping_check=False, queues=[default], shutdown_timeout=10
    ):
        monthly_circulars_task.delay()  # what beat sends on the 2nd
        wait_for(
            lambda: CircularRun.objects.filter(
                county=world.county_a, status__in=["succeeded", "failed"]
            ).exists()
        )
        run = CircularRun.objects.get(county=world.county_a)
        circular_run_task.delay(run.pk)  # delivered again
        time.sleep(1)  # let the second delivery run too
    run.refresh_from_db()
    assert (run.status, run.error) == ("succeeded", "")
    circular = Circular.objects.get(county=world.county_a, period=period)
    assert run.circular == circular
    assert circular.status == "draft"
    # Four teams, N = 3: red from the upper half (ranks 1-2), black the lower half (3-4).
    assert sorted(circular.entries.values_list("kind", "rank")) == [
        ("black", 3),
        ("black", 4),
        ("red", 1),
        ("red", 2),
    ]
    assert circular.steps.count() == 1  # built once
    assert not CircularRun.objects.filter(county=world.county_b).exists()


def test_concurrent_publishes_never_share_a_number(world):
    teams = [world.team_a, *add_teams(world, 3)]
    drafts = []
    for month in (7, 8, 9, 10):
        period = dt.date(2026, month, 1)
        for rank, team in enumerate(teams, 1):
            place(world, team, period, rank, len(teams))
        drafts.append(services.circular_build(county=world.county_a, period=period).pk)
    barrier = threading.Barrier(len(drafts))
    numbers, errors = [], []

    def publish(pk):
        try:
            barrier.wait()
            circular = services.circular_publish(
                circular=Circular.objects.get(pk=pk), actor=world.official_a
            )
            numbers.append(circular.number)
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=publish, args=(pk,)) for pk in drafts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    year = timezone.localdate().year
    assert sorted(numbers) == [f"清驻组〔{year}〕{n}号" for n in (1, 2, 3, 4)]
    assert Circular.objects.filter(status="published").count() == 4
