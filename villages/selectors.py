"""Every read of regions and villages that a view, export or task uses."""

from typing import Any

from .models import Region, RegionQuerySet, Village, VillageQuerySet


def region_list(*, user: Any) -> RegionQuerySet:
    return Region.objects.visible_to(user).select_related("parent")


def village_list(*, user: Any) -> VillageQuerySet:
    return Village.objects.visible_to(user).select_related("township", "township__parent")
