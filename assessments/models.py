"""Inspections and what they found: the problem and rectification ledger (问题台账 / 整改台账).

A finding moves 待整改 → 整改中 → 已整改 (with evidence) → 已验证 (by someone other than the
rectifier; a failed check sends it back to 整改中) → 已关闭; a 回头看 re-check reopens a closed
one. Every move is a FindingEvent with actor and note. Overdue is derived, never stored.
"""

import datetime as dt

import pghistory
from django.conf import settings
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from common.models import BaseModel, ScopedQuerySet
from common.sync import sync_index, sync_stamp_field, sync_triggers
from households.models import Household
from teams.models import Cadre, DispatchingUnit, WorkTeam
from villages.models import Region, Village


class InspectionKind(models.TextChoices):
    OPEN = "open", _("明查")
    UNANNOUNCED = "unannounced", _("暗访")
    CROSS = "cross", _("交叉检查")


class InspectionQuerySet(ScopedQuerySet):
    """Visible in the inspecting region and in the regions of the villages it covered."""

    scope_path = "region__code"

    def scope_q(self, prefix: str) -> Q:
        return Q(region__code__startswith=prefix) | Exists(
            Inspection.villages.through.objects.filter(
                inspection=OuterRef("pk"), village__code__startswith=prefix
            )
        )


@pghistory.track(
    pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent(), exclude=["sync_xid"]
)
class Inspection(BaseModel):
    region = models.ForeignKey(
        Region, verbose_name=_("组织区划"), on_delete=models.PROTECT, related_name="inspections"
    )
    kind = models.CharField(_("方式"), max_length=16, choices=InspectionKind.choices)
    on = models.DateField(_("检查日期"))
    title = models.CharField(_("名称"), max_length=128)
    inspectors = models.CharField(_("检查人员"), max_length=200)
    villages = models.ManyToManyField(
        Village, verbose_name=_("检查村"), related_name="inspections", blank=True
    )
    note = models.TextField(_("说明"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("登记人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    sync_xid = sync_stamp_field()

    objects = InspectionQuerySet.as_manager()

    class Meta:
        verbose_name = _("督查检查")
        verbose_name_plural = _("督查检查")
        ordering = ["-on", "-id"]
        triggers = sync_triggers(InspectionQuerySet.scope_path)
        indexes = [sync_index("inspection")]

    def __str__(self) -> str:
        return f"{self.on:%Y-%m-%d} {self.title}"


class Severity(models.TextChoices):
    MINOR = "minor", _("轻微")
    GENERAL = "general", _("一般")
    SERIOUS = "serious", _("严重")
    MAJOR = "major", _("重大")


SERIOUS_SEVERITIES = (Severity.SERIOUS, Severity.MAJOR)


class Category(models.TextChoices):
    ABSENT = "absent", _("脱岗（检查时不在村）")
    COMMUTING = "commuting", _("走读不住村")
    VISITS = "visits", _("走访不到位")
    INCOME = "income", _("收入登记不实")
    RECORDS = "records", _("台账资料不全")
    POLICY = "policy", _("政策落实不到位")
    DISCIPLINE = "discipline", _("作风纪律")
    OTHER = "other", _("其他")


# Findings of these categories about a cadre on a day mark that day absent in presence.
ABSENCE_CATEGORIES = (Category.ABSENT, Category.COMMUTING)


class Subject(models.TextChoices):
    TEAM = "team", _("工作队")
    CADRE = "cadre", _("干部")
    UNIT = "unit", _("派出单位")
    VILLAGE = "village", _("村")
    HOUSEHOLD = "household", _("农户")


class FindingStatus(models.TextChoices):
    PENDING = "pending", _("待整改")
    RECTIFYING = "rectifying", _("整改中")
    RECTIFIED = "rectified", _("已整改")
    VERIFIED = "verified", _("已验证")
    CLOSED = "closed", _("已关闭")


OPEN_STATUSES = (FindingStatus.PENDING, FindingStatus.RECTIFYING)


class FindingQuerySet(ScopedQuerySet):
    scope_path = "village__code"

    def with_overdue(self, today: dt.date | None = None) -> "FindingQuerySet":
        today = today or timezone.localdate()
        return self.annotate(
            overdue=models.ExpressionWrapper(
                Q(status__in=OPEN_STATUSES, deadline__lt=today),
                output_field=models.BooleanField(),
            )
        )

    def open(self) -> "FindingQuerySet":
        return self.exclude(status__in=[FindingStatus.VERIFIED, FindingStatus.CLOSED])


@pghistory.track(
    pghistory.InsertEvent(),
    pghistory.UpdateEvent(),
    pghistory.DeleteEvent(),
    model_name="FindingAudit",  # FindingEvent is the ledger's own step model
    exclude=["sync_xid"],
)
class Finding(BaseModel):
    """One problem found: what, how serious, about whom, by when it must be fixed."""

    inspection = models.ForeignKey(
        Inspection, verbose_name=_("检查"), on_delete=models.PROTECT, related_name="findings"
    )
    village = models.ForeignKey(
        Village, verbose_name=_("村"), on_delete=models.PROTECT, related_name="findings"
    )
    subject = models.CharField(_("问题对象"), max_length=16, choices=Subject.choices)
    team = models.ForeignKey(
        WorkTeam,
        verbose_name=_("工作队"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="findings",
    )
    cadre = models.ForeignKey(
        Cadre,
        verbose_name=_("干部"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="findings",
    )
    unit = models.ForeignKey(
        DispatchingUnit,
        verbose_name=_("派出单位"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="findings",
    )
    household = models.ForeignKey(
        Household,
        verbose_name=_("农户"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="findings",
    )
    category = models.CharField(_("问题类别"), max_length=16, choices=Category.choices)
    severity = models.CharField(_("严重程度"), max_length=16, choices=Severity.choices)
    description = models.TextField(_("问题描述"))
    absence_day = models.DateField(_("缺勤日期"), null=True, blank=True)
    deadline = models.DateField(_("整改时限"))
    status = models.CharField(
        _("状态"), max_length=16, choices=FindingStatus.choices, default=FindingStatus.PENDING
    )
    measures = models.TextField(_("整改措施"), blank=True)
    evidence = models.TextField(_("整改情况及佐证"), blank=True)
    rectified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("整改人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    rectified_on = models.DateField(_("整改完成日期"), null=True, blank=True)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("验证人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    verified_on = models.DateField(_("验证日期"), null=True, blank=True)
    closed_on = models.DateField(_("销号日期"), null=True, blank=True)
    reopened = models.PositiveSmallIntegerField(_("回头看重新整改次数"), default=0)
    sync_xid = sync_stamp_field()

    objects = FindingQuerySet.as_manager()

    class Meta:
        verbose_name = _("问题")
        verbose_name_plural = _("问题台账")
        ordering = ["deadline", "id"]
        indexes = [
            sync_index("finding"),
            models.Index(fields=["status", "deadline"], name="finding_status_deadline"),
            models.Index(fields=["team", "status"], name="finding_team_status"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(Q(subject="team") & Q(team__isnull=False))
                | (Q(subject="cadre") & Q(cadre__isnull=False))
                | (Q(subject="unit") & Q(unit__isnull=False))
                | (Q(subject="household") & Q(household__isnull=False))
                | Q(subject="village"),
                name="finding_subject_named",
                violation_error_message=_("请指明问题对象。"),
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["rectified", "verified", "closed"]) | ~Q(evidence=""),
                name="finding_rectified_has_evidence",
                violation_error_message=_("已整改须有整改情况及佐证。"),
            ),
        ]
        triggers = sync_triggers(FindingQuerySet.scope_path)

    def __str__(self) -> str:
        return f"{self.get_category_display()} · {self.village}"

    @property
    def is_overdue(self) -> bool:
        return self.status in OPEN_STATUSES and self.deadline < timezone.localdate()

    @property
    def subject_label(self) -> str:
        target = {
            Subject.TEAM: self.team,
            Subject.CADRE: self.cadre,
            Subject.UNIT: self.unit,
            Subject.HOUSEHOLD: self.household,
            Subject.VILLAGE: self.village,
        }[self.subject]
        return f"{self.get_subject_display()}：{target}"


class FindingEvent(models.Model):
    """A step of a finding: who moved it from what to what, and why."""

    finding = models.ForeignKey(Finding, on_delete=models.CASCADE, related_name="steps")
    old = models.CharField(_("原状态"), max_length=16, choices=FindingStatus.choices, blank=True)
    new = models.CharField(_("新状态"), max_length=16, choices=FindingStatus.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("办理人"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    note = models.TextField(_("说明"), blank=True)
    created_at = models.DateTimeField(_("时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("问题办理记录")
        verbose_name_plural = _("问题办理记录")
        ordering = ["finding", "created_at", "id"]

    def __str__(self) -> str:
        return f"{self.finding_id}: {self.old} → {self.new}"


# --- monthly ranking ----------------------------------------------------------------------


class SchemeQuerySet(ScopedQuerySet):
    scope_path = "region__code"

    def scope_q(self, prefix: str) -> Q:
        return Q(region__code__startswith=prefix) | Q(
            prefix__in=[prefix[:n] for n in (2, 4, 6, 9) if n < len(prefix)]
        )


W = {"max_digits": 6, "decimal_places": 2, "default": 0}


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class IndicatorScheme(BaseModel):
    """How a county scores its teams each month, from a date on (the most specific region,
    then the latest date, wins). Rates weigh in as points out of 100 in proportion to their
    weights; findings take points off. Ties: higher presence rate, then visit rate, then
    fewer open findings, then the older team."""

    region = models.ForeignKey(
        Region, verbose_name=_("区划"), on_delete=models.PROTECT, related_name="schemes"
    )
    prefix = models.CharField(_("区划前缀"), max_length=12, editable=False)
    effective_from = models.DateField(_("生效日期"))
    name = models.CharField(_("方案名称"), max_length=64)
    presence_weight = models.DecimalField(_("在岗达标率权重"), **W)
    visit_weight = models.DecimalField(_("本月走访覆盖率权重"), **W)
    bianfang_weight = models.DecimalField(_("遍访进度权重"), **W)
    income_weight = models.DecimalField(_("收入登记完成率权重"), **W)
    open_penalty = models.DecimalField(_("每个未整改问题扣分"), **W)
    overdue_penalty = models.DecimalField(_("每个超期问题扣分"), **W)
    serious_penalty = models.DecimalField(_("每个严重问题扣分"), **W)

    objects = SchemeQuerySet.as_manager()

    class Meta:
        verbose_name = _("考核指标方案")
        verbose_name_plural = _("考核指标方案")
        ordering = ["prefix", "-effective_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["region", "effective_from"],
                name="scheme_unique_date",
                violation_error_message=_("该区划在同一生效日期已有指标方案。"),
            ),
            models.CheckConstraint(
                condition=Q(presence_weight__gt=0)
                | Q(visit_weight__gt=0)
                | Q(bianfang_weight__gt=0)
                | Q(income_weight__gt=0),
                name="scheme_some_weight",
                violation_error_message=_("至少一项指标的权重应大于0。"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.region} {self.name}（{self.effective_from:%Y-%m-%d}起）"


class RankingRunStatus(models.TextChoices):
    PENDING = "pending", _("排队中")
    RUNNING = "running", _("计算中")
    SUCCEEDED = "succeeded", _("已完成")
    FAILED = "failed", _("失败")


class RankingRunQuerySet(ScopedQuerySet):
    scope_path = "county__code"


class RankingRun(BaseModel):
    """One computation of a county's monthly ranking: a job row the Celery task claims."""

    county = models.ForeignKey(
        Region, verbose_name=_("县"), on_delete=models.PROTECT, related_name="ranking_runs"
    )
    period = models.DateField(_("月份"))
    status = models.CharField(
        _("状态"),
        max_length=16,
        choices=RankingRunStatus.choices,
        default=RankingRunStatus.PENDING,
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("发起人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    teams = models.PositiveIntegerField(_("工作队数"), default=0)
    error = models.TextField(_("错误"), blank=True)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)

    objects = RankingRunQuerySet.as_manager()

    class Meta:
        verbose_name = _("排名计算")
        verbose_name_plural = _("排名计算")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["county", "period"],
                condition=Q(status__in=["pending", "running"]),
                name="ranking_run_one_active",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.county} {self.period:%Y-%m}"


class RankingQuerySet(ScopedQuerySet):
    scope_path = "team__village__code"


class MonthlyRanking(BaseModel):
    """A team's place in its county for a month, with every metric that made it."""

    county = models.ForeignKey(
        Region, verbose_name=_("县"), on_delete=models.PROTECT, related_name="rankings"
    )
    period = models.DateField(_("月份"))
    team = models.ForeignKey(
        WorkTeam, verbose_name=_("工作队"), on_delete=models.PROTECT, related_name="rankings"
    )
    scheme = models.ForeignKey(
        IndicatorScheme, verbose_name=_("指标方案"), on_delete=models.PROTECT, related_name="+"
    )
    members = models.PositiveSmallIntegerField(_("队员数"))
    presence_rate = models.DecimalField(_("在岗达标率"), max_digits=5, decimal_places=4)
    visit_rate = models.DecimalField(_("本月走访覆盖率"), max_digits=5, decimal_places=4)
    bianfang_rate = models.DecimalField(_("遍访进度"), max_digits=5, decimal_places=4)
    income_rate = models.DecimalField(_("收入登记完成率"), max_digits=5, decimal_places=4)
    open_findings = models.PositiveIntegerField(_("未整改问题"))
    overdue_findings = models.PositiveIntegerField(_("超期问题"))
    serious_findings = models.PositiveIntegerField(_("当月严重问题"))
    score = models.DecimalField(_("得分"), max_digits=7, decimal_places=2)
    rank = models.PositiveSmallIntegerField(_("县内排名"))
    of = models.PositiveSmallIntegerField(_("参评队数"))
    black_listed = models.BooleanField(
        _("列入黑榜"),
        default=False,
        help_text=_("由已发布的红黑榜通报设置：黑榜与排名后三名同样计入问责升级。"),
    )
    sync_xid = sync_stamp_field()

    objects = RankingQuerySet.as_manager()

    class Meta:
        verbose_name = _("月度排名")
        verbose_name_plural = _("月度排名")
        ordering = ["-period", "county", "rank"]
        constraints = [
            models.UniqueConstraint(fields=["team", "period"], name="ranking_team_period"),
        ]
        triggers = sync_triggers(RankingQuerySet.scope_path)
        indexes = [sync_index("ranking")]

    def __str__(self) -> str:
        return f"{self.period:%Y-%m} {self.team} {self.rank}/{self.of}"

    @property
    def bottom(self) -> bool:
        """Among the county's last three of the month."""
        return self.rank > self.of - 3

    @property
    def named(self) -> bool:
        """Counted for escalation: among the last three, or on a published black list."""
        return self.bottom or self.black_listed


# --- escalation -----------------------------------------------------------------------------


class Step(models.TextChoices):
    TALK = "talk", _("约谈")
    ADMONISH = "admonish", _("诫勉谈话")
    HANDLING = "handling", _("组织处理")
    SUMMON = "summon", _("约谈派出单位主要负责人")


TEAM_STEPS = (Step.TALK, Step.ADMONISH, Step.HANDLING)


class EscalationStatus(models.TextChoices):
    PENDING = "pending", _("待确认")
    CONFIRMED = "confirmed", _("已确认")
    DONE = "done", _("已落实")


class EscalationQuerySet(ScopedQuerySet):
    scope_path = "county__code"


@pghistory.track(
    pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent(), exclude=["sync_xid"]
)
class Escalation(BaseModel):
    """The step a team (and its leader) or a dispatching unit has reached, derived from the
    rankings and the published black lists: bottom three or black once → 约谈, twice in a
    row → 诫勉谈话, three times in a row → 组织处理; a unit whose teams were named three times
    in all → its principal leader is summoned. Counties confirm each step and record when it
    was carried out."""

    county = models.ForeignKey(
        Region, verbose_name=_("县"), on_delete=models.PROTECT, related_name="escalations"
    )
    period = models.DateField(_("月份"))
    step = models.CharField(_("处理措施"), max_length=16, choices=Step.choices)
    team = models.ForeignKey(
        WorkTeam,
        verbose_name=_("工作队"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="escalations",
    )
    leader = models.ForeignKey(
        Cadre,
        verbose_name=_("队长"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="escalations",
    )
    unit = models.ForeignKey(
        DispatchingUnit,
        verbose_name=_("派出单位"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="escalations",
    )
    streak = models.PositiveSmallIntegerField(_("连续或累计次数"))
    basis = models.TextField(_("依据"))
    status = models.CharField(
        _("状态"),
        max_length=16,
        choices=EscalationStatus.choices,
        default=EscalationStatus.PENDING,
    )
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("确认人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    confirmed_at = models.DateTimeField(_("确认时间"), null=True, blank=True)
    carried_out_on = models.DateField(_("落实日期"), null=True, blank=True)
    note = models.TextField(_("落实情况"), blank=True)
    sync_xid = sync_stamp_field()

    objects = EscalationQuerySet.as_manager()

    class Meta:
        verbose_name = _("问责升级")
        verbose_name_plural = _("问责升级")
        ordering = ["-period", "county", "step"]
        constraints = [
            models.UniqueConstraint(
                fields=["team", "period"],
                condition=Q(team__isnull=False),
                name="escalation_team_period",
            ),
            models.UniqueConstraint(
                fields=["unit"],
                condition=Q(step="summon"),
                name="escalation_unit_summon_once",
            ),
            models.CheckConstraint(
                condition=(Q(step="summon") & Q(unit__isnull=False))
                | (~Q(step="summon") & Q(team__isnull=False)),
                name="escalation_subject",
            ),
            models.CheckConstraint(
                condition=~Q(status="done") | Q(carried_out_on__isnull=False),
                name="escalation_done_has_date",
            ),
        ]
        triggers = sync_triggers(EscalationQuerySet.scope_path)
        indexes = [sync_index("escalation")]

    def __str__(self) -> str:
        who = self.team or self.unit
        return f"{self.period:%Y-%m} {who} {self.get_step_display()}"
