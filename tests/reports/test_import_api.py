"""Excel imports through the REST API: upload → dry-run report → confirm → commit, the same
services and rules as the admin; hostile uploads, who may, scope, CSRF, query counts, and one
flow end to end on a real Celery worker."""

import io
import time
import uuid

import openpyxl
import pghistory.models
import pytest
from celery.contrib.testing.worker import start_worker
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.models import ApiPull
from accounts.roles import Role
from config.celery import app as celery_app
from households.models import Household, Member
from reports import tasks
from reports.imports import services
from reports.imports.progress import Progress
from reports.models import ImportJob

from .. import factories as f
from ..api.conftest import (
    callers,  # noqa: F401 - the fixture of every role
    session_client,
)
from .import_builders import member_row, upload
from .test_import_admin import households_file, wait
from .test_import_households import check
from .test_import_upload import (
    BILLION_LAUGHS,
    replace_part,
    zip_bomb,  # noqa: F401 - the session fixture
)

BASE = "/api/v1/imports/"
MISSING = 987654321


def post_file(client, content, layout="households", name="帮扶户.xlsx", **extra):
    return client.post(BASE, {"layout": layout, "file": upload(content, name)}, **extra)


def bad_and_good_files(world):
    """A file whose second row has an ID number with a wrong check digit, and the same file
    fixed."""
    v = world.village_a
    head, spouse = f.id_number(), f.id_number()
    wrong = spouse[:17] + ("1" if spouse[17] != "1" else "2")
    bad = [member_row(v, "H1", "张三", head, "户主"), member_row(v, "H1", "李四", wrong, "配偶")]
    good = [member_row(v, "H1", "张三", head, "户主"), member_row(v, "H1", "李四", spouse, "配偶")]
    return households_file(world, bad), households_file(world, good), spouse


def new_jobs(world):
    return ImportJob.objects.exclude(pk__in=[world.import_a.pk, world.import_b.pk])


def test_layouts_name_what_the_caller_may_import_with_templates(world):
    county = session_client(world.official_a)
    layouts = county.get(f"{BASE}layouts/")
    assert layouts.status_code == 200
    titles = {row["layout"]: row["title"] for row in layouts.json()}
    assert titles["households"] == "帮扶户及家庭成员（系统格式）"
    assert set(titles) == {"households", "households_national", "cadres", "units"}
    households = next(row for row in layouts.json() if row["layout"] == "households")
    assert "身份证号" in households["required_columns"]
    template = county.get(households["template_url"])
    assert template.status_code == 200
    assert template["Content-Type"].startswith("application/vnd.openxmlformats")
    book = openpyxl.load_workbook(io.BytesIO(template.content))
    assert "*身份证号" in [c.value for c in book.worksheets[0][1]]

    township = session_client(world.township_official_a)
    mine = {row["layout"] for row in township.get(f"{BASE}layouts/").json()}
    assert mine == {"households", "households_national"}  # no cadres, no units
    assert township.get(f"{BASE}layouts/cadres/template/").status_code == 404
    assert township.get(f"{BASE}layouts/nothing/template/").status_code == 404


def test_upload_problems_fix_confirm_and_rows_written(world, django_capture_on_commit_callbacks):
    client = session_client(world.official_a)
    bad, good, spouse = bad_and_good_files(world)
    before = (Household.objects.count(), Member.objects.count())

    with django_capture_on_commit_callbacks() as queued:
        response = post_file(client, bad)
    assert response.status_code == 202, response.json()
    body = response.json()
    job = ImportJob.objects.get(pk=body["id"])
    assert response["Location"].endswith(f"{BASE}{job.pk}/")
    assert (body["status"], body["status_display"]) == ("pending", "排队校验")
    assert body["progress"]["phase"] == "queued"
    assert len(queued) == 1  # the dry run, queued after commit

    services.import_job_check(job_id=job.pk)  # the task's body, as the admin tests run it
    detail = client.get(response["Location"]).json()
    assert (detail["status"], detail["bad_rows"], detail["problem_count"]) == ("invalid", 1, 1)
    assert detail["progress"] is None
    assert detail["can_confirm"] is False
    (problem,) = detail["problems"]
    assert (problem["sheet"], problem["row"], problem["column"]) == ("帮扶户", 3, "身份证号")
    assert "身份证号校验位不正确" in problem["message"]
    assert "*" in problem["value"]
    assert spouse[6:14] not in response.content.decode() + str(detail)  # masked

    report = client.get(detail["report_url"])
    assert report.status_code == 200
    marked = openpyxl.load_workbook(io.BytesIO(b"".join(report.streaming_content)))
    cells = [[c.value for c in r] for r in marked.worksheets[0].iter_rows()]
    assert cells[0][:2] == ["原行号", "问题"]
    assert spouse[6:14] not in str(cells)

    with django_capture_on_commit_callbacks() as queued:
        refused = client.post(f"{BASE}{job.pk}/confirm/")
    assert refused.status_code == 409
    assert "校验发现 1 行有问题，不能确认导入" in refused.json()["message"]
    assert refused.json()["extra"]["status"] == "invalid"
    assert not queued
    assert (Household.objects.count(), Member.objects.count()) == before

    fixed = post_file(client, good).json()
    services.import_job_check(job_id=fixed["id"])
    detail = client.get(fixed["url"]).json()
    assert (detail["status"], detail["problems"], detail["report_url"]) == ("ready", [], None)
    assert detail["counts"]["members"] == {"created": 2, "updated": 0, "unchanged": 0}
    assert detail["can_confirm"] is True
    colleague = f.user("official_a2", Role.COUNTY_ADMIN, world.county_a, full_name="清徐县同事")
    confirming = session_client(colleague)  # a colleague of the county confirms, as in the admin
    with django_capture_on_commit_callbacks() as queued:
        confirmed = confirming.post(f"{BASE}{fixed['id']}/confirm/")
    assert confirmed.status_code == 202
    assert (confirmed.json()["status"], confirmed.json()["confirmed_by"]) == (
        "confirmed",
        "清徐县同事",
    )
    assert len(queued) == 1  # the commit
    with django_capture_on_commit_callbacks() as queued:
        again = client.post(f"{BASE}{fixed['id']}/confirm/")
    assert (again.status_code, again.json()["status"], len(queued)) == (200, "confirmed", 0)

    services.import_job_commit(job_id=fixed["id"])
    done = client.get(fixed["url"]).json()
    assert (done["status"], done["counts"]["households"]["created"]) == ("done", 1)
    assert Member.objects.filter(household__code="H1").count() == 2
    (event,) = pghistory.models.Events.objects.filter(
        pgh_obj_model="households.Household",
        pgh_obj_id=str(Household.objects.get(code="H1").pk),
    )
    assert event.pgh_context["source"] == "import"
    assert event.pgh_context["actor"] == colleague.username  # who confirmed
    assert client.post(f"{BASE}{fixed['id']}/cancel/").status_code == 409  # imported: final


def test_many_problems_are_capped_with_their_total(world, monkeypatch):
    from reports import api_imports

    monkeypatch.setattr(api_imports, "PROBLEMS_SHOWN", 2)
    v = world.village_a
    rows = [member_row(v, f"P{n}", f"户主{n}", "123", "户主") for n in range(3)]
    job = check(world.official_a, households_file(world, rows))
    detail = session_client(world.official_a).get(f"{BASE}{job.pk}/").json()
    assert (detail["problem_count"], detail["bad_rows"]) == (3, 3)
    assert [p["row"] for p in detail["problems"]] == [2, 3]  # the first, in file order


def test_progress_shows_the_phase_and_percentage_while_a_check_runs(world, monkeypatch):
    client = session_client(world.official_a)
    job = ImportJob.objects.get(pk=post_file(client, households_file(world)).json()["id"])
    seen = {}

    class Watched(Progress):
        def __call__(self, phase, done, total):
            super().__call__(phase, done, total)
            seen.setdefault(phase, client.get(f"{BASE}{job.pk}/").json())

    monkeypatch.setattr(services, "Progress", Watched)
    services.import_job_check(job_id=job.pk)
    running = seen["check"]  # the households' check starts at 70 % of a dry run
    assert running["status"] == "checking"
    assert running["progress"]["phase"] == "check"
    assert running["progress"]["phase_display"] == "校验"
    assert running["progress"]["percent"] == 70
    listed = client.get(BASE).json()["results"]
    assert listed[0]["id"] == job.pk
    assert listed[0]["progress"] is None  # finished: no progress any more


def test_cancel_drops_the_job_and_its_file(world, django_capture_on_commit_callbacks):
    client = session_client(world.official_a)
    job = check(world.official_a, households_file(world))
    storage, name = job.file.storage, job.file.name
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"{BASE}{job.pk}/cancel/")
    assert (response.status_code, response.json()["status"]) == (200, "cancelled")
    assert not storage.exists(name)
    assert client.post(f"{BASE}{job.pk}/cancel/").status_code == 200  # again: nothing to do
    refused = client.post(f"{BASE}{job.pk}/confirm/")
    assert refused.status_code == 409
    assert "只有校验通过的导入才能确认" in refused.json()["message"]
    # every answer is in the API's call log, for the audit administrator
    logged = ApiPull.objects.filter(resource="imports").order_by("id")
    assert [(p.action, p.status, p.user) for p in logged] == [
        ("cancel", 200, world.official_a),
        ("cancel", 200, world.official_a),
        ("confirm", 409, world.official_a),
    ]


@pytest.mark.parametrize("hostile", ["zip bomb", "billion laughs"])
def test_a_hostile_upload_is_a_quick_400_and_leaves_nothing(
    world,
    zip_bomb,  # noqa: F811
    media,
    hostile,
):
    content = {
        "zip bomb": zip_bomb,
        "billion laughs": replace_part(
            households_file(world), "xl/worksheets/sheet1.xml", BILLION_LAUGHS
        ),
    }[hostile]
    client = session_client(world.official_a)
    started = time.perf_counter()
    response = post_file(client, content)
    assert time.perf_counter() - started < 2.0
    assert response.status_code == 400
    expected = {"zip bomb": "压缩炸弹", "billion laughs": "XML 实体"}[hostile]
    assert expected in response.json()["message"]
    assert not new_jobs(world).exists()  # no job row, as in the admin
    assert not (media / "imports").exists()  # and no file


def test_bad_uploads_are_400_in_chinese(world):
    client = session_client(world.official_a)
    missing = client.post(BASE, {"layout": "households"})
    assert missing.status_code == 400
    assert missing.json()["extra"]["fields"]["file"] == ["请选择要上传的 Excel 文件（.xlsx）。"]
    unknown = post_file(client, households_file(world), layout="nothing")
    assert unknown.json()["extra"]["fields"]["layout"] == ["未知的导入内容：nothing"]
    csv = post_file(client, "姓名,身份证号\n张三,1".encode(), name="帮扶户.csv")
    assert csv.status_code == 400
    assert "不是 Excel 工作簿" in csv.json()["message"]
    assert not new_jobs(world).exists()


def test_an_oversized_body_is_refused_before_it_is_read(world, settings, monkeypatch):
    from django.http import multipartparser

    settings.ZHUCUN_IMPORT_MAX_BYTES = 2**20
    client = Client(enforce_csrf_checks=True)  # the CSRF check would read the form first
    client.force_login(world.official_a)
    client.get("/admin/reports/importjob/upload/")
    token = client.cookies["csrftoken"].value

    def never(*args, **kwargs):
        raise AssertionError("the body was parsed")

    monkeypatch.setattr(multipartparser.MultiPartParser, "parse", never)
    body = b"PK\x03\x04" + bytes(3 * 2**20)
    response = post_file(client, body, headers={"X-CSRFToken": token})
    assert response.status_code == 400
    assert response.json()["message"] == "文件过大，单个文件不能超过 1 MB，请分成几个文件导入。"
    assert not new_jobs(world).exists()
    assert not ApiPull.objects.exists()  # refused before it was authenticated: not logged


def test_a_file_over_the_limit_within_the_form_allowance_is_refused_by_the_checks(world, settings):
    content = households_file(world)
    settings.ZHUCUN_IMPORT_MAX_BYTES = len(content) - 1
    response = post_file(session_client(world.official_a), content)
    assert response.status_code == 400
    assert "文件过大" in response.json()["message"]
    assert not new_jobs(world).exists()


def test_session_posts_need_the_csrf_token(world):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.official_a)
    refused = post_file(client, households_file(world))
    assert refused.status_code == 403
    assert refused.json()["message"].startswith("CSRF 校验失败")
    assert not new_jobs(world).exists()
    client.get("/admin/reports/importjob/upload/")  # a page of the site hands out the token
    token = client.cookies["csrftoken"].value
    accepted = post_file(client, households_file(world), headers={"X-CSRFToken": token})
    assert accepted.status_code == 202
    confirm = client.post(f"{BASE}{accepted.json()['id']}/confirm/")
    assert confirm.status_code == 403  # every POST, not only the upload
    nowhere = client.post(f"{BASE}1000000000000000000/confirm/")  # no such address
    assert (nowhere.status_code, nowhere.json()["message"]) == (404, "接口地址不存在。")


def test_who_may_import(world, callers):  # noqa: F811
    content = households_file(world)
    anonymous = Client()
    for url in (BASE, f"{BASE}layouts/", f"{BASE}{world.import_a.pk}/"):
        response = anonymous.get(url)
        assert response.status_code == 401, url
        assert response.json()["message"] == "身份认证信息未提供。"
    assert post_file(anonymous, content).status_code == 401
    assert anonymous.post(f"{BASE}{world.import_a.pk}/confirm/").status_code == 401

    province = callers["province"].client  # a read-only token
    response = post_file(province, content)
    assert response.status_code == 403
    assert response.json()["message"] == "接口令牌只能读取数据，不能导入或更改导入。"
    assert province.post(f"{BASE}{world.import_a.pk}/cancel/").status_code == 403
    assert province.get(BASE).status_code == 403  # nor does its role read imports

    for name in ("team_member", "inspector", "system_admin"):
        client = callers[name].client
        for response in (
            client.get(BASE),
            client.get(f"{BASE}layouts/"),
            client.get(f"{BASE}{world.import_a.pk}/"),
            post_file(client, content),
        ):
            assert response.status_code == 403, name
            assert response.json()["message"], name

    city = callers["city"].client  # reads its counties' imports, as in the admin; imports none
    assert {row["id"] for row in city.get(BASE).json()["results"]} == {
        world.import_a.pk,
        world.import_b.pk,
    }
    assert post_file(city, content).status_code == 403
    assert city.post(f"{BASE}{world.import_a.pk}/cancel/").status_code == 403
    assert city.get(f"{BASE}layouts/").status_code == 403

    township = session_client(world.township_official_a)  # households only
    refused = post_file(township, content, layout="cadres")
    assert refused.status_code == 403
    assert refused.json()["message"] == "您没有导入干部及驻村任职的权限。"
    assert not new_jobs(world).exists()
    world.import_a.refresh_from_db()
    assert world.import_a.status == "invalid"


def test_another_countys_job_and_report_are_404(world):
    """The scope test of /api/v1/imports/ (tests/api/cases.py)."""
    theirs = check(world.official_b, households_file(world))  # county B's, with a report
    assert theirs.report
    client = session_client(world.official_a)
    for suffix in ("", "report/"):
        missing = client.get(f"{BASE}{MISSING}/{suffix}")
        assert missing.status_code == 404
        assert client.get(f"{BASE}{theirs.pk}/{suffix}").json() == missing.json()
    for step in ("confirm", "cancel"):
        missing = client.post(f"{BASE}{MISSING}/{step}/")
        assert missing.status_code == 404
        assert client.post(f"{BASE}{theirs.pk}/{step}/").json() == missing.json()
    listed = {row["id"] for row in client.get(BASE).json()["results"]}
    assert theirs.pk not in listed
    assert world.import_b.pk not in listed
    theirs.refresh_from_db()
    assert theirs.status == "invalid"

    # A colleague of the same county sees, confirms or cancels it, as in the admin; the
    # township's staff see only their township's imports, as in the admin.
    mine = check(world.official_a, households_file(world))
    colleague = session_client(f.user("official_a2", Role.COUNTY_ADMIN, world.county_a))
    assert colleague.get(f"{BASE}{mine.pk}/").status_code == 200
    assert colleague.get(f"{BASE}{theirs.pk}/").status_code == 404
    township = session_client(world.township_official_a)
    assert township.get(f"{BASE}{mine.pk}/").status_code == 404
    assert set(ImportJob.objects.visible_to(world.township_official_a)) == set()


def test_the_list_is_newest_first_and_its_queries_do_not_grow(world):
    client = session_client(world.official_a)

    def listed():
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(BASE, {"page_size": 100})
        assert response.status_code == 200
        return len(ctx.captured_queries), response.json()

    client.get(BASE)  # the session's first use
    small, body = listed()
    assert body["count"] == 1
    for n in range(6):  # running and finished jobs, with and without a confirming user
        job = check(world.official_a, households_file(world), name=f"第{n}批.xlsx")
        if n % 2:
            services.import_job_confirm(job=job, user=world.official_a)
    post_file(client, households_file(world))  # pending
    large, body = listed()
    assert body["count"] == 8
    # 8: the session, its user, the user's region (the scope), the count, the page of jobs
    # with both users in one query, and the session's save (a savepoint, the update, its
    # release); the progress of running jobs comes from the cache in one round trip
    assert large == small, (small, large)
    created = [row["created_at"] for row in body["results"]]
    assert created == sorted(created, reverse=True)
    ids = [row["id"] for row in body["results"]]
    assert ids[0] == max(ids)
    assert client.get(BASE, {"page_size": 0}).status_code == 400
    assert client.get(BASE, {"page": "x"}).status_code == 400


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_real_worker_checks_and_commits_an_api_import(world, monkeypatch):
    queue = f"test-{uuid.uuid4().hex[:8]}"
    for task in (tasks.import_job_check_task, tasks.import_job_commit_task):
        monkeypatch.setattr(
            task, "delay", lambda job_id, task=task: task.apply_async(args=[job_id], queue=queue)
        )
    bad, good, spouse = bad_and_good_files(world)
    client = session_client(world.official_a)
    with start_worker(
        celery_app, pool="solo", perform_ping_check=False, queues=[queue], shutdown_timeout=10
    ):
        response = post_file(client, bad)
        assert response.status_code == 202
        job = ImportJob.objects.get(pk=response.json()["id"])
        wait_for(job, "invalid")
        detail = client.get(response["Location"]).json()
        assert detail["problems"][0]["message"].startswith("身份证号校验位不正确")
        assert spouse[6:14] not in str(detail)
        assert client.post(f"{BASE}{job.pk}/confirm/").status_code == 409

        fixed = post_file(client, good).json()
        job = ImportJob.objects.get(pk=fixed["id"])
        wait(job, "ready")
        assert client.post(f"{BASE}{job.pk}/confirm/").status_code == 202
        wait(job, "done")
    assert client.get(fixed["url"]).json()["counts"]["members"]["created"] == 2
    assert Member.objects.filter(household__code="H1").count() == 2
    (event,) = pghistory.models.Events.objects.filter(
        pgh_obj_model="households.Household",
        pgh_obj_id=str(Household.objects.get(code="H1").pk),
    )
    assert event.pgh_context["source"] == "import"
    assert event.pgh_context["actor"] == world.official_a.username


def wait_for(job, status, seconds=60):
    deadline = time.monotonic() + seconds
    while ImportJob.objects.get(pk=job.pk).status != status:
        assert time.monotonic() < deadline, ImportJob.objects.get(pk=job.pk).status
        time.sleep(0.1)
