"""A finalized year is closed: check-in, absences, leave, visits and incomes of that year are
refused with a clear message, in the services, the workbench and the admin; another year and
another county are not touched; the check is one indexed query."""

import datetime as dt
import uuid

import pytest
import time_machine
from django.contrib.messages import get_messages
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from assessments import services
from assessments.models import Assessment, Finding
from common.errors import ApplicationError
from households import services as hs
from households.models import IncomeRecord, VisitLog
from teams import presence
from teams.locks import year_lock_check
from teams.models import Attendance, LeaveRequest, YearLock

from .. import factories as f
from .test_yearly import NOW, SHANGHAI, unit_only

LOCKED = "2026年度考核已定格，该年度的考勤、请假、走访和收入记录已锁定，不能再%s。"


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def finalized(world):
    """Cadre A's 2026 assessment finalized by county A; a second member of team A (not
    assessed yet) serves in the same village."""
    unit_only(world)
    services.assessment_fill(county=world.county_a, year=2026)
    a = Assessment.objects.get(cadre=world.cadre_a, year=2026)
    a = services.assessment_enter_scores(assessment=a, actor=world.official_a, scores={"unit": 80})
    a = services.assessment_submit(assessment=a, actor=world.official_a)
    services.assessment_finalize(assessments=[a], actor=world.official_a)
    colleague = f.cadre("王晓明", world.unit_a, world.county_a)
    f.assign(colleague, world.team_a)
    return colleague


def refused(what: str):
    return pytest.raises(ApplicationError, match=LOCKED % what)


def test_finalizing_locks_the_cadre_and_the_village(world, finalized):
    locks = set(YearLock.objects.values_list("year", "cadre", "village", "locked_by"))
    assert locks == {
        (2026, world.cadre_a.pk, None, world.official_a.pk),
        (2026, None, world.village_a.pk, world.official_a.pk),
    }
    assert {str(lock.reason) for lock in YearLock.objects.all()} == {"2026年度考核定格"}


def test_check_in_is_refused_in_the_locked_year_only(world, finalized):
    before = Attendance.objects.count()
    for cadre in (world.cadre_a, finalized):
        with refused("签到"):
            presence.attendance_check_in(cadre=cadre, overnight=True)
    assert Attendance.objects.count() == before
    last_year = dt.datetime(2025, 12, 1, 9, tzinfo=SHANGHAI)
    assert presence.attendance_check_in(cadre=world.cadre_a, at=last_year).day.year == 2025
    # County B has nothing locked.
    assert presence.attendance_check_in(cadre=world.cadre_b, overnight=True)


def test_absences_are_refused_also_through_a_finding(world, finalized):
    with refused("记录缺勤"):
        presence.attendance_record_absence(
            cadre=world.cadre_a, day=dt.date(2026, 6, 1), actor=world.official_a, note="暗访"
        )
    with refused("记录缺勤"):
        presence.attendance_record_absence(
            cadre=finalized, day=dt.date(2026, 6, 1), actor=world.official_a, note="暗访"
        )
    findings = Finding.objects.count()
    with refused("记录缺勤"), transaction.atomic():
        services.finding_create(
            inspection=world.inspection_a,
            village=world.village_a,
            subject="cadre",
            cadre=world.cadre_a,
            category="absent",
            severity="general",
            description="不在村",
            absence_day=dt.date(2026, 11, 20),
            deadline=dt.date(2026, 12, 1),
        )
    assert Finding.objects.count() == findings  # nothing half-written
    presence.attendance_record_absence(
        cadre=world.cadre_a, day=dt.date(2025, 6, 2), actor=world.official_a, note="暗访"
    )


def test_leave_is_refused_for_the_locked_year(world, finalized):
    with refused("请假或报备外出"):
        presence.leave_request_submit(
            cadre=world.cadre_a,
            kind="personal",
            start=dt.date(2026, 12, 1),
            end=dt.date(2026, 12, 2),
            reason="家中有事",
        )
    with refused("请假或报备外出"):  # a leave that reaches into the locked year
        presence.leave_request_submit(
            cadre=world.cadre_a,
            kind="personal",
            start=dt.date(2026, 12, 30),
            end=dt.date(2027, 1, 2),
            reason="家中有事",
        )
    leave = LeaveRequest.objects.get(pk=world.leave_a.pk)  # pending, in November 2026
    with refused("审批请假"):
        presence.leave_request_decide(leave=leave, actor=world.official_a, approve=True)
    with refused("撤回请假"):
        presence.leave_request_cancel(leave=leave, cadre=world.cadre_a)
    assert LeaveRequest.objects.get(pk=leave.pk).status == "pending"
    next_year = presence.leave_request_submit(
        cadre=world.cadre_a,
        kind="personal",
        start=dt.date(2027, 1, 4),
        end=dt.date(2027, 1, 5),
        reason="家中有事",
    )
    assert next_year.status == "pending"


def test_visits_are_refused_for_the_locked_cadre_and_village(world, finalized):
    hs.pairing_assign(
        household=f.household(world.village_a, f"{world.village_a.code}0002"),
        cadre=finalized,
        start=dt.date(2026, 1, 1),
    )

    def visit(cadre, on):
        return hs.visit_record(
            household=world.household_a,
            cadre=cadre,
            visited_on=on,
            kind="phone",
            seen="电话了解近况",
            client_key=uuid.uuid4(),
        )

    before = VisitLog.objects.count()
    with refused("记录走访"):
        visit(world.cadre_a, dt.date(2026, 11, 19))
    with refused("记录走访"):  # not assessed, but the village's year is closed
        visit(finalized, dt.date(2026, 11, 19))
    assert VisitLog.objects.count() == before
    assert visit(world.cadre_a, dt.date(2025, 12, 10)).visited_on.year == 2025
    assert hs.visit_record(
        household=world.household_b,
        cadre=world.cadre_b,
        visited_on=dt.date(2026, 11, 19),
        kind="phone",
        seen="正常",
        client_key=uuid.uuid4(),
    )


def test_incomes_are_refused_for_the_locked_village(world, finalized):
    with refused("登记收入"):
        f.income(world.household_a, dt.date(2026, 10, 1), wage=900)
    with refused("登记收入"):  # a correction of a registered month too
        f.income(world.household_a, dt.date(2026, 1, 1), wage=1)
    assert IncomeRecord.objects.get(household=world.household_a, month="2026-01-01").wage == 800
    assert f.income(world.household_a, dt.date(2025, 12, 1), wage=700).month.year == 2025
    assert f.income(world.household_b, dt.date(2026, 10, 1), wage=900)


def test_the_workbench_and_the_admin_say_why(client, world, finalized):
    client.force_login(world.member_a)
    response = client.post(reverse("work:checkin"), {"key": str(uuid.uuid4()), "overnight": "on"})
    assert response.status_code == 302
    assert [str(m) for m in get_messages(response.wsgi_request)] == [LOCKED % "签到"]

    client.force_login(world.official_a)
    url = reverse("admin:households_incomerecord_add")
    data = {
        "household": world.household_a.pk,
        "month": "2026-10-01",
        "wage": "900",
        "business": "0",
        "property_income": "0",
        "transfer": "0",
        "production_cost": "0",
    }
    response = client.post(url, data, follow=True)
    assert LOCKED % "登记收入" in response.content.decode()
    assert not IncomeRecord.objects.filter(month="2026-10-01").exists()


def test_the_check_is_one_query_on_the_indexes(world, finalized):
    with CaptureQueriesContext(connection) as ctx, refused("签到"):
        year_lock_check(years=[2026], cadre_id=finalized.pk, team_id=world.team_a.pk, what="签到")
    assert len(ctx.captured_queries) == 1
    with CaptureQueriesContext(connection) as ctx:
        year_lock_check(
            years=[2025, 2027], cadre_id=world.cadre_a.pk, village_id=world.village_a.pk, what="x"
        )
    assert len(ctx.captured_queries) == 1
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + ctx.captured_queries[0]["sql"])
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "year_lock_cadre_year" in plan
    assert "year_lock_village_year" in plan
    assert "Seq Scan" not in plan
