"""Every read of the roster that a page, export or task uses; all start from visible_to()."""

from typing import Any

from django.contrib.postgres.expressions import ArraySubquery
from django.db.models import Exists, OuterRef, QuerySet

from villages.models import Village

from .models import (
    Assignment,
    AssignmentQuerySet,
    Attendance,
    AttendanceQuerySet,
    Cadre,
    CadreQuerySet,
    DispatchingUnit,
    DispatchingUnitQuerySet,
    LeaveQuerySet,
    LeaveRequest,
    TeamUnit,
    WorkTeam,
    WorkTeamQuerySet,
)


def unit_list(*, user: Any) -> DispatchingUnitQuerySet:
    return DispatchingUnit.objects.visible_to(user).select_related("region")


def team_list(*, user: Any, with_warnings: bool = True) -> WorkTeamQuerySet:
    """Teams with the ids of their joint units (`joint_unit_ids`) and, unless asked not to,
    the derived warnings."""
    qs = (
        WorkTeam.objects.visible_to(user)
        .select_related("village", "village__township", "lead_unit")
        .annotate(
            joint_unit_ids=ArraySubquery(
                TeamUnit.objects.filter(team=OuterRef("pk")).order_by("unit_id").values("unit_id")
            )
        )
    )
    return qs.with_warnings() if with_warnings else qs


def cadre_list(*, user: Any, with_warnings: bool = True) -> CadreQuerySet:
    qs = Cadre.objects.visible_to(user).select_related("unit")
    return qs.with_warnings() if with_warnings else qs


def assignment_list(*, user: Any, with_warnings: bool = True) -> AssignmentQuerySet:
    qs = Assignment.objects.visible_to(user).select_related(
        "cadre", "team", "team__village", "team__village__township"
    )
    return qs.with_warnings() if with_warnings else qs


def attendance_list(*, user: Any) -> AttendanceQuerySet:
    return Attendance.objects.visible_to(user).select_related("cadre", "team")


def leave_list(*, user: Any) -> LeaveQuerySet:
    return LeaveRequest.objects.visible_to(user).select_related("cadre", "team")


def village_list_with_roster(*, user: Any) -> QuerySet[Village]:
    """Villages with the roster warnings: no active team, no active first secretary."""
    active_team = WorkTeam.objects.filter(village=OuterRef("pk"), status="active")
    return (
        Village.objects.visible_to(user)
        .select_related("township")
        .annotate(
            has_active_team=Exists(active_team),
            has_first_secretary=Exists(
                Assignment.objects.filter(
                    team__village=OuterRef("pk"),
                    team__status="active",
                    status="active",
                    is_first_secretary=True,
                )
            ),
        )
    )
