"""The yearly fill job on a real Celery worker (not under a frozen clock)."""

import time
import uuid

import pytest
from celery.contrib.testing.worker import start_worker
from django.utils import timezone

from assessments.models import Assessment, AssessmentRun
from assessments.tasks import assessment_fill_task
from config.celery import app as celery_app

from .test_yearly import grow


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_fill_runs_once_on_a_real_worker(world):
    grow(world, 2)
    Assessment.objects.filter(county=world.county_a).delete()
    run = AssessmentRun.objects.create(county=world.county_a, year=2026)
    queue = f"test-{uuid.uuid4().hex[:8]}"
    with start_worker(
        celery_app, pool="solo", perform_ping_check=False, queues=[queue], shutdown_timeout=10
    ):
        for _ in range(2):  # delivered twice
            assessment_fill_task.apply_async(args=[run.pk], queue=queue)
        deadline = time.monotonic() + 30
        while AssessmentRun.objects.get(pk=run.pk).status in ("pending", "running"):
            assert time.monotonic() < deadline, "the worker did not run the task"
            time.sleep(0.1)
        time.sleep(0.5)  # let the second delivery run too
    run.refresh_from_db()
    # 7 cadres (the world's and 3 + 3) and 3 teams, made once.
    assert (run.status, run.created, run.updated, run.error) == ("succeeded", 10, 0, "")
    assert Assessment.objects.filter(county=world.county_a).count() == 10
    assert run.finished_at <= timezone.now()
