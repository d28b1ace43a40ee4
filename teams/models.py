"""Dispatching units, work teams, cadres and their assignments (the roster)."""

import datetime as dt

import pghistory
from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from common.fields import EncryptedCharField, KeyedHashField
from common.models import BaseModel, ScopedQuerySet
from common.people import mask_id_number, mask_phone
from common.sync import sync_index, sync_stamp_field, sync_triggers, touch_triggers
from villages.models import Region, Village


class UnitLevel(models.TextChoices):
    CENTRAL = "central", _("中央")
    PROVINCE = "province", _("省")
    CITY = "city", _("市")
    COUNTY = "county", _("县")
    TOWNSHIP = "township", _("乡")


class UnitKind(models.TextChoices):
    PARTY_GOVERNMENT = "agency", _("党政机关")
    INSTITUTION = "institution", _("事业单位")
    STATE_ENTERPRISE = "enterprise", _("国有企业")
    UNIVERSITY = "university", _("高校")
    FINANCIAL = "financial", _("金融机构")
    OTHER = "other", _("其他")


class DispatchingUnitQuerySet(ScopedQuerySet):
    """A unit is visible where it is registered, and where it has sent a team."""

    scope_path = "region__code"

    def scope_q(self, prefix: str) -> Q:
        return Q(region__code__startswith=prefix) | Exists(
            WorkTeam.objects.filter(lead_unit=OuterRef("pk"), village__code__startswith=prefix)
        )


@pghistory.track(
    pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent(), exclude=["sync_xid"]
)
class DispatchingUnit(BaseModel):
    name = models.CharField(_("单位名称"), max_length=128)
    level = models.CharField(_("单位层级"), max_length=16, choices=UnitLevel.choices)
    kind = models.CharField(_("单位类型"), max_length=16, choices=UnitKind.choices)
    region = models.ForeignKey(
        Region, verbose_name=_("所属区划"), on_delete=models.PROTECT, related_name="units"
    )
    principal_leader = models.CharField(_("主要负责人"), max_length=64, blank=True)
    contact_name = models.CharField(_("联系人"), max_length=64, blank=True)
    contact_phone = EncryptedCharField(_("联系电话"), blank=True, default="")
    sync_xid = sync_stamp_field()

    objects = DispatchingUnitQuerySet.as_manager()

    class Meta:
        verbose_name = _("派出单位")
        verbose_name_plural = _("派出单位")
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["region", "name"],
                name="unit_unique_name_in_region",
                violation_error_message=_("该区划下已有同名单位。"),
            ),
        ]
        triggers = sync_triggers(DispatchingUnitQuerySet.scope_path)
        indexes = [sync_index("unit")]

    def __str__(self) -> str:
        return self.name


class TeamStatus(models.TextChoices):
    ACTIVE = "active", _("在岗")
    ENDED = "ended", _("已撤离")


class WorkTeamQuerySet(ScopedQuerySet):
    scope_path = "village__code"

    def with_warnings(self, today: dt.date | None = None) -> "WorkTeamQuerySet":
        """Annotate the derived warnings, computed in the query (no stored flags).

        active_members: active assignments; has_first_secretary; term_ending_soon (the team's
        term ends within the warning window); members_overdue (an active member serving past
        the planned end).
        """
        today = today or timezone.localdate()
        soon = today + dt.timedelta(days=settings.ZHUCUN_TERM_WARNING_DAYS)
        active = Assignment.objects.filter(team=OuterRef("pk"), status=AssignmentStatus.ACTIVE)
        return self.annotate(
            active_members=models.functions.Coalesce(
                models.Subquery(
                    active.order_by().values("team").annotate(n=models.Count("*")).values("n")
                ),
                0,
            ),
            has_first_secretary=Exists(active.filter(is_first_secretary=True)),
            term_ending_soon=models.Case(
                models.When(
                    status=TeamStatus.ACTIVE, term_end__gte=today, term_end__lte=soon, then=True
                ),
                default=False,
                output_field=models.BooleanField(),
            ),
            members_overdue=Exists(active.filter(planned_end__lt=today)),
        )


@pghistory.track(
    pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent(), exclude=["sync_xid"]
)
class WorkTeam(BaseModel):
    """A resident work team: one active team per village (一村一队)."""

    village = models.ForeignKey(
        Village, verbose_name=_("驻村"), on_delete=models.PROTECT, related_name="teams"
    )
    name = models.CharField(_("工作队名称"), max_length=128)
    lead_unit = models.ForeignKey(
        DispatchingUnit,
        verbose_name=_("牵头派出单位"),
        on_delete=models.PROTECT,
        related_name="teams",
    )
    other_units = models.ManyToManyField(
        DispatchingUnit,
        verbose_name=_("其他派出单位"),
        blank=True,
        related_name="joint_teams",
        through="TeamUnit",
    )
    term_start = models.DateField(_("任期开始"))
    term_end = models.DateField(_("任期结束"))
    status = models.CharField(
        _("状态"), max_length=16, choices=TeamStatus.choices, default=TeamStatus.ACTIVE
    )
    ended_on = models.DateField(_("撤离日期"), null=True, blank=True)
    sync_xid = sync_stamp_field()

    objects = WorkTeamQuerySet.as_manager()

    class Meta:
        verbose_name = _("驻村工作队")
        verbose_name_plural = _("驻村工作队")
        ordering = ["village__code", "-term_start"]
        constraints = [
            models.UniqueConstraint(
                fields=["village"],
                condition=Q(status="active"),
                name="team_one_active_per_village",
                violation_error_message=_("该村已有在岗的驻村工作队（一村一队）。"),
            ),
            models.CheckConstraint(
                condition=Q(term_end__gt=models.F("term_start")),
                name="team_term_order",
                violation_error_message=_("任期结束日期应晚于开始日期。"),
            ),
        ]
        triggers = sync_triggers(WorkTeamQuerySet.scope_path)
        indexes = [sync_index("team")]

    def __str__(self) -> str:
        return self.name


class TeamUnitQuerySet(ScopedQuerySet):
    scope_path = "team__village__code"


@pghistory.track(pghistory.InsertEvent("unit.add"), pghistory.DeleteEvent("unit.remove"))
class TeamUnit(models.Model):
    """A joint dispatching unit of a team (the lead unit is on the team itself)."""

    team = models.ForeignKey(
        WorkTeam, verbose_name=_("工作队"), on_delete=models.CASCADE, related_name="joint_units"
    )
    unit = models.ForeignKey(
        DispatchingUnit, verbose_name=_("派出单位"), on_delete=models.PROTECT, related_name="+"
    )

    objects = TeamUnitQuerySet.as_manager()

    class Meta:
        verbose_name = _("联合派出单位")
        verbose_name_plural = _("联合派出单位")
        constraints = [
            models.UniqueConstraint(fields=["team", "unit"], name="team_unit_unique"),
        ]
        # The team lists its joint units: a change here serves the team again.
        triggers = touch_triggers("team")

    def __str__(self) -> str:
        return f"{self.team_id}-{self.unit_id}"


class Gender(models.TextChoices):
    MALE = "M", _("男")
    FEMALE = "F", _("女")


class PoliticalStatus(models.TextChoices):
    CPC_MEMBER = "cpc", _("中共党员")
    CPC_PROBATIONARY = "cpc_probation", _("中共预备党员")
    YOUTH_LEAGUE = "league", _("共青团员")
    DEMOCRATIC_PARTY = "democratic", _("民主党派")
    MASSES = "masses", _("群众")


class CadreQuerySet(ScopedQuerySet):
    """A cadre is visible in the region that keeps the record and where the cadre serves."""

    scope_path = "region__code"

    def scope_q(self, prefix: str) -> Q:
        return Q(region__code__startswith=prefix) | Exists(
            Assignment.objects.filter(
                cadre=OuterRef("pk"),
                status=AssignmentStatus.ACTIVE,
                team__village__code__startswith=prefix,
            )
        )

    def with_warnings(self, today: dt.date | None = None) -> "CadreQuerySet":
        today = today or timezone.localdate()
        soon = today + dt.timedelta(days=settings.ZHUCUN_TERM_WARNING_DAYS)
        active = Assignment.objects.filter(cadre=OuterRef("pk"), status=AssignmentStatus.ACTIVE)
        return self.annotate(
            serving=Exists(active),
            past_planned_end=Exists(active.filter(planned_end__lt=today)),
            term_ending_soon=Exists(active.filter(planned_end__gte=today, planned_end__lte=soon)),
        )


@pghistory.track(
    pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent(), exclude=["sync_xid"]
)
class Cadre(BaseModel):
    """A person who serves on work teams. ID number and phone are stored encrypted."""

    name = models.CharField(_("姓名"), max_length=64)
    id_number = EncryptedCharField(_("身份证号"))
    id_hash = KeyedHashField(source="id_number")
    gender = models.CharField(_("性别"), max_length=1, choices=Gender.choices, editable=False)
    birth_date = models.DateField(_("出生日期"), editable=False)
    phone = EncryptedCharField(_("手机号"), blank=True, default="")
    phone_hash = KeyedHashField(source="phone", blank=True, default="")
    political_status = models.CharField(
        _("政治面貌"),
        max_length=16,
        choices=PoliticalStatus.choices,
        default=PoliticalStatus.CPC_MEMBER,
    )
    unit = models.ForeignKey(
        DispatchingUnit, verbose_name=_("工作单位"), on_delete=models.PROTECT, related_name="cadres"
    )
    position = models.CharField(_("职务"), max_length=64, blank=True)
    rank = models.CharField(_("职级"), max_length=32, blank=True)
    region = models.ForeignKey(
        Region,
        verbose_name=_("管理区划"),
        on_delete=models.PROTECT,
        related_name="cadres",
        help_text=_("负责管理该干部档案的区划（通常为县）。"),
    )
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("登录账号"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="cadre",
    )
    sync_xid = sync_stamp_field()

    objects = CadreQuerySet.as_manager()

    class Meta:
        verbose_name = _("干部")
        verbose_name_plural = _("干部")
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["id_hash"],
                name="cadre_unique_id_number",
                violation_error_message=_("该身份证号已登记。"),
            ),
        ]
        triggers = sync_triggers(CadreQuerySet.scope_path)
        indexes = [sync_index("cadre")]

    def __str__(self) -> str:
        return self.name

    @property
    def id_number_masked(self) -> str:
        return mask_id_number(self.id_number)

    @property
    def phone_masked(self) -> str:
        return mask_phone(self.phone)


class AssignmentStatus(models.TextChoices):
    ACTIVE = "active", _("在岗")
    ENDED = "ended", _("任期结束")
    RECALLED = "recalled", _("召回")
    REPLACED = "replaced", _("轮换")


class AssignmentQuerySet(ScopedQuerySet):
    scope_path = "team__village__code"

    def active(self) -> "AssignmentQuerySet":
        return self.filter(status=AssignmentStatus.ACTIVE)

    def with_warnings(self, today: dt.date | None = None) -> "AssignmentQuerySet":
        today = today or timezone.localdate()
        soon = today + dt.timedelta(days=settings.ZHUCUN_TERM_WARNING_DAYS)
        is_active = Q(status=AssignmentStatus.ACTIVE)
        return self.annotate(
            past_planned_end=models.ExpressionWrapper(
                is_active & Q(planned_end__lt=today), output_field=models.BooleanField()
            ),
            term_ending_soon=models.ExpressionWrapper(
                is_active & Q(planned_end__gte=today, planned_end__lte=soon),
                output_field=models.BooleanField(),
            ),
        )


@pghistory.track(
    pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent(), exclude=["sync_xid"]
)
class Assignment(BaseModel):
    """A cadre serving on a team: 队长 and/or 第一书记, or 队员. One active per cadre."""

    cadre = models.ForeignKey(
        Cadre, verbose_name=_("干部"), on_delete=models.PROTECT, related_name="assignments"
    )
    team = models.ForeignKey(
        WorkTeam, verbose_name=_("工作队"), on_delete=models.PROTECT, related_name="assignments"
    )
    is_leader = models.BooleanField(_("队长"), default=False)
    is_first_secretary = models.BooleanField(_("第一书记"), default=False)
    start = models.DateField(_("到岗日期"))
    planned_end = models.DateField(_("计划期满"))
    status = models.CharField(
        _("状态"), max_length=16, choices=AssignmentStatus.choices, default=AssignmentStatus.ACTIVE
    )
    ended_on = models.DateField(_("离岗日期"), null=True, blank=True)
    end_reason = models.TextField(_("离岗原因"), blank=True)
    successor = models.ForeignKey(
        "self",
        verbose_name=_("接任"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="predecessors",
    )
    sync_xid = sync_stamp_field()

    objects = AssignmentQuerySet.as_manager()

    class Meta:
        verbose_name = _("任职")
        verbose_name_plural = _("任职")
        ordering = ["team", "-is_leader", "-is_first_secretary", "start", "id"]
        indexes = [
            models.Index(fields=["team", "status"], name="assignment_team_status"),
            sync_index("assignment"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["cadre"],
                condition=Q(status="active"),
                name="assignment_one_active_per_cadre",
                violation_error_message=_("该干部已有在岗任职，须先结束或召回。"),
            ),
            models.UniqueConstraint(
                fields=["team"],
                condition=Q(status="active", is_leader=True),
                name="assignment_one_leader_per_team",
                violation_error_message=_("该工作队已有在岗队长。"),
            ),
            models.UniqueConstraint(
                fields=["team"],
                condition=Q(status="active", is_first_secretary=True),
                name="assignment_one_first_secretary_per_team",
                violation_error_message=_("该工作队已有在岗第一书记。"),
            ),
            models.CheckConstraint(
                condition=Q(planned_end__gt=models.F("start")),
                name="assignment_term_order",
                violation_error_message=_("计划期满日期应晚于到岗日期。"),
            ),
            models.CheckConstraint(
                condition=Q(status="active", ended_on__isnull=True)
                | (~Q(status="active") & Q(ended_on__isnull=False)),
                name="assignment_ended_on_by_status",
                violation_error_message=_("离岗的任职须有离岗日期，在岗的不能有。"),
            ),
            models.CheckConstraint(
                condition=~Q(status="recalled") | ~Q(end_reason=""),
                name="assignment_recall_has_reason",
                violation_error_message=_("召回须填写原因。"),
            ),
        ]
        triggers = sync_triggers(AssignmentQuerySet.scope_path)

    def __str__(self) -> str:
        return f"{self.cadre} · {self.role_label}"

    @property
    def role_label(self) -> str:
        if self.is_leader and self.is_first_secretary:
            return str(_("队长兼第一书记"))
        if self.is_leader:
            return str(_("队长"))
        if self.is_first_secretary:
            return str(_("第一书记"))
        return str(_("队员"))


# --- presence: rules, daily attendance, leave and official business, the work diary -------


class AbsenceKind(models.TextChoices):
    """Why a cadre is away from the village. Leave kinds need approval; business is filed."""

    PERSONAL = "personal", _("事假")
    SICK = "sick", _("病假")
    MEETING = "meeting", _("会议")
    TRAINING = "training", _("培训")
    PROJECT = "project", _("项目工作")
    BUSINESS = "business", _("其他公务")


LEAVE_KINDS = (AbsenceKind.PERSONAL, AbsenceKind.SICK)
BUSINESS_KINDS = (
    AbsenceKind.MEETING,
    AbsenceKind.TRAINING,
    AbsenceKind.PROJECT,
    AbsenceKind.BUSINESS,
)


class RegionRuleQuerySet(ScopedQuerySet):
    """Rules of the user's region, of the regions below it and of the regions above it."""

    scope_path = "region__code"

    def scope_q(self, prefix: str) -> Q:
        return Q(region__code__startswith=prefix) | Q(
            prefix__in=[prefix[:n] for n in (2, 4, 6, 9) if n < len(prefix)]
        )

    def for_code(self, code: str) -> "RegionRuleQuerySet":
        """Rules that apply to a village code: its own region's and those of the regions above."""
        return self.filter(prefix__in=[code[:n] for n in (2, 4, 6, 9, 12)])


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class PresenceRule(BaseModel):
    """A region's presence rule from a date on: "五天四夜" is 5 days + 4 nights a week,
    "≥20 days a month" is 20 days a month. For a village and a day the rule of the most
    specific region wins, then the latest effective date. Empty requirements are not checked.
    Approved absences of the kinds in `counted_kinds` count as days in the village.
    """

    region = models.ForeignKey(
        Region, verbose_name=_("区划"), on_delete=models.PROTECT, related_name="presence_rules"
    )
    prefix = models.CharField(_("区划前缀"), max_length=12, editable=False)
    effective_from = models.DateField(_("生效日期"))
    name = models.CharField(_("规则名称"), max_length=64, help_text=_("例如：五天四夜"))
    days_per_week = models.PositiveSmallIntegerField(
        _("每周在村天数"), null=True, blank=True, validators=[MaxValueValidator(7)]
    )
    nights_per_week = models.PositiveSmallIntegerField(
        _("每周住村夜数"), null=True, blank=True, validators=[MaxValueValidator(7)]
    )
    days_per_month = models.PositiveSmallIntegerField(
        _("每月在村天数"), null=True, blank=True, validators=[MaxValueValidator(31)]
    )
    days_per_year = models.PositiveSmallIntegerField(
        _("每年在村天数"), null=True, blank=True, validators=[MaxValueValidator(366)]
    )
    counted_kinds = ArrayField(
        models.CharField(max_length=16, choices=AbsenceKind.choices),
        verbose_name=_("视同在村的外出"),
        blank=True,
        default=list,
        help_text=_("经批准或报备后视同在村的外出类型，如会议、培训、项目工作。"),
    )
    township_leave_days = models.PositiveSmallIntegerField(
        _("乡镇可批假天数"),
        default=3,
        help_text=_("请假不超过此天数由乡镇审批，超过由县级审批。"),
    )
    note = models.CharField(_("依据"), max_length=200, blank=True)

    objects = RegionRuleQuerySet.as_manager()

    class Meta:
        verbose_name = _("在岗规则")
        verbose_name_plural = _("在岗规则")
        ordering = ["prefix", "-effective_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["region", "effective_from"],
                name="presence_rule_unique_date",
                violation_error_message=_("该区划在同一生效日期已有在岗规则。"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.region} {self.name}（{self.effective_from:%Y-%m-%d}起）"


class AttendanceStatus(models.TextChoices):
    PRESENT = "present", _("在村")
    ABSENT = "absent", _("缺勤")


class AttendanceSource(models.TextChoices):
    CHECKIN = "checkin", _("本人签到")
    INSPECTION = "inspection", _("督查记录")


class AttendanceQuerySet(ScopedQuerySet):
    scope_path = "team__village__code"


@pghistory.track(
    pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent(), exclude=["sync_xid"]
)
class Attendance(BaseModel):
    """One row per cadre per day. A check-in marks the day present; an absence recorded by an
    inspection overrides it (the check-in time and position stay as evidence)."""

    cadre = models.ForeignKey(
        Cadre, verbose_name=_("干部"), on_delete=models.PROTECT, related_name="attendance"
    )
    team = models.ForeignKey(
        WorkTeam, verbose_name=_("工作队"), on_delete=models.PROTECT, related_name="attendance"
    )
    day = models.DateField(_("日期"))
    status = models.CharField(_("状态"), max_length=16, choices=AttendanceStatus.choices)
    source = models.CharField(_("来源"), max_length=16, choices=AttendanceSource.choices)
    overnight = models.BooleanField(_("住村"), default=False)
    checked_in_at = models.DateTimeField(_("签到时间"), null=True, blank=True)
    latitude = models.DecimalField(_("纬度"), max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(
        _("经度"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    note = models.CharField(_("说明"), max_length=200, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("记录人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    sync_xid = sync_stamp_field()

    objects = AttendanceQuerySet.as_manager()

    class Meta:
        verbose_name = _("考勤")
        verbose_name_plural = _("考勤")
        ordering = ["-day", "cadre"]
        indexes = [
            models.Index(fields=["team", "day"], name="attendance_team_day"),
            sync_index("attendance"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["cadre", "day"],
                name="attendance_one_per_day",
                violation_error_message=_("该干部当天已有考勤记录。"),
            ),
            models.CheckConstraint(
                condition=Q(latitude__isnull=True, longitude__isnull=True)
                | Q(latitude__gte=-90, latitude__lte=90, longitude__gte=-180, longitude__lte=180),
                name="attendance_position_range",
            ),
        ]
        triggers = sync_triggers(AttendanceQuerySet.scope_path)

    def __str__(self) -> str:
        if self.cadre_id is None or self.day is None:  # an add form not yet valid
            return str(_("考勤"))
        return f"{self.cadre} {self.day:%Y-%m-%d} {self.get_status_display()}"


class LeaveStatus(models.TextChoices):
    PENDING = "pending", _("待审批")
    APPROVED = "approved", _("已批准")
    FILED = "filed", _("已报备")
    REJECTED = "rejected", _("未批准")
    CANCELLED = "cancelled", _("已撤回")


class ApproverLevel(models.TextChoices):
    TOWNSHIP = "township", _("乡镇")
    COUNTY = "county", _("县级")


class LeaveQuerySet(ScopedQuerySet):
    scope_path = "team__village__code"

    def effective(self) -> "LeaveQuerySet":
        """Approved leave and filed official business: the absences that are excused."""
        return self.filter(status__in=[LeaveStatus.APPROVED, LeaveStatus.FILED])


@pghistory.track(
    pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent(), exclude=["sync_xid"]
)
class LeaveRequest(BaseModel):
    """Leave (事假, 病假) is approved by the township or the county, by its length under the
    county's rule; official business away from the village (meetings, training, project work)
    is filed (报备) and counts as the presence rule says."""

    cadre = models.ForeignKey(
        Cadre, verbose_name=_("干部"), on_delete=models.PROTECT, related_name="leave_requests"
    )
    team = models.ForeignKey(
        WorkTeam, verbose_name=_("工作队"), on_delete=models.PROTECT, related_name="leave_requests"
    )
    kind = models.CharField(_("类型"), max_length=16, choices=AbsenceKind.choices)
    start = models.DateField(_("开始日期"))
    end = models.DateField(_("结束日期"))
    days = models.PositiveSmallIntegerField(_("天数"), editable=False)
    reason = models.TextField(_("事由"))
    destination = models.CharField(_("去向"), max_length=128, blank=True)
    status = models.CharField(_("状态"), max_length=16, choices=LeaveStatus.choices)
    approver_level = models.CharField(
        _("审批层级"), max_length=16, choices=ApproverLevel.choices, blank=True
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("申请人账号"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("审批人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("审批时间"), null=True, blank=True)
    decision_note = models.CharField(_("审批意见"), max_length=200, blank=True)
    sync_xid = sync_stamp_field()

    objects = LeaveQuerySet.as_manager()

    class Meta:
        verbose_name = _("请假与公务外出")
        verbose_name_plural = _("请假与公务外出")
        ordering = ["-start", "-id"]
        indexes = [
            models.Index(fields=["cadre", "start"], name="leave_cadre_start"),
            sync_index("leave"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(end__gte=models.F("start")),
                name="leave_date_order",
                violation_error_message=_("结束日期不能早于开始日期。"),
            ),
        ]
        triggers = sync_triggers(LeaveQuerySet.scope_path)

    def __str__(self) -> str:
        return f"{self.cadre} {self.get_kind_display()} {self.start:%m-%d}~{self.end:%m-%d}"

    @property
    def is_business(self) -> bool:
        return self.kind in BUSINESS_KINDS


class DiaryQuerySet(ScopedQuerySet):
    scope_path = "team__village__code"


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class DiaryEntry(BaseModel):
    """驻村日志: one entry per cadre per day; saving the same day again edits it."""

    cadre = models.ForeignKey(
        Cadre, verbose_name=_("干部"), on_delete=models.PROTECT, related_name="diary"
    )
    team = models.ForeignKey(
        WorkTeam, verbose_name=_("工作队"), on_delete=models.PROTECT, related_name="diary"
    )
    day = models.DateField(_("日期"))
    work_done = models.TextField(_("工作内容"))
    problems = models.TextField(_("存在问题"), blank=True)
    next_plan = models.TextField(_("下周计划"), blank=True)

    objects = DiaryQuerySet.as_manager()

    class Meta:
        verbose_name = _("驻村日志")
        verbose_name_plural = _("驻村日志")
        ordering = ["-day", "cadre"]
        constraints = [
            models.UniqueConstraint(
                fields=["cadre", "day"],
                name="diary_one_per_day",
                violation_error_message=_("当天已有日志。"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.cadre} {self.day:%Y-%m-%d}"


# --- year locks: a finalized yearly assessment closes that year's records ------------------


class YearLockQuerySet(ScopedQuerySet):
    """Visible where the locked village is, or where the locked cadre's record is kept."""

    scope_path = "village__code"

    def scope_q(self, prefix: str) -> Q:
        return Q(village__code__startswith=prefix) | Q(cadre__region__code__startswith=prefix)


@pghistory.track(pghistory.InsertEvent(), pghistory.DeleteEvent())
class YearLock(models.Model):
    """A year of a cadre's or a village's records closed by a finalized yearly assessment
    (年度考核定格). A cadre's lock closes that year of their attendance, leave, absences and
    visits; a village's lock closes that year of the presence of anyone on its team, the
    visits to its households and their incomes. Written by the assessments app when it
    finalizes (teams.locks.year_lock_set), checked by the services of teams and households
    (teams.locks.year_lock_check) in one indexed query; never removed."""

    year = models.PositiveSmallIntegerField(_("年度"))
    cadre = models.ForeignKey(
        Cadre,
        verbose_name=_("干部"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="year_locks",
        db_index=False,  # the partial unique index below leads with it
    )
    village = models.ForeignKey(
        Village,
        verbose_name=_("村"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="year_locks",
        db_index=False,  # the partial unique index below leads with it
    )
    reason = models.CharField(_("锁定原因"), max_length=200)
    locked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("锁定人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("锁定时间"), auto_now_add=True)

    objects = YearLockQuerySet.as_manager()

    class Meta:
        verbose_name = _("年度锁定")
        verbose_name_plural = _("年度锁定")
        ordering = ["-year", "id"]
        constraints = [
            # These partial unique indexes are also the indexes the lock check uses.
            models.UniqueConstraint(
                fields=["cadre", "year"],
                condition=Q(cadre__isnull=False),
                name="year_lock_cadre_year",
            ),
            models.UniqueConstraint(
                fields=["village", "year"],
                condition=Q(village__isnull=False),
                name="year_lock_village_year",
            ),
            models.CheckConstraint(
                condition=Q(cadre__isnull=False, village__isnull=True)
                | Q(cadre__isnull=True, village__isnull=False),
                name="year_lock_one_subject",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.year} {self.cadre or self.village}"
