"""The abstract base model and the scoping QuerySet every business model builds on."""

from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _


class BaseModel(models.Model):
    """Creation and change times; `updated_at` is indexed for incremental sync."""

    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True, db_index=True)

    class Meta:
        abstract = True


def user_scope_prefix(user: Any) -> str | None:
    """'' for a superuser (everything), the region prefix for others, None for no scope."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    if user.is_superuser:
        return ""
    return getattr(user, "scope_prefix", None) or None


class ScopedQuerySet(models.QuerySet):
    """Rows inside a user's jurisdiction, by the prefix of a 12-digit region code.

    `scope_path` names the code this model's rows reach (for example `village__code`).
    """

    scope_path: str = "code"

    def visible_to(self, user: Any) -> "ScopedQuerySet":
        """Rows inside the user's jurisdiction; nothing for a user without one."""
        prefix = user_scope_prefix(user)
        if prefix is None:
            return self.none()
        if prefix == "":
            return self.all()
        return self.filter(self.scope_q(prefix))

    def scope_q(self, prefix: str) -> models.Q:
        return models.Q(**{f"{self.scope_path}__startswith": prefix})


class SubmissionKey(models.Model):
    """A client-generated key of a form submission, and the answer it got.

    The same submission sent again (a retry on a weak network, a double tap, a replayed
    request) finds its key and gets the first answer instead of creating a second row.
    """

    user = models.ForeignKey(
        "accounts.User", on_delete=models.CASCADE, related_name="+", verbose_name=_("用户")
    )
    key = models.UUIDField(_("提交标识"))
    kind = models.CharField(_("类型"), max_length=32)
    answer = models.CharField(_("结果地址"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("提交时间"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("提交标识")
        verbose_name_plural = _("提交标识")
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="submission_key_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.key}"


class TombstoneQuerySet(ScopedQuerySet):
    scope_path = "scope_code"


class Tombstone(models.Model):
    """A deleted row of a synced table, written by the table's trigger (common.sync).

    `scope_code` is the region code the row was scoped by when it was deleted, so a county
    sees only its own deletions (empty when it could not be found: superusers only);
    `sync_xid` orders the deletion feed like the data feeds.
    """

    model = models.CharField(_("数据表"), max_length=64)
    object_id = models.BigIntegerField(_("记录ID"))
    scope_code = models.CharField(_("区划代码"), max_length=12, blank=True)
    deleted_at = models.DateTimeField(_("删除时间"), db_index=True)
    sync_xid = models.BigIntegerField(editable=False)

    objects = TombstoneQuerySet.as_manager()

    class Meta:
        verbose_name = _("删除记录")
        verbose_name_plural = _("删除记录")
        indexes = [
            models.Index(fields=["sync_xid", "id"], name="tombstone_api_sync"),
            models.Index(
                fields=["scope_code"],
                name="tombstone_scope_like",
                opclasses=["varchar_pattern_ops"],
            ),
        ]

    def __str__(self) -> str:
        return f"{self.model} {self.object_id}"
