"""Filters of the oversight endpoints."""

import django_filters
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from common.api.filters import BooleanFilter, DateFilter, SyncFilterSet, date_range, id_filter

from .models import OPEN_STATUSES, Assessment, Escalation, Finding, Inspection, MonthlyRanking


class InspectionFilterSet(SyncFilterSet):
    on_from, on_to = date_range("on", _("检查日期不早于"), _("检查日期不晚于"))

    class Meta:
        model = Inspection
        fields = ["kind"]


class FindingFilterSet(SyncFilterSet):
    inspection = id_filter("inspection", _("检查ID"))
    village = id_filter("village", _("村ID"))
    team = id_filter("team", _("工作队ID"))
    cadre = id_filter("cadre", _("干部ID"))
    unit = id_filter("unit", _("派出单位ID"))
    overdue = BooleanFilter(
        method="filter_overdue",
        label=_("超期未整改"),
        help_text=_("true：待整改或整改中且已过整改时限；false：其余。按请求当天计算。"),
    )
    deadline_from, deadline_to = date_range("deadline", _("整改时限不早于"), _("整改时限不晚于"))

    class Meta:
        model = Finding
        fields = ["status", "severity", "category", "subject"]

    def filter_overdue(self, queryset, name, value):
        if value is None:
            return queryset
        late = {"status__in": OPEN_STATUSES, "deadline__lt": timezone.localdate()}
        return queryset.filter(**late) if value else queryset.exclude(**late)


class RankingFilterSet(SyncFilterSet):
    period = DateFilter(
        field_name="period", label=_("月份"), help_text=_("该月第一天，如 2026-02-01。")
    )
    period_from, period_to = date_range("period", _("月份不早于"), _("月份不晚于"))
    county = id_filter("county", _("县区划ID"))
    team = id_filter("team", _("工作队ID"))
    black_listed = BooleanFilter(label=_("列入黑榜"))

    class Meta:
        model = MonthlyRanking
        fields = []


class EscalationFilterSet(SyncFilterSet):
    period = DateFilter(
        field_name="period", label=_("月份"), help_text=_("该月第一天，如 2026-02-01。")
    )
    county = id_filter("county", _("县区划ID"))
    team = id_filter("team", _("工作队ID"))
    unit = id_filter("unit", _("派出单位ID"))

    class Meta:
        model = Escalation
        fields = ["step", "status"]


class AssessmentFilterSet(SyncFilterSet):
    county = id_filter("county", _("县区划ID"))
    cadre = id_filter("cadre", _("干部ID"))
    team = id_filter("team", _("工作队ID"))
    village = id_filter("village", _("村ID"))
    grade = django_filters.CharFilter(
        field_name="grade",
        max_length=16,
        label=_("考核等次"),
        help_text=_("等次名称，如 优秀、称职、基本称职、不称职（以各县考核方案的等次为准）。"),
    )

    class Meta:
        model = Assessment
        fields = ["year", "kind", "grade_rank"]
