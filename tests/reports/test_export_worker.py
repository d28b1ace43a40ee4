"""The export job on a real Celery worker (Redis broker): delivered twice, it runs once and
leaves one file; while it reads, its progress is visible to the progress page; asked for
through the API, it is queued after commit, run, followed and downloaded."""

import time
import uuid

import openpyxl
import pytest
from celery.contrib.testing.worker import start_worker
from django.db import connections
from django.test import Client

from accounts.roles import Role
from accounts.services import api_token_issue
from config.celery import app as celery_app
from reports.exports import runner
from reports.models import ExportJob
from reports.tasks import export_job_run_task

from .. import factories as f


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def worker():
    """A real worker (solo pool) consuming a queue of the test's own; yields the queue."""
    queue = f"test-{uuid.uuid4().hex[:8]}"
    with start_worker(
        celery_app, pool="solo", perform_ping_check=False, queues=[queue], shutdown_timeout=10
    ):
        yield queue


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_export_runs_once_on_a_real_worker(world, media, worker):
    for i in range(5):
        household = f.household(world.village_a, f"{world.village_a.code}05{i:02d}")
        f.member(household, f"户主{i}", relation="head")
    job = world.export_a
    for _ in range(2):  # delivered twice
        export_job_run_task.apply_async(args=[job.pk], queue=worker)
    deadline = time.monotonic() + 60
    while ExportJob.objects.get(pk=job.pk).status in ("pending", "running"):
        assert time.monotonic() < deadline, "the worker did not run the task"
        time.sleep(0.1)
    time.sleep(0.5)  # let the second delivery run too
    job.refresh_from_db()
    assert (job.status, job.error, job.row_count, job.progress) == ("succeeded", "", 6, 6)
    files = [p for p in media.rglob("*") if p.is_file()]
    assert [p.relative_to(media).as_posix() for p in files] == [job.file.name]
    sheet = openpyxl.load_workbook(files[0]).active
    assert sheet.max_row == 7
    assert {row[0].value for row in sheet.iter_rows(min_row=2)} >= {world.household_a.code}


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_progress_is_seen_by_others_while_the_export_reads(world, media, settings, monkeypatch):
    """The export reads in its own REPEATABLE READ transaction; its progress goes through a
    second connection, so another session (the progress page) sees it move."""
    for i in range(6):
        household = f.household(world.village_a, f"{world.village_a.code}06{i:02d}")
        f.member(household, f"户主{i}", relation="head")
    settings.ZHUCUN_EXPORT_CHUNK_ROWS = 2
    monkeypatch.setattr(runner, "PROGRESS_SECONDS", 0)
    seen = []
    observer = connections.create_connection("default")
    original = runner.ProgressWriter.__call__

    def watched(self, done, **kwargs):
        original(self, done, **kwargs)
        with observer.cursor() as cursor:
            cursor.execute("SELECT progress, total FROM reports_exportjob WHERE id = %s", [job.pk])
            seen.append(cursor.fetchone())

    monkeypatch.setattr(runner.ProgressWriter, "__call__", watched)
    job = world.export_a
    ExportJob.objects.filter(pk=job.pk).update(status="running")
    job.refresh_from_db()
    try:
        result, tmp = runner.run_export(job)
        tmp.close()
    finally:
        observer.close()
    assert result.rows == 7
    assert seen == [(2, 7), (4, 7), (6, 7)]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_an_api_request_round_trip_on_a_real_worker(world, media, worker, monkeypatch):
    """The province's token asks, the service queues the task once the request's
    transaction has committed (here onto the worker's queue), the worker runs it, the
    client follows the job and downloads its file."""
    monkeypatch.setattr(
        export_job_run_task,
        "delay",
        lambda *args: export_job_run_task.apply_async(args=args, queue=worker),
    )
    province = f.user("province_sx", Role.PROVINCE, world.province)
    _token, key = api_token_issue(user=province, name="省级系统", actor=None)
    client = Client(headers={"authorization": f"Token {key}"})
    response = client.post(
        "/api/v1/exports/",
        {"profile": "member_system", "format": "csv"},
        content_type="application/json",
    )
    assert response.status_code == 202, response.content
    deadline = time.monotonic() + 60
    while (job := client.get(response["Location"]).json())["status"] in ("pending", "running"):
        assert time.monotonic() < deadline, "the worker did not run the task"
        time.sleep(0.1)
    assert (job["status"], job["row_count"], job["error"]) == ("succeeded", 2, "")
    download = client.get(job["download_url"])
    assert download.status_code == 200
    assert download["Content-Type"] == "text/csv; charset=utf-8"
    text = b"".join(download.streaming_content).decode("utf-8-sig")
    assert world.household_a.code in text
    assert world.household_b.code in text
