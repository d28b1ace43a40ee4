"""With real workers: the beat tasks rank from the data and draft a circular end to end on a
Celery worker over Redis (delivered twice, one draft), and concurrent publishes never share a
number."""

import datetime as dt
import threading
import time
import uuid
from decimal import Decimal

import pytest
from celery.contrib.testing.worker import start_worker
from django.db import connection
from django.utils import timezone

from assessments.models import MonthlyRanking, RankingRun
from assessments.tasks import monthly_rankings_task
from config.celery import app as celery_app
from households import services as hs
from households.models import Household
from reports import services
from reports.models import Circular, CircularRun
from reports.tasks import circular_run_task, monthly_circulars_task
from teams.models import Assignment

from .. import factories as f
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


def test_monthly_jobs_rank_and_draft_from_the_data_on_a_real_worker(world):
    """What beat sends on the 1st and the 2nd, run by a real worker from crafted data: the
    rankings are computed from the month's visits, then the draft is built from them; the
    draft job sent twice and its run delivered again give one draft, built once.

    County A last month (scheme 40/30/10/20, nobody checked in): a team with no household
    (visits, 遍访, incomes complete: 60), a team with one of its two households visited by
    its leader (15 + 5 = 20), team A and a team of two unvisited households (0 each; the
    older team, A, first)."""
    period = last_month()
    Circular.objects.filter(county=world.county_a).delete()  # the world's draft
    empty, half, none = add_teams(world, 3)
    for team in (half, none):
        for n in (1, 2):
            f.household(team.village, f"{team.village.code}000{n}")
    leader = Assignment.objects.get(team=half, is_leader=True).cadre
    hs.visit_record(
        household=Household.objects.filter(village=half.village).order_by("code").first(),
        cadre=leader,
        visited_on=period + dt.timedelta(days=9),
        kind="in_person",
        seen="正常",
        client_key=uuid.uuid4(),
    )
    celery_app.control.purge()  # nothing stale on this test's Redis database
    default = celery_app.conf.task_default_queue
    with start_worker(
        celery_app, pool="solo", perform_ping_check=False, queues=[default], shutdown_timeout=10
    ):
        monthly_rankings_task.delay()  # the 1st
        wait_for(lambda: RankingRun.objects.filter(status__in=["succeeded", "failed"]).count() == 2)
        for _ in range(2):  # the 2nd, delivered twice
            monthly_circulars_task.delay()
        wait_for(
            lambda: CircularRun.objects.filter(
                county=world.county_a, status__in=["succeeded", "failed"]
            ).exists()
        )
        circular_run_task.delay(CircularRun.objects.get(county=world.county_a).pk)  # again
        time.sleep(1)  # let the second delivery run too
    runs = RankingRun.objects.order_by("county__code")
    assert [(r.county, r.period, r.status, r.teams) for r in runs] == [
        (world.county_a, period, "succeeded", 4),
        (world.county_b, period, "succeeded", 1),
    ]
    ranked = MonthlyRanking.objects.filter(county=world.county_a, period=period)
    assert list(ranked.order_by("rank").values_list("team", "score")) == [
        (empty.pk, Decimal("60.00")),
        (half.pk, Decimal("20.00")),
        (world.team_a.pk, Decimal("0.00")),
        (none.pk, Decimal("0.00")),
    ]
    (run,) = CircularRun.objects.filter(county=world.county_a)
    assert (run.status, run.error) == ("succeeded", "")
    circular = Circular.objects.get(county=world.county_a, period=period)
    assert (run.circular, circular.status, circular.steps.count()) == (circular, "draft", 1)
    assert list(circular.entries.order_by("kind", "rank").values_list("kind", "rank", "team")) == [
        ("black", 3, world.team_a.pk),
        ("black", 4, none.pk),
        ("red", 1, empty.pk),
        ("red", 2, half.pk),
    ]
    black = circular.entries.get(rank=4)
    assert "全县第4名（共4个工作队）" in black.facts
    assert not CircularRun.objects.filter(county=world.county_b).exists()  # B has its draft


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
