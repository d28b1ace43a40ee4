"""Export jobs through the API: the request (202, the identical request, bad input, who may),
status and progress, the requester-only download with its expiry, the list and its queries."""

import datetime as dt
import io
import re
from urllib.parse import unquote

import openpyxl
import pghistory.models
import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import ApiPull
from reports.exports import services
from reports.models import ExportJob
from reports.tasks import export_job_run_task
from tests import factories as f

from .conftest import Caller, csrf_client, session_client

URL = "/api/v1/exports/"
MISSING_ID = 987654321
CJK = re.compile(r"[\u4e00-\u9fff]")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def post(client, body, **extra):
    return client.post(URL, body, content_type="application/json", **extra)


def run(job_id: int) -> ExportJob:
    services.export_job_run(export_job_id=job_id)
    return ExportJob.objects.get(pk=job_id)


def file_name(response) -> str:
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment;"), disposition
    return unquote(disposition.split("filename*=utf-8''", 1)[1])


# --- the request ---------------------------------------------------------------------------


def test_a_request_is_a_job_queued_after_commit(
    world, callers, monkeypatch, django_capture_on_commit_callbacks
):
    province = callers["province"]
    sent = []
    monkeypatch.setattr(export_job_run_task, "delay", lambda *args: sent.append(args))
    body = {
        "profile": "member_national",
        "format": "csv",
        "filters": {"county": world.county_a.pk, "relation__exact": "head", "year": 2026},
    }
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = post(province.client, body, REMOTE_ADDR="10.1.2.3")
        assert sent == []  # nothing leaves before the commit
    assert response.status_code == 202, response.content
    job = ExportJob.objects.get(requested_by=province.user)
    assert (len(callbacks), sent) == (1, [(job.pk,)])
    data = response.json()
    assert response["Location"] == data["url"] == f"http://testserver{URL}{job.pk}/"
    assert (data["id"], data["status"], data["status_display"]) == (job.pk, "pending", "排队中")
    assert (data["profile"], data["profile_display"]) == (
        "member_national",
        "人口名单（国家系统格式）",
    )
    assert data["filters"] == {
        "county": str(world.county_a.pk),
        "relation__exact": "head",
        "year": "2026",
    }
    assert (data["format"], data["unmasked"], data["download_url"]) == ("csv", False, None)
    assert job.filters == data["filters"]
    # Who asked, from where: the token's account, not the anonymous request the middleware saw.
    (insert,) = pghistory.models.Events.objects.tracks(job).filter(pgh_label="insert")
    assert insert.pgh_context["actor"] == province.user.username
    assert (insert.pgh_context["source"], insert.pgh_context["ip"]) == ("api", "10.1.2.3")
    pull = ApiPull.objects.get()
    assert (pull.resource, pull.action, pull.status, pull.rows, pull.token) == (
        "exports",
        "create",
        202,
        1,
        province.token,
    )
    assert response["Cache-Control"] == "private, no-store"


def test_an_identical_running_request_answers_202_with_the_same_job(world, callers):
    client = callers["county_admin"].client  # official_a, whose world has one export queued
    first = post(client, {"profile": "household_system"})
    assert first.status_code == 202
    assert first.json()["id"] == world.export_a.pk
    ExportJob.objects.filter(pk=world.export_a.pk).update(status="running")
    again = post(client, {"profile": "household_system", "format": "xlsx", "filters": {}})
    assert (again.status_code, again.json()["id"]) == (202, world.export_a.pk)
    assert again["Location"] == first["Location"]
    other = post(client, {"profile": "household_system", "filters": {"year": 2025}})
    assert other.json()["id"] != world.export_a.pk
    ExportJob.objects.filter(pk=world.export_a.pk).update(status="failed")
    fresh = post(client, {"profile": "household_system"})
    assert fresh.status_code == 202
    assert fresh.json()["id"] not in (world.export_a.pk, other.json()["id"])
    # The admin's request with the changelist's strings is the same request as the API's.
    admin_style = services.export_job_request(
        user=world.official_a, profile="household_system", filters={"year": "2025"}
    )
    assert admin_style.pk == other.json()["id"]


@pytest.mark.parametrize(
    ("profile", "filters"),
    [
        ("cadres", {"gender__exact": "F", "political_status__exact": "cpc"}),
        ("units", {"level__exact": "county", "q": "农业"}),
    ],
)
def test_the_roster_lists_export_through_the_api_too(world, callers, profile, filters):
    response = post(callers["county_admin"].client, {"profile": profile, "filters": filters})
    assert response.status_code == 202, response.content
    job = ExportJob.objects.get(pk=response.json()["id"])
    assert (job.profile, job.filters, job.requested_by) == (profile, filters, world.official_a)
    # a household list's filter is not one of these lists'
    wrong = {"profile": profile, "filters": {"relation__exact": "head"}}
    refused = post(callers["county_admin"].client, wrong)
    assert refused.status_code == 400
    assert "relation__exact" in str(refused.json())


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"profile": "pdf_report"}, "profile", None),
        ({}, "profile", None),
        ({"profile": "household_system", "format": "pdf"}, "format", None),
        ({"profile": "household_system", "format": ["xlsx"]}, "format", None),
        ({"profile": "household_system", "filters": {"nonsense": 1}}, "filters", "nonsense"),
        # a filter of the member list on the household list
        ({"profile": "household_system", "filters": {"relation__exact": "head"}}, "filters", None),
        ({"profile": "member_system", "filters": {"relation__exact": "boss"}}, "filters", None),
        ({"profile": "member_system", "filters": {"county": "12"}}, "filters", None),
        ({"profile": "member_system", "filters": {"county": 0}}, "filters", None),
        ({"profile": "member_system", "filters": {"county": 2**63}}, "filters", None),
        ({"profile": "member_system", "filters": {"ids": "1,2"}}, "filters", None),
        ({"profile": "member_system", "filters": {"ids": [1, "x"]}}, "filters", None),
        ({"profile": "member_system", "filters": {"ids": list(range(1, 10_002))}}, "filters", None),
        ({"profile": "member_system", "filters": {"year": 2012}}, "filters", None),
        ({"profile": "member_system", "filters": {"year": 2016.5}}, "filters", None),
        ({"profile": "member_system", "filters": {"active": "true"}}, "filters", None),
        ({"profile": "member_system", "filters": {"q": ""}}, "filters", None),
        ({"profile": "member_system", "filters": {"q": "王\x00"}}, "filters", None),
        ({"profile": "member_system", "filters": {"q": "x" * 65}}, "filters", None),
        ({"profile": "member_system", "filters": {"id_hash": "abc"}}, "filters", None),
        ({"profile": "household_system", "filters": {"band": 10**9}}, "filters", None),
        ({"profile": "household_system", "filters": []}, "filters", None),
        ({"profile": "household_system", "unmasked": "false"}, "unmasked", None),
        ({"profile": "household_system", "reason": "x" * 201}, "reason", None),
        ({"profile": "household_system", "reason": 1234}, "reason", None),
    ],
)
def test_bad_requests_are_a_400_in_chinese_and_create_nothing(world, callers, body, field, message):
    before = ExportJob.objects.count()
    response = post(callers["province"].client, body)
    assert response.status_code == 400, response.content
    data = response.json()
    assert CJK.search(data["message"]), data
    assert field in data["extra"]["fields"], data
    if message:
        assert message in str(data["extra"]["fields"][field]), data
    assert ExportJob.objects.count() == before


def test_a_body_that_is_not_a_json_object_is_refused(world, callers):
    client = callers["province"].client
    before = ExportJob.objects.count()
    for body in ([], "household_system", None):
        response = post(client, body)
        assert response.status_code == 400, (body, response.content)
        assert CJK.search(response.json()["message"])
    response = client.post(URL, "{not json", content_type="application/json")
    assert response.status_code == 400
    form = client.post(URL, {"profile": "household_system"})  # multipart, not JSON
    assert form.status_code == 415
    assert set(form.json()) == {"message", "extra"}
    assert ExportJob.objects.count() == before


def test_full_values_need_the_permission_and_a_reason(world, callers):
    province = callers["province"]
    response = post(
        province.client, {"profile": "member_system", "unmasked": True, "reason": "比对"}
    )
    assert response.status_code == 403
    assert response.json()["message"] == "您的角色不能导出完整的证件号码和电话。"
    county, csrf = csrf_client(world.official_a)
    response = post(county, {"profile": "member_system", "unmasked": True}, **csrf)
    assert response.status_code == 400
    assert "须说明用途" in response.json()["extra"]["fields"]["reason"][0]
    assert not ExportJob.objects.filter(unmasked=True).exists()
    body = {"profile": "member_system", "unmasked": True, "reason": "报送省防返贫系统"}
    response = post(county, body, **csrf)
    assert response.status_code == 202
    job = ExportJob.objects.get(pk=response.json()["id"])
    assert (job.unmasked, job.reason) == (True, "报送省防返贫系统")


def test_a_session_post_needs_its_csrf_token(world):
    client, csrf = csrf_client(world.township_official_a)
    before = ExportJob.objects.count()
    refused = post(client, {"profile": "member_system"})
    assert refused.status_code == 403
    assert "CSRF" in refused.json()["message"]
    assert ExportJob.objects.count() == before
    accepted = post(client, {"profile": "member_system"}, **csrf)
    assert accepted.status_code == 202
    assert ExportJob.objects.get(pk=accepted.json()["id"]).requested_by == world.township_official_a


def test_who_may_export(world, callers):
    """The roles with reports.add_exportjob: province (its token), city, county, township,
    inspector; never a team, nor the separated administrators; nobody without credentials."""
    for name in ("province", "city", "county_admin", "township_admin", "inspector", "superuser"):
        response = post(
            callers[name].client, {"profile": "member_system", "filters": {"year": 2024}}
        )
        assert response.status_code == 202, (name, response.content)
        assert callers[name].client.get(URL).status_code == 200, name
    for name in ("team_member", "system_admin"):
        client = callers[name].client
        for response in (
            post(client, {"profile": "member_system"}),
            client.get(URL),
            client.get(f"{URL}{world.export_a.pk}/"),
            client.get(f"{URL}{world.export_a.pk}/file/"),
        ):
            assert response.status_code == 403, name
            assert response.json()["message"] == "您的角色不能导出数据。"
    leader = f.user("leader_a", "team_leader", world.village_a.region)
    assert post(session_client(leader), {"profile": "member_system"}).status_code == 403
    anonymous = Client()
    for response in (
        post(anonymous, {"profile": "member_system"}),
        anonymous.get(URL),
        anonymous.get(f"{URL}{world.export_a.pk}/"),
        anonymous.get(f"{URL}{world.export_a.pk}/file/"),
    ):
        assert response.status_code == 401
        assert response.json() == {"message": "身份认证信息未提供。", "extra": {}}
    refused = [callers["team_member"].user, callers["system_admin"].user, leader]
    assert not ExportJob.objects.filter(requested_by__in=refused).exists()


def test_read_endpoints_stay_read_only_for_the_token(world, callers):
    client = callers["province"].client
    assert client.post("/api/v1/households/", {}).status_code == 405
    assert post(client, {"profile": "member_system"}).status_code == 202
    job = ExportJob.objects.get(requested_by=callers["province"].user)
    before = ExportJob.objects.filter(pk=job.pk).values().get()
    for method in ("put", "patch", "delete"):
        response = getattr(client, method)(f"{URL}{job.pk}/", {}, content_type="application/json")
        assert response.status_code == 405, method
        assert response.json()["message"].startswith("方法")
    for method in ("post", "put", "delete"):
        response = getattr(client, method)(
            f"{URL}{job.pk}/file/", {}, content_type="application/json"
        )
        assert response.status_code == 405, method
    assert client.delete(URL).status_code == 405
    assert ExportJob.objects.filter(pk=job.pk).values().get() == before


# --- status, progress, the file ------------------------------------------------------------


def test_status_and_progress_while_running_then_the_link(world, callers):
    client = callers["province"].client
    job_id = post(client, {"profile": "household_system"}).json()["id"]
    url = f"{URL}{job_id}/"
    pending = client.get(url).json()
    assert (pending["status"], pending["progress"], pending["total"], pending["percent"]) == (
        "pending",
        0,
        None,
        0,
    )
    # What the runner's progress writer does while it reads.
    ExportJob.objects.filter(pk=job_id).update(status="running", progress=30, total=120)
    running = client.get(url).json()
    assert (running["status"], running["status_display"]) == ("running", "导出中")
    assert (running["progress"], running["total"], running["percent"]) == (30, 120, 25)
    assert running["download_url"] is None
    ExportJob.objects.filter(pk=job_id).update(status="pending", progress=0, total=None)
    job = run(job_id)
    done = client.get(url).json()
    assert (done["status"], done["row_count"], done["progress"], done["percent"]) == (
        "succeeded",
        2,
        2,
        100,
    )
    assert done["download_url"] == f"http://testserver{url}file/"
    assert done["file_name"] == job.file_name
    assert dt.datetime.fromisoformat(done["expires_at"]) == job.expires_at
    ttl = job.expires_at - job.finished_at
    assert ttl == dt.timedelta(hours=24)
    assert (done["expired"], done["error"]) == (False, "")


def test_the_requester_downloads_the_file_with_its_chinese_name(world, callers):
    province = callers["province"]
    job_id = post(province.client, {"profile": "household_system"}).json()["id"]
    job = run(job_id)
    response = province.client.get(f"{URL}{job_id}/file/", REMOTE_ADDR="10.4.5.6")
    assert response.status_code == 200
    assert response["Content-Type"] == XLSX
    assert response["Cache-Control"] == "private, no-store"
    name = file_name(response)
    assert name == job.file_name
    assert name.startswith("帮扶户名单（系统格式）-山西省-")
    assert name.endswith(".xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    codes = {row[0].value for row in sheet.iter_rows(min_row=2)}
    assert codes == {world.household_a.code, world.household_b.code}
    (download,) = pghistory.models.Events.objects.tracks(job).filter(pgh_label="download")
    assert (download.pgh_context["actor"], download.pgh_context["ip"]) == (
        "province_sx",
        "10.4.5.6",
    )
    pull = ApiPull.objects.filter(action="file").get()
    assert (pull.status, pull.rows) == (200, 2)
    # A CSV too, and a client that asks for the file by its type gets it.
    csv_id = post(province.client, {"profile": "member_system", "format": "csv"}).json()["id"]
    run(csv_id)
    response = province.client.get(f"{URL}{csv_id}/file/", HTTP_ACCEPT="text/csv")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert file_name(response).startswith("家庭成员名单（系统格式）-山西省-")
    assert b"".join(response.streaming_content).decode("utf-8-sig").count("\n") == 3


def test_an_expired_file_is_gone_with_a_410(world, callers):
    client = callers["county_admin"].client
    job = run(world.export_a.pk)
    ExportJob.objects.filter(pk=job.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    response = client.get(f"{URL}{job.pk}/file/")
    assert response.status_code == 410
    assert response.json() == {
        "message": "导出文件已过期，请重新导出。",
        "extra": {"expired": True},
    }
    status = client.get(f"{URL}{job.pk}/").json()
    assert (status["expired"], status["download_url"]) == (True, None)
    # After the housekeeping deleted the file: the same answer.
    services.export_jobs_housekeeping(stale_after_seconds=3600, requeue_after_seconds=3600)
    assert client.get(f"{URL}{job.pk}/file/").status_code == 410


def test_no_file_yet_or_a_failed_job_is_a_409(world, callers):
    client = callers["county_admin"].client
    url = f"{URL}{world.export_a.pk}/file/"
    response = client.get(url)
    assert response.status_code == 409
    assert response.json() == {"message": "导出尚未完成，请稍候。", "extra": {"status": "pending"}}
    ExportJob.objects.filter(pk=world.export_a.pk).update(status="running")
    assert client.get(url).json()["extra"] == {"status": "running"}
    ExportJob.objects.filter(pk=world.export_a.pk).update(status="failed", error="导出超时")
    response = client.get(url)
    assert response.status_code == 409
    assert response.json() == {"message": "导出失败：导出超时", "extra": {"status": "failed"}}
    assert client.get(f"{URL}{world.export_a.pk}/").json()["error"] == "导出超时"


# --- scope: a job is its requester's alone -------------------------------------------------


def test_jobs_are_their_requesters_only(world, callers):
    """Out of scope is a missing id: another user's job (county B's caller and county A's
    job, a superuser and anyone's job) answers exactly as an id that does not exist, for the
    status and for the file, finished or not."""
    run(world.export_a.pk)  # a file that only official_a may download
    callers["county_b"] = Caller(
        "county_b", world.official_b, session_client(world.official_b), "b"
    )
    own = {"county_admin": world.export_a.pk, "county_b": world.export_b.pk}
    for name, caller in callers.items():
        if caller.sees == "forbidden":
            continue
        client = caller.client
        listed = [row["id"] for row in client.get(URL, {"page_size": 100}).json()["results"]]
        mine = own.get(name)
        assert listed == ([mine] if mine else []), name
        for suffix in ("", "file/"):
            missing = client.get(f"{URL}{MISSING_ID}/{suffix}")
            assert missing.status_code == 404, (name, suffix)
            for job_id in (world.export_a.pk, world.export_b.pk):
                if job_id == mine:
                    continue
                other = client.get(f"{URL}{job_id}/{suffix}")
                assert (other.status_code, other.json()) == (404, missing.json()), (name, job_id)
    owner = callers["county_admin"].client
    assert owner.get(f"{URL}{world.export_a.pk}/file/").status_code == 200
    assert callers["county_b"].client.get(f"{URL}{world.export_b.pk}/").status_code == 200


# --- the list ------------------------------------------------------------------------------


def test_the_list_is_newest_first_in_pages(world, callers):
    client = callers["province"].client
    ids = [
        post(client, {"profile": "member_system", "filters": {"year": year}}).json()["id"]
        for year in (2021, 2022, 2023)
    ]
    first = client.get(URL, {"page_size": 2}).json()
    assert first["count"] == 3
    assert [row["id"] for row in first["results"]] == [ids[2], ids[1]]
    assert first["previous"] is None
    second = client.get(first["next"]).json()
    assert [row["id"] for row in second["results"]] == [ids[0]]
    assert second["next"] is None
    for params, field in (
        ({"page": "0"}, "page"),
        ({"page": "x"}, "page"),
        ({"page_size": "101"}, "page_size"),
    ):
        response = client.get(URL, params)
        assert response.status_code == 400, params
        assert field in response.json()["extra"]["fields"]
    beyond = client.get(URL, {"page": 9})
    assert (beyond.status_code, beyond.json()["message"]) == (404, "页码超出范围。")


def test_the_list_runs_the_same_queries_at_two_sizes(world, callers):
    """The token with its account and region (1), the count (1), the page (1), the pull
    log (1), whatever the number of jobs."""
    province = callers["province"]
    client = province.client

    def count() -> tuple[int, int, list[str]]:
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(URL, {"page_size": 100})
        assert response.status_code == 200
        return len(ctx.captured_queries), len(response.json()["results"]), ctx.captured_queries

    def add(years):
        for year in years:
            services.export_job_request(
                user=province.user, profile="household_national", filters={"year": year}
            )

    add([2020])
    client.get(URL)  # the token's last use is recorded once a minute, not in the counts
    small, small_rows, sql = count()
    assert small == 4, [q["sql"][:100] for q in sql]
    add(range(2013, 2020))
    large, large_rows, sql = count()
    assert (small_rows, large_rows) == (1, 8)
    assert large == small, [q["sql"][:100] for q in sql]
