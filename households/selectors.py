"""Every read of households that a page, export or task uses; all start from visible_to()."""

import datetime as dt
from typing import Any

from django.db import models
from django.db.models import Count, Exists, F, OuterRef, Q, Subquery

from .models import (
    Household,
    HouseholdQuerySet,
    IncomeRecord,
    Pairing,
    VisitLog,
    last_month_start,
)


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


# --- the workbench -------------------------------------------------------------------------


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def work_households(*, user: Any, village_id: int) -> HouseholdQuerySet:
    """The households a team visits: every household of its village that is not closed
    (脱贫户 including 监测户, and any still poor)."""
    return (
        Household.objects.visible_to(user)
        .filter(village_id=village_id)
        .exclude(status__is_closed=True)
    )


def work_household_list(
    *, user: Any, village_id: int, cadre_id: int, today: dt.date
) -> HouseholdQuerySet:
    """Households with: visited this month (by anyone), mine (paired with me), last visit."""
    visits = VisitLog.objects.filter(household=OuterRef("pk"))
    return work_households(user=user, village_id=village_id).annotate(
        visited_this_month=Exists(visits.filter(visited_on__gte=month_start(today))),
        mine=Exists(
            Pairing.objects.filter(household=OuterRef("pk"), cadre_id=cadre_id, end__isnull=True)
        ),
        last_visit=Subquery(
            visits.order_by("-visited_on").values("visited_on")[:1],
            output_field=models.DateField(),
        ),
    )


def due_visits(*, user: Any, village_id: int, cadre_id: int, today: dt.date) -> HouseholdQuerySet:
    """Households nobody has visited this month, mine first, then the longest unvisited."""
    return (
        work_household_list(user=user, village_id=village_id, cadre_id=cadre_id, today=today)
        .filter(visited_this_month=False)
        .order_by("-mine", F("last_visit").asc(nulls_first=True), "code")
    )


def coverage_of(*, user: Any, village_id: int, cadre_id: int, today: dt.date) -> dict[str, int]:
    """遍访: how many of the village's households I have visited this year; and how many
    anybody has visited this month (one query)."""
    visits = VisitLog.objects.filter(household=OuterRef("pk"))
    return (
        work_households(user=user, village_id=village_id)
        .annotate(
            mine_this_year=Exists(
                visits.filter(cadre_id=cadre_id, visited_on__gte=today.replace(month=1, day=1))
            ),
            this_month=Exists(visits.filter(visited_on__gte=month_start(today))),
        )
        .aggregate(
            total=Count("pk"),
            visited_by_me=Count("pk", filter=Q(mine_this_year=True)),
            visited_this_month=Count("pk", filter=Q(this_month=True)),
        )
    )


def missing_income(*, user: Any, village_id: int, cadre_id: int, today: dt.date):
    """My paired households with no income registered for last month."""
    return (
        work_households(user=user, village_id=village_id)
        .filter(
            Exists(
                Pairing.objects.filter(
                    household=OuterRef("pk"), cadre_id=cadre_id, end__isnull=True
                )
            )
        )
        .filter(
            ~Exists(
                IncomeRecord.objects.filter(household=OuterRef("pk"), month=last_month_start(today))
            )
        )
        .order_by("code")
    )
