"""Every read of households that a page, export or task uses; all start from visible_to()."""

import datetime as dt
from typing import Any

from django.db import models
from django.db.models import Count, Exists, F, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce

from .models import (
    Household,
    HouseholdQuerySet,
    IncomeRecord,
    Member,
    MemberQuerySet,
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


def member_list(*, user: Any) -> MemberQuerySet:
    """Members in scope (those who left their household included) with their household."""
    return Member.objects.visible_to(user).select_related("household")


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


def subquery_count(qs, field: str = "pk", distinct: bool = False) -> Coalesce:
    """A correlated COUNT subquery (0 when no row)."""
    return Coalesce(
        Subquery(
            qs.order_by()
            .annotate(_g=models.Value(1))
            .values("_g")
            .annotate(n=Count(field, distinct=distinct))
            .values("n"),
            output_field=models.IntegerField(),
        ),
        0,
    )


def visit_coverage(*, user: Any, today: dt.date, prefix: str = "") -> list[dict]:
    """Per village with an active team: households to visit, those visited this month, and
    遍访 — for each serving cadre, how many of them they visited this year (two queries).
    `today` closes the count: the report of a past month counts none of the later visits."""
    from teams.models import Assignment, AssignmentStatus
    from villages.models import Village

    month, year = month_start(today), today.replace(month=1, day=1)
    open_households = Household.objects.filter(village=OuterRef("pk"), status__is_closed=False)
    villages = list(
        Village.objects.visible_to(user)
        .filter(code__startswith=prefix, teams__status="active")
        .select_related("township")
        .annotate(
            targets=subquery_count(open_households),
            visited=subquery_count(
                VisitLog.objects.filter(
                    household__village=OuterRef("pk"),
                    household__status__is_closed=False,
                    visited_on__gte=month,
                    visited_on__lte=today,
                ),
                "household",
                distinct=True,
            ),
        )
        .order_by("code")
    )
    members = (
        Assignment.objects.visible_to(user)
        .filter(status=AssignmentStatus.ACTIVE, team__village__in=[v.pk for v in villages])
        .select_related("cadre")
        .annotate(
            team_village_id=F("team__village_id"),
            visited=subquery_count(
                VisitLog.objects.filter(
                    cadre=OuterRef("cadre"),
                    household__village=OuterRef("team__village"),
                    household__status__is_closed=False,
                    visited_on__gte=year,
                    visited_on__lte=today,
                ),
                "household",
                distinct=True,
            ),
        )
        .order_by("-is_leader", "-is_first_secretary", "cadre__name")
    )
    by_village: dict[int, list] = {}
    for m in members:
        by_village.setdefault(m.team_village_id, []).append(m)
    rows = []
    for v in villages:
        people = by_village.get(v.pk, [])
        rows.append(
            {
                "village": v,
                "targets": v.targets,
                "visited": v.visited,
                "members": [(m.cadre.name, m.role_label, m.visited) for m in people],
                "complete": sum(1 for m in people if v.targets and m.visited >= v.targets),
            }
        )
    return rows


# --- the provincial pull (households.apis) ------------------------------------------------


def income_list(*, user: Any):
    return IncomeRecord.objects.visible_to(user).select_related("household")


def monitoring_list(*, user: Any):
    from .models import Monitoring

    return Monitoring.objects.visible_to(user).select_related("household")


def measure_list(*, user: Any):
    from .models import Measure

    return Measure.objects.visible_to(user).select_related("household")


def pairing_list(*, user: Any):
    return Pairing.objects.visible_to(user).select_related("household", "cadre")


def visit_list(*, user: Any):
    """Visits with `has_photo` (the photo itself is not part of the pull)."""
    return (
        VisitLog.objects.visible_to(user)
        .select_related("household", "cadre")
        .annotate(
            has_photo=models.ExpressionWrapper(~Q(photo=""), output_field=models.BooleanField())
        )
    )
