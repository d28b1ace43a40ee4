"""The problem and rectification ledger: transitions, absences into presence, the ledger
download, and the team's side in the workbench."""

import datetime as dt
import io
import uuid

import openpyxl
import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from accounts.roles import Role
from assessments import services
from assessments.models import Finding, FindingStatus
from common.errors import ApplicationError
from teams.compliance import presence_compliance
from teams.models import Assignment, Attendance

from .. import factories as f


def steps(finding):
    return [(s.old, s.new) for s in finding.steps.order_by("id")]


def test_the_whole_life_of_a_finding(world):
    finding, county, township = world.finding_a, world.official_a, world.township_official_a
    with pytest.raises(ApplicationError, match="只有已整改的问题才能验证"):
        services.finding_verify(finding=finding, actor=county, passed=True, note="")
    with pytest.raises(ValidationError):
        services.finding_rectify(finding=finding, actor=township, evidence="  ")
    services.finding_start(finding=finding, actor=township, measures="补齐走访台账")
    services.finding_rectify(finding=finding, actor=township, evidence="已补录 12 户走访记录")
    with pytest.raises(ApplicationError, match="整改人不能验证自己的整改"):
        services.finding_verify(finding=finding, actor=township, passed=True, note="")
    with pytest.raises(ValidationError):
        services.finding_verify(finding=finding, actor=county, passed=False, note="")
    services.finding_verify(finding=finding, actor=county, passed=False, note="仍缺 3 户")
    assert Finding.objects.get(pk=finding.pk).status == FindingStatus.RECTIFYING
    services.finding_rectify(finding=finding, actor=township, evidence="已全部补录")
    services.finding_verify(finding=finding, actor=county, passed=True, note="")
    services.finding_close(finding=finding, actor=county)
    services.finding_close(finding=finding, actor=county)  # twice: no second step
    later = timezone.localdate() + dt.timedelta(days=10)
    reopened = services.finding_reopen(
        finding=finding, actor=county, note="回头看又缺", deadline=later
    )
    assert (reopened.status, reopened.reopened, reopened.closed_on) == ("rectifying", 1, None)
    assert steps(finding) == [
        ("", "pending"),
        ("pending", "rectifying"),
        ("rectifying", "rectified"),
        ("rectified", "rectifying"),
        ("rectifying", "rectified"),
        ("rectified", "verified"),
        ("verified", "closed"),
        ("closed", "rectifying"),
    ]
    assert finding.steps.last().actor == county


def test_absence_finding_marks_the_day_absent(world):
    day = timezone.localdate() - dt.timedelta(days=1)
    Attendance.objects.filter(cadre=world.cadre_a).delete()
    from teams import presence

    presence.attendance_check_in(
        cadre=world.cadre_a,
        at=dt.datetime.combine(day, dt.time(1, 0), tzinfo=dt.UTC),
    )
    with pytest.raises(ValidationError):
        services.finding_create(
            inspection=world.inspection_a,
            village=world.village_a,
            subject="cadre",
            cadre=world.cadre_a,
            category="absent",
            severity="serious",
            description="暗访时不在村",
            deadline=timezone.localdate() + dt.timedelta(days=7),
        )  # an absence needs its day
    finding = services.finding_create(
        inspection=world.inspection_a,
        village=world.village_a,
        subject="cadre",
        cadre=world.cadre_a,
        category="absent",
        severity="serious",
        description="暗访时不在村，电话称在县城",
        absence_day=day,
        deadline=timezone.localdate() + dt.timedelta(days=7),
        actor=world.official_a,
    )
    assert finding.team == world.team_a
    row = Attendance.objects.get(cadre=world.cadre_a, day=day)
    assert (row.status, row.source) == ("absent", "inspection")
    assignment = Assignment.objects.select_related("cadre", "team__village").get(
        pk=world.assignment_a.pk
    )
    (result,) = presence_compliance(assignments=[assignment], start=day, end=day)
    assert result.states[day] == "absent"
    assert result.breaking_days == [day]


def test_a_finding_stays_inside_the_inspections_region(world):
    with pytest.raises(ValidationError, match="不在本次检查的组织区划内"):
        services.finding_create(
            inspection=world.inspection_a,
            village=world.village_b,
            subject="village",
            category="other",
            severity="minor",
            description="x",
            deadline=timezone.localdate(),
        )


def test_ledger_filters_and_download(client, world):
    client.force_login(world.official_a)
    url = reverse("admin:assessments_finding_changelist")
    Finding.objects.filter(pk=world.finding_a.pk).update(
        deadline=timezone.localdate() - dt.timedelta(days=1)
    )
    on_time = services.finding_create(
        inspection=world.inspection_a,
        village=world.village_a,
        subject="village",
        category="other",
        severity="minor",
        description="村务公开栏未更新",
        deadline=timezone.localdate() + dt.timedelta(days=3),
    )

    def listed(**params):
        return [f.pk for f in client.get(url, params).context["cl"].result_list]

    assert listed(overdue="yes") == [world.finding_a.pk]
    assert listed(overdue="no") == [on_time.pk]
    assert listed(q="台账") == [world.finding_a.pk]
    inspector = f.user("inspector_a", Role.INSPECTOR, world.county_a, full_name="王督查")
    services.finding_rectify(finding=on_time, actor=world.official_a, evidence="已更新公开栏")
    services.finding_verify(finding=on_time, actor=inspector, passed=True, note="")
    download = client.post(
        url,
        {
            "action": "download_ledger",
            "_selected_action": [world.finding_a.pk, world.finding_b.pk, on_time.pk],
        },
    )
    book = openpyxl.load_workbook(io.BytesIO(download.content))
    headers = next(book.active.iter_rows(min_row=3, max_row=3, values_only=True))
    rows = [
        dict(zip(headers, row, strict=True))
        for row in book.active.iter_rows(min_row=4, values_only=True)
    ]
    # County B's finding is out of scope; the ledger's order is the changelist's.
    assert [(r["村"], r["问题描述"], r["状态"], r["是否超期"]) for r in rows] == [
        (world.village_a.name, "走访台账记录不全", "待整改", "是"),
        (world.village_a.name, "村务公开栏未更新", "已验证", "否"),
    ]
    assert (rows[0]["整改人"], rows[0]["验证人"]) == (None, None)
    assert (rows[1]["整改人"], rows[1]["验证人"]) == ("清徐县管理员", "王督查")


def test_ledger_download_refuses_more_than_its_limit(client, world, monkeypatch):
    """Over the limit: no file, a message telling how to narrow the selection; at the limit
    the whole selection is in the file."""
    from assessments import admin as ledger

    monkeypatch.setattr(ledger, "LEDGER_LIMIT", 1)
    client.force_login(world.official_a)
    url = reverse("admin:assessments_finding_changelist")
    other = services.finding_create(
        inspection=world.inspection_a,
        village=world.village_a,
        subject="village",
        category="other",
        severity="minor",
        description="村务公开栏未更新",
        deadline=timezone.localdate() + dt.timedelta(days=3),
    )
    both = {"action": "download_ledger", "_selected_action": [world.finding_a.pk, other.pk]}
    refused = client.post(url, both, follow=True)
    assert refused.headers["Content-Type"].startswith("text/html")
    assert [str(m) for m in refused.context["messages"]] == [
        "所选问题共2条，超过一次下载的上限1条，未生成台账。"
        "请按乡镇、状态、整改时限等条件缩小筛选范围后分批下载。"
    ]
    one = client.post(url, {"action": "download_ledger", "_selected_action": [other.pk]})
    book = openpyxl.load_workbook(io.BytesIO(one.content))
    assert [r[8] for r in book.active.iter_rows(min_row=4, values_only=True)] == [
        "村务公开栏未更新"
    ]


def test_admin_actions_move_findings(client, world):
    inspector = f.user("inspector_a", Role.INSPECTOR, world.county_a)
    client.force_login(world.township_official_a)
    url = reverse("admin:assessments_finding_changelist")
    client.post(
        url,
        {
            "action": "rectify",
            "_selected_action": [world.finding_a.pk],
            "apply": "1",
            "evidence": "已整改",
        },
    )
    assert Finding.objects.get(pk=world.finding_a.pk).status == "rectified"
    client.force_login(inspector)
    client.post(
        url, {"action": "verify_pass", "_selected_action": [world.finding_a.pk], "apply": "1"}
    )
    assert Finding.objects.get(pk=world.finding_a.pk).status == "verified"


def test_team_sees_and_reports_in_the_workbench(client, world):
    client.force_login(world.member_a)
    home = client.get("/work/").content.decode()
    page = reverse("work:finding", args=[world.finding_a.pk])
    assert page in home
    assert "督查发现待整改问题" in home
    data = {"key": str(uuid.uuid4()), "evidence": "已补录走访台账 12 户"}
    assert client.post(page, data).status_code == 302
    assert client.post(page, data).status_code == 302
    finding = Finding.objects.get(pk=world.finding_a.pk)
    assert (finding.status, finding.rectified_by) == ("rectified", world.member_a)
    assert len(steps(finding)) == 2
    other = client.get(reverse("work:finding", args=[world.finding_b.pk]))
    missing = client.get(reverse("work:finding", args=[999999]))
    assert other.status_code == missing.status_code == 404
    assert other.content == missing.content
