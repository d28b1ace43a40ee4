"""Every read of export jobs: a user's own jobs only (others answer 404 like a missing id)."""

from typing import Any

from django.http import Http404
from django.utils.translation import gettext as _

from reports.models import ExportJob, ExportJobQuerySet


def export_job_list(*, user: Any) -> ExportJobQuerySet:
    return ExportJob.objects.visible_to(user).order_by("-created_at", "-id")


def export_job_get(*, user: Any, job_id: Any) -> ExportJob:
    """The user's job with that id, or Http404 (a job of someone else is a missing id)."""
    try:
        pk = int(job_id)
    except (TypeError, ValueError):
        raise Http404(_("未找到。")) from None
    job = ExportJob.objects.visible_to(user).select_related("requested_by").filter(pk=pk).first()
    if job is None:
        raise Http404(_("未找到。"))
    return job
