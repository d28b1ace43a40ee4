"""Filters of the households endpoints: the fields a province filters on, and the risk flags
(computed in SQL at the time of the request, `HouseholdQuerySet.with_risk`)."""

import django_filters
from django.utils.translation import gettext_lazy as _

from common.api.filters import BooleanFilter, SyncFilterSet, date_range, id_filter

from .codes import RiskType
from .models import (
    Household,
    HouseholdQuerySet,
    IncomeRecord,
    Measure,
    Member,
    Monitoring,
    Pairing,
    VisitLog,
)

RISK_LABELS = {
    "under_line": _("人均纯收入低于监测线"),
    "fell": _("人均纯收入低于上年"),
    "monitored_without_measure": _("监测户无帮扶措施"),
    "no_cadre": _("无帮扶责任人"),
    "missing_last_month": _("上月收入未登记"),
}
# Every flag the queryset computes, each with its label (a new flag without one fails here).
RISK_CHOICES = [(flag, RISK_LABELS[flag]) for flag in HouseholdQuerySet.RISK_FLAGS]


class HouseholdFilterSet(SyncFilterSet):
    village = id_filter("village", _("村ID"))
    status = django_filters.CharFilter(
        field_name="status",
        max_length=32,
        label=_("户状态代码"),
        help_text=_(
            "如 lifted（已脱贫）、not_lifted（未脱贫）、returned（返贫）、cancelled（注销）。"
        ),
    )
    relocated = BooleanFilter(label=_("易地扶贫搬迁户"))
    risk = django_filters.MultipleChoiceFilter(
        choices=RISK_CHOICES,
        method="filter_risk",
        label=_("风险标记"),
        help_text=_(
            "只返回本年度带有这些风险标记的户（可多选，须同时具备）。标记在请求时按当时的数据计算，"
            "不随户记录本身变化，适合查询，不适合增量同步。"
        ),
    )

    class Meta:
        model = Household
        fields = [
            "household_type",
            "standard",
            "main_cause",
            "card_colour",
            "housing_grade",
            "year_identified",
            "year_lifted",
        ]

    def filter_risk(self, queryset, name, value):
        if not value:
            return queryset
        return queryset.with_risk(only=tuple(value)).filter(**dict.fromkeys(value, True))


class MemberFilterSet(SyncFilterSet):
    household = id_filter("household", _("户ID"))
    in_household = BooleanFilter(
        field_name="left_on",
        lookup_expr="isnull",
        label=_("在册成员"),
        help_text=_("true：仍在户内；false：已离户。"),
    )

    class Meta:
        model = Member
        fields = ["relation", "sex", "education", "school_status", "health", "labour"]


class IncomeFilterSet(SyncFilterSet):
    household = id_filter("household", _("户ID"))
    month_from, month_to = date_range("month", _("月份不早于"), _("月份不晚于"))

    class Meta:
        model = IncomeRecord
        fields = []


class MonitoringFilterSet(SyncFilterSet):
    household = id_filter("household", _("户ID"))
    risk_type = django_filters.ChoiceFilter(
        choices=RiskType.choices, method="filter_risk_type", label=_("风险类型")
    )
    identified_from, identified_to = date_range(
        "identified_on", _("风险识别时间不早于"), _("风险识别时间不晚于")
    )

    class Meta:
        model = Monitoring
        fields = ["category", "status", "discovery"]

    def filter_risk_type(self, queryset, name, value):
        return queryset.filter(risk_types__contains=[value]) if value else queryset


class MeasureFilterSet(SyncFilterSet):
    household = id_filter("household", _("户ID"))
    ongoing = BooleanFilter(field_name="end", lookup_expr="isnull", label=_("未结束的措施"))

    class Meta:
        model = Measure
        fields = ["kind"]


class PairingFilterSet(SyncFilterSet):
    household = id_filter("household", _("户ID"))
    cadre = id_filter("cadre", _("帮扶责任人（干部）ID"))
    active = BooleanFilter(field_name="end", lookup_expr="isnull", label=_("在岗结对"))

    class Meta:
        model = Pairing
        fields = []


class VisitFilterSet(SyncFilterSet):
    household = id_filter("household", _("户ID"))
    cadre = id_filter("cadre", _("走访人（干部）ID"))
    team = id_filter("team", _("工作队ID"))
    visited_from, visited_to = date_range("visited_on", _("走访日期不早于"), _("走访日期不晚于"))

    class Meta:
        model = VisitLog
        fields = ["kind"]
