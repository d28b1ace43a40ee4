"""Households, members, incomes, monitoring, measures and pairings.

Nothing derived is typed in: the yearly net income and person-months of a household are kept
by PostgreSQL triggers from its income records and members (`HouseholdYear`), the income
line of a village is resolved by a view (`VillageIncomeLine`), and every risk flag is
computed in the query (`HouseholdQuerySet.with_risk`).
"""

import datetime as dt

import pghistory
import pgtrigger
from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Exists, F, FilteredRelation, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _g
from django.utils.translation import gettext_lazy as _

from common.fields import EncryptedCharField, KeyedHashField
from common.models import BaseModel, ScopedQuerySet
from common.people import mask_id_number, mask_phone
from common.sync import sync_index, sync_stamp_field, sync_triggers
from teams.models import Cadre, WorkTeam
from villages.models import Region, Village

from .codes import (
    CardColour,
    Cause,
    DisabilityGrade,
    Discovery,
    Education,
    EthnicityChoices,
    Health,
    HouseholdType,
    HousingGrade,
    IdentificationStandard,
    Labour,
    MeasureKind,
    MonitoringCategory,
    Relation,
    RiskType,
    SchoolStatus,
)

MONEY = {"max_digits": 12, "decimal_places": 2, "default": 0, "validators": [MinValueValidator(0)]}


class HouseholdStatus(models.Model):
    """Registry statuses are data (新识别 / 未脱贫 / 已脱贫 / 预脱贫 / 返贫 / 注销 …)."""

    code = models.CharField(_("代码"), max_length=32, primary_key=True)
    name = models.CharField(_("名称"), max_length=32, unique=True)
    is_poor = models.BooleanField(_("计为贫困"), default=False)
    is_closed = models.BooleanField(_("已注销"), default=False)
    order = models.PositiveSmallIntegerField(_("排序"), default=0)

    scope_free = True  # reference data, the same for everyone

    class Meta:
        verbose_name = _("户状态")
        verbose_name_plural = _("户状态")
        ordering = ["order", "code"]

    def __str__(self) -> str:
        return self.name


def last_month_start(today: dt.date | None = None) -> dt.date:
    today = today or timezone.localdate()
    return (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)


class HouseholdQuerySet(ScopedQuerySet):
    scope_path = "village__code"

    RISK_FLAGS = (
        "under_line",
        "fell",
        "monitored_without_measure",
        "no_cadre",
        "missing_last_month",
    )
    INCOME_FIELDS = ("per_capita", "per_capita_last_year", "line_amount")

    def with_risk(
        self,
        year: int | None = None,
        today: dt.date | None = None,
        only: tuple[str, ...] | None = None,
    ):
        """Annotate the risk flags of `year` (default: this year), all computed in SQL.

        under_line: annualised per-capita net income under the most specific monitoring
        line of the year; fell: lower than the year before; monitored_without_measure;
        no_cadre; missing_last_month (no income registered for last month); is_monitored,
        and the income figures per_capita, per_capita_last_year, line_amount. Flags are
        NULL (unknown) where the data to decide is missing, never a guess. `only` limits
        the annotations to those named (a filter needs one, not all).
        """
        today = today or timezone.localdate()
        year = year or today.year
        monitored = Monitoring.objects.filter(
            household=OuterRef("pk"), status=Monitoring.Status.MONITORING
        )
        expressions = {
            "per_capita": F("cur__per_capita"),
            "per_capita_last_year": F("prev__per_capita"),
            "line_amount": F("line__amount"),
            "under_line": models.ExpressionWrapper(
                Q(cur__per_capita__lt=F("line__amount")), output_field=models.BooleanField()
            ),
            "fell": models.ExpressionWrapper(
                Q(cur__per_capita__lt=F("prev__per_capita")), output_field=models.BooleanField()
            ),
            "is_monitored": Exists(monitored),
            "monitored_without_measure": models.ExpressionWrapper(
                Exists(monitored) & ~Exists(Measure.objects.filter(household=OuterRef("pk"))),
                output_field=models.BooleanField(),
            ),
            "no_cadre": ~Exists(Pairing.objects.filter(household=OuterRef("pk"), end__isnull=True)),
            "missing_last_month": ~Exists(
                IncomeRecord.objects.filter(household=OuterRef("pk"), month=last_month_start(today))
            ),
        }
        wanted = {k: v for k, v in expressions.items() if only is None or k in only}
        relations = {
            "cur": FilteredRelation("years", condition=Q(years__year=year)),
            "prev": FilteredRelation("years", condition=Q(years__year=year - 1)),
            "line": FilteredRelation(
                "village__income_lines", condition=Q(village__income_lines__year=year)
            ),
        }
        needed = {
            "per_capita": {"cur"},
            "per_capita_last_year": {"prev"},
            "line_amount": {"line"},
            "under_line": {"cur", "line"},
            "fell": {"cur", "prev"},
        }
        names = set().union(*(needed.get(k, set()) for k in wanted))
        qs = self.annotate(**{k: v for k, v in relations.items() if k in names}) if names else self
        return qs.annotate(**wanted)


# Statement-level audit triggers on the two big tables: one INSERT of the events per statement
# instead of one per row, which halves the cost of the imports' set-based writes (issue 7);
# a single save records exactly the same event.
@pghistory.track(
    pghistory.InsertEvent(),
    pghistory.UpdateEvent(),
    pghistory.DeleteEvent(),
    level=pgtrigger.Statement,
    exclude=["sync_xid"],
)
class Household(BaseModel):
    """A registered (建档立卡) or monitored household."""

    village = models.ForeignKey(
        Village, verbose_name=_("村"), on_delete=models.PROTECT, related_name="households"
    )
    code = models.CharField(_("户编号"), max_length=32, unique=True)
    head_name = models.CharField(_("户主姓名"), max_length=64, blank=True, editable=False)
    phone = EncryptedCharField(_("户联系电话"), blank=True, default="")
    phone_hash = KeyedHashField(source="phone", blank=True, default="")
    household_type = models.CharField(
        _("贫困户属性"), max_length=16, choices=HouseholdType.choices, default=HouseholdType.GENERAL
    )
    standard = models.CharField(
        _("识别标准"),
        max_length=16,
        choices=IdentificationStandard.choices,
        default=IdentificationStandard.NATIONAL,
    )
    status = models.ForeignKey(
        HouseholdStatus, verbose_name=_("状态"), on_delete=models.PROTECT, related_name="+"
    )
    main_cause = models.CharField(_("主要致贫原因"), max_length=16, choices=Cause.choices)
    other_causes = ArrayField(
        models.CharField(max_length=16, choices=Cause.choices),
        verbose_name=_("其他致贫原因"),
        size=2,
        default=list,
        blank=True,
    )
    year_identified = models.PositiveSmallIntegerField(
        _("识别年份"), validators=[MinValueValidator(2013), MaxValueValidator(2100)]
    )
    year_lifted = models.PositiveSmallIntegerField(
        _("脱贫年份"),
        null=True,
        blank=True,
        validators=[MinValueValidator(2013), MaxValueValidator(2100)],
    )
    card_colour = models.CharField(
        _("帮扶卡"), max_length=8, choices=CardColour.choices, blank=True
    )
    food_clothing_secure = models.BooleanField(_("不愁吃、不愁穿"), default=True)
    education_secure = models.BooleanField(_("义务教育有保障"), default=True)
    medical_secure = models.BooleanField(_("基本医疗有保障"), default=True)
    housing_grade = models.CharField(
        _("住房安全等级"), max_length=1, choices=HousingGrade.choices, default=HousingGrade.A
    )
    safe_water = models.BooleanField(_("饮水安全有保障"), default=True)
    relocated = models.BooleanField(_("易地扶贫搬迁户"), default=False)
    relocation_year = models.PositiveSmallIntegerField(_("搬迁年份"), null=True, blank=True)
    sync_xid = sync_stamp_field()

    objects = HouseholdQuerySet.as_manager()

    class Meta:
        verbose_name = _("帮扶户")
        verbose_name_plural = _("帮扶户")
        ordering = ["code"]
        indexes = [
            sync_index("household"),
            models.Index(
                fields=["head_name"],
                name="household_head_name_like",
                opclasses=["varchar_pattern_ops"],
            ),
            models.Index(
                fields=["code"], name="household_code_like", opclasses=["varchar_pattern_ops"]
            ),
            models.Index(fields=["village", "code"], name="household_village_code"),
            models.Index(fields=["updated_at", "id"], name="household_sync"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(other_causes__len__lte=2),
                name="household_other_causes_max_2",
                violation_error_message=_("其他致贫原因最多选2项。"),
            ),
            models.CheckConstraint(
                condition=Q(year_lifted__isnull=True) | Q(year_lifted__gte=F("year_identified")),
                name="household_lifted_after_identified",
                violation_error_message=_("脱贫年份不能早于识别年份。"),
            ),
        ]
        triggers = sync_triggers(HouseholdQuerySet.scope_path)

    def __str__(self) -> str:
        return f"{self.code} {self.head_name}".strip()

    @property
    def three_guarantees(self) -> bool:
        """两不愁三保障 + 饮水安全."""
        return (
            self.food_clothing_secure
            and self.education_secure
            and self.medical_secure
            and self.housing_grade in (HousingGrade.A, HousingGrade.B)
            and self.safe_water
        )

    @property
    def phone_masked(self) -> str:
        return mask_phone(self.phone)

    def clean(self) -> None:
        errors = cause_errors(self.main_cause, self.other_causes)
        if errors:
            raise ValidationError(errors)


def cause_errors(main_cause: str, other_causes: list[str] | None) -> dict[str, str]:
    """The rules of the causes of poverty (A3a/A3b): at most 2 others, none repeated, none the
    main cause. Shared by the model's clean() and the bulk import."""
    others = other_causes or []
    errors = {}
    if main_cause and main_cause in others:
        errors["other_causes"] = _g("其他致贫原因不能与主要致贫原因相同。")
    if len(set(others)) != len(others):
        errors["other_causes"] = _g("其他致贫原因不能重复。")
    if len(others) > 2:
        errors["other_causes"] = _g("其他致贫原因最多选2项。")
    return errors


class HouseholdStatusChange(models.Model):
    """The history of a household's status (识别、脱贫、返贫、注销 …)."""

    household = models.ForeignKey(
        Household, on_delete=models.CASCADE, related_name="status_changes", verbose_name=_("户")
    )
    old = models.ForeignKey(
        HouseholdStatus,
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
        verbose_name=_("原状态"),
    )
    new = models.ForeignKey(
        HouseholdStatus, on_delete=models.PROTECT, related_name="+", verbose_name=_("新状态")
    )
    changed_on = models.DateField(_("变更日期"))
    reason = models.TextField(_("原因"), blank=True)
    actor = models.ForeignKey(
        "accounts.User",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("操作人"),
    )
    created_at = models.DateTimeField(_("记录时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("户状态变更")
        verbose_name_plural = _("户状态变更")
        ordering = ["household", "changed_on", "id"]

    def __str__(self) -> str:
        return f"{self.household_id}: {self.old_id} → {self.new_id}"


REFRESH_YEARS = "PERFORM households_refresh_years(ARRAY(SELECT DISTINCT household_id FROM {t}));"


def refresh_years_triggers(prefix: str) -> list[pgtrigger.Trigger]:
    """Statement-level triggers that recompute `HouseholdYear` for the households touched."""
    both = "(SELECT household_id FROM old_rows UNION SELECT household_id FROM new_rows) AS t"
    return [
        pgtrigger.Trigger(
            name=f"{prefix}_years_insert",
            when=pgtrigger.After,
            operation=pgtrigger.Insert,
            level=pgtrigger.Statement,
            referencing=pgtrigger.Referencing(new="new_rows"),
            func=REFRESH_YEARS.format(t="new_rows") + " RETURN NULL;",
        ),
        pgtrigger.Trigger(
            name=f"{prefix}_years_update",
            when=pgtrigger.After,
            operation=pgtrigger.Update,
            level=pgtrigger.Statement,
            referencing=pgtrigger.Referencing(old="old_rows", new="new_rows"),
            func=REFRESH_YEARS.format(t=both) + " RETURN NULL;",
        ),
        pgtrigger.Trigger(
            name=f"{prefix}_years_delete",
            when=pgtrigger.After,
            operation=pgtrigger.Delete,
            level=pgtrigger.Statement,
            referencing=pgtrigger.Referencing(old="old_rows"),
            func=REFRESH_YEARS.format(t="old_rows") + " RETURN NULL;",
        ),
    ]


class MemberQuerySet(ScopedQuerySet):
    scope_path = "household__village__code"

    def active(self):
        return self.filter(left_on__isnull=True)


@pghistory.track(
    pghistory.InsertEvent(),
    pghistory.UpdateEvent(),
    pghistory.DeleteEvent(),
    level=pgtrigger.Statement,
    exclude=["sync_xid"],
)
class Member(BaseModel):
    household = models.ForeignKey(
        Household, verbose_name=_("户"), on_delete=models.CASCADE, related_name="members"
    )
    name = models.CharField(_("姓名"), max_length=64)
    id_number = EncryptedCharField(_("身份证号"))
    id_hash = KeyedHashField(source="id_number")
    phone = EncryptedCharField(_("联系电话"), blank=True, default="")
    phone_hash = KeyedHashField(source="phone", blank=True, default="")
    relation = models.CharField(_("与户主关系"), max_length=16, choices=Relation.choices)
    sex = models.CharField(
        _("性别"), max_length=1, choices=[("M", _("男")), ("F", _("女"))], editable=False
    )
    birth_date = models.DateField(_("出生日期"), editable=False)
    ethnicity = models.CharField(_("民族"), max_length=2, choices=EthnicityChoices, default="01")
    education = models.CharField(
        _("文化程度"), max_length=16, choices=Education.choices, default=Education.JUNIOR
    )
    school_status = models.CharField(
        _("在校生状况"), max_length=24, choices=SchoolStatus.choices, default=SchoolStatus.NONE
    )
    health = models.CharField(
        _("健康状况"), max_length=16, choices=Health.choices, default=Health.HEALTHY
    )
    disability_grade = models.CharField(
        _("残疾等级"), max_length=1, choices=DisabilityGrade.choices, blank=True, default=""
    )
    labour = models.CharField(
        _("劳动能力"), max_length=16, choices=Labour.choices, default=Labour.ORDINARY
    )
    migrant_months = models.PositiveSmallIntegerField(
        _("务工时间（月）"), default=0, validators=[MaxValueValidator(12)]
    )
    medical_insured = models.BooleanField(_("参加城乡居民基本医疗保险"), default=True)
    serious_illness_insured = models.BooleanField(_("参加大病保险"), default=True)
    pension_insured = models.BooleanField(_("参加城乡居民基本养老保险"), default=False)
    joined_on = models.DateField(_("入户日期"))
    left_on = models.DateField(_("离户日期"), null=True, blank=True)
    left_reason = models.CharField(_("离户原因"), max_length=64, blank=True)
    sync_xid = sync_stamp_field()

    objects = MemberQuerySet.as_manager()

    class Meta:
        verbose_name = _("家庭成员")
        verbose_name_plural = _("家庭成员")
        ordering = ["household", "-relation", "birth_date", "id"]
        indexes = [
            sync_index("member"),
            models.Index(fields=["household", "left_on"], name="member_household_active"),
            models.Index(fields=["id_hash"], name="member_id_hash"),
            models.Index(fields=["updated_at", "id"], name="member_sync"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["id_hash"],
                condition=Q(left_on__isnull=True),
                name="member_one_active_household",
                violation_error_message=_("此人已是另一户的在册成员。"),
            ),
            models.UniqueConstraint(
                fields=["household"],
                condition=Q(left_on__isnull=True, relation="head"),
                name="member_one_head",
                violation_error_message=_("一户只能有一名在册户主。"),
            ),
            models.CheckConstraint(
                condition=Q(left_on__isnull=True) | Q(left_on__gte=F("joined_on")),
                name="member_left_after_joined",
                violation_error_message=_("离户日期不能早于入户日期。"),
            ),
            models.CheckConstraint(
                condition=Q(migrant_months__lte=12), name="member_migrant_months_max_12"
            ),
        ]
        triggers = [*refresh_years_triggers("member"), *sync_triggers(MemberQuerySet.scope_path)]

    def __str__(self) -> str:
        return self.name

    @property
    def id_number_masked(self) -> str:
        return mask_id_number(self.id_number)


class IncomeRecordQuerySet(ScopedQuerySet):
    scope_path = "household__village__code"


@pghistory.track(
    pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent(), exclude=["sync_xid"]
)
class IncomeRecord(BaseModel):
    """A household's income and production costs of one month (registered before month end)."""

    household = models.ForeignKey(
        Household, verbose_name=_("户"), on_delete=models.CASCADE, related_name="incomes"
    )
    month = models.DateField(_("月份"), help_text=_("该月第一天"))
    wage = models.DecimalField(_("工资性收入"), **MONEY)
    business = models.DecimalField(_("生产经营性收入"), **MONEY)
    property_income = models.DecimalField(_("财产性收入"), **MONEY)
    transfer = models.DecimalField(_("转移性收入"), **MONEY)
    production_cost = models.DecimalField(_("生产经营费用"), **MONEY)
    sync_xid = sync_stamp_field()

    objects = IncomeRecordQuerySet.as_manager()

    class Meta:
        verbose_name = _("月收入登记")
        verbose_name_plural = _("月收入登记")
        ordering = ["household", "-month"]
        indexes = [
            sync_index("income"),
            models.Index(fields=["month"], name="income_month"),
            models.Index(fields=["updated_at", "id"], name="income_sync"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["household", "month"],
                name="income_one_per_month",
                violation_error_message=_("该户该月的收入已登记。"),
            ),
            models.CheckConstraint(condition=Q(month__day=1), name="income_month_first_day"),
        ]
        triggers = [
            *refresh_years_triggers("income"),
            *sync_triggers(IncomeRecordQuerySet.scope_path),
        ]

    def __str__(self) -> str:
        return f"{self.household_id} {self.month:%Y-%m}"

    @property
    def net(self):
        return (
            self.wage + self.business + self.property_income + self.transfer - self.production_cost
        )


class HouseholdYear(models.Model):
    """Derived, never typed in: kept by triggers on incomes and members.

    net_income: the sum of the year's monthly net incomes; months: how many months are
    registered; person_months: over those months, the members belonging each month. The
    annualised per-capita net income is net_income * 12 / person_months.
    """

    household = models.ForeignKey(Household, on_delete=models.CASCADE, related_name="years")
    year = models.PositiveSmallIntegerField()
    net_income = models.DecimalField(max_digits=14, decimal_places=2)
    months = models.PositiveSmallIntegerField()
    person_months = models.PositiveIntegerField()
    per_capita = models.GeneratedField(
        expression=models.Case(
            models.When(
                person_months__gt=0,
                then=models.functions.Round(F("net_income") * 12 / F("person_months"), 2),
            ),
            default=None,
        ),
        output_field=models.DecimalField(max_digits=14, decimal_places=2),
        db_persist=True,
    )

    class Meta:
        verbose_name = _("年度收入（自动计算）")
        verbose_name_plural = _("年度收入（自动计算）")
        constraints = [
            models.UniqueConstraint(fields=["household", "year"], name="household_year_unique"),
        ]
        indexes = [models.Index(fields=["year", "per_capita"], name="household_year_pc")]

    def __str__(self) -> str:
        return f"{self.household_id} {self.year}"


class IncomeLineQuerySet(ScopedQuerySet):
    """Lines of the user's region, of the regions below it and of the regions above it."""

    scope_path = "region__code"

    def scope_q(self, prefix: str) -> Q:
        return Q(region__code__startswith=prefix) | Q(
            prefix__in=[prefix[:n] for n in (2, 4, 6, 9) if n < len(prefix)]
        )


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class IncomeLine(BaseModel):
    """The monitoring income line of a year in a region; the most specific region wins."""

    year = models.PositiveSmallIntegerField(
        _("年度"), validators=[MinValueValidator(2013), MaxValueValidator(2100)]
    )
    region = models.ForeignKey(
        Region, verbose_name=_("区划"), on_delete=models.PROTECT, related_name="income_lines"
    )
    prefix = models.CharField(_("区划前缀"), max_length=12, editable=False)
    amount = models.DecimalField(
        _("监测线（元/人/年）"), max_digits=10, decimal_places=2, validators=[MinValueValidator(1)]
    )
    note = models.CharField(_("依据"), max_length=200, blank=True)

    objects = IncomeLineQuerySet.as_manager()

    class Meta:
        verbose_name = _("防返贫监测线")
        verbose_name_plural = _("防返贫监测线")
        ordering = ["-year", "prefix"]
        constraints = [
            models.UniqueConstraint(
                fields=["year", "region"],
                name="income_line_unique",
                violation_error_message=_("该区划该年度已设监测线。"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.year} {self.region}: {self.amount}"


class VillageIncomeLine(models.Model):
    """Derived, never typed in: the line of each village and year, from the most specific
    region. Rebuilt in SQL by triggers whenever a line or a village changes, in the same
    transaction, so a changed line moves every flag at once."""

    village = models.ForeignKey(Village, on_delete=models.CASCADE, related_name="income_lines")
    year = models.PositiveSmallIntegerField()
    amount = models.DecimalField(max_digits=10, decimal_places=2)
    line = models.ForeignKey(IncomeLine, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["village", "year"], name="village_line_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.village_id} {self.year}: {self.amount}"


class ReportBandQuerySet(IncomeLineQuerySet):
    pass


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class ReportBand(BaseModel):
    """An income band a county reports on (e.g. households under 7 500 or 4 500 元)."""

    region = models.ForeignKey(
        Region, verbose_name=_("区划"), on_delete=models.PROTECT, related_name="report_bands"
    )
    prefix = models.CharField(_("区划前缀"), max_length=12, editable=False)
    amount = models.DecimalField(
        _("人均纯收入低于（元）"),
        max_digits=10,
        decimal_places=2,
        validators=[MinValueValidator(1)],
    )

    objects = ReportBandQuerySet.as_manager()

    class Meta:
        verbose_name = _("收入报告档")
        verbose_name_plural = _("收入报告档")
        ordering = ["prefix", "-amount"]
        constraints = [
            models.UniqueConstraint(
                fields=["region", "amount"],
                name="report_band_unique",
                violation_error_message=_("该区划已有相同的报告档。"),
            ),
        ]

    def __str__(self) -> str:
        return _g("低于%(amount)s元") % {"amount": f"{self.amount:,.0f}"}


class MonitoringQuerySet(ScopedQuerySet):
    scope_path = "household__village__code"


@pghistory.track(
    pghistory.InsertEvent(),
    pghistory.UpdateEvent(),
    pghistory.DeleteEvent(),
    model_name="MonitoringAudit",
    exclude=["sync_xid"],
)
class Monitoring(BaseModel):
    """A household under 防返贫 monitoring, from identification to 风险消除 (and back)."""

    class Status(models.TextChoices):
        MONITORING = "monitoring", _("监测中")
        ELIMINATED = "eliminated", _("风险已消除")

    household = models.ForeignKey(
        Household, verbose_name=_("户"), on_delete=models.CASCADE, related_name="monitorings"
    )
    category = models.CharField(
        _("监测对象类别"), max_length=16, choices=MonitoringCategory.choices
    )
    risk_types = ArrayField(
        models.CharField(max_length=16, choices=RiskType.choices),
        verbose_name=_("风险类型"),
        default=list,
    )
    discovery = models.CharField(_("发现方式"), max_length=16, choices=Discovery.choices)
    identified_on = models.DateField(_("风险识别时间"))
    eliminated_on = models.DateField(_("风险消除时间"), null=True, blank=True)
    status = models.CharField(
        _("状态"), max_length=16, choices=Status.choices, default=Status.MONITORING
    )
    sync_xid = sync_stamp_field()

    objects = MonitoringQuerySet.as_manager()

    class Meta:
        verbose_name = _("防返贫监测")
        verbose_name_plural = _("防返贫监测")
        ordering = ["household", "-identified_on"]
        constraints = [
            models.UniqueConstraint(
                fields=["household"],
                condition=Q(status="monitoring"),
                name="monitoring_one_open_per_household",
                violation_error_message=_("该户已在监测中。"),
            ),
            models.CheckConstraint(
                condition=Q(status="monitoring", eliminated_on__isnull=True)
                | Q(status="eliminated", eliminated_on__isnull=False),
                name="monitoring_eliminated_on_by_status",
            ),
        ]
        triggers = sync_triggers(MonitoringQuerySet.scope_path)
        indexes = [sync_index("monitoring")]

    def __str__(self) -> str:
        return f"{self.household} · {self.get_category_display()}"


class MonitoringEvent(models.Model):
    class Kind(models.TextChoices):
        IDENTIFIED = "identified", _("识别纳入")
        ELIMINATED = "eliminated", _("风险消除")
        ROLLED_BACK = "rolled_back", _("回退")
        REMARKED = "remarked", _("再标注")

    monitoring = models.ForeignKey(Monitoring, on_delete=models.CASCADE, related_name="steps")
    kind = models.CharField(_("事项"), max_length=16, choices=Kind.choices)
    on = models.DateField(_("日期"))
    actor = models.ForeignKey(
        "accounts.User",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("操作人"),
    )
    note = models.TextField(_("说明"), blank=True)
    created_at = models.DateTimeField(_("记录时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("监测记录")
        verbose_name_plural = _("监测记录")
        ordering = ["monitoring", "on", "id"]

    def __str__(self) -> str:
        return f"{self.monitoring_id} {self.kind}"


class MeasureQuerySet(ScopedQuerySet):
    scope_path = "household__village__code"


@pghistory.track(
    pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent(), exclude=["sync_xid"]
)
class Measure(BaseModel):
    """A support measure carried out for a household (一户一策)."""

    household = models.ForeignKey(
        Household, verbose_name=_("户"), on_delete=models.CASCADE, related_name="measures"
    )
    kind = models.CharField(_("措施类型"), max_length=24, choices=MeasureKind.choices)
    start = models.DateField(_("开始日期"))
    end = models.DateField(_("结束日期"), null=True, blank=True)
    owner = models.CharField(_("责任单位或责任人"), max_length=64, blank=True)
    note = models.TextField(_("内容"), blank=True)
    sync_xid = sync_stamp_field()

    objects = MeasureQuerySet.as_manager()

    class Meta:
        verbose_name = _("帮扶措施")
        verbose_name_plural = _("帮扶措施")
        ordering = ["household", "-start"]
        indexes = [
            models.Index(fields=["household", "start"], name="measure_household_start"),
            sync_index("measure"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(end__isnull=True) | Q(end__gte=F("start")),
                name="measure_end_after_start",
                violation_error_message=_("结束日期不能早于开始日期。"),
            ),
        ]
        triggers = sync_triggers(MeasureQuerySet.scope_path)

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.start}"


class PairingQuerySet(ScopedQuerySet):
    scope_path = "household__village__code"

    def active(self):
        return self.filter(end__isnull=True)


@pghistory.track(
    pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent(), exclude=["sync_xid"]
)
class Pairing(BaseModel):
    """The cadre who answers for a household (结对帮扶): one active at a time."""

    household = models.ForeignKey(
        Household, verbose_name=_("户"), on_delete=models.CASCADE, related_name="pairings"
    )
    cadre = models.ForeignKey(
        Cadre, verbose_name=_("帮扶责任人"), on_delete=models.PROTECT, related_name="pairings"
    )
    start = models.DateField(_("开始日期"))
    end = models.DateField(_("结束日期"), null=True, blank=True)
    reason = models.CharField(_("结对原因"), max_length=200, blank=True)
    end_reason = models.CharField(_("调整原因"), max_length=200, blank=True)
    sync_xid = sync_stamp_field()

    objects = PairingQuerySet.as_manager()

    class Meta:
        verbose_name = _("结对帮扶")
        verbose_name_plural = _("结对帮扶")
        ordering = ["household", "-start"]
        constraints = [
            models.UniqueConstraint(
                fields=["household"],
                condition=Q(end__isnull=True),
                name="pairing_one_active_per_household",
                violation_error_message=_("该户已有在岗的帮扶责任人（一户一人）。"),
            ),
            models.CheckConstraint(
                condition=Q(end__isnull=True) | Q(end__gte=F("start")),
                name="pairing_end_after_start",
                violation_error_message=_("结束日期不能早于开始日期。"),
            ),
        ]
        triggers = sync_triggers(PairingQuerySet.scope_path)
        indexes = [sync_index("pairing")]

    def __str__(self) -> str:
        return f"{self.cadre} → {self.household}"


class VisitKind(models.TextChoices):
    IN_PERSON = "in_person", _("入户走访")
    PHONE = "phone", _("电话走访")


class VisitLogQuerySet(ScopedQuerySet):
    scope_path = "household__village__code"


def visit_photo_path(instance: "VisitLog", filename: str) -> str:
    # The name is ours, never the client's: the extension follows the checked content type.
    ext = filename.rsplit(".", 1)[-1].lower()
    return f"visits/{instance.visited_on:%Y/%m}/{instance.client_key}.{ext}"


@pghistory.track(
    pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent(), exclude=["sync_xid"]
)
class VisitLog(BaseModel):
    """A visit to a household (入户走访 or by phone). `client_key` is the key the phone's
    form carried: the same submission sent again never makes a second visit."""

    household = models.ForeignKey(
        Household, verbose_name=_("户"), on_delete=models.CASCADE, related_name="visits"
    )
    cadre = models.ForeignKey(
        Cadre, verbose_name=_("走访人"), on_delete=models.PROTECT, related_name="visits"
    )
    team = models.ForeignKey(
        WorkTeam,
        verbose_name=_("工作队"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="visits",
    )
    visited_on = models.DateField(_("走访日期"))
    kind = models.CharField(_("方式"), max_length=16, choices=VisitKind.choices)
    seen = models.TextField(_("走访情况"))
    problems = models.TextField(_("发现问题"), blank=True)
    requests = models.TextField(_("群众诉求"), blank=True)
    follow_up = models.TextField(_("跟进措施"), blank=True)
    photo = models.FileField(_("照片"), upload_to=visit_photo_path, blank=True)
    latitude = models.DecimalField(_("纬度"), max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(
        _("经度"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    client_key = models.UUIDField(_("提交标识"), editable=False)
    sync_xid = sync_stamp_field()

    objects = VisitLogQuerySet.as_manager()

    class Meta:
        verbose_name = _("走访记录")
        verbose_name_plural = _("走访记录")
        ordering = ["-visited_on", "-id"]
        indexes = [
            sync_index("visit"),
            models.Index(fields=["household", "visited_on"], name="visit_household_day"),
            models.Index(fields=["cadre", "visited_on"], name="visit_cadre_day"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["cadre", "client_key"], name="visit_unique_client_key"),
            models.CheckConstraint(
                condition=Q(latitude__isnull=True, longitude__isnull=True)
                | Q(latitude__gte=-90, latitude__lte=90, longitude__gte=-180, longitude__lte=180),
                name="visit_position_range",
            ),
        ]
        triggers = sync_triggers(VisitLogQuerySet.scope_path)

    def __str__(self) -> str:
        return f"{self.household} {self.visited_on:%Y-%m-%d} {self.cadre}"
