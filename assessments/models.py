"""Inspections and what they found: the problem and rectification ledger (问题台账 / 整改台账).

A finding moves 待整改 → 整改中 → 已整改 (with evidence) → 已验证 (by someone other than the
rectifier; a failed check sends it back to 整改中) → 已关闭; a 回头看 re-check reopens a closed
one. Every move is a FindingEvent with actor and note. Overdue is derived, never stored.
"""

import datetime as dt
from decimal import Decimal

import pghistory
import pgtrigger
from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.db.models.functions import ExtractYear
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from common.models import BaseModel, ScopedQuerySet
from common.sync import sync_index, sync_stamp_field, sync_triggers, touch_triggers
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
    row → 诫勉谈话, three times in a row → 组织处理; a unit whose teams a county named three
    times in a calendar year → that county summons its principal leader (once a year per
    county; `period` is the month of the third naming). Every step belongs to the county
    that ranked, so a unit serving in two counties is counted and summoned by each apart.
    Counties confirm each step and record when it was carried out."""

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
                "county",
                "unit",
                ExtractYear("period"),
                condition=Q(step="summon"),
                name="escalation_unit_summon_year",
                violation_error_message=_("该县本年度已约谈过该派出单位主要负责人。"),
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


# --- yearly assessment (年度考核) ------------------------------------------------------------


class Indicator(models.TextChoices):
    """What a yearly assessment scores (0–100 each). The first four are filled from the
    data; the last three are entered by the county. A county leaves one out with weight 0."""

    PRESENCE = "presence", _("驻村在岗")
    VISITS = "visits", _("入户走访")
    FINDINGS = "findings", _("督查问题")
    INCOME = "income", _("收入成效")
    UNIT = "unit", _("派出单位评价")
    TOWNSHIP = "township", _("乡镇评价")
    SURVEY = "survey", _("满意度测评")


DATA_INDICATORS = (Indicator.PRESENCE, Indicator.VISITS, Indicator.FINDINGS, Indicator.INCOME)
ENTERED_INDICATORS = (Indicator.UNIT, Indicator.TOWNSHIP, Indicator.SURVEY)


class QuotaRounding(models.TextChoices):
    FLOOR = "floor", _("向下取整")
    HALF_UP = "half_up", _("四舍五入")
    CEIL = "ceil", _("向上取整")


class YearlySchemeQuerySet(SchemeQuerySet):
    """A scheme is visible in its region, the regions below it and the regions above it."""


SCORE = {"max_digits": 5, "decimal_places": 2}


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class YearlyScheme(BaseModel):
    """How a region grades its cadres and teams each year, from `from_year` on: for a county
    and a year the scheme of the most specific region wins, then the latest `from_year` not
    after the year. The total is Σ weight × score / Σ weight over the indicators that apply;
    the grade is the best one whose minimum the total reaches; unexplained absences found by
    inspections cap the grade (`YearlyCeiling`); the top grade is capped at `top_quota` per
    cent of the county's assessments of the year (cadres and teams counted apart), rounded as
    `quota_rounding` says."""

    region = models.ForeignKey(
        Region, verbose_name=_("区划"), on_delete=models.PROTECT, related_name="yearly_schemes"
    )
    prefix = models.CharField(_("区划前缀"), max_length=12, editable=False)
    from_year = models.PositiveSmallIntegerField(
        _("起始年度"), validators=[MinValueValidator(2000), MaxValueValidator(2100)]
    )
    name = models.CharField(_("方案名称"), max_length=64)
    presence_weight = models.DecimalField(_("驻村在岗权重"), **W)
    visits_weight = models.DecimalField(_("入户走访权重"), **W)
    findings_weight = models.DecimalField(_("督查问题权重"), **W)
    income_weight = models.DecimalField(_("收入成效权重"), **W)
    unit_weight = models.DecimalField(_("派出单位评价权重"), **W)
    township_weight = models.DecimalField(_("乡镇评价权重"), **W)
    survey_weight = models.DecimalField(_("满意度测评权重"), **W)
    minor_deduction = models.DecimalField(_("每个轻微问题扣分"), **W)
    general_deduction = models.DecimalField(_("每个一般问题扣分"), **W)
    serious_deduction = models.DecimalField(_("每个严重问题扣分"), **W)
    major_deduction = models.DecimalField(_("每个重大问题扣分"), **W)
    overdue_deduction = models.DecimalField(_("每个超期未整改问题另扣分"), **W)
    top_quota = models.DecimalField(
        _("最高等次比例上限（%）"),
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
        help_text=_("例如25表示最高等次不超过参评总数的25%；留空表示不限。"),
    )
    quota_rounding = models.CharField(
        _("名额取整方式"),
        max_length=16,
        choices=QuotaRounding.choices,
        default=QuotaRounding.FLOOR,
    )
    note = models.CharField(_("依据"), max_length=200, blank=True)

    objects = YearlySchemeQuerySet.as_manager()

    class Meta:
        verbose_name = _("年度考核方案")
        verbose_name_plural = _("年度考核方案")
        ordering = ["prefix", "-from_year"]
        constraints = [
            models.UniqueConstraint(
                fields=["region", "from_year"],
                name="yearly_scheme_unique_year",
                violation_error_message=_("该区划在同一起始年度已有年度考核方案。"),
            ),
            models.CheckConstraint(
                condition=Q(presence_weight__gt=0)
                | Q(visits_weight__gt=0)
                | Q(findings_weight__gt=0)
                | Q(income_weight__gt=0)
                | Q(unit_weight__gt=0)
                | Q(township_weight__gt=0)
                | Q(survey_weight__gt=0),
                name="yearly_scheme_some_weight",
                violation_error_message=_("至少一项指标的权重应大于0。"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.region} {self.name}（{self.from_year}年起）"

    def weight(self, indicator: str) -> Decimal:
        return getattr(self, f"{indicator}_weight")


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class YearlyGrade(models.Model):
    """One grade of a scheme's scale: rank 1 is the best; a total reaching `min_score` gets
    the best grade it reaches. The worst grade's minimum is 0."""

    scheme = models.ForeignKey(YearlyScheme, on_delete=models.CASCADE, related_name="grades")
    rank = models.PositiveSmallIntegerField(_("等次序号"))
    name = models.CharField(_("等次名称"), max_length=16)
    min_score = models.DecimalField(_("最低分"), **SCORE)

    class Meta:
        verbose_name = _("考核等次")
        verbose_name_plural = _("考核等次")
        ordering = ["scheme", "rank"]
        constraints = [
            models.UniqueConstraint(fields=["scheme", "rank"], name="yearly_grade_rank"),
            models.UniqueConstraint(fields=["scheme", "name"], name="yearly_grade_name"),
        ]

    def __str__(self) -> str:
        return f"{self.name}（≥{self.min_score:g}）"


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class YearlyCeiling(models.Model):
    """A cap from inspections: `absences` or more unexplained absences found → at best the
    grade of rank `grade_rank` (the entry with the most absences reached applies)."""

    scheme = models.ForeignKey(YearlyScheme, on_delete=models.CASCADE, related_name="ceilings")
    absences = models.PositiveSmallIntegerField(
        _("无故缺勤次数"), validators=[MinValueValidator(1)]
    )
    grade_rank = models.PositiveSmallIntegerField(_("最高可评等次序号"))

    class Meta:
        verbose_name = _("等次封顶")
        verbose_name_plural = _("等次封顶")
        ordering = ["scheme", "absences"]
        constraints = [
            models.UniqueConstraint(fields=["scheme", "absences"], name="yearly_ceiling_count"),
        ]

    def __str__(self) -> str:
        return f"{self.absences} → {self.grade_rank}"


class SubjectKind(models.TextChoices):
    CADRE = "cadre", _("干部")
    TEAM = "team", _("工作队")


class AssessmentState(models.TextChoices):
    DRAFT = "draft", _("草稿")
    SUBMITTED = "submitted", _("已提交")
    FINALIZED = "finalized", _("已定格")


class AssessmentQuerySet(ScopedQuerySet):
    scope_path = "village__code"


# A finalized assessment can be neither changed nor deleted, whatever writes to the table.
FINALIZED_IMMUTABLE = """
    IF OLD.state = 'finalized' THEN
        RAISE EXCEPTION 'assessment % is finalized and cannot change', OLD.id
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
    RETURN NEW;
"""
SCORE_OF_FINALIZED_IMMUTABLE = """
    IF EXISTS (
        SELECT 1 FROM assessments_assessment
        WHERE id = COALESCE(OLD.assessment_id, NEW.assessment_id) AND state = 'finalized'
    ) THEN
        RAISE EXCEPTION 'the scores of a finalized assessment cannot change'
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
    RETURN NEW;
"""


@pghistory.track(
    pghistory.InsertEvent(),
    pghistory.UpdateEvent(),
    pghistory.DeleteEvent(),
    model_name="AssessmentAudit",  # AssessmentEvent is the assessment's own step model
    exclude=["sync_xid"],
)
class Assessment(BaseModel):
    """A cadre's or a team's yearly assessment: each indicator's score with where it came
    from (`AssessmentScore`), the weighted total, the grade the total reaches, the ceiling
    that inspections impose and why, a downward adjustment by the county with its reason,
    and the final grade (the worst of the three). States 草稿 → 已提交 → 已定格; a
    submitted one may be returned to draft; a finalized one never changes again."""

    county = models.ForeignKey(
        Region, verbose_name=_("县"), on_delete=models.PROTECT, related_name="assessments"
    )
    year = models.PositiveSmallIntegerField(_("年度"))
    kind = models.CharField(_("考核对象"), max_length=8, choices=SubjectKind.choices)
    cadre = models.ForeignKey(
        Cadre,
        verbose_name=_("干部"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="assessments",
    )
    team = models.ForeignKey(
        WorkTeam,
        verbose_name=_("工作队"),
        on_delete=models.PROTECT,
        related_name="assessments",
        help_text=_("干部考核为其当年最后所在的工作队。"),
    )
    village = models.ForeignKey(
        Village, verbose_name=_("驻村"), on_delete=models.PROTECT, related_name="assessments"
    )
    scheme = models.ForeignKey(
        YearlyScheme,
        verbose_name=_("考核方案"),
        on_delete=models.PROTECT,
        related_name="assessments",
    )
    state = models.CharField(
        _("状态"), max_length=16, choices=AssessmentState.choices, default=AssessmentState.DRAFT
    )
    total = models.DecimalField(_("总分"), null=True, blank=True, **SCORE)
    score_grade = models.CharField(_("按分数等次"), max_length=16, blank=True)
    absence_days = ArrayField(
        models.DateField(),
        verbose_name=_("督查发现无故缺勤日期"),
        default=list,
        blank=True,
        help_text=_("督查记录缺勤且无批准的请假或报备外出的日期；工作队为各队员的合计。"),
    )
    ceiling_grade = models.CharField(_("封顶等次"), max_length=16, blank=True)
    ceiling_reason = models.TextField(_("封顶原因"), blank=True)
    adjusted_rank = models.PositiveSmallIntegerField(_("调整等次序号"), null=True, blank=True)
    adjusted_grade = models.CharField(_("调整等次"), max_length=16, blank=True)
    adjust_reason = models.TextField(_("调整原因"), blank=True)
    grade = models.CharField(_("考核等次"), max_length=16, blank=True)
    grade_rank = models.PositiveSmallIntegerField(_("等次序号"), null=True, blank=True)
    data_until = models.DateField(_("数据截至"), null=True, blank=True)
    version = models.PositiveIntegerField(
        _("版本"), default=0, help_text=_("每次修改加一：打开得早的表单不会覆盖别人后来的修改。")
    )
    filled_at = models.DateTimeField(_("计算时间"), null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("提交人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    submitted_at = models.DateTimeField(_("提交时间"), null=True, blank=True)
    finalized_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("定格人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    finalized_at = models.DateTimeField(_("定格时间"), null=True, blank=True)
    sync_xid = sync_stamp_field()

    objects = AssessmentQuerySet.as_manager()

    class Meta:
        verbose_name = _("年度考核")
        verbose_name_plural = _("年度考核")
        ordering = ["-year", "county", "kind", "-total", "id"]
        permissions = [("finalize_assessment", _("可定格年度考核"))]
        indexes = [
            models.Index(fields=["county", "year", "kind", "state"], name="assessment_county_year"),
            sync_index("assessment"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["cadre", "year"],
                condition=Q(kind="cadre"),
                name="assessment_cadre_year",
                violation_error_message=_("该干部该年度已有考核。"),
            ),
            models.UniqueConstraint(
                fields=["team", "year"],
                condition=Q(kind="team"),
                name="assessment_team_year",
                violation_error_message=_("该工作队该年度已有考核。"),
            ),
            models.CheckConstraint(
                condition=Q(kind="cadre", cadre__isnull=False) | Q(kind="team", cadre__isnull=True),
                name="assessment_subject",
            ),
            models.CheckConstraint(
                condition=Q(state="draft") | Q(total__isnull=False, grade_rank__isnull=False),
                name="assessment_graded_unless_draft",
                violation_error_message=_("提交或定格的考核须已计算总分和等次。"),
            ),
            models.CheckConstraint(
                condition=Q(adjusted_rank__isnull=True) | ~Q(adjust_reason=""),
                name="assessment_adjustment_has_reason",
                violation_error_message=_("调整等次须说明原因。"),
            ),
        ]
        triggers = [
            pgtrigger.Trigger(
                name="assessment_finalized_immutable",
                when=pgtrigger.Before,
                operation=pgtrigger.Update | pgtrigger.Delete,
                func=FINALIZED_IMMUTABLE,
            ),
            *sync_triggers(AssessmentQuerySet.scope_path),
        ]

    def __str__(self) -> str:
        subject = self.cadre if self.kind == SubjectKind.CADRE else self.team
        return f"{self.year}年度 {subject}"

    @property
    def subject_name(self) -> str:
        return self.cadre.name if self.kind == SubjectKind.CADRE else self.team.name

    @property
    def absences(self) -> int:
        return len(self.absence_days)


class ScoreSource(models.TextChoices):
    DATA = "data", _("系统数据")
    ENTERED = "entered", _("县级录入")


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class AssessmentScore(models.Model):
    """One indicator's score of an assessment and where it came from: the data (with the
    figures it was computed from) or an entry by county staff (who, when). An empty score is
    an indicator that does not apply (no paired household, say) or is not entered yet."""

    assessment = models.ForeignKey(Assessment, on_delete=models.CASCADE, related_name="scores")
    indicator = models.CharField(_("指标"), max_length=16, choices=Indicator.choices)
    score = models.DecimalField(_("得分"), null=True, blank=True, **SCORE)
    source = models.CharField(_("来源"), max_length=16, choices=ScoreSource.choices)
    basis = models.TextField(_("依据"), blank=True)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("录入人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("考核指标得分")
        verbose_name_plural = _("考核指标得分")
        ordering = ["assessment", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["assessment", "indicator"], name="assessment_score_indicator"
            ),
            models.CheckConstraint(
                condition=Q(score__isnull=True) | Q(score__gte=0, score__lte=100),
                name="assessment_score_range",
                violation_error_message=_("得分应在0到100之间。"),
            ),
        ]
        triggers = [
            pgtrigger.Trigger(
                name="assessment_score_finalized_immutable",
                when=pgtrigger.Before,
                operation=pgtrigger.Insert | pgtrigger.Update | pgtrigger.Delete,
                func=SCORE_OF_FINALIZED_IMMUTABLE,
            ),
            # The assessment lists its scores (API): a changed score serves it again.
            *touch_triggers("assessment", update=True),
        ]

    def __str__(self) -> str:
        return f"{self.get_indicator_display()} {self.score}"


class AssessmentAction(models.TextChoices):
    FILL = "fill", _("按数据计算")
    SCORE = "score", _("录入评分")
    ADJUST = "adjust", _("调整等次")
    SUBMIT = "submit", _("提交")
    RETURN = "return", _("退回")
    FINALIZE = "finalize", _("定格")


class AssessmentEvent(models.Model):
    """A step of an assessment: who did what, the state before and after, and why."""

    assessment = models.ForeignKey(Assessment, on_delete=models.CASCADE, related_name="steps")
    action = models.CharField(_("操作"), max_length=16, choices=AssessmentAction.choices)
    old = models.CharField(_("原状态"), max_length=16, choices=AssessmentState.choices, blank=True)
    new = models.CharField(_("新状态"), max_length=16, choices=AssessmentState.choices)
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
        verbose_name = _("考核办理记录")
        verbose_name_plural = _("考核办理记录")
        ordering = ["assessment", "created_at", "id"]

    def __str__(self) -> str:
        return f"{self.assessment_id}: {self.action} {self.old} → {self.new}"


class AssessmentRunQuerySet(ScopedQuerySet):
    scope_path = "county__code"


class AssessmentRun(BaseModel):
    """One filling of a county's yearly assessments from the data: a job row the Celery
    task claims."""

    county = models.ForeignKey(
        Region, verbose_name=_("县"), on_delete=models.PROTECT, related_name="assessment_runs"
    )
    year = models.PositiveSmallIntegerField(_("年度"))
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
    created = models.PositiveIntegerField(_("新建"), default=0)
    updated = models.PositiveIntegerField(_("更新"), default=0)
    kept = models.PositiveIntegerField(_("已提交或定格未动"), default=0)
    removed = models.PositiveIntegerField(_("移除"), default=0)
    error = models.TextField(_("错误"), blank=True)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)

    objects = AssessmentRunQuerySet.as_manager()

    class Meta:
        verbose_name = _("年度考核计算")
        verbose_name_plural = _("年度考核计算")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["county", "year"],
                condition=Q(status__in=["pending", "running"]),
                name="assessment_run_one_active",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.county} {self.year}"
