"""Export jobs: what a county official gets (scope, layouts, masking), the identical request,
the requester-only download and its expiry, the housekeeping, the admin action and pages."""

import datetime as dt
import io
from decimal import Decimal

import openpyxl
import pghistory.models
import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.http import Http404
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from python_calamine import CalamineWorkbook

from accounts.roles import Role
from common.crypto import keyed_hash
from households import services as hs
from households.models import Monitoring
from reports.exports import selectors, services
from reports.exports.layouts import LAYOUTS, MEMBER_NATIONAL
from reports.exports.runner import export_queryset, run_export
from reports.models import ExportJob

from .. import factories as f

HYPERLINK = '=HYPERLINK("http://x","y")'


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def run(job: ExportJob) -> ExportJob:
    services.export_job_run(export_job_id=job.pk)
    job.refresh_from_db()
    return job


def export(user, profile="household_system", **kwargs) -> ExportJob:
    return run(services.export_job_request(user=user, profile=profile, **kwargs))


def sheet_rows(job: ExportJob) -> list[dict]:
    with job.file.open("rb") as fh:
        book = openpyxl.load_workbook(io.BytesIO(fh.read()))
    rows = []
    for sheet in book:
        header, *data = [tuple(c.value for c in row) for row in sheet.iter_rows()]
        rows += [dict(zip(header, row, strict=True)) for row in data]
    return rows


def titles(profile: str) -> list[str]:
    return [str(c.title) for c in LAYOUTS[profile].columns]


# --- what the file holds -------------------------------------------------------------------


def test_county_official_exports_only_their_county(world):
    extra = f.household(world.village_a, f"{world.village_a.code}0002")
    f.member(extra, "王五", relation="head")
    job = export(world.official_a)
    assert (job.status, job.row_count, job.sheets) == ("succeeded", 2, 1)
    rows = sheet_rows(job)
    assert [r["户编号"] for r in rows] == [world.household_a.code, extra.code]
    assert {r["县"] for r in rows} == {world.county_a.name}
    assert world.household_b.code not in str(rows)
    # And the other county's official gets the other county.
    job_b = export(world.official_b)
    assert [r["户编号"] for r in sheet_rows(job_b)] == [world.household_b.code]


def test_an_out_of_scope_id_in_the_filters_selects_nothing(world):
    job = export(world.official_a, filters={"ids": [world.household_b.pk]})
    assert (job.status, job.row_count) == ("succeeded", 0)
    job = export(world.official_a, filters={"village": world.village_b.pk})
    assert job.row_count == 0
    for profile, other in (("cadres", world.cadre_b), ("units", world.unit_b)):
        job = export(world.official_a, profile, filters={"ids": [other.pk]})
        assert (job.status, job.row_count) == ("succeeded", 0)
    job = export(world.official_a, "cadres", filters={"unit__id__exact": world.unit_b.pk})
    assert job.row_count == 0


def test_roster_exports_hold_only_the_requesters_scope(world):
    """Cadres and dispatching units: what the cadre and unit lists show the requester."""
    for user, cadre, unit in (
        (world.official_a, world.cadre_a, world.unit_a),
        (world.official_b, world.cadre_b, world.unit_b),
        (world.township_official_a, world.cadre_a, world.unit_a),  # serving in its village
    ):
        (row,) = sheet_rows(export(user, "cadres"))
        assert (row["姓名"], row["工作单位"]) == (cadre.name, unit.name)
        assert row["驻村代码"] == cadre.assignments.get().team.village.code
        assert row["任职身份"] == "队长兼第一书记"
        assert row["身份证号"] == cadre.id_number_masked  # masked by default
        (row,) = sheet_rows(export(user, "units"))
        assert (row["单位名称"], row["所属区划代码"]) == (unit.name, unit.region.code)
        assert row["联系电话"].count("*") >= 1


def test_the_roster_filters_select_the_rows(world):
    idle = f.cadre("赵待岗", world.unit_a, world.county_a, political_status="masses")
    city_unit = f.unit("太原市农业农村局", world.county_a, level="city")
    rows = sheet_rows(export(world.official_a, "cadres", filters={"warning": "not_serving"}))
    assert [r["姓名"] for r in rows] == [idle.name]
    rows = sheet_rows(
        export(world.official_a, "cadres", filters={"political_status__exact": "masses"})
    )
    assert [r["姓名"] for r in rows] == [idle.name]
    rows = sheet_rows(export(world.official_a, "cadres", filters={"q": world.village_a.name}))
    assert [r["姓名"] for r in rows] == [world.cadre_a.name]  # by the village served in
    rows = sheet_rows(export(world.official_a, "units", filters={"level__exact": "city"}))
    assert [r["单位名称"] for r in rows] == [city_unit.name]
    rows = sheet_rows(export(world.official_a, "units", filters={"q": "太原"}))
    assert [r["单位名称"] for r in rows] == [city_unit.name]
    # A full ID number searched for is stored as its hash, as for the households.
    job = services.export_job_request(
        user=world.official_a, profile="cadres", filters={"q": world.cadre_a.id_number}
    )
    assert job.filters == {"id_hash": keyed_hash(world.cadre_a.id_number)}
    assert [r["姓名"] for r in sheet_rows(run(job))] == [world.cadre_a.name]


def test_household_system_layout_values(world):
    hs.household_update(household=world.household_a, phone="13812345678")
    f.income(world.household_a, dt.date(2026, 2, 1), wage=1000)
    job = export(world.official_a, filters={"year": 2026})
    (row,) = sheet_rows(job)
    assert list(row) == titles("household_system")
    assert row["户主姓名"] == "户主A"
    assert row["户主身份证号"] == world.person_a.id_number_masked
    assert row["户联系电话"] == "138****5678"
    assert row["户状态"] == world.household_a.status.name
    assert row["主要致贫原因"] == "因病"
    assert row["识别年份"] == 2016
    assert row["家庭人口"] == 1
    assert row["监测对象类别"] == "边缘易致贫户"
    assert row["风险是否消除"] == "否"
    assert row["风险识别时间"] == dt.datetime(2026, 1, 10)  # noqa: DTZ001 - a sheet date
    assert row["风险消除时间"] is None
    assert row["帮扶责任人"] == world.cadre_a.name
    assert row["不愁吃、不愁穿"] == "是"
    # January 800 + February 1000, one person, two months: (1800 × 12 / 2) = 10 800 a year.
    assert row["人均纯收入（元，年化）"] == 10800
    assert isinstance(row["人均纯收入（元，年化）"], int | float)
    # The income year is asked for: 2027 has no income registered yet, 2026 is last year.
    (row,) = sheet_rows(export(world.official_a, filters={"year": 2027}))
    assert (row["人均纯收入（元，年化）"], row["上年人均纯收入（元）"]) == (None, 10800)


def test_member_national_layout_has_the_national_columns(world):
    assert titles("member_national") == [
        "序号",
        "数据日期",
        "县(市、区、旗)",
        "乡(镇)",
        "行政村",
        "自然村",
        "户编号",
        "人编号",
        "姓名",
        "证件号码",
        "人数",
        "与户主关系",
        "民族",
        "文化程度",
        "在校生状况",
        "健康状况",
        "劳动技能",
        "务工时间（月）",
        "是否参加大病保险",
        "致贫原因1",
        "危房户",
        "是否解决安全饮用水",
        "人均纯收入",
        "户联系电话",
        "人联系电话",
        "首次识别时间",
        "人员识别时间",
        "户类型",
        "易返贫致贫户(监测对象)类型",
        "风险是否消除",
        "风险识别时间",
        "风险消除时间",
    ]
    spouse = f.member(
        world.household_a, "李四", relation="spouse", migrant_months=6, phone="13900000000"
    )
    hs.household_update(household=world.household_a, phone="13812345678")
    with time_machine.travel(dt.datetime(2026, 11, 18, 9, tzinfo=dt.UTC), tick=False):
        job = export(world.official_a, profile="member_national")
    head, second = sheet_rows(job)
    assert [head["序号"], second["序号"]] == [1, 2]
    # The household's phone on each member's row (decrypted once for the two rows).
    assert head["户联系电话"] == second["户联系电话"] == "138****5678"
    assert (head["人联系电话"], second["人联系电话"]) == (None, "139****0000")
    assert head["数据日期"] == dt.datetime(2026, 11, 18)  # noqa: DTZ001
    assert (head["姓名"], second["姓名"]) == ("户主A", spouse.name)  # the head first
    assert head["人数"] == second["人数"] == 2
    assert second["务工时间（月）"] == 6
    assert second["与户主关系"] == "配偶"
    assert head["危房户"] == "否"
    assert head["易返贫致贫户(监测对象)类型"] == "边缘易致贫户"
    assert head["自然村"] is None  # not recorded in the system
    assert head["首次识别时间"] == 2016


def test_the_latest_monitoring_is_shown_the_open_one_first(world):
    # 风险消除 needs half a year of stable income and more (households.services); the row is
    # set directly here, the export only reads it.
    Monitoring.objects.filter(pk=world.monitoring_a.pk).update(
        status="eliminated", eliminated_on=dt.date(2026, 8, 1)
    )
    (row,) = sheet_rows(export(world.official_a, profile="household_national"))
    assert row["风险是否消除"] == "是"
    assert row["风险识别时间"] == dt.datetime(2026, 1, 10)  # noqa: DTZ001 - a sheet date
    assert row["风险消除时间"] == dt.datetime(2026, 8, 1)  # noqa: DTZ001
    hs.monitoring_identify(
        household=world.household_a,
        category="sudden",
        risk_types=["accident"],
        discovery="visit",
        identified_on=dt.date(2026, 9, 1),
    )
    (row,) = sheet_rows(export(world.official_a, profile="household_national"))
    assert row["易返贫致贫户(监测对象)类型"] == "突发严重困难户"
    assert row["风险是否消除"] == "否"
    assert row["风险识别时间"] == dt.datetime(2026, 9, 1)  # noqa: DTZ001
    assert row["风险消除时间"] is None
    # A household never monitored has those cells empty.
    other = f.household(world.village_a, f"{world.village_a.code}0005")
    rows = sheet_rows(export(world.official_a, profile="household_national"))
    empty = next(r for r in rows if r["户编号"] == other.code)
    assert empty["风险是否消除"] is None
    assert empty["人数"] == 0


def test_a_formula_like_name_reopens_as_plain_text(world):
    household = f.household(world.village_a, f"{world.village_a.code}0003")
    f.member(household, HYPERLINK, relation="head")
    job = export(world.official_a, filters={"q": f"{world.village_a.code}0003"})
    with job.file.open("rb") as fh:
        data = fh.read()
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    head = titles("household_system").index("户主姓名") + 1
    cell = sheet.cell(row=2, column=head)
    assert (cell.value, cell.data_type) == (HYPERLINK, "s")
    book = CalamineWorkbook.from_filelike(io.BytesIO(data))
    assert book.get_sheet_by_index(0).to_python()[1][head - 1] == HYPERLINK


def test_csv_guards_the_formula(world):
    household = f.household(world.village_a, f"{world.village_a.code}0003")
    f.member(household, HYPERLINK, relation="head")
    job = export(world.official_a, format="csv", filters={"q": f"{world.village_a.code}0003"})
    with job.file.open("rb") as fh:
        text = fh.read().decode("utf-8-sig")
    assert "'=HYPERLINK(" in text
    assert job.file_name.endswith(".csv")


def test_full_id_number_is_text_with_18_characters(world):
    job = export(
        world.official_a, profile="member_system", unmasked=True, reason="报送省防返贫系统"
    )
    (row,) = sheet_rows(job)
    assert row["身份证号"] == world.person_a.id_number
    assert len(row["身份证号"]) == 18
    assert row["出生日期"] == dt.datetime.combine(world.person_a.birth_date, dt.time())


def test_openpyxl_and_calamine_read_the_export_alike(world):
    for i in range(3):
        household = f.household(world.village_a, f"{world.village_a.code}01{i:02d}")
        f.member(household, f"户主{i}", relation="head")
        f.member(household, f"成员{i}", relation="son")
        f.income(household, dt.date(2026, 1, 1), wage=100 * (i + 1))
    job = export(world.official_a, profile="member_system")
    with job.file.open("rb") as fh:
        data = fh.read()
    ours = [
        tuple(c.value for c in r)
        for r in openpyxl.load_workbook(io.BytesIO(data)).active.iter_rows()
    ]
    theirs = CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_index(0).to_python()

    def normal(value):
        if value in (None, ""):
            return None
        if isinstance(value, dt.datetime) and value.time() == dt.time(0):
            return value.date()
        if isinstance(value, int | float | Decimal):
            return float(value)
        return value

    assert [[normal(v) for v in r] for r in ours] == [[normal(v) for v in r] for r in theirs]
    assert len(ours) == 1 + 7


# --- masking and the permission for full values ----------------------------------------


def test_masked_by_default_and_full_values_only_with_permission_and_reason(world):
    masked = export(world.official_a, profile="member_system")
    assert sheet_rows(masked)[0]["身份证号"] == world.person_a.id_number_masked
    with pytest.raises(PermissionDenied):
        services.export_job_request(
            user=world.township_official_a, profile="member_system", unmasked=True, reason="报送"
        )
    with pytest.raises(ValidationError) as err:
        services.export_job_request(user=world.official_a, profile="member_system", unmasked=True)
    assert "须说明用途" in str(err.value)
    assert not ExportJob.objects.filter(unmasked=True).exists()


def test_a_full_value_export_and_its_download_are_audited(client, world):
    client.force_login(world.official_a)
    job = export(
        world.official_a, profile="member_system", unmasked=True, reason="报送省防返贫系统"
    )
    (insert,) = pghistory.models.Events.objects.tracks(job).filter(pgh_label="insert")
    assert insert.pgh_data["unmasked"] is True
    assert insert.pgh_data["reason"] == "报送省防返贫系统"
    assert insert.pgh_data["requested_by_id"] == world.official_a.pk
    response = client.get(
        reverse("admin:reports_exportjob_download", args=[job.pk]), REMOTE_ADDR="10.9.8.7"
    )
    assert response.status_code == 200
    b"".join(response.streaming_content)
    (download,) = pghistory.models.Events.objects.tracks(job).filter(pgh_label="download")
    assert download.pgh_context["actor"] == "official_a"
    assert download.pgh_context["ip"] == "10.9.8.7"


def test_who_may_export(world):
    team_member = world.member_a
    with pytest.raises(PermissionDenied):
        services.export_job_request(user=team_member, profile="household_system")
    system = f.user("sys", Role.SYSTEM_ADMIN, None)
    with pytest.raises(PermissionDenied):
        services.export_job_request(user=system, profile="household_system")
    job = export(world.township_official_a)
    assert job.status == "succeeded"


# --- the request ---------------------------------------------------------------------------


def test_an_identical_request_returns_the_queued_job(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        first = services.export_job_request(
            user=world.official_a, profile="member_system", filters={"relation__exact": "head"}
        )
        again = services.export_job_request(
            user=world.official_a, profile="member_system", filters={"relation__exact": "head"}
        )
        other_format = services.export_job_request(
            user=world.official_a,
            profile="member_system",
            format="csv",
            filters={"relation__exact": "head"},
        )
        other_user = services.export_job_request(
            user=f.user("county_a2", Role.COUNTY_ADMIN, world.county_a),
            profile="member_system",
            filters={"relation__exact": "head"},
        )
    assert first == again
    assert len({first.pk, other_format.pk, other_user.pk}) == 3
    assert len(callbacks) == 3  # queued once per job, after commit
    # While it runs, the same request still returns it; once done, a new request is a new job.
    ExportJob.objects.filter(pk=first.pk).update(status="running")
    assert (
        services.export_job_request(
            user=world.official_a, profile="member_system", filters={"relation__exact": "head"}
        )
        == first
    )
    ExportJob.objects.filter(pk=first.pk).update(status="failed")
    assert (
        services.export_job_request(
            user=world.official_a, profile="member_system", filters={"relation__exact": "head"}
        )
        != first
    )


def test_bad_filters_are_refused_in_chinese_and_nothing_is_queued(world):
    before = ExportJob.objects.count()
    for filters, message in (
        ({"relation__exact": "boss"}, "筛选条件有误"),
        ({"nonsense": "1"}, "导出不支持这些筛选条件：nonsense"),
        ({"ids": ["x"]}, "所选记录的编号不正确"),
    ):
        with pytest.raises(ValidationError) as err:
            services.export_job_request(
                user=world.official_a, profile="member_system", filters=filters
            )
        assert message in str(err.value)
    with pytest.raises(ValidationError):
        services.export_job_request(user=world.official_a, profile="nope")
    with pytest.raises(ValidationError):
        services.export_job_request(user=world.official_a, profile="member_system", format="pdf")
    assert ExportJob.objects.count() == before


def test_a_searched_id_number_is_stored_as_its_hash(world):
    number = world.person_a.id_number
    job = services.export_job_request(
        user=world.official_a, profile="household_system", filters={"q": number}
    )
    assert number not in str(job.filters)
    assert job.filters == {"id_hash": keyed_hash(number)}
    job = run(job)
    assert [r["户编号"] for r in sheet_rows(job)] == [world.household_a.code]


def test_the_filters_select_the_rows(world):
    second = f.household(world.village_a, f"{world.village_a.code}0009", household_type="dibao")
    f.member(second, "赵六", relation="head")
    job = export(world.official_a, filters={"household_type__exact": "dibao"})
    assert [r["户编号"] for r in sheet_rows(job)] == [second.code]
    job = export(world.official_a, filters={"monitoring": "any"})
    assert [r["户编号"] for r in sheet_rows(job)] == [world.household_a.code]
    job = export(world.official_a, filters={"q": "赵"})
    assert [r["户编号"] for r in sheet_rows(job)] == [second.code]
    job = export(world.official_a, profile="member_system", filters={"q": "赵六"})
    assert [r["姓名"] for r in sheet_rows(job)] == ["赵六"]


def test_rows_continue_on_a_new_sheet(world):
    for i in range(4):
        household = f.household(world.village_a, f"{world.village_a.code}02{i:02d}")
        f.member(household, f"户主{i}", relation="head")
    job = services.export_job_request(user=world.official_a, profile="household_system")
    ExportJob.objects.filter(pk=job.pk).update(status="running")
    job.refresh_from_db()
    result, tmp = run_export(job, max_data_rows=2)
    tmp.seek(0)
    book = openpyxl.load_workbook(tmp)
    tmp.close()
    assert (result.rows, result.sheets) == (5, 3)
    assert [s.max_row for s in book] == [3, 3, 2]
    assert all(s["A1"].value == "户编号" for s in book)


# --- download, expiry, housekeeping ------------------------------------------------------


def test_only_the_requester_downloads_and_not_after_expiry(client, world):
    job = export(world.official_a)
    url = reverse("admin:reports_exportjob_download", args=[job.pk])
    client.force_login(world.official_b)
    missing = client.get(reverse("admin:reports_exportjob_download", args=[987654321]))
    assert client.get(url).status_code == missing.status_code == 404
    for view in ("progress", "status"):
        assert (
            client.get(reverse(f"admin:reports_exportjob_{view}", args=[job.pk])).status_code == 404
        )
    with pytest.raises(Http404):
        selectors.export_job_get(user=world.official_b, job_id=job.pk)
    # Not even a superuser downloads another's file.
    client.force_login(f.user("root", Role.SYSTEM_ADMIN, None, is_superuser=True))
    assert client.get(url).status_code == 404
    client.force_login(world.official_a)
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "filename*=utf-8''" in response["Content-Disposition"]
    assert "no-store" in response["Cache-Control"]
    assert "private" in response["Cache-Control"]
    assert b"".join(response.streaming_content)[:2] == b"PK"
    with time_machine.travel(job.expires_at + dt.timedelta(seconds=1)):
        client.force_login(world.official_a)  # a day later: a new session
        response = client.get(url)
        assert response.status_code == 410
        assert "已过期" in response.content.decode()
        with pytest.raises(services.ExportExpiredError):
            services.export_job_download(user=world.official_a, job_id=job.pk)


def test_expiry_is_24_hours_after_the_file_is_made(world):
    with time_machine.travel(dt.datetime(2026, 11, 18, 9, tzinfo=dt.UTC), tick=False):
        job = export(world.official_a)
    assert job.expires_at == dt.datetime(2026, 11, 19, 9, tzinfo=dt.UTC)


def test_not_ready_and_failed_jobs_have_no_file(client, world):
    job = world.export_a
    with pytest.raises(services.ExportNotReadyError):
        services.export_job_download(user=world.official_a, job_id=job.pk)
    client.force_login(world.official_a)
    response = client.get(reverse("admin:reports_exportjob_download", args=[job.pk]))
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:reports_exportjob_progress", args=[job.pk])


def test_housekeeping_deletes_expired_files_fails_stale_jobs_and_requeues_lost_ones(
    world, media, django_capture_on_commit_callbacks
):
    done = export(world.official_a)  # the world's queued job of A: the same request
    assert done == world.export_a
    path = media / done.file.name
    assert path.exists()
    stuck = services.export_job_request(user=world.official_a, profile="member_system")
    ExportJob.objects.filter(pk=stuck.pk).update(
        status="running", started_at=timezone.now() - dt.timedelta(hours=2)
    )
    lost = world.export_b
    ExportJob.objects.filter(pk=lost.pk).update(created_at=timezone.now() - dt.timedelta(hours=1))
    with (
        time_machine.travel(done.expires_at + dt.timedelta(minutes=1)),
        django_capture_on_commit_callbacks() as callbacks,
    ):
        result = services.export_jobs_housekeeping(
            stale_after_seconds=2160, requeue_after_seconds=900
        )
    assert result == {"files_deleted": 1, "stale_failed": 1, "requeued": 1}
    assert len(callbacks) == 1
    assert not path.exists()
    done.refresh_from_db()
    assert (done.file.name, done.status) == ("", "succeeded")
    assert done.file_deleted_at is not None
    stuck.refresh_from_db()
    assert (stuck.status, stuck.error) == ("failed", "导出被中断（超时或服务重启），请重新导出。")


def test_a_second_delivery_does_nothing(world, media):
    job = services.export_job_request(user=world.official_a, profile="household_system")
    run(job)
    files = sorted(p.name for p in media.rglob("*.xlsx"))
    job = run(job)
    assert sorted(p.name for p in media.rglob("*.xlsx")) == files
    assert len(files) == 1


def test_the_export_query_count_does_not_grow_with_the_rows(world):
    """Per export: the requester's region (for the scope), the filtered count and one SELECT
    of every row with its joins, however many rows there are."""

    def queries(layout):
        user = type(world.official_a).objects.get(pk=world.official_a.pk)
        with CaptureQueriesContext(connection) as ctx:
            values, counted = export_queryset(LAYOUTS[layout], {}, user=user)
            counted.count()
            rows = list(values.iterator(chunk_size=2))
        return len(ctx.captured_queries), len(rows)

    small = {layout: queries(layout) for layout in LAYOUTS}
    for i in range(6):
        household = f.household(world.village_a, f"{world.village_a.code}03{i:02d}")
        f.member(household, f"户主{i}", relation="head")
        f.member(household, f"成员{i}", relation="son")
        hs.pairing_assign(household=household, cadre=world.cadre_a, start=dt.date(2026, 1, 1))
        unit = f.unit(f"派出单位{i}", world.county_a)
        cadre = f.cadre(f"队员{i}", unit, world.county_a)
        if i % 2:  # half of them posted: the posting is a join, not a query per row
            f.assign(cadre, world.team_a)
    big = {layout: queries(layout) for layout in LAYOUTS}
    assert small == {layout: (3, n) for layout, (_q, n) in small.items()}
    assert big == {layout: (3, n) for layout, (_q, n) in big.items()}
    assert big["member_national"][1] == small["member_national"][1] + 12
    assert big["cadres"][1] == small["cadres"][1] + 6
    assert big["units"][1] == small["units"][1] + 6


def test_member_national_rows_come_from_one_statement(world):
    values, _counted = export_queryset(MEMBER_NATIONAL, {}, user=world.official_a)
    sql = str(values.query)
    assert sql.count("SELECT") == 3  # the statement, the latest monitoring, the member count
    assert "LEFT OUTER JOIN" in sql


def test_exports_read_in_one_snapshot_planned_for_every_row(world):
    from reports.exports.runner import read_transaction

    with read_transaction(), connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        jit = cursor.fetchone()[0]
        cursor.execute("SHOW cursor_tuple_fraction")
        fraction = cursor.fetchone()[0]
    assert (jit, fraction) == ("off", "1")


def test_full_values_are_decrypted_per_row_even_when_repeated(world):
    second = f.member(world.household_a, "李四", relation="spouse")
    hs.household_update(household=world.household_a, phone="13812345678")
    job = export(world.official_a, profile="member_national", unmasked=True, reason="报送省系统")
    head, spouse = sheet_rows(job)
    assert (head["证件号码"], spouse["证件号码"]) == (world.person_a.id_number, second.id_number)
    assert head["户联系电话"] == spouse["户联系电话"] == "13812345678"
