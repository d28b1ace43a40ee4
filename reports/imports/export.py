"""The rows of an import layout from the database: what an export in that layout writes.

Values are what a person reads and an import reads back: codes as their labels, yes/no as
是/否, dates as dates, ID numbers and phones in full (this is for staff who may import them;
the exports of issue 6 decide masking by role). The reads start from visible_to(user).
"""

from collections.abc import Iterator
from typing import Any

from django.db.models import Prefetch
from django.utils import timezone

from households.models import Household, HouseholdStatus, HouseholdYear, Member, Monitoring
from teams.models import Assignment, AssignmentStatus, Cadre, DispatchingUnit

from .layouts import Column, Layout, choice_labels
from .workbooks import write_layout

CHUNK = 2000


def _value(column: Column, value: Any) -> Any:
    if column.kind in ("code", "role") and value is not None:
        return choice_labels(column).get(value, value)
    if column.kind == "codes":
        labels = choice_labels(column)
        return "、".join(labels.get(v, v) for v in value or [])
    return value


def household_rows(layout: Layout, user: Any) -> Iterator[list[Any]]:
    statuses = dict(HouseholdStatus.objects.values_list("code", "name"))
    today = timezone.localdate()
    ids = list(
        Household.objects.visible_to(user)
        .order_by("village__code", "code")
        .values_list("pk", flat=True)
    )
    number = 0
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        households = (
            Household.objects.filter(pk__in=chunk)
            .select_related("village", "village__township", "village__township__parent")
            .prefetch_related(
                Prefetch(
                    "members",
                    queryset=Member.objects.filter(left_on__isnull=True).order_by(
                        "-relation", "birth_date", "id"
                    ),
                )
            )
            .order_by("village__code", "code")
        )
        incomes = dict(
            HouseholdYear.objects.filter(household_id__in=chunk, year=today.year - 1).values_list(
                "household_id", "per_capita"
            )
        )
        monitoring = {
            m.household_id: m
            for m in Monitoring.objects.filter(household_id__in=chunk).order_by("identified_on")
        }
        for household in households:
            members = sorted(household.members.all(), key=lambda m: m.relation != "head")
            context = {
                "household": household,
                "village": household.village,
                "township": household.village.township,
                "county": household.village.township.parent,
                "statuses": statuses,
                "size": len(members),
                "per_capita": incomes.get(household.pk),
                "monitoring": monitoring.get(household.pk),
                "date": today,
            }
            for member in members:
                number += 1
                context["member"], context["number"] = member, number
                yield [_value(c, _household_source(c.source, context)) for c in layout.columns]


def _household_source(source: str, context: dict[str, Any]) -> Any:
    if not source:
        return None
    kind, _dot, name = source.partition(".")
    household = context["household"]
    if source == "row.number":
        return context["number"]
    if source == "row.date":
        return context["date"]
    if source == "household.status":
        return context["statuses"].get(household.status_id, household.status_id)
    if source == "household.size":
        return context["size"]
    if source == "household.danger":
        return household.housing_grade in ("C", "D")
    if source == "household.per_capita":
        return context["per_capita"]
    if kind == "monitoring":
        monitoring = context["monitoring"]
        if monitoring is None:
            return None
        return {
            "category": monitoring.get_category_display(),
            "eliminated": monitoring.status == Monitoring.Status.ELIMINATED,
            "identified_on": monitoring.identified_on,
            "eliminated_on": monitoring.eliminated_on,
        }[name]
    return getattr(context[kind], name)


def cadre_rows(layout: Layout, user: Any) -> Iterator[list[Any]]:
    cadres = (
        Cadre.objects.visible_to(user)
        .select_related("unit", "unit__region", "region")
        .prefetch_related(
            Prefetch(
                "assignments",
                queryset=Assignment.objects.filter(status=AssignmentStatus.ACTIVE).select_related(
                    "team__village"
                ),
                to_attr="active",
            )
        )
        .order_by("region__code", "name", "id")
    )
    for cadre in cadres.iterator(chunk_size=CHUNK):
        active = cadre.active[0] if cadre.active else None
        role = None
        if active is not None:
            role = {
                (True, True): "leader_secretary",
                (True, False): "leader",
                (False, True): "secretary",
                (False, False): "member",
            }[(active.is_leader, active.is_first_secretary)]
        values = {
            "unit.name": cadre.unit.name,
            "unit.region_code": cadre.unit.region.code,
            "cadre.region_code": cadre.region.code,
            "assignment.village_code": active.team.village.code if active else None,
            "assignment.village_name": active.team.village.name if active else None,
            "assignment.role": role,
            "assignment.start": active.start if active else None,
            "assignment.planned_end": active.planned_end if active else None,
        }
        yield [
            _value(c, values[c.source] if c.source in values else getattr(cadre, c.source[6:]))
            for c in layout.columns
        ]


def unit_rows(layout: Layout, user: Any) -> Iterator[list[Any]]:
    units = (
        DispatchingUnit.objects.visible_to(user)
        .select_related("region")
        .order_by("region__code", "name")
    )
    for unit in units.iterator(chunk_size=CHUNK):
        values = {"unit.region_code": unit.region.code, "unit.region_name": unit.region.name}
        yield [
            _value(c, values[c.source] if c.source in values else getattr(unit, c.source[5:]))
            for c in layout.columns
        ]


ROWS = {"households": household_rows, "cadres": cadre_rows, "units": unit_rows}


def export_layout(target, layout: Layout, user: Any) -> int:
    """Write everything in the user's scope in the layout; returns the number of rows."""
    return write_layout(target, layout, ROWS[layout.entity](layout, user))
