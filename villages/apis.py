"""Read endpoints of regions and villages for the provincial pull (common.api)."""

from django.utils.translation import gettext_lazy as _

from common.api.serializers import SyncSerializer
from common.api.viewsets import SyncViewSet

from . import selectors
from .filters import RegionFilterSet, VillageFilterSet
from .models import Region, Village

TIMES = ["created_at", "updated_at"]


class RegionSerializer(SyncSerializer):
    class Meta:
        model = Region
        fields = ["id", "code", "name", "level", "parent", *TIMES]


class RegionViewSet(SyncViewSet):
    serializer_class = RegionSerializer
    filterset_class = RegionFilterSet
    summary = _("行政区划")
    description = _(
        "管辖范围内的行政区划（省、市、县、乡镇、村），12位统计用区划代码。level：1省 2市 3县 "
        "4乡镇 5村；parent 为上级区划ID。"
    )
    example = {
        "id": 15,
        "code": "140121100201",
        "name": "东于村",
        "level": 5,
        "parent": 9,
        "created_at": "2025-03-01T09:00:00+08:00",
        "updated_at": "2025-03-01T09:00:00+08:00",
    }

    def get_queryset(self):
        return selectors.region_list(user=self.request.user)


class VillageSerializer(SyncSerializer):
    class Meta:
        model = Village
        fields = [
            "id",
            "region",
            "code",
            "name",
            "township",
            "poverty_status",
            "exit_year",
            "is_deep_poverty",
            "is_weak_organisation",
            "is_relocation_site",
            "population",
            "household_count",
            "collective_income",
            *TIMES,
        ]


class VillageViewSet(SyncViewSet):
    serializer_class = VillageSerializer
    filterset_class = VillageFilterSet
    summary = _("村")
    description = _(
        "管辖范围内各行政村的档案：贫困状态与出列年份、深度贫困村、软弱涣散村、易地搬迁安置点、"
        "人口、户数、村集体经济收入（元）。region 为村级区划ID，township 为乡镇区划ID。"
    )
    example = {
        "id": 3,
        "region": 15,
        "code": "140121100201",
        "name": "东于村",
        "township": 9,
        "poverty_status": "exited",
        "exit_year": 2019,
        "is_deep_poverty": False,
        "is_weak_organisation": False,
        "is_relocation_site": True,
        "population": 1260,
        "household_count": 402,
        "collective_income": "158000.00",
        "created_at": "2025-03-01T09:00:00+08:00",
        "updated_at": "2026-01-05T16:20:11+08:00",
    }

    def get_queryset(self):
        return selectors.village_list(user=self.request.user)
