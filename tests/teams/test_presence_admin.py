"""Staff side: leave approval in the admin, absences recorded by inspectors, the compliance
and coverage reports with their .xlsx, all scoped."""

import datetime as dt
import io

import openpyxl
from django.urls import reverse

from accounts.roles import Role
from teams.models import Attendance, LeaveRequest

from .. import factories as f

COMPLIANCE = "/admin/teams/attendance/compliance/"
COVERAGE = "/admin/households/visitlog/coverage/"


def test_township_approves_short_leave_in_the_admin(client, world):
    client.force_login(world.township_official_a)
    url = reverse("admin:teams_leaverequest_changelist")
    page = client.get(url)
    assert world.leave_a.cadre.name in page.content.decode()
    assert world.leave_b.cadre.name not in page.content.decode()
    selected = [world.leave_a.pk, world.leave_b.pk]  # B is out of scope: ignored
    form = client.post(url, {"action": "approve", "_selected_action": selected})
    assert "将办理以下记录" in form.content.decode()
    client.post(
        url, {"action": "approve", "_selected_action": selected, "apply": "1", "note": "同意"}
    )
    world.leave_a.refresh_from_db()
    world.leave_b.refresh_from_db()
    assert (world.leave_a.status, world.leave_a.decided_by) == (
        "approved",
        world.township_official_a,
    )
    assert world.leave_b.status == "pending"


def test_reject_needs_a_note(client, world):
    client.force_login(world.official_a)
    url = reverse("admin:teams_leaverequest_changelist")
    page = client.post(
        url,
        {"action": "reject", "_selected_action": [world.leave_a.pk], "apply": "1", "note": ""},
        follow=True,
    )
    assert "不批准时请填写意见。" in page.content.decode()
    assert LeaveRequest.objects.get(pk=world.leave_a.pk).status == "pending"


def test_inspector_records_an_absence(client, world):
    inspector = f.user("inspector_a", Role.INSPECTOR, world.county_a)
    client.force_login(inspector)
    url = reverse("admin:teams_attendance_add")
    day = world.attendance_a.day
    client.post(url, {"cadre": world.cadre_a.pk, "day": day.isoformat(), "note": "暗访不在村"})
    row = Attendance.objects.get(cadre=world.cadre_a, day=day)
    assert (row.status, row.source, row.recorded_by) == ("absent", "inspection", inspector)
    page = client.post(url, {"cadre": world.cadre_b.pk, "day": day.isoformat(), "note": "x"})
    assert page.status_code == 200  # county B's cadre is not a choice
    assert Attendance.objects.get(cadre=world.cadre_b, day=day).status == "present"


def test_compliance_report_and_xlsx(client, world):
    client.force_login(world.official_a)
    today = world.attendance_a.day
    params = {"start": (today - dt.timedelta(days=6)).isoformat(), "end": today.isoformat()}
    page = client.get(COMPLIANCE, params).content.decode()
    assert world.cadre_a.name in page
    assert world.cadre_b.name not in page
    download = client.get(COMPLIANCE, params | {"format": "xlsx"})
    book = openpyxl.load_workbook(io.BytesIO(download.content))
    cadres = list(book["干部"].iter_rows(min_row=4, values_only=True))
    assert [row[2] for row in cadres] == [world.cadre_a.name]
    assert cadres[0][4] == 1  # checked in once (the fixture world's check-in today)
    assert book["工作队"]["A4"].value == world.team_a.name
    bad = client.get(COMPLIANCE, {"start": "2026-11-10", "end": "2026-11-01"})
    assert "结束日期不能早于开始日期。" in bad.content.decode()


def test_coverage_report_and_xlsx(client, world):
    client.force_login(world.official_b)
    today = world.visit_b.visited_on
    this_month = {"start": today.replace(day=1).isoformat(), "end": today.isoformat()}
    page = client.get(COVERAGE, this_month).content.decode()
    assert world.village_b.name in page
    assert world.village_a.name not in page
    # The default is last month, which counts none of this month's visits.
    (last_month,) = client.get(COVERAGE).context["rows"]
    assert last_month[1:7] == (world.village_b.name, 1, 0, "0.0%", 1, 0)
    download = client.get(COVERAGE, this_month | {"format": "xlsx"})
    book = openpyxl.load_workbook(io.BytesIO(download.content))
    (row,) = book["村"].iter_rows(min_row=4, values_only=True)
    # One household, visited this month by the first secretary (the fixture world's visit).
    assert row[1:7] == (world.village_b.name, 1, 1, "100.0%", 1, 1)
    (township,) = book["乡镇"].iter_rows(min_row=4, values_only=True)
    assert township == (world.township_b.name, 1, 1, 1, "100.0%")


def test_formula_text_stays_text(world):
    from common.xlsx import workbook_response

    response = workbook_response(
        "t.xlsx", [("s", ["a"], [['=HYPERLINK("http://x","y")'], ["+1"]], "")]
    )
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    cells = [c[0] for c in book["s"].iter_rows(min_row=2)]
    assert [c.value for c in cells] == ['=HYPERLINK("http://x","y")', "+1"]
    assert [c.data_type for c in cells] == ["s", "s"]
