"""Filters of the circulars endpoint."""

import django_filters
from django.db.models import Exists, OuterRef
from django.utils.translation import gettext_lazy as _

from common.api.filters import DateFilter, IdFilter, SyncFilterSet, date_range, id_filter

from .models import Circular, CircularEntry, CircularStatus, EntryKind
from .selectors import PUBLIC_STATUSES


class CircularFilterSet(SyncFilterSet):
    county = id_filter("county", _("县区划ID"))
    period = DateFilter(
        field_name="period", label=_("月份"), help_text=_("该月第一天，如 2026-02-01。")
    )
    period_from, period_to = date_range("period", _("月份不早于"), _("月份不晚于"))
    published_from, published_to = date_range(
        "published_on", _("成文日期不早于"), _("成文日期不晚于")
    )
    status = django_filters.ChoiceFilter(
        choices=[(s.value, s.label) for s in CircularStatus if s in PUBLIC_STATUSES],
        label=_("状态"),
        help_text=_("published：已发布（现行）；superseded：已被更正通报取代。"),
    )
    team = IdFilter(
        method="filter_entries",
        label=_("列入的工作队ID"),
        help_text=_("只返回把该工作队列入红榜或黑榜的通报；与 kind 同时给出时，指列入该榜单。"),
    )
    kind = django_filters.ChoiceFilter(
        choices=EntryKind.choices,
        method="filter_entries",
        label=_("榜单"),
        help_text=_(
            "red：红榜；black：黑榜。只返回该榜单上有工作队的通报；与 team 同时给出时，"
            "指该工作队列入该榜单。"
        ),
    )

    class Meta:
        model = Circular
        fields = []

    def filter_entries(self, queryset, name, value):
        return queryset  # team and kind are one condition on one entry: see filter_queryset

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        data = self.form.cleaned_data
        entry = {
            lookup: data[name]
            for name, lookup in (("team", "team_id"), ("kind", "kind"))
            if data.get(name) not in (None, "")
        }
        if entry:
            named = CircularEntry.objects.filter(circular=OuterRef("pk"), **entry)
            queryset = queryset.filter(Exists(named))
        return queryset
