"""Crafted presence cases with their expected results, and who may approve leave."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from common.errors import ApplicationError
from teams import presence
from teams.compliance import presence_compliance
from teams.models import Assignment, Attendance, LeaveRequest
from teams.services import cadre_link_user

from .. import factories as f

SHANGHAI = ZoneInfo("Asia/Shanghai")
LATER = dt.date(2027, 1, 15)  # "today" for the report: every crafted period has ended


def at(day: dt.date, hour: int = 9) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, tzinfo=SHANGHAI)


def days(first: dt.date, last: dt.date):
    while first <= last:
        yield first
        first += dt.timedelta(days=1)


@pytest.fixture
def clean(world):
    """County A without the fixture world's own rule, check-ins and leave."""
    for model in (Attendance, LeaveRequest):
        model.objects.all().delete()
    world.rule_a.delete()
    return world


def check_in(world, dates, nights=()):
    for day in dates:
        presence.attendance_check_in(cadre=world.cadre_a, overnight=day in nights, at=at(day))


def compliance(world, start, end, kinds=("week", "month", "year")):
    assignment = Assignment.objects.select_related("cadre", "team__village").get(
        pk=world.assignment_a.pk
    )
    (result,) = presence_compliance(
        assignments=[assignment], start=start, end=end, today=LATER, kinds=kinds
    )
    return result


def five_days_four_nights(world, effective=dt.date(2026, 1, 1)):
    return presence.presence_rule_set(
        region=world.county_a,
        effective_from=effective,
        name="五天四夜",
        days_per_week=5,
        nights_per_week=4,
        township_leave_days=3,
    )


def twenty_days_a_month(world, effective=dt.date(2026, 1, 1)):
    return presence.presence_rule_set(
        region=world.county_a,
        effective_from=effective,
        name="每月不少于20天",
        days_per_month=20,
        counted_kinds=["meeting", "training", "project"],
        township_leave_days=5,
    )


def approve(world, leave):
    return presence.leave_request_decide(leave=leave, actor=world.official_a, approve=True)


def test_week_with_leave_five_days_four_nights(clean, time_machine):
    """Mon 2 Nov – Sun 8 Nov 2026, 五天四夜, approved personal leave on Mon and Tue.

    Five days count: 5 × 5/7 = 3.57 → 4 days and 4 × 5/7 = 2.86 → 3 nights required.
    """
    world = clean
    five_days_four_nights(world)
    time_machine.move_to(at(dt.date(2026, 10, 30)))
    leave = presence.leave_request_submit(
        cadre=world.cadre_a,
        kind="personal",
        start=dt.date(2026, 11, 2),
        end=dt.date(2026, 11, 3),
        reason="孩子生病",
    )
    assert leave.approver_level == "township"
    approve(world, leave)
    monday, sunday = dt.date(2026, 11, 2), dt.date(2026, 11, 8)
    check_in(
        world,
        days(dt.date(2026, 11, 4), dt.date(2026, 11, 7)),
        nights={dt.date(2026, 11, 4), dt.date(2026, 11, 5), dt.date(2026, 11, 6)},
    )
    (week,) = compliance(world, monday, sunday, kinds=("week",)).pieces
    assert (week.days_required, week.nights_required) == (4, 3)
    assert (week.days, week.nights, week.ok) == (4, 3, True)

    Attendance.objects.filter(day=dt.date(2026, 11, 7)).delete()  # not there on Saturday
    result = compliance(world, monday, sunday, kinds=("week",))
    (week,) = result.pieces
    assert (week.days, week.nights, week.ok) == (3, 3, False)
    assert result.breaking_days == [dt.date(2026, 11, 7), dt.date(2026, 11, 8)]
    assert result.count("excused") == 2


def test_month_with_inspection_absence_over_check_in(clean, time_machine):
    """October 2026, ≥20 days a month: checked in 1–20 October, but an inspection found the
    cadre away on the 10th: 19 days, failed; the 10th is absent though checked in."""
    world = clean
    twenty_days_a_month(world)
    check_in(world, days(dt.date(2026, 10, 1), dt.date(2026, 10, 20)))
    october = (dt.date(2026, 10, 1), dt.date(2026, 10, 31))
    (month,) = compliance(world, *october, kinds=("month",)).pieces
    assert (month.days_required, month.days, month.ok) == (20, 20, True)

    time_machine.move_to(at(dt.date(2026, 10, 12)))
    row = presence.attendance_record_absence(
        cadre=world.cadre_a, day=dt.date(2026, 10, 10), actor=world.official_a, note="暗访不在村"
    )
    assert (row.status, row.source, row.checked_in_at is not None) == ("absent", "inspection", True)
    # Checking in again that day changes nothing: the inspection stands.
    presence.attendance_check_in(cadre=world.cadre_a, at=at(dt.date(2026, 10, 10), 18))
    assert Attendance.objects.get(day=dt.date(2026, 10, 10)).status == "absent"
    result = compliance(world, *october, kinds=("month",))
    (month,) = result.pieces
    assert (month.days_required, month.days, month.ok) == (20, 19, False)
    assert result.states[dt.date(2026, 10, 10)] == "absent"
    assert result.breaking_days[0] == dt.date(2026, 10, 10)
    assert result.breaking_days[1:] == list(days(dt.date(2026, 10, 21), dt.date(2026, 10, 31)))


def test_official_business_counts_when_the_rule_says(clean, time_machine):
    """≥20 days a month counting training: 18 check-ins + a 3-day training (filed) pass."""
    world = clean
    twenty_days_a_month(world)
    time_machine.move_to(at(dt.date(2026, 8, 25)))
    training = presence.leave_request_submit(
        cadre=world.cadre_a,
        kind="training",
        start=dt.date(2026, 9, 21),
        end=dt.date(2026, 9, 23),
        reason="省委党校第一书记培训班",
    )
    assert training.status == "filed"
    check_in(world, days(dt.date(2026, 9, 1), dt.date(2026, 9, 18)))
    (month,) = compliance(world, dt.date(2026, 9, 1), dt.date(2026, 9, 30), kinds=("month",)).pieces
    assert (month.days_required, month.days, month.ok) == (20, 21, True)
    # Personal leave is excused, not counted: the requirement shrinks instead.
    presence.leave_request_decide(
        leave=training, actor=world.official_a, approve=False, note="未报批"
    )
    (month,) = compliance(world, dt.date(2026, 9, 1), dt.date(2026, 9, 30), kinds=("month",)).pieces
    assert (month.days, month.ok) == (18, False)


def test_rule_changes_on_its_effective_date(clean):
    """五天四夜 until 31 October, ≥20 days a month from 1 November (the same county)."""
    world = clean
    weekly = five_days_four_nights(world)
    monthly = twenty_days_a_month(world, effective=dt.date(2026, 11, 1))
    code = world.village_a.code
    assert presence.rule_for(code, dt.date(2026, 10, 31)) == weekly
    assert presence.rule_for(code, dt.date(2026, 11, 1)) == monthly
    check_in(
        world,
        days(dt.date(2026, 10, 26), dt.date(2026, 10, 30)),
        nights=set(days(dt.date(2026, 10, 26), dt.date(2026, 10, 29))),
    )
    check_in(world, days(dt.date(2026, 11, 2), dt.date(2026, 11, 21)))
    result = compliance(
        world, dt.date(2026, 10, 26), dt.date(2026, 11, 30), kinds=("week", "month")
    )
    pieces = [
        (p.kind, p.start, p.end, p.rule.name, p.days_required, p.days, p.ok) for p in result.pieces
    ]
    assert pieces == [
        # The week of 26 October – 1 November: six days under 五天四夜 (4 days, 3 nights
        # needed: 5 × 6/7 = 4.29, 4 × 6/7 = 3.43); 1 November falls under the new rule,
        # which has no weekly figure.
        ("week", dt.date(2026, 10, 26), dt.date(2026, 10, 31), "五天四夜", 4, 5, True),
        ("month", dt.date(2026, 11, 1), dt.date(2026, 11, 30), "每月不少于20天", 20, 20, True),
    ]
    assert result.pieces[0].nights_required == 3


def test_most_specific_region_wins(clean):
    world = clean
    five_days_four_nights(world)
    township = presence.presence_rule_set(
        region=world.township_a, effective_from=dt.date(2026, 6, 1), name="牧区", days_per_month=15
    )
    assert presence.rule_for(world.village_a.code, dt.date(2026, 7, 1)) == township
    assert presence.rule_for(world.village_a.code, dt.date(2026, 5, 31)).name == "五天四夜"
    assert presence.rule_for(world.village_b.code, dt.date(2026, 7, 1)).name == "五天四夜"


def test_nobody_approves_their_own_leave(clean, time_machine):
    world = clean
    five_days_four_nights(world)
    time_machine.move_to(at(dt.date(2026, 11, 10)))
    boss = f.cadre("王队长", world.unit_a, world.county_a)
    team = f.team(f.village("140121100202", "西于村", world.township_a), world.unit_a)
    f.assign(boss, team)
    cadre_link_user(cadre=boss, user=world.official_a)  # a county official who also serves
    leave = presence.leave_request_submit(
        cadre=boss,
        kind="personal",
        start=dt.date(2026, 11, 12),
        end=dt.date(2026, 11, 12),
        reason="体检",
        user=world.official_a,
    )
    with pytest.raises(ApplicationError, match="不能审批本人的请假"):
        presence.leave_request_decide(leave=leave, actor=world.official_a, approve=True)
    assert LeaveRequest.objects.get(pk=leave.pk).status == "pending"
    presence.leave_request_decide(leave=leave, actor=world.township_official_a, approve=True)
    assert LeaveRequest.objects.get(pk=leave.pk).status == "approved"


def test_township_cannot_approve_what_needs_the_county(clean, time_machine):
    world = clean
    five_days_four_nights(world)  # township approves up to 3 days
    time_machine.move_to(at(dt.date(2026, 11, 10)))
    long = presence.leave_request_submit(
        cadre=world.cadre_a,
        kind="sick",
        start=dt.date(2026, 11, 16),
        end=dt.date(2026, 11, 20),
        reason="住院",
    )
    assert (long.days, long.approver_level) == (5, "county")
    with pytest.raises(ApplicationError, match="超过乡镇审批权限"):
        presence.leave_request_decide(leave=long, actor=world.township_official_a, approve=True)
    with pytest.raises(ApplicationError, match="未找到该申请"):
        presence.leave_request_decide(leave=long, actor=world.official_b, approve=True)
    assert LeaveRequest.objects.get(pk=long.pk).status == "pending"
    approved = approve(world, long)
    assert (approved.status, approved.decided_by) == ("approved", world.official_a)
    assert approve(world, long).decided_at == approved.decided_at  # twice: no change
    with pytest.raises(Exception, match="时间重叠"):
        presence.leave_request_submit(
            cadre=world.cadre_a,
            kind="personal",
            start=dt.date(2026, 11, 20),
            end=dt.date(2026, 11, 21),
            reason="重叠",
        )
