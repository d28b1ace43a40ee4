"""Every read of inspections, findings, rankings and escalations that an API, export or task
uses; all start from visible_to()."""

from typing import Any

from django.contrib.postgres.expressions import ArraySubquery
from django.db.models import OuterRef

from .models import (
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
