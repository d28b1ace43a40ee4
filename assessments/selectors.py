"""Every read of inspections, findings, rankings, escalations and yearly assessments that an
API, export or task uses; all start from visible_to()."""

from typing import Any

from django.contrib.postgres.expressions import ArraySubquery
from django.db.models import CharField, OuterRef
from django.db.models.functions import Cast, JSONObject

from .models import (
    Assessment,
    AssessmentQuerySet,
    AssessmentScore,
    AssessmentState,
    Escalation,
    EscalationQuerySet,
    Finding,
    FindingQuerySet,
    Inspection,
    InspectionQuerySet,
    MonthlyRanking,
    RankingQuerySet,
)


def inspection_list(*, user: Any) -> InspectionQuerySet:
    """Inspections with the ids of the villages they covered (`village_ids`)."""
    covered = Inspection.villages.through.objects.filter(inspection=OuterRef("pk"))
    return (
        Inspection.objects.visible_to(user)
        .select_related("region")
        .annotate(village_ids=ArraySubquery(covered.order_by("village_id").values("village_id")))
    )


def finding_list(*, user: Any) -> FindingQuerySet:
    return Finding.objects.visible_to(user).select_related("inspection", "village")


def ranking_list(*, user: Any) -> RankingQuerySet:
    return MonthlyRanking.objects.visible_to(user).select_related("county", "team")


def escalation_list(*, user: Any) -> EscalationQuerySet:
    return Escalation.objects.visible_to(user).select_related("county")


# What the provincial API serves of the yearly assessments: the finalized ones. A draft is
# filled and refilled from the data, scored and adjusted by the county, and may be removed; a
# submitted one may be returned to draft. Only a finalized assessment is the county's
# decision, and it never changes or disappears again (the database refuses), so a mirror
# never holds a grade that was not given or that it should drop.
PUBLIC_STATES = (AssessmentState.FINALIZED,)


def assessment_finalized_list(*, user: Any) -> AssessmentQuerySet:
    """Finalized assessments in scope, each with its indicator scores (`score_rows`, built as
    JSON rows in the same query)."""
    scores = (
        AssessmentScore.objects.filter(assessment=OuterRef("pk"))
        .order_by("id")
        .values(
            row=JSONObject(
                indicator="indicator",
                score=Cast("score", CharField()),
                source="source",
                basis="basis",
            )
        )
    )
    return (
        Assessment.objects.visible_to(user)
        .filter(state__in=PUBLIC_STATES)
        .annotate(score_rows=ArraySubquery(scores))
    )
