"""Reads of import jobs; every one starts from visible_to(user)."""

from typing import Any

from django.db.models import QuerySet

from ..models import ImportJob, ImportProblem


def import_job_list(*, user: Any) -> QuerySet[ImportJob]:
    return ImportJob.objects.visible_to(user).select_related("requested_by", "confirmed_by")


def import_job_get(*, user: Any, pk: int) -> ImportJob:
    """The job, or ImportJob.DoesNotExist (a missing id and another region's id alike)."""
    return import_job_list(user=user).get(pk=pk)


def import_problem_list(*, user: Any, job: ImportJob) -> QuerySet[ImportProblem]:
    return ImportProblem.objects.visible_to(user).filter(job=job).order_by("sheet", "row", "id")
