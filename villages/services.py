"""Every write to regions and villages."""

from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from common.errors import ApplicationError

from .models import Level, Region, Village


@transaction.atomic
def region_create(*, code: str, name: str, level: int, parent: Region | None = None) -> Region:
    region = Region(
        code=(code or "").strip(), name=(name or "").strip(), level=level, parent=parent
    )
    region.full_clean()
    region.save()
    return region


@transaction.atomic
def region_rename(*, region: Region, name: str) -> Region:
    """Rename a region. Its code never changes: scope and history hang on it."""
    name = (name or "").strip()
    if not name:
        raise ApplicationError(_("名称不能为空。"))
    if region.name != name:
        region.name = name
        region.full_clean()
        region.save(update_fields=["name", "updated_at"])
    return region


@transaction.atomic
def village_create(*, region: Region, **profile: Any) -> Village:
    """Create the profile of a village-level region; code and township come from the region."""
    if region.level != Level.VILLAGE:
        raise ApplicationError(_("只能为村级区划建立村档案。"))
    profile.setdefault("name", region.name)
    village = Village(region=region, code=region.code, township=region.parent, **profile)
    village.full_clean()
    village.save()
    return village


VILLAGE_PROFILE_FIELDS = (
    "name",
    "poverty_status",
    "exit_year",
    "is_deep_poverty",
    "is_weak_organisation",
    "is_relocation_site",
    "population",
    "household_count",
    "collective_income",
)


@transaction.atomic
def village_update(*, village: Village, **changes: Any) -> Village:
    unknown = set(changes) - set(VILLAGE_PROFILE_FIELDS)
    if unknown:
        raise ApplicationError(_("这些字段不能修改：%s") % ", ".join(sorted(unknown)))
    changed = [name for name, value in changes.items() if getattr(village, name) != value]
    for name in changed:
        setattr(village, name, changes[name])
    if changed:
        village.full_clean()
        village.save(update_fields=[*changed, "updated_at"])
    return village
