"""Every write of presence: rules, daily check-in, absences found by inspections, leave and
official business, and the work diary (驻村日志)."""

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models.functions import Length
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.roles import Role
from common.errors import ApplicationError
from common.geo import parse_position
from villages.models import Region, significant_prefix

from .locks import year_lock_check
from .models import (
    BUSINESS_KINDS,
    AbsenceKind,
    ApproverLevel,
    Assignment,
    AssignmentStatus,
    Attendance,
    AttendanceSource,
    AttendanceStatus,
    Cadre,
    DiaryEntry,
    LeaveRequest,
    LeaveStatus,
    PresenceRule,
)

# Leave longer than this needs a new request (a recall or a replacement is the tool then).
MAX_LEAVE_DAYS = 60


def active_assignment(cadre: Cadre) -> Assignment:
    """The cadre's active assignment, or a clear refusal."""
    assignment = (
        Assignment.objects.filter(cadre=cadre, status=AssignmentStatus.ACTIVE)
        .select_related("team", "team__village")
        .first()
    )
    if assignment is None:
        raise ApplicationError(_("%(name)s当前没有在岗的驻村任职。") % {"name": cadre.name})
    return assignment


def rule_for(code: str, day: dt.date) -> PresenceRule | None:
    """The rule in force for a village on a day: the most specific region, then the latest
    effective date on or before the day."""
    return (
        PresenceRule.objects.for_code(code)
        .filter(effective_from__lte=day)
        .annotate(specific=Length("prefix"))
        .order_by("-specific", "-effective_from")
        .first()
    )


# --- rules -------------------------------------------------------------------------------

RULE_FIELDS = (
    "name",
    "days_per_week",
    "nights_per_week",
    "days_per_month",
    "days_per_year",
    "counted_kinds",
    "township_leave_days",
    "note",
)


@transaction.atomic
def presence_rule_set(*, region: Region, effective_from: dt.date, **values: Any) -> PresenceRule:
    """Create or change the rule of a region from a date on."""
    unknown = set(values) - set(RULE_FIELDS)
    if unknown:
        raise ApplicationError(_("这些字段不能填写：%s") % ", ".join(sorted(unknown)))
    rule = PresenceRule.objects.filter(region=region, effective_from=effective_from).first()
    rule = rule or PresenceRule(region=region, effective_from=effective_from)
    rule.prefix = significant_prefix(region.code, region.level)
    for key, value in values.items():
        setattr(rule, key, value)
    rule.counted_kinds = sorted(set(rule.counted_kinds or []))
    nights, days = rule.nights_per_week, rule.days_per_week
    if nights is not None and days is not None and nights > days:
        raise ValidationError({"nights_per_week": _("每周住村夜数不能多于在村天数。")})
    rule.full_clean()
    rule.save()
    return rule


# --- attendance ----------------------------------------------------------------------------


@transaction.atomic
def attendance_check_in(
    *,
    cadre: Cadre,
    user: User | None = None,
    overnight: bool = False,
    latitude: Any = None,
    longitude: Any = None,
    at: dt.datetime | None = None,
) -> Attendance:
    """Say "I am here today". One row per cadre per day: checking in again only adds the
    night; an absence recorded by an inspection for the day is never overwritten."""
    at = at or timezone.now()
    day = timezone.localtime(at).date()
    assignment = active_assignment(cadre)
    if day < assignment.start:
        raise ApplicationError(_("到岗日期之前不能签到。"))
    year_lock_check(
        years=[day.year],
        cadre_id=cadre.pk,
        village_id=assignment.team.village_id,
        what=_("签到"),
    )
    lat, lon = parse_position(latitude, longitude)
    Cadre.objects.select_for_update().filter(pk=cadre.pk).first()
    row = Attendance.objects.filter(cadre=cadre, day=day).first()
    if row is not None:
        if overnight and not row.overnight and row.status == AttendanceStatus.PRESENT:
            row.overnight = True
            row.save(update_fields=["overnight", "updated_at"])
        return row
    row = Attendance(
        cadre=cadre,
        team=assignment.team,
        day=day,
        status=AttendanceStatus.PRESENT,
        source=AttendanceSource.CHECKIN,
        overnight=overnight,
        checked_in_at=at,
        latitude=lat,
        longitude=lon,
        recorded_by=user,
    )
    row.full_clean(validate_constraints=False)
    row.save()
    return row


@transaction.atomic
def attendance_record_absence(
    *, cadre: Cadre, day: dt.date, actor: User | None, note: str
) -> Attendance:
    """An inspection found the cadre away from the village on `day` without leave: the day
    is absent whatever the check-in said (the check-in stays on the row as evidence)."""
    if day > timezone.localdate():
        raise ValidationError({"day": _("不能记录未来日期的缺勤。")})
    if not (note or "").strip():
        raise ValidationError({"note": _("请说明督查发现的情况。")})
    assignment = (
        Assignment.objects.filter(cadre=cadre, start__lte=day)
        .exclude(ended_on__lt=day)
        .select_related("team")
        .order_by("-start")
        .first()
    )
    if assignment is None:
        raise ApplicationError(_("该干部在%s没有驻村任职。") % day.isoformat())
    year_lock_check(
        years=[day.year],
        cadre_id=cadre.pk,
        village_id=assignment.team.village_id,
        what=_("记录缺勤"),
    )
    Cadre.objects.select_for_update().filter(pk=cadre.pk).first()
    row = Attendance.objects.filter(cadre=cadre, day=day).first() or Attendance(
        cadre=cadre, team=assignment.team, day=day
    )
    row.status = AttendanceStatus.ABSENT
    row.source = AttendanceSource.INSPECTION
    row.overnight = False
    row.note = note.strip()[:200]
    row.recorded_by = actor
    row.save()
    return row


# --- leave and official business ---------------------------------------------------------


def _approver_level(code: str, start: dt.date, days: int) -> str:
    rule = rule_for(code, start)
    limit = rule.township_leave_days if rule else 0
    return ApproverLevel.TOWNSHIP if days <= limit else ApproverLevel.COUNTY


@transaction.atomic
def leave_request_submit(
    *,
    cadre: Cadre,
    kind: str,
    start: dt.date,
    end: dt.date,
    reason: str,
    destination: str = "",
    user: User | None = None,
) -> LeaveRequest:
    """Ask for leave (approved by the township or the county by its length, as the county's
    rule says) or file official business away from the village (counted as the rule says)."""
    if kind not in AbsenceKind.values:
        raise ValidationError({"kind": _("请选择外出类型。")})
    if end < start:
        raise ValidationError({"end": _("结束日期不能早于开始日期。")})
    days = (end - start).days + 1
    if days > MAX_LEAVE_DAYS:
        raise ValidationError({"end": _("一次最多%d天。") % MAX_LEAVE_DAYS})
    if not (reason or "").strip():
        raise ValidationError({"reason": _("请填写事由。")})
    assignment = active_assignment(cadre)
    if start < assignment.start:
        raise ValidationError({"start": _("开始日期不能早于到岗日期。")})
    year_lock_check(
        years=range(start.year, end.year + 1),
        cadre_id=cadre.pk,
        village_id=assignment.team.village_id,
        what=_("请假或报备外出"),
    )
    Cadre.objects.select_for_update().filter(pk=cadre.pk).first()
    overlap = (
        LeaveRequest.objects.filter(cadre=cadre, start__lte=end, end__gte=start)
        .filter(status__in=[LeaveStatus.PENDING, LeaveStatus.APPROVED, LeaveStatus.FILED])
        .first()
    )
    if overlap is not None:
        raise ValidationError(
            {
                "start": _("与已有的%(kind)s（%(start)s至%(end)s）时间重叠。")
                % {
                    "kind": overlap.get_kind_display(),
                    "start": overlap.start.isoformat(),
                    "end": overlap.end.isoformat(),
                }
            }
        )
    business = kind in BUSINESS_KINDS
    leave = LeaveRequest(
        cadre=cadre,
        team=assignment.team,
        kind=kind,
        start=start,
        end=end,
        days=days,
        reason=reason.strip(),
        destination=(destination or "").strip(),
        status=LeaveStatus.FILED if business else LeaveStatus.PENDING,
        approver_level=""
        if business
        else _approver_level(assignment.team.village.code, start, days),
        requested_by=user,
    )
    leave.full_clean(validate_constraints=False)
    leave.save()
    return leave


def _check_leave_unlocked(leave: LeaveRequest, what: str) -> None:
    year_lock_check(
        years=range(leave.start.year, leave.end.year + 1),
        cadre_id=leave.cadre_id,
        team_id=leave.team_id,
        what=what,
    )


def can_decide(actor: User, leave: LeaveRequest) -> str | None:
    """Why `actor` may not decide `leave`, or None when they may (scope is checked apart)."""
    own = Cadre.objects.filter(user=actor).values_list("pk", flat=True).first()
    if own == leave.cadre_id or leave.requested_by_id == actor.pk:
        return _("不能审批本人的请假。")
    if actor.is_superuser:
        return None
    if actor.role in (Role.COUNTY_ADMIN, Role.CITY):
        return None
    if actor.role == Role.TOWNSHIP_ADMIN:
        if leave.approver_level == ApproverLevel.COUNTY:
            return _("请假%(days)d天，超过乡镇审批权限，须由县级审批。") % {"days": leave.days}
        return None
    return _("只有乡镇或县级管理人员可以审批请假。")


@transaction.atomic
def leave_request_decide(
    *, leave: LeaveRequest, actor: User, approve: bool, note: str = ""
) -> LeaveRequest:
    """Approve or refuse a pending leave, or annul filed official business. Nobody decides
    their own request; a township decides only what its level may. Deciding the same way
    twice changes nothing."""
    leave = (
        LeaveRequest.objects.visible_to(actor)
        .select_for_update()
        .filter(pk=leave.pk)
        .select_related(None)
        .first()
    )
    if leave is None:
        raise ApplicationError(_("未找到该申请。"))
    target = LeaveStatus.APPROVED if approve else LeaveStatus.REJECTED
    if leave.status == LeaveStatus.FILED:
        target = LeaveStatus.FILED if approve else LeaveStatus.REJECTED
    if leave.status == target:
        return leave
    if leave.status not in (LeaveStatus.PENDING, LeaveStatus.FILED):
        raise ApplicationError(
            _("该申请已%(status)s，不能再审批。") % {"status": leave.get_status_display()}
        )
    refusal = can_decide(actor, leave)
    if refusal:
        raise ApplicationError(refusal)
    _check_leave_unlocked(leave, _("审批请假"))
    if not approve and not (note or "").strip():
        raise ValidationError({"note": _("不批准时请填写意见。")})
    leave.status = target
    leave.decided_by = actor
    leave.decided_at = timezone.now()
    leave.decision_note = (note or "").strip()[:200]
    leave.save(update_fields=["status", "decided_by", "decided_at", "decision_note", "updated_at"])
    return leave


@transaction.atomic
def leave_request_cancel(*, leave: LeaveRequest, cadre: Cadre) -> LeaveRequest:
    """The cadre withdraws a pending request or filed business that has not begun."""
    leave = LeaveRequest.objects.select_for_update().get(pk=leave.pk)
    if leave.cadre_id != cadre.pk:
        raise ApplicationError(_("只能撤回本人的申请。"))
    if leave.status == LeaveStatus.CANCELLED:
        return leave
    if leave.status not in (LeaveStatus.PENDING, LeaveStatus.FILED) or (
        leave.status == LeaveStatus.FILED and leave.start <= timezone.localdate()
    ):
        raise ApplicationError(_("该申请已%s，不能撤回。") % leave.get_status_display())
    _check_leave_unlocked(leave, _("撤回请假"))
    leave.status = LeaveStatus.CANCELLED
    leave.save(update_fields=["status", "updated_at"])
    return leave


# --- diary ---------------------------------------------------------------------------------


@transaction.atomic
def diary_save(
    *, cadre: Cadre, day: dt.date, work_done: str, problems: str = "", next_plan: str = ""
) -> DiaryEntry:
    """Write (or correct) the diary of a day; one entry per cadre per day."""
    assignment = active_assignment(cadre)
    if day > timezone.localdate():
        raise ValidationError({"day": _("不能填写未来日期的日志。")})
    if day < assignment.start:
        raise ValidationError({"day": _("日期不能早于到岗日期。")})
    if not (work_done or "").strip():
        raise ValidationError({"work_done": _("请填写工作内容。")})
    entry = DiaryEntry.objects.filter(cadre=cadre, day=day).first() or DiaryEntry(
        cadre=cadre, team=assignment.team, day=day
    )
    entry.work_done = work_done.strip()
    entry.problems = (problems or "").strip()
    entry.next_plan = (next_plan or "").strip()
    entry.full_clean(validate_constraints=False)
    try:
        with transaction.atomic():
            entry.save()
    except IntegrityError:  # a concurrent save of the same day: that one stands
        return DiaryEntry.objects.get(cadre=cadre, day=day)
    return entry
