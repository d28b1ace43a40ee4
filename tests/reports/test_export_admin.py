"""The admin: the "导出 Excel" action on the household, member, cadre and unit lists (the
changelist's filters or the ticked rows), the progress page and its status, "my exports"."""

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db import connection
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.roles import Role
from reports.exports import services
from reports.exports.filters import FILTERSETS, PAGE_PARAMETERS
from reports.models import ExportJob

from .. import factories as f

HOUSEHOLDS = reverse("admin:households_household_changelist")
MEMBERS = reverse("admin:households_member_changelist")
CADRES = reverse("admin:teams_cadre_changelist")
UNITS = reverse("admin:teams_dispatchingunit_changelist")


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def post_action(client, url, query, data):
    return client.post(f"{url}?{query}" if query else url, {"action": "export_excel", **data})


def test_the_action_exports_the_lists_filters(client, world, django_capture_on_commit_callbacks):
    client.force_login(world.official_a)
    query = "household_type__exact=general&risk=no_cadre&o=2&p=1"
    page = post_action(
        client,
        HOUSEHOLDS,
        query,
        {ACTION_CHECKBOX_NAME: [world.household_a.pk], "select_across": "1"},
    )
    assert page.status_code == 200
    html = page.content.decode()
    assert "将导出当前列表筛选条件下的全部记录" in html
    assert "贫困户属性：一般贫困户" in html
    assert "风险：无帮扶责任人" in html
    assert "含完整证件号码和电话" in html  # a county administrator may ask for full values
    with django_capture_on_commit_callbacks() as callbacks:
        response = post_action(
            client,
            HOUSEHOLDS,
            query,
            {
                ACTION_CHECKBOX_NAME: [world.household_a.pk],
                "select_across": "1",
                "apply": "1",
                "profile": "household_national",
                "format": "xlsx",
                "year": "2025",
            },
        )
    job = ExportJob.objects.exclude(pk=world.export_a.pk).get(requested_by=world.official_a)
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:reports_exportjob_progress", args=[job.pk])
    assert (job.profile, job.format, job.unmasked) == ("household_national", "xlsx", False)
    assert job.filters == {"household_type__exact": "general", "risk": "no_cadre", "year": "2025"}
    assert len(callbacks) == 1


def test_the_action_exports_the_ticked_rows(client, world):
    client.force_login(world.official_a)
    second = f.household(world.village_a, f"{world.village_a.code}0002")
    response = post_action(
        client,
        HOUSEHOLDS,
        "",
        {
            ACTION_CHECKBOX_NAME: [second.pk, world.household_b.pk],
            "apply": "1",
            "profile": "household_system",
            "format": "csv",
            "year": "2025",
        },
    )
    assert response.status_code == 302
    job = ExportJob.objects.get(requested_by=world.official_a, format="csv")
    # B's id was never in the list's rows.
    assert job.filters == {"ids": [second.pk], "year": "2025"}


def test_member_export_keeps_only_members_in_the_household_by_default(client, world):
    client.force_login(world.township_official_a)
    page = post_action(client, MEMBERS, "", {ACTION_CHECKBOX_NAME: [world.person_a.pk]})
    html = page.content.decode()
    assert "只导出在册成员" in html
    assert "含完整证件号码和电话" not in html  # a township may not
    post_action(
        client,
        MEMBERS,
        "relation__exact=head",
        {
            ACTION_CHECKBOX_NAME: [world.person_a.pk],
            "select_across": "1",
            "apply": "1",
            "profile": "member_national",
            "format": "xlsx",
            "year": "2025",
            "active_only": "on",
            "unmasked": "on",  # not offered: ignored
            "reason": "越权",
        },
    )
    job = ExportJob.objects.get(requested_by=world.township_official_a)
    assert job.filters == {"relation__exact": "head", "active": True, "year": "2025"}
    assert job.unmasked is False


def test_a_full_value_export_from_the_admin_needs_a_reason(client, world):
    client.force_login(world.official_a)
    data = {
        ACTION_CHECKBOX_NAME: [world.person_a.pk],
        "select_across": "1",
        "apply": "1",
        "profile": "member_system",
        "format": "xlsx",
        "year": "2025",
        "unmasked": "on",
        "reason": "",
    }
    page = post_action(client, MEMBERS, "", data)
    assert page.status_code == 200
    assert "须说明用途" in page.content.decode()
    assert not ExportJob.objects.filter(unmasked=True).exists()
    response = post_action(client, MEMBERS, "", {**data, "reason": "报送省防返贫系统"})
    assert response.status_code == 302
    assert ExportJob.objects.get(unmasked=True).reason == "报送省防返贫系统"


def test_a_list_filter_the_export_does_not_know_is_refused_not_ignored(client, world, monkeypatch):
    from django.contrib import admin

    from households.models import Member

    member_admin = admin.site._registry[Member]
    monkeypatch.setattr(member_admin, "list_filter", (*member_admin.list_filter, "sex"))
    client.force_login(world.official_a)
    page = post_action(
        client,
        MEMBERS,
        "sex__exact=M",
        {
            ACTION_CHECKBOX_NAME: [world.person_a.pk],
            "select_across": "1",
            "apply": "1",
            "profile": "member_system",
            "format": "xlsx",
            "year": "2025",
        },
    )
    assert page.status_code == 200
    assert "导出不支持这些筛选条件：sex__exact" in page.content.decode()
    assert ExportJob.objects.filter(requested_by=world.official_a).count() == 1  # the world's


@pytest.mark.parametrize(
    ("url", "entity"),
    [(HOUSEHOLDS, "household"), (MEMBERS, "member"), (CADRES, "cadre"), (UNITS, "unit")],
)
def test_every_filter_the_list_offers_is_understood_by_the_export(client, world, url, entity):
    """A list filter added to the admin without the export knowing it fails here (the
    action would refuse it rather than export more rows than the list shows)."""
    client.force_login(f.user("city_a", Role.CITY, world.city))
    response = client.get(url)
    offered = set()
    cl = response.context["cl"]
    for spec in cl.filter_specs:
        for choice in spec.choices(cl):
            offered |= set(QueryDict(choice["query_string"].lstrip("?")))
    offered -= PAGE_PARAMETERS
    assert offered  # the walk found the filters
    assert offered <= FILTERSETS[entity].parameter_names(), (
        offered - FILTERSETS[entity].parameter_names()
    )
    assert {"q"} <= FILTERSETS[entity].parameter_names()  # the search box


@pytest.mark.parametrize(
    ("url", "profile", "ours", "theirs"),
    [
        (CADRES, "cadres", "cadre_a", "cadre_b"),
        (UNITS, "units", "unit_a", "unit_b"),
    ],
)
def test_the_roster_lists_export_their_ticked_rows_in_scope(
    client, world, url, profile, ours, theirs
):
    """The action on the cadre and unit lists: the import layout's profile is offered (and
    nothing about incomes), and a ticked id of another county is never exported."""
    client.force_login(world.official_a)
    ticked = [getattr(world, ours).pk, getattr(world, theirs).pk]
    page = post_action(client, url, "", {ACTION_CHECKBOX_NAME: ticked})
    assert page.status_code == 200
    html = page.content.decode()
    assert "可按原样导回" in html
    assert "收入年度" not in html
    response = post_action(
        client,
        url,
        "",
        {ACTION_CHECKBOX_NAME: ticked, "apply": "1", "profile": profile, "format": "xlsx"},
    )
    assert response.status_code == 302
    job = ExportJob.objects.get(requested_by=world.official_a, profile=profile)
    assert job.filters == {"ids": [getattr(world, ours).pk]}
    services.export_job_run(export_job_id=job.pk)
    job.refresh_from_db()
    assert (job.status, job.row_count) == ("succeeded", 1)
    # Another county's official sees neither the rows nor the job.
    client.force_login(world.official_b)
    progress = reverse("admin:reports_exportjob_progress", args=[job.pk])
    assert client.get(progress).status_code == 404


def test_progress_page_and_status(client, world):
    job = world.export_a
    client.force_login(world.official_a)
    page = client.get(reverse("admin:reports_exportjob_progress", args=[job.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert "排队中" in html
    assert reverse("admin:reports_exportjob_status", args=[job.pk]) in html
    status = client.get(reverse("admin:reports_exportjob_status", args=[job.pk])).json()
    assert (status["status"], status["percent"], status["download_url"]) == ("pending", 0, None)
    services.export_job_run(export_job_id=job.pk)
    status = client.get(reverse("admin:reports_exportjob_status", args=[job.pk])).json()
    assert (status["status"], status["percent"], status["row_count"]) == ("succeeded", 100, 1)
    assert status["download_url"] == reverse("admin:reports_exportjob_download", args=[job.pk])
    page = client.get(reverse("admin:reports_exportjob_progress", args=[job.pk]))
    assert "下载文件" in page.content.decode()
    assert client.get(status["download_url"]).status_code == 200


def test_my_exports_lists_only_mine(client, world):
    client.force_login(world.official_a)
    response = client.get(reverse("admin:reports_exportjob_changelist"))
    assert [j.pk for j in response.context["cl"].result_list] == [world.export_a.pk]
    assert client.get(reverse("admin:reports_exportjob_add")).status_code == 403


def test_my_exports_query_count_is_the_same_for_2_and_12_jobs(client, world):
    client.force_login(world.official_a)
    url = reverse("admin:reports_exportjob_changelist")

    def count():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return len(ctx.captured_queries)

    for i in range(1):
        services.export_job_request(user=world.official_a, profile="member_system", format="csv")
        del i
    small = count()
    for i in range(10):
        services.export_job_request(
            user=world.official_a, profile="household_system", filters={"ids": [i + 1]}
        )
    big = count()
    assert small == big
