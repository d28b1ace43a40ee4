"""Filters of the regions and villages endpoints."""

from django.utils.translation import gettext_lazy as _

from common.api.filters import BooleanFilter, SyncFilterSet, id_filter

from .models import Region, Village


class RegionFilterSet(SyncFilterSet):
    parent = id_filter("parent", _("上级区划ID"))

    class Meta:
        model = Region
        fields = ["level"]


class VillageFilterSet(SyncFilterSet):
    township = id_filter("township", _("乡镇区划ID"))
    is_deep_poverty = BooleanFilter(label=_("深度贫困村"))
    is_weak_organisation = BooleanFilter(label=_("软弱涣散村"))
    is_relocation_site = BooleanFilter(label=_("易地搬迁安置点"))

    class Meta:
        model = Village
        fields = ["poverty_status"]
