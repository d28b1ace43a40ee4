"""HTTP answers shared by the admin pages and the API: the download and the status."""

from typing import Any

from django.http import FileResponse, HttpRequest
from django.urls import reverse
from django.utils import timezone

from common.audit import audit_context, client_ip, request_source

from .selectors import export_job_get
from .services import export_job_download


def export_job_download_response(request: HttpRequest, job_id: Any) -> FileResponse:
    """The file as an attachment with its Chinese name, recorded in the audit trail with
    who and from where. Raises Http404 (not the requester's, or no such job), ExportNotReadyError
    or ExportExpiredError (ApplicationError: the caller shows the message)."""
    with audit_context(
        source=request_source(request.path),
        actor=request.user,
        ip=client_ip(request),
        url=request.path,
    ):
        export = export_job_download(user=request.user, job_id=job_id)
    response = FileResponse(
        export.open(), as_attachment=True, filename=export.name, content_type=export.content_type
    )
    # Personal data: never kept by a browser or proxy cache.
    response["Cache-Control"] = "private, no-store"
    return response


def export_job_status(*, user: Any, job_id: Any) -> dict[str, Any]:
    """What the progress page polls (and an API can return): status, progress, the link."""
    job = export_job_get(user=user, job_id=job_id)
    return {
        "id": job.pk,
        "status": job.status,
        "status_display": job.get_status_display(),
        "progress": job.progress,
        "total": job.total,
        "percent": job.percent,
        "row_count": job.row_count,
        "sheets": job.sheets,
        "error": job.error,
        "download_url": (
            reverse("admin:reports_exportjob_download", args=[job.pk])
            if job.is_downloadable
            else None
        ),
        "expires_at": timezone.localtime(job.expires_at).isoformat() if job.expires_at else None,
        "expired": job.status == job.Status.SUCCEEDED and not job.is_downloadable,
    }
