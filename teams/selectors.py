"""Every read of the roster that a page, export or task uses; all start from visible_to()."""

from typing import Any

from django.db.models import Exists, OuterRef, QuerySet

from villages.models import Village

from .models import Assignment, AssignmentQuerySet, Cadre, CadreQuerySet, WorkTeam, WorkTeamQuerySet


def team_list(*, user: Any) -> WorkTeamQuerySet:
    return (
        WorkTeam.objects.visible_to(user)
        .with_warnings()
        .select_related("village", "village__township", "lead_unit")
    )


def cadre_list(*, user: Any) -> CadreQuerySet:
    return Cadre.objects.visible_to(user).with_warnings().select_related("unit")


def assignment_list(*, user: Any) -> AssignmentQuerySet:
    return (
        Assignment.objects.visible_to(user)
        .with_warnings()
        .select_related("cadre", "team", "team__village", "team__village__township")
    )


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
