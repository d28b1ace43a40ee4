"""Every read of households that a page, export or task uses; all start from visible_to()."""

import datetime as dt
from typing import Any

from .models import Household, HouseholdQuerySet


def household_list(
    *, user: Any, year: int | None = None, today: dt.date | None = None, with_risk: bool = True
) -> HouseholdQuerySet:
    """Households in scope with their village, township, status and every risk flag."""
    qs = Household.objects.visible_to(user).select_related("village", "village__township", "status")
    return qs.with_risk(year=year, today=today) if with_risk else qs


def household_flags(
    *, ids: list[int], year: int | None = None, today: dt.date | None = None
) -> dict[int, dict]:
    """The risk flags and income figures of a page of households, in one query.

    Asked for the few rows of a page by id, PostgreSQL probes the indexes row by row instead
    of hashing whole tables, which keeps a page fast at province scale.
    """
    fields = (*HouseholdQuerySet.RISK_FLAGS, *HouseholdQuerySet.INCOME_FIELDS, "is_monitored")
    rows = (
        Household.objects.filter(pk__in=ids).with_risk(year=year, today=today).values("pk", *fields)
    )
    return {row.pop("pk"): row for row in rows}
