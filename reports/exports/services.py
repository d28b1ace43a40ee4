"""Every write of the exports: request a job, run it, download its file, clean up.

For the API (one line each):
    job = export_job_request(user=request.user, profile=..., filters={...}, format="xlsx")
    job = export_job_get(user=request.user, job_id=pk)            # selectors; 404 if not theirs
    return export_job_download_response(user=request.user, job_id=pk)   # views
"""

import datetime as dt
import hashlib
import json
import logging
from dataclasses import dataclass
from typing import IO, Any

from celery.exceptions import SoftTimeLimitExceeded
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files import File
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from common.errors import ApplicationError, user_message
from reports.models import ExportJob, export_ttl

from .filters import clean_filters
from .layouts import LAYOUTS
from .selectors import export_job_get

logger = logging.getLogger(__name__)

EXPORT_PERMISSION = "reports.add_exportjob"
UNMASKED_PERMISSION = "reports.export_unmasked"
CONTENT_TYPES = {
    ExportJob.Format.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ExportJob.Format.CSV: "text/csv; charset=utf-8",
}


class ExportNotReadyError(ApplicationError):
    """The job has not produced a file (yet, or ever)."""


class ExportExpiredError(ApplicationError):
    """The file was kept for its time and is gone; export again."""


def fingerprint(*, profile: str, fmt: str, unmasked: bool, filters: dict[str, Any]) -> str:
    payload = json.dumps(
        {"profile": profile, "format": fmt, "unmasked": unmasked, "filters": filters},
        sort_keys=True,
        ensure_ascii=False,
    )
    return hashlib.sha256(payload.encode()).hexdigest()


def may_export_unmasked(user: Any) -> bool:
    return bool(user and user.is_active and user.has_perm(UNMASKED_PERMISSION))


def export_job_request(
    *,
    user: Any,
    profile: str,
    filters: dict[str, Any] | None = None,
    format: str = ExportJob.Format.XLSX,
    unmasked: bool = False,
    reason: str = "",
) -> ExportJob:
    """Queue an export of the rows `user` may see (after commit) and return its job.

    The same request (requester, profile, filters, format, masking) while an identical job
    is pending or running returns that job. Full ID numbers and phones need the
    `reports.export_unmasked` permission and a stated purpose; the request is audited.
    """
    if user is None or not user.is_authenticated or not user.is_active:
        raise PermissionDenied(_("请先登录。"))
    if not user.has_perm(EXPORT_PERMISSION):
        raise PermissionDenied(_("您没有导出数据的权限。"))
    if not user.is_superuser and user.scope_prefix is None:
        raise ApplicationError(_("您没有管辖区划，不能导出数据。"))
    layout = LAYOUTS.get(profile)
    if layout is None:
        raise ValidationError({"profile": _("请选择导出内容。")})
    if format not in ExportJob.Format.values:
        raise ValidationError({"format": _("导出格式只能是 xlsx 或 csv。")})
    reason = (reason or "").strip()
    if unmasked:
        if not may_export_unmasked(user):
            raise PermissionDenied(_("您的角色不能导出完整的证件号码和电话。"))
        if len(reason) < 4:
            raise ValidationError({"reason": _("导出完整证件号码和电话须说明用途（至少4个字）。")})
    else:
        reason = ""
    cleaned = clean_filters(layout.entity, dict(filters or {}), user=user)
    key = fingerprint(profile=profile, fmt=format, unmasked=unmasked, filters=cleaned)
    with transaction.atomic():
        existing = ExportJob.objects.active().filter(requested_by=user, fingerprint=key).first()
        if existing is not None:
            return existing
        job = ExportJob(
            requested_by=user,
            profile=profile,
            format=format,
            filters=cleaned,
            unmasked=unmasked,
            reason=reason,
            fingerprint=key,
        )
        # The partial unique constraint is left to the database (IntegrityError below): a
        # validation query here would turn a concurrent identical request into an error.
        job.full_clean(validate_constraints=False)
        try:
            with transaction.atomic():
                job.save()
        except IntegrityError:
            # The same request, a moment earlier, from another tab or client.
            return ExportJob.objects.active().get(requested_by=user, fingerprint=key)
    from reports.tasks import export_job_run_task

    transaction.on_commit(lambda: export_job_run_task.delay(job.pk))
    return job


def export_job_run(*, export_job_id: int) -> None:
    """Claim a pending job and export it; a second delivery of the task finds it claimed."""
    from .runner import run_export

    now = timezone.now()
    claimed = ExportJob.objects.filter(pk=export_job_id, status=ExportJob.Status.PENDING).update(
        status=ExportJob.Status.RUNNING, started_at=now, updated_at=now, progress=0
    )
    if not claimed:
        return
    job = ExportJob.objects.select_related("requested_by", "requested_by__region").get(
        pk=export_job_id
    )
    try:
        requester = job.requested_by
        if not requester.is_active:
            raise ApplicationError(_("导出人的账号已停用。"))
        if not requester.is_superuser and requester.scope_prefix is None:
            raise ApplicationError(_("导出人已没有管辖区划。"))
        result, tmp = run_export(job)
    except SoftTimeLimitExceeded:
        _fail(job, _("导出超时，请缩小范围后重新导出。"))
        return
    except (ApplicationError, ValidationError) as exc:
        _fail(job, user_message(exc))
        return
    except Exception:
        logger.exception("export job %s failed", export_job_id)
        _fail(job, _("导出失败，请稍后重试；如仍失败请联系系统管理员。"))
        raise
    try:
        _store(job, result, tmp)
    finally:
        tmp.close()


def _store(job: ExportJob, result, tmp: IO[bytes]) -> None:
    tmp.seek(0)
    job.file.save(f"export.{job.format}", File(tmp), save=False)
    now = timezone.now()
    updated = ExportJob.objects.filter(pk=job.pk, status=ExportJob.Status.RUNNING).update(
        status=ExportJob.Status.SUCCEEDED,
        file=job.file.name,
        file_name=download_name(job),
        file_size=result.size,
        row_count=result.rows,
        progress=result.rows,
        total=result.rows,
        sheets=result.sheets,
        finished_at=now,
        expires_at=now + export_ttl(),
        updated_at=now,
    )
    if not updated:  # failed meanwhile (housekeeping judged it dead): keep no orphan file
        job.file.storage.delete(job.file.name)


def _fail(job: ExportJob, message: str) -> None:
    now = timezone.now()
    ExportJob.objects.filter(pk=job.pk, status=ExportJob.Status.RUNNING).update(
        status=ExportJob.Status.FAILED, error=message, finished_at=now, updated_at=now
    )


def download_name(job: ExportJob) -> str:
    """`帮扶户名单（系统格式）-清徐县-20261118-0930.xlsx`"""
    user = job.requested_by
    place = user.region.name if getattr(user, "region", None) else _("全部")
    stamp = timezone.localtime(job.created_at or timezone.now()).strftime("%Y%m%d-%H%M")
    return f"{LAYOUTS[job.profile].title}-{place}-{stamp}.{job.format}"


@dataclass
class ExportFile:
    job: ExportJob
    name: str
    content_type: str
    size: int | None

    def open(self) -> IO[bytes]:
        return self.job.file.open("rb")


@transaction.atomic
def export_job_download(*, user: Any, job_id: int) -> ExportFile:
    """The file of a finished job, for its requester only (others: 404 like a missing id);
    refused once expired. Every download is recorded in the audit trail."""
    import pghistory

    job = export_job_get(user=user, job_id=job_id)
    if job.status in (ExportJob.Status.PENDING, ExportJob.Status.RUNNING):
        raise ExportNotReadyError(_("导出尚未完成，请稍候。"), extra={"status": job.status})
    if job.status == ExportJob.Status.FAILED:
        raise ExportNotReadyError(_("导出失败：%s") % job.error, extra={"status": job.status})
    if job.is_expired or job.file_deleted_at is not None or not job.file:
        raise ExportExpiredError(_("导出文件已过期，请重新导出。"), extra={"expired": True})
    pghistory.create_event(job, label="download")
    return ExportFile(
        job=job, name=job.file_name, content_type=CONTENT_TYPES[job.format], size=job.file_size
    )


def export_jobs_housekeeping(*, stale_after_seconds: int, requeue_after_seconds: int) -> dict:
    """Delete files past their expiry; fail jobs that a dead worker left running; queue
    again jobs whose message was lost (the claim makes a double delivery harmless)."""
    from reports.tasks import export_job_run_task

    now = timezone.now()
    deleted = 0
    expired = ExportJob.objects.filter(file_deleted_at__isnull=True, expires_at__lte=now).exclude(
        file=""
    )
    for job in expired.only("pk", "file").iterator(chunk_size=500):
        job.file.storage.delete(job.file.name)
        deleted += ExportJob.objects.filter(pk=job.pk).update(
            file="", file_deleted_at=now, updated_at=now
        )
    stale = ExportJob.objects.filter(
        status=ExportJob.Status.RUNNING,
        started_at__lt=now - dt.timedelta(seconds=stale_after_seconds),
    ).update(
        status=ExportJob.Status.FAILED,
        error=_("导出被中断（超时或服务重启），请重新导出。"),
        finished_at=now,
        updated_at=now,
    )
    lost = list(
        ExportJob.objects.filter(
            status=ExportJob.Status.PENDING,
            created_at__lt=now - dt.timedelta(seconds=requeue_after_seconds),
        ).values_list("pk", flat=True)[:1000]
    )
    for pk in lost:
        transaction.on_commit(lambda pk=pk: export_job_run_task.delay(pk))
    return {"files_deleted": deleted, "stale_failed": stale, "requeued": len(lost)}
