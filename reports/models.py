"""What the county publishes and hands on: red/black-list circulars and export jobs."""

import datetime as dt
import uuid

import pghistory
from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from common.models import BaseModel

from .exports.layouts import PROFILE_CHOICES

# --- exports ---


class ExportJobQuerySet(models.QuerySet):
    def visible_to(self, user) -> "ExportJobQuerySet":
        """A user's own export jobs, and nobody else's: the file holds rows of the requester's
        scope at the time, and its download is personal (others get 404 like a missing id)."""
        if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
            return self.none()
        return self.filter(requested_by=user)

    def active(self) -> "ExportJobQuerySet":
        return self.filter(status__in=[ExportJob.Status.PENDING, ExportJob.Status.RUNNING])


def export_file_path(instance: "ExportJob", filename: str) -> str:
    # A random name: the path never says whose or which rows, and cannot be guessed.
    ext = filename.rsplit(".", 1)[-1].lower()
    return f"exports/{timezone.localdate():%Y/%m}/{instance.pk}-{uuid.uuid4().hex}.{ext}"


@pghistory.track(
    pghistory.InsertEvent(),
    pghistory.ManualEvent("download"),
    fields=["profile", "format", "filters", "unmasked", "reason", "requested_by", "status"],
    model_name="ExportJobEvent",
)
class ExportJob(BaseModel):
    """One export of a list to .xlsx or .csv: a job row the Celery task claims.

    Asking again for an identical export (same requester, profile, filters, format and
    masking) while one is pending or running returns that one (the partial unique
    constraint makes it so under concurrent requests too). The file is the requester's only
    and is deleted by the housekeeping task after `expires_at`. Every request is recorded by
    the audit trail (who, from where, which rows, whether full ID numbers and phones), and
    every download too.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("排队中")
        RUNNING = "running", _("导出中")
        SUCCEEDED = "succeeded", _("已完成")
        FAILED = "failed", _("失败")

    class Format(models.TextChoices):
        XLSX = "xlsx", _("Excel（.xlsx）")
        CSV = "csv", _("CSV（.csv，UTF-8）")

    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("导出人"),
        on_delete=models.PROTECT,
        related_name="export_jobs",
    )
    profile = models.CharField(_("导出内容"), max_length=32, choices=PROFILE_CHOICES)
    format = models.CharField(_("格式"), max_length=8, choices=Format.choices, default=Format.XLSX)
    filters = models.JSONField(_("筛选条件"), default=dict, blank=True)
    unmasked = models.BooleanField(_("含完整证件号码和电话"), default=False)
    reason = models.CharField(_("用途说明"), max_length=200, blank=True)
    fingerprint = models.CharField(_("请求指纹"), max_length=64, editable=False)
    status = models.CharField(
        _("状态"), max_length=16, choices=Status.choices, default=Status.PENDING
    )
    total = models.PositiveIntegerField(_("预计行数"), null=True, blank=True)
    progress = models.PositiveIntegerField(_("已写行数"), default=0)
    row_count = models.PositiveIntegerField(_("行数"), null=True, blank=True)
    sheets = models.PositiveSmallIntegerField(_("工作表数"), null=True, blank=True)
    file = models.FileField(_("文件"), upload_to=export_file_path, blank=True, max_length=200)
    file_name = models.CharField(_("文件名"), max_length=200, blank=True)
    file_size = models.PositiveBigIntegerField(_("文件大小（字节）"), null=True, blank=True)
    started_at = models.DateTimeField(_("开始时间"), null=True, blank=True)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    expires_at = models.DateTimeField(_("文件过期时间"), null=True, blank=True)
    file_deleted_at = models.DateTimeField(_("文件删除时间"), null=True, blank=True)
    error = models.TextField(_("错误"), blank=True)

    objects = ExportJobQuerySet.as_manager()

    class Meta:
        verbose_name = _("导出任务")
        verbose_name_plural = _("导出任务")
        ordering = ["-created_at", "-id"]
        permissions = [
            ("export_unmasked", _("导出完整证件号码和电话（须说明用途，留痕）")),
        ]
        indexes = [
            models.Index(fields=["requested_by", "-created_at"], name="export_job_requester"),
            models.Index(
                fields=["expires_at"],
                condition=Q(file_deleted_at__isnull=True) & ~Q(file=""),
                name="export_job_files_to_expire",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["requested_by", "fingerprint"],
                condition=Q(status__in=["pending", "running"]),
                name="export_job_one_active_per_request",
            ),
            models.CheckConstraint(
                condition=Q(unmasked=False) | ~Q(reason=""),
                name="export_job_unmasked_has_reason",
                violation_error_message=_("导出完整证件号码和电话须说明用途。"),
            ),
            models.CheckConstraint(
                condition=~Q(status="succeeded") | Q(row_count__isnull=False),
                name="export_job_succeeded_has_rows",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_profile_display()} #{self.pk}"

    @property
    def is_active(self) -> bool:
        return self.status in (self.Status.PENDING, self.Status.RUNNING)

    @property
    def is_expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= timezone.now()

    @property
    def is_downloadable(self) -> bool:
        return (
            self.status == self.Status.SUCCEEDED
            and bool(self.file)
            and self.file_deleted_at is None
            and not self.is_expired
        )

    @property
    def percent(self) -> int:
        if self.status == self.Status.SUCCEEDED:
            return 100
        if not self.total:
            return 0
        return min(99, self.progress * 100 // self.total)


def export_ttl() -> dt.timedelta:
    return dt.timedelta(hours=settings.ZHUCUN_EXPORT_TTL_HOURS)
