"""Every read of households that a page, export or task uses; all start from visible_to()."""

import datetime as dt
from typing import Any

from .models import Household, HouseholdQuerySet


def household_list(
    *, user: Any, year: int | None = None, today: dt.date | None = None
) -> HouseholdQuerySet:
    """Households in scope with their village, township, status and every risk flag."""
    return (
        Household.objects.visible_to(user)
        .select_related("village", "village__township", "status")
        .with_risk(year=year, today=today)
    )
