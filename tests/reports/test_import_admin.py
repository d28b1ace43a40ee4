"""The admin pages of imports (upload → dry-run report → confirm), their files and scope,
the templates, the query count of the list, and the job run by a real Celery worker."""

import io
import time
import uuid

import openpyxl
import pytest
from celery.contrib.testing.worker import start_worker
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from config.celery import app as celery_app
from households.models import Household, Member
from reports import tasks
from reports.imports import services
from reports.models import ImportJob

from .. import factories as f
from .import_builders import headers, member_row, upload, xlsx
from .test_import_households import check
from .test_import_upload import zip_bomb  # noqa: F401 - the session fixture


def households_file(world, rows=None):
    v = world.village_a
    rows = rows or [
        member_row(v, "H1", "张三", f.id_number(), "户主"),
        member_row(v, "H1", "李四", f.id_number(), "配偶"),
    ]
    return xlsx(rows, headers=headers())


def test_upload_then_report_then_confirm(client, world, django_capture_on_commit_callbacks):
    client.force_login(world.official_a)
    page = client.get(reverse("admin:reports_importjob_upload"))
    assert page.status_code == 200
    assert "帮扶户及家庭成员（系统格式）" in page.content.decode()
    with django_capture_on_commit_callbacks() as queued:
        response = client.post(
            reverse("admin:reports_importjob_upload"),
            {"layout": "households", "file": upload(households_file(world))},
        )
    job = ImportJob.objects.get(requested_by=world.official_a, original_name="帮扶户.xlsx")
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:reports_importjob_change", args=[job.pk])
    assert len(queued) == 1  # the dry run is queued after commit
    page = client.get(response["Location"])
    assert 'http-equiv="refresh"' in page.content.decode()  # pending: the page follows it

    services.import_job_check(job_id=job.pk)
    page = client.get(reverse("admin:reports_importjob_change", args=[job.pk])).content.decode()
    assert "确认导入" in page
    assert 'http-equiv="refresh"' not in page
    with django_capture_on_commit_callbacks() as queued:
        client.post(reverse("admin:reports_importjob_confirm", args=[job.pk]))
    job.refresh_from_db()
    assert (job.status, job.confirmed_by, len(queued)) == ("confirmed", world.official_a, 1)
    services.import_job_commit(job_id=job.pk)
    page = client.get(reverse("admin:reports_importjob_change", args=[job.pk])).content.decode()
    assert "导入结果" in page
    assert Member.objects.filter(household__code="H1").count() == 2


def test_the_problem_list_and_its_marked_report(client, world):
    v = world.village_a
    number = f.id_number()
    rows = [member_row(v, "H1", "张三", number[:17] + ("1" if number[17] != "1" else "2"), "户主")]
    job = check(world.official_a, households_file(world, rows))
    client.force_login(world.official_a)
    page = client.get(reverse("admin:reports_importjob_change", args=[job.pk])).content.decode()
    assert "发现 1 行有问题" in page
    assert "身份证号校验位不正确" in page
    assert number[6:14] not in page  # masked
    response = client.get(reverse("admin:reports_importjob_report", args=[job.pk]))
    assert response.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    sheet = book[book.sheetnames[0]]
    header = [c.value for c in sheet[1]]
    assert header[:2] == ["原行号", "问题"]
    bad = sheet.cell(row=2, column=header.index("身份证号") + 1)
    assert bad.fill.fgColor.rgb.endswith("F4B6B6")
    assert "校验位" in bad.comment.text
    assert "*" in bad.value
    assert number[6:14] not in str([[c.value for c in r] for r in sheet.iter_rows()])


def test_the_job_page_shows_the_phase_and_percentage_while_a_check_runs(client, world, monkeypatch):
    from reports.imports.progress import Progress

    client.force_login(world.official_a)
    job = services.import_job_create(
        user=world.official_a, layout="households", upload=upload(households_file(world))
    )
    url = reverse("admin:reports_importjob_change", args=[job.pk])
    seen = {}

    class Watched(Progress):
        def __call__(self, phase, done, total):
            super().__call__(phase, done, total)
            seen.setdefault(phase, client.get(url).content.decode())

    monkeypatch.setattr(services, "Progress", Watched)
    waiting = client.get(url).content.decode()
    assert "排队等待" in waiting
    services.import_job_check(job_id=job.pk)
    page = seen["check"]  # the households' check starts at 70 % of a dry run
    assert "校验中" in page
    progress = page[page.index('id="progress"') :]
    progress = progress[: progress.index("</td>")]
    assert "校验" in progress
    assert 'value="70"' in progress
    assert "70%" in progress
    assert 'id="progress"' not in client.get(url).content.decode()  # done: no bar any more


def test_another_countys_job_and_files_are_404(client, world):
    job = check(world.official_b, households_file(world))  # county B's (its rows: out of scope)
    assert job.report  # it has a report of problems
    client.force_login(world.official_a)
    for name in ("report", "confirm", "cancel"):
        url = reverse(f"admin:reports_importjob_{name}", args=[job.pk])
        missing = reverse(f"admin:reports_importjob_{name}", args=[987654321])
        assert client.get(url).status_code == client.get(missing).status_code == 404
        assert client.post(url).status_code == 404
    job.refresh_from_db()
    assert job.status == "invalid"


def test_a_hostile_upload_is_refused_on_the_page(client, world, zip_bomb):  # noqa: F811
    client.force_login(world.official_a)
    page = client.post(
        reverse("admin:reports_importjob_upload"),
        {"layout": "households", "file": upload(zip_bomb)},
    )
    assert page.status_code == 200
    assert "压缩炸弹" in page.content.decode()
    assert not ImportJob.objects.exclude(pk__in=[world.import_a.pk, world.import_b.pk]).exists()


def test_what_a_township_official_may_import(client, world):
    client.force_login(world.township_official_a)
    page = client.get(reverse("admin:reports_importjob_upload")).content.decode()
    assert "帮扶户及家庭成员" in page
    assert "干部及驻村任职" not in page
    response = client.post(
        reverse("admin:reports_importjob_upload"),
        {"layout": "cadres", "file": upload(households_file(world))},
    )
    assert "选择一个有效的选项" in response.content.decode()
    assert (
        client.get(reverse("admin:reports_importjob_template", args=["cadres"])).status_code == 404
    )
    client.force_login(world.member_a)  # a team member has no admin at all
    assert client.get(reverse("admin:reports_importjob_upload")).status_code == 302


def test_the_template_imports_when_filled(client, world):
    client.force_login(world.official_a)
    response = client.get(reverse("admin:reports_importjob_template", args=["households"]))
    assert response.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    sheet = book.worksheets[0]
    assert sheet.freeze_panes == "A2"
    titles = [c.value for c in sheet[1]]
    assert "*户编号" in titles
    assert "*身份证号" in titles
    letter = openpyxl.utils.get_column_letter(titles.index("*身份证号") + 1)
    assert sheet.column_dimensions[letter].number_format == "@"
    relation = openpyxl.utils.get_column_letter(titles.index("*与户主关系") + 1)
    lists = {str(dv.sqref).split(":")[0]: dv for dv in sheet.data_validations.dataValidation}
    assert lists[f"{relation}2"].type == "list"
    codes = book["代码表"]
    assert codes.sheet_state == "hidden"
    assert "户主" in [c.value for c in codes[lists[f"{relation}2"].formula1.split("!")[1][1]]]
    assert "填写说明" in book.sheetnames
    # Filled in (as a user would, under the template's own header), it imports.
    values = dict(zip([t.lstrip("*") for t in titles], [None] * len(titles), strict=True))
    number = f.id_number()
    values.update(
        {
            "行政村代码": world.village_a.code,
            "户编号": "T1",
            "户状态": "已脱贫",
            "主要致贫原因": "因病",
            "识别年份": 2016,
            "姓名": "模板户主",
            "身份证号": number,
            "与户主关系": "户主",
            "入户日期": "2016-01-01",
        }
    )
    for col, title in enumerate(titles, 1):
        sheet.cell(row=2, column=col, value=values[title.lstrip("*")])
    buffer = io.BytesIO()
    book.save(buffer)
    job = check(world.official_a, buffer.getvalue(), name="模板.xlsx")
    assert (job.status, job.counts["members"]["created"]) == ("ready", 1)


def test_cancel_deletes_the_file(client, world, django_capture_on_commit_callbacks):
    job = check(world.official_a, households_file(world))
    storage, name = job.file.storage, job.file.name
    assert storage.exists(name)
    client.force_login(world.official_a)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("admin:reports_importjob_cancel", args=[job.pk]))
    job.refresh_from_db()
    assert job.status == "cancelled"
    assert not storage.exists(name)


def test_only_someone_who_may_import_cancels(client, world):
    from accounts.roles import Role

    job = check(world.official_a, households_file(world))
    city = f.user("city_ty", Role.CITY, world.city)  # sees the county's imports, imports none
    client.force_login(city)
    assert client.get(reverse("admin:reports_importjob_change", args=[job.pk])).status_code == 200
    page = client.post(reverse("admin:reports_importjob_cancel", args=[job.pk]), follow=True)
    assert "您没有导入帮扶户及家庭成员（系统格式）的权限。" in page.content.decode()
    job.refresh_from_db()
    assert job.status == "ready"
    assert job.file.storage.exists(job.file.name)


def test_changelist_query_count_does_not_grow(client, world):
    client.force_login(world.official_a)
    url = reverse("admin:reports_importjob_changelist")

    def queries():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return len(ctx.captured_queries)

    few = queries()
    for n in range(10):
        check(world.official_a, households_file(world), name=f"第{n}批.xlsx")
    # session, user, (count and) the page of jobs with their uploader in one query
    assert queries() == few


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_real_worker_checks_and_commits_once(world, monkeypatch):
    queue = f"test-{uuid.uuid4().hex[:8]}"
    for task in (tasks.import_job_check_task, tasks.import_job_commit_task):
        monkeypatch.setattr(
            task, "delay", lambda job_id, task=task: task.apply_async(args=[job_id], queue=queue)
        )
    with start_worker(
        celery_app, pool="solo", perform_ping_check=False, queues=[queue], shutdown_timeout=10
    ):
        job = services.import_job_create(
            user=world.official_a, layout="households", upload=upload(households_file(world))
        )
        wait(job, "ready")
        services.import_job_confirm(job=job, user=world.official_a)
        tasks.import_job_commit_task.apply_async(args=[job.pk], queue=queue)  # delivered twice
        wait(job, "done")
        time.sleep(0.5)  # let the second delivery run too
    assert Household.objects.filter(code="H1").count() == 1
    assert Member.objects.filter(household__code="H1").count() == 2
    assert ImportJob.objects.get(pk=job.pk).counts["households"]["created"] == 1
    import pghistory.models

    (event,) = pghistory.models.Events.objects.filter(
        pgh_obj_model="households.Household", pgh_obj_id=str(Household.objects.get(code="H1").pk)
    )
    assert event.pgh_context["source"] == "import"  # the worker's task context, made "import"
    assert event.pgh_context["actor"] == world.official_a.username


def wait(job, status, seconds=60):
    deadline = time.monotonic() + seconds
    while (current := ImportJob.objects.get(pk=job.pk).status) != status:
        assert current not in ("failed", "invalid"), ImportJob.objects.get(pk=job.pk).error
        assert time.monotonic() < deadline, f"the worker did not finish: {current}"
        time.sleep(0.1)


@pytest.mark.parametrize("layout", ["households", "households_national", "cadres", "units"])
def test_every_template_is_recognised_by_the_importer(layout):
    from reports.imports.layouts import LAYOUTS
    from reports.imports.sheets import LayoutReader
    from reports.imports.upload import check_workbook
    from reports.imports.workbooks import template
    from reports.imports.xlsx import Workbook

    content = template(LAYOUTS[layout], ["已脱贫", "未脱贫"])
    book = Workbook(check_workbook(io.BytesIO(content), size=len(content)))
    reader = LayoutReader(book, LAYOUTS[layout])
    assert list(reader.rows()) == []  # an empty template has no data rows ...
    (header,) = reader.headers  # ... but its header is found, complete, on the first sheet
    assert header.complete
    assert header.sheet.name == book.sheets[0].name
    assert reader.skipped_sheets == ["填写说明"]  # the instructions; the code sheet is hidden


def test_old_files_are_purged_but_the_record_stays(world, settings):
    from django.utils import timezone

    settings.ZHUCUN_IMPORT_KEEP_DAYS = 30
    job = check(world.official_a, households_file(world))
    storage, name = job.file.storage, job.file.name
    ImportJob.objects.filter(pk=job.pk).update(
        updated_at=timezone.now() - timezone.timedelta(days=31)
    )
    fresh = check(world.official_a, households_file(world))
    assert services.import_files_purge() == 1
    assert not storage.exists(name)
    job.refresh_from_db()
    assert (job.file.name, job.status, job.rows) == ("", "ready", 2)
    fresh.refresh_from_db()
    assert storage.exists(fresh.file.name)
