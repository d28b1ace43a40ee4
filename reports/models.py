"""What the county publishes and hands on: red/black-list circulars and export jobs."""

# --- imports ---
# (Excel imports, issue 7: the job a Celery task runs, and the problems of its file.)

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from common.models import BaseModel, ScopedQuerySet
from villages.models import Region

from .imports.layouts import LAYOUT_CHOICES


class ImportJobStatus(models.TextChoices):
    PENDING = "pending", _("排队校验")
    CHECKING = "checking", _("校验中")
    INVALID = "invalid", _("有错误，未导入")
    READY = "ready", _("校验通过，待确认")
    CONFIRMED = "confirmed", _("排队导入")
    COMMITTING = "committing", _("导入中")
    DONE = "done", _("已导入")
    FAILED = "failed", _("失败")
    CANCELLED = "cancelled", _("已取消")


class ImportJobQuerySet(ScopedQuerySet):
    """A job belongs to the region of the user who uploaded it."""

    scope_path = "region__code"


def import_upload_path(job: "ImportJob", filename: str) -> str:
    # Our name, never the client's (that is kept in original_name).
    return f"imports/{job.token}.xlsx"


def import_report_path(job: "ImportJob", filename: str) -> str:
    return f"imports/{job.token}-problems.xlsx"


class ImportJob(BaseModel):
    """An Excel import: uploaded → checked (dry run) → confirmed → committed, all or nothing.

    The Celery tasks claim a job with UPDATE … WHERE status = 'pending' (the dry run) or
    'confirmed' (the commit), so a task delivered twice runs once.
    """

    layout = models.CharField(_("导入内容"), max_length=32, choices=LAYOUT_CHOICES)
    status = models.CharField(
        _("状态"), max_length=16, choices=ImportJobStatus.choices, default=ImportJobStatus.PENDING
    )
    region = models.ForeignKey(
        Region,
        verbose_name=_("所属区划"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("上传人的管辖区划：只有该区划内的人员能看到这次导入。"),
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("上传人"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("确认人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    token = models.UUIDField(_("文件标识"), default=uuid.uuid4, editable=False, unique=True)
    file = models.FileField(_("文件"), upload_to=import_upload_path, blank=True)
    original_name = models.CharField(_("文件名"), max_length=255)
    size = models.PositiveBigIntegerField(_("文件大小（字节）"), default=0)
    sha256 = models.CharField(_("文件摘要"), max_length=64, db_index=True)
    rows = models.PositiveIntegerField(_("数据行数"), default=0)
    problem_count = models.PositiveIntegerField(_("问题数"), default=0)
    bad_rows = models.PositiveIntegerField(_("有问题的行数"), default=0)
    counts = models.JSONField(_("新增、更新、未变"), default=dict, blank=True)
    sheets = models.JSONField(_("工作表"), default=dict, blank=True)
    report = models.FileField(_("问题清单"), upload_to=import_report_path, blank=True)
    error = models.TextField(_("错误"), blank=True)
    checked_at = models.DateTimeField(_("校验完成时间"), null=True, blank=True)
    confirmed_at = models.DateTimeField(_("确认时间"), null=True, blank=True)
    finished_at = models.DateTimeField(_("导入完成时间"), null=True, blank=True)

    objects = ImportJobQuerySet.as_manager()

    class Meta:
        verbose_name = _("Excel 导入")
        verbose_name_plural = _("Excel 导入")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "updated_at"], name="import_job_status")]

    def __str__(self) -> str:
        return f"{self.get_layout_display()} · {self.original_name}"

    @property
    def running(self) -> bool:
        return self.status in (
            ImportJobStatus.PENDING,
            ImportJobStatus.CHECKING,
            ImportJobStatus.CONFIRMED,
            ImportJobStatus.COMMITTING,
        )


class ImportProblemQuerySet(ScopedQuerySet):
    scope_path = "job__region__code"


class ImportProblem(models.Model):
    """A bad cell or row of an import's file: where, the value as shown (ID numbers and
    phones masked) and what is wrong, in Chinese."""

    job = models.ForeignKey(
        ImportJob, on_delete=models.CASCADE, related_name="problems", verbose_name=_("导入")
    )
    sheet = models.CharField(_("工作表"), max_length=64, blank=True)
    row = models.PositiveIntegerField(_("行号"), default=0)
    column = models.CharField(_("列"), max_length=128, blank=True)
    letters = models.CharField(_("列号"), max_length=4, blank=True)
    value = models.CharField(_("单元格内容"), max_length=200, blank=True)
    message = models.TextField(_("问题"))
    code = models.CharField(_("类别"), max_length=32, blank=True)

    objects = ImportProblemQuerySet.as_manager()

    class Meta:
        verbose_name = _("导入问题")
        verbose_name_plural = _("导入问题")
        ordering = ["job", "sheet", "row", "id"]
        indexes = [models.Index(fields=["job", "row"], name="import_problem_row")]

    def __str__(self) -> str:
        return f"{self.sheet} {self.row} {self.column}"
