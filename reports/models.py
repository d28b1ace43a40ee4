"""What the county publishes and hands on: red/black-list circulars and export jobs."""

import datetime as dt
import uuid

import pghistory
import pgtrigger
from django.conf import settings
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from common.models import BaseModel, ScopedQuerySet
from common.sync import sync_index, sync_stamp_field, sync_triggers, touch_triggers
from teams.models import WorkTeam
from villages.models import Region

from .exports.layouts import PROFILE_CHOICES
from .imports.layouts import LAYOUT_CHOICES

# --- circulars ----------------------------------------------------------------------------


class CircularRuleQuerySet(ScopedQuerySet):
    """Rules of the user's region, of the regions below it and of the regions above it."""

    scope_path = "region__code"

    def scope_q(self, prefix: str) -> Q:
        return Q(region__code__startswith=prefix) | Q(
            prefix__in=[prefix[:n] for n in (2, 4, 6, 9) if n < len(prefix)]
        )

    def for_code(self, code: str) -> "CircularRuleQuerySet":
        """Rules that apply to a county code: its own and those of the regions above."""
        return self.filter(prefix__in=[code[:n] for n in (2, 4, 6)])


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class CircularRule(BaseModel):
    """How a region runs its red/black-list circulars (红黑榜通报), from a date on. For a
    county and a month the rule of the most specific region wins, then the latest date.

    Red: up to `red_count` teams from the upper half of the ranking, best first; black: the
    last `black_count` places (of the lower half) and, when `serious_forces_black`, every team
    with a serious finding (严重/重大) in the month, which also bars it from red when
    `serious_bars_red`. The issuing office, the number prefix and the consequence texts are
    the county's own words (domain.md §0, §1)."""

    region = models.ForeignKey(
        Region, verbose_name=_("区划"), on_delete=models.PROTECT, related_name="circular_rules"
    )
    prefix = models.CharField(_("区划前缀"), max_length=12, editable=False)
    effective_from = models.DateField(_("生效日期"))
    name = models.CharField(_("规则名称"), max_length=64)
    red_count = models.PositiveSmallIntegerField(
        _("红榜名额"), help_text=_("每月最多列入红榜的工作队数。")
    )
    black_count = models.PositiveSmallIntegerField(
        _("黑榜名额（按排名）"), help_text=_("排名最后几名列入黑榜（另加有严重问题的工作队）。")
    )
    serious_bars_red = models.BooleanField(_("当月有严重问题不得列入红榜"), default=True)
    serious_forces_black = models.BooleanField(_("当月有严重问题列入黑榜"), default=True)
    issuer = models.CharField(
        _("发文机关"), max_length=64, help_text=_("例如：清徐县驻村工作领导小组办公室")
    )
    number_prefix = models.CharField(
        _("发文字号前缀"), max_length=16, help_text=_("例如：清驻组，编号为 清驻组〔2026〕5号")
    )
    recipients = models.CharField(
        _("主送机关"),
        max_length=200,
        blank=True,
        help_text=_("例如：各乡镇党委、政府，县直各派出单位："),
    )
    red_consequence = models.TextField(
        _("红榜后果"), help_text=_("例如：年终考核加分，评先评优优先考虑。")
    )
    black_consequence = models.TextField(
        _("黑榜后果"), help_text=_("例如：年终考核扣分，约谈工作队长和派出单位分管负责人。")
    )
    title_template = models.CharField(
        _("标题模板"),
        max_length=128,
        blank=True,
        help_text=_("可用 {county} {year} {month}；留空则用默认标题。"),
    )
    body_template = models.TextField(
        _("导语模板"), blank=True, help_text=_("可用 {county} {year} {month}；留空则用默认导语。")
    )
    closing_template = models.TextField(
        _("结尾要求模板"),
        blank=True,
        help_text=_("可用 {county} {year} {month}；留空则用默认结尾。"),
    )

    objects = CircularRuleQuerySet.as_manager()

    class Meta:
        verbose_name = _("红黑榜通报规则")
        verbose_name_plural = _("红黑榜通报规则")
        ordering = ["prefix", "-effective_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["region", "effective_from"],
                name="circular_rule_unique_date",
                violation_error_message=_("该区划在同一生效日期已有通报规则。"),
            ),
            models.CheckConstraint(
                condition=Q(red_count__gt=0) | Q(black_count__gt=0),
                name="circular_rule_some_list",
                violation_error_message=_("红榜和黑榜名额不能都为0。"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.region} {self.name}（{self.effective_from:%Y-%m-%d}起）"


class CircularStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    PUBLISHED = "published", _("已发布")
    SUPERSEDED = "superseded", _("已更正")


class CircularQuerySet(ScopedQuerySet):
    """A circular is seen in its county (and above), drafts included; once published, also
    by the regions of the teams it names (a township, a team's village)."""

    scope_path = "county__code"

    def scope_q(self, prefix: str) -> Q:
        return Q(county__code__startswith=prefix) | (
            ~Q(status=CircularStatus.DRAFT)
            & Exists(
                CircularEntry.objects.filter(
                    circular=OuterRef("pk"), team__village__code__startswith=prefix
                )
            )
        )


class PublishedChange(pgtrigger.Condition):
    """The database's own guard: any change of a circular that is no longer a draft, except
    the one allowed move — a published circular marked superseded by its correction, with
    every other column (but the change time) unchanged. The sync stamp is the database's
    own bookkeeping, set by the stamp trigger on every write (common.sync) before this
    condition is evaluated: it is not compared, so the allowed move stays allowed and is
    served again by the feed."""

    marking = ("status", "superseded_at", "updated_at")
    kept_by_database = ("sync_xid",)
    sql = "computed from the model's columns"  # see resolve()

    def resolve(self, model: type[models.Model]) -> str:
        skipped = {*self.marking, *self.kept_by_database}
        columns = [f.column for f in model._meta.concrete_fields if f.name not in skipped]
        old = ", ".join(f'OLD."{c}"' for c in columns)
        new = ", ".join(f'NEW."{c}"' for c in columns)
        return (
            "OLD.\"status\" <> 'draft' AND NOT ("
            "OLD.\"status\" = 'published' AND NEW.\"status\" = 'superseded'"
            ' AND NEW."superseded_at" IS NOT NULL'
            f" AND ROW({old}) IS NOT DISTINCT FROM ROW({new}))"
        )


class Frozen(pgtrigger.Protect):
    """Refuse the row operation with a restrict violation (an IntegrityError in Django)."""

    def get_func(self, model):
        return self.format_sql(
            """
            RAISE EXCEPTION 'reports: circular % is % and cannot be changed (%)',
                OLD."id", OLD."status", TG_OP USING ERRCODE = 'restrict_violation';
            """
        )


@pghistory.track(
    pghistory.InsertEvent(),
    pghistory.UpdateEvent(),
    pghistory.DeleteEvent(),
    model_name="CircularAudit",  # CircularEvent is the circular's own lifecycle model
    exclude=["sync_xid"],
)
class Circular(BaseModel):
    """A red/black-list circular (红黑榜通报) of a county for a month. A draft is built from
    the stored ranking and findings and worded by staff; publishing assigns the number
    (`清驻组〔2026〕5号`: serial per prefix and year) and freezes it and its entries — in the
    services, the admin and the database. A correction is a new circular that supersedes it."""

    county = models.ForeignKey(
        Region, verbose_name=_("县"), on_delete=models.PROTECT, related_name="circulars"
    )
    period = models.DateField(_("月份"))
    rule = models.ForeignKey(
        CircularRule, verbose_name=_("通报规则"), on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(
        _("状态"), max_length=16, choices=CircularStatus.choices, default=CircularStatus.DRAFT
    )
    title = models.CharField(_("标题"), max_length=200)
    recipients = models.CharField(_("主送机关"), max_length=200, blank=True)
    body = models.TextField(_("导语"))
    closing = models.TextField(_("结尾要求"), blank=True)
    issuer = models.CharField(_("发文机关"), max_length=64)
    number_prefix = models.CharField(_("发文字号前缀"), max_length=16)
    year = models.PositiveSmallIntegerField(_("年份"), null=True, blank=True)
    serial = models.PositiveIntegerField(_("序号"), null=True, blank=True)
    number = models.CharField(_("发文字号"), max_length=40, blank=True)
    published_on = models.DateField(_("成文日期"), null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("发布人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    supersedes = models.ForeignKey(
        "self",
        verbose_name=_("更正的通报"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="corrections",
    )
    correction_reason = models.TextField(_("更正说明"), blank=True)
    superseded_at = models.DateTimeField(_("被更正时间"), null=True, blank=True)
    built_at = models.DateTimeField(_("生成时间"), null=True, blank=True)
    revision = models.PositiveIntegerField(
        _("修改次数"),
        default=0,
        editable=False,
        help_text=_("每次修改草稿（含名单、重新生成）加一。"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("生成人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    sync_xid = sync_stamp_field()

    objects = CircularQuerySet.as_manager()

    class Meta:
        verbose_name = _("红黑榜通报")
        verbose_name_plural = _("红黑榜通报")
        ordering = ["-period", "county__code", "-id"]
        permissions = [("publish_circular", _("发布红黑榜通报及更正"))]
        indexes = [
            models.Index(fields=["county", "period"], name="circular_county_period"),
            sync_index("circular"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["county", "period"],
                condition=Q(status="draft"),
                name="circular_one_draft",
                violation_error_message=_("该县该月已有通报草稿。"),
            ),
            models.UniqueConstraint(
                fields=["county", "period"],
                condition=Q(status="published"),
                name="circular_one_published",
                violation_error_message=_("该县该月已有发布的通报，请对其发布更正。"),
            ),
            models.UniqueConstraint(
                fields=["number"], condition=~Q(number=""), name="circular_number_unique"
            ),
            models.UniqueConstraint(
                fields=["number_prefix", "year", "serial"],
                condition=Q(serial__isnull=False),
                name="circular_serial_unique",
            ),
            models.CheckConstraint(condition=Q(period__day=1), name="circular_period_first_day"),
            models.CheckConstraint(
                condition=(Q(status="draft") & Q(number="") & Q(serial__isnull=True))
                | (
                    ~Q(status="draft")
                    & ~Q(number="")
                    & Q(serial__isnull=False)
                    & Q(year__isnull=False)
                    & Q(published_on__isnull=False)
                ),
                name="circular_numbered_when_published",
            ),
            models.CheckConstraint(
                condition=Q(status="superseded") | Q(superseded_at__isnull=True),
                name="circular_superseded_at",
            ),
        ]
        triggers = [
            Frozen(
                name="circular_published_frozen",
                operation=pgtrigger.Update,
                condition=PublishedChange(),
            ),
            Frozen(
                name="circular_published_kept",
                operation=pgtrigger.Delete,
                condition=pgtrigger.Q(old__status__in=["published", "superseded"]),
            ),
            *sync_triggers(CircularQuerySet.scope_path),
        ]

    def __str__(self) -> str:
        return self.number or _("%(county)s %(period)s 通报草稿") % {
            "county": self.county.name if self.county_id else "",
            "period": f"{self.period:%Y-%m}" if self.period else "",
        }

    @property
    def is_draft(self) -> bool:
        return self.status == CircularStatus.DRAFT

    @property
    def period_label(self) -> str:
        return _("%(year)d年%(month)d月") % {"year": self.period.year, "month": self.period.month}


class EntryKind(models.TextChoices):
    RED = "red", _("红榜")
    BLACK = "black", _("黑榜")


class CircularEntryQuerySet(ScopedQuerySet):
    """Seen with its circular (see CircularQuerySet)."""

    def scope_q(self, prefix: str) -> Q:
        return Q(circular__county__code__startswith=prefix) | (
            ~Q(circular__status=CircularStatus.DRAFT)
            & Exists(
                CircularEntry.objects.filter(
                    circular=OuterRef("circular"), team__village__code__startswith=prefix
                )
            )
        )


class EntryFrozen(pgtrigger.Trigger):
    """The entries of a circular that is no longer a draft are frozen: no insert, update or
    delete. The parent's status is read under a share lock, so an edit racing a publish waits
    for it and then sees the circular published."""

    when = pgtrigger.Before
    operation = pgtrigger.Insert | pgtrigger.Update | pgtrigger.Delete
    declare = [("parent_status", "varchar")]
    func = pgtrigger.Func(
        """
        IF TG_OP <> 'INSERT' THEN
            SELECT "status" INTO parent_status FROM "reports_circular"
                WHERE "id" = OLD."circular_id" FOR SHARE;
            IF parent_status <> 'draft' THEN
                RAISE EXCEPTION 'reports: the entries of circular % are frozen (%)',
                    OLD."circular_id", parent_status USING ERRCODE = 'restrict_violation';
            END IF;
        END IF;
        IF TG_OP = 'DELETE' THEN
            RETURN OLD;
        END IF;
        SELECT "status" INTO parent_status FROM "reports_circular"
            WHERE "id" = NEW."circular_id" FOR SHARE;
        IF parent_status <> 'draft' THEN
            RAISE EXCEPTION 'reports: the entries of circular % are frozen (%)',
                NEW."circular_id", parent_status USING ERRCODE = 'restrict_violation';
        END IF;
        RETURN NEW;
        """
    )


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class CircularEntry(BaseModel):
    """A team on the red or black list, with what the ranking said (quoted, not linked: a
    recomputed ranking never changes a circular), the serious findings that put it there,
    the facts and consequence as worded, and its place in the list."""

    circular = models.ForeignKey(
        Circular, verbose_name=_("通报"), on_delete=models.CASCADE, related_name="entries"
    )
    kind = models.CharField(_("榜单"), max_length=8, choices=EntryKind.choices)
    order = models.PositiveSmallIntegerField(_("序号"))
    team = models.ForeignKey(
        WorkTeam, verbose_name=_("工作队"), on_delete=models.PROTECT, related_name="+"
    )
    team_name = models.CharField(_("工作队"), max_length=128)
    village_name = models.CharField(_("村"), max_length=64)
    township_name = models.CharField(_("乡镇"), max_length=64)
    unit_name = models.CharField(_("派出单位"), max_length=128)
    rank = models.PositiveSmallIntegerField(_("县内排名"))
    of = models.PositiveSmallIntegerField(_("参评队数"))
    score = models.DecimalField(_("得分"), max_digits=7, decimal_places=2)
    metrics = models.JSONField(_("排名指标"), default=dict, blank=True)
    findings = models.JSONField(_("严重问题"), default=list, blank=True)
    by_rank = models.BooleanField(_("因排名列入"), default=False)
    by_finding = models.BooleanField(_("因严重问题列入"), default=False)
    facts = models.TextField(_("列入事实"))
    consequence = models.TextField(_("相应后果"))

    objects = CircularEntryQuerySet.as_manager()

    class Meta:
        verbose_name = _("通报名单")
        verbose_name_plural = _("通报名单")
        ordering = ["circular", "kind", "order"]
        constraints = [
            models.UniqueConstraint(fields=["circular", "team"], name="circular_entry_team"),
            models.UniqueConstraint(
                fields=["circular", "kind", "order"], name="circular_entry_order"
            ),
            models.CheckConstraint(
                condition=Q(by_rank=True) | Q(by_finding=True), name="circular_entry_grounds"
            ),
        ]
        # The circular lists its entries (API): a changed entry serves the circular again.
        # Entries of a published circular never change (EntryFrozen refuses first).
        triggers = [
            EntryFrozen(name="circular_entry_frozen"),
            *touch_triggers("circular", update=True),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.order}. {self.team_name}"


class CircularEvent(models.Model):
    """A step of a circular: built, rebuilt, published, superseded, a correction drafted."""

    class Action(models.TextChoices):
        BUILT = "built", _("生成草稿")
        REBUILT = "rebuilt", _("重新生成")
        PUBLISHED = "published", _("发布")
        SUPERSEDED = "superseded", _("被更正")
        CORRECTION = "correction", _("起草更正")

    circular = models.ForeignKey(Circular, on_delete=models.CASCADE, related_name="steps")
    action = models.CharField(_("办理事项"), max_length=16, choices=Action.choices)
    old = models.CharField(_("原状态"), max_length=16, choices=CircularStatus.choices, blank=True)
    new = models.CharField(_("新状态"), max_length=16, choices=CircularStatus.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("办理人"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    note = models.TextField(_("说明"), blank=True)
    created_at = models.DateTimeField(_("时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("通报办理记录")
        verbose_name_plural = _("通报办理记录")
        ordering = ["circular", "created_at", "id"]

    def __str__(self) -> str:
        return f"{self.circular_id}: {self.action}"


class CircularSerial(models.Model):
    """The last serial given out per number prefix and year. Publishing takes the next one
    in a single upsert that holds the row until commit, so two publishes never share a
    number and a rolled-back publish leaves no gap."""

    number_prefix = models.CharField(_("发文字号前缀"), max_length=16)
    year = models.PositiveSmallIntegerField(_("年份"))
    last = models.PositiveIntegerField(_("已用序号"))

    class Meta:
        verbose_name = _("发文序号")
        verbose_name_plural = _("发文序号")
        constraints = [
            models.UniqueConstraint(fields=["number_prefix", "year"], name="circular_serial_key")
        ]

    def __str__(self) -> str:
        return f"{self.number_prefix}〔{self.year}〕{self.last}"


class CircularRunStatus(models.TextChoices):
    PENDING = "pending", _("排队中")
    RUNNING = "running", _("生成中")
    SUCCEEDED = "succeeded", _("已完成")
    FAILED = "failed", _("失败")


class CircularRunQuerySet(ScopedQuerySet):
    scope_path = "county__code"


class CircularRun(BaseModel):
    """One request to build a county's draft circular for a month: a job row the Celery task
    claims with `UPDATE … WHERE status='pending'`."""

    county = models.ForeignKey(
        Region, verbose_name=_("县"), on_delete=models.PROTECT, related_name="circular_runs"
    )
    period = models.DateField(_("月份"))
    status = models.CharField(
        _("状态"),
        max_length=16,
        choices=CircularRunStatus.choices,
        default=CircularRunStatus.PENDING,
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("发起人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    circular = models.ForeignKey(
        Circular,
        verbose_name=_("通报"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    error = models.TextField(_("错误"), blank=True)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)

    objects = CircularRunQuerySet.as_manager()

    class Meta:
        verbose_name = _("通报生成")
        verbose_name_plural = _("通报生成")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["county", "period"],
                condition=Q(status__in=["pending", "running"]),
                name="circular_run_one_active",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.county} {self.period:%Y-%m}"


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


# --- imports ---
# (Excel imports, issue 7: the job a Celery task runs, and the problems of its file.)


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
