"""The custom user: a role (what one may do) and a region (which rows one may see); the
API tokens of machine clients and the log of every API pull."""

import pghistory
from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from common.models import ScopedQuerySet
from villages.models import Region

from .roles import STAFF_ROLES, Role


class UserQuerySet(ScopedQuerySet):
    scope_path = "region__code"


class ScopedUserManager(UserManager.from_queryset(UserQuerySet)):
    pass


@pghistory.track(
    pghistory.InsertEvent(),
    pghistory.UpdateEvent(),
    pghistory.DeleteEvent(),
    exclude=["password", "last_login"],
)
class User(AbstractUser):
    role = models.CharField(_("角色"), max_length=32, choices=Role.choices, blank=True)
    region = models.ForeignKey(
        Region,
        verbose_name=_("管辖区划"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="users",
        help_text=_("决定能看到哪些数据；工作队员为其在岗驻村所在村，由任职自动设置。"),
    )
    full_name = models.CharField(_("姓名"), max_length=64, blank=True)

    objects = ScopedUserManager()

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")
        indexes = [models.Index(fields=["role"], name="user_role")]
        permissions = [("reveal_personal_data", _("查看完整的身份证号和电话"))]

    def __str__(self) -> str:
        return self.full_name or self.username

    @property
    def scope_prefix(self) -> str | None:
        """The significant prefix of the user's region code, or None without a region."""
        if self.region_id is None:
            return None
        region = self.region
        return region.prefix

    @property
    def is_team_role(self) -> bool:
        return self.role in (Role.TEAM_LEADER, Role.TEAM_MEMBER)

    def sync_staff_flag(self) -> None:
        self.is_staff = self.is_superuser or self.role in STAFF_ROLES


@pghistory.track(
    pghistory.InsertEvent(),
    pghistory.UpdateEvent(),
    exclude=["key_hash", "last_used_at"],
)
class ApiToken(models.Model):
    """The credential of a machine client (a provincial system) for the read API.

    Only the SHA-256 of the key is stored; the key is shown once, when it is issued. `prefix`
    (the key's first characters) names the token in the admin and in the pull log. A revoked
    or expired token, or one whose account is no longer active or no longer of an API role,
    authenticates nobody.
    """

    user = models.ForeignKey(
        User, verbose_name=_("账号"), on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(_("用途"), max_length=64, help_text=_("如：省防返贫监测系统"))
    prefix = models.CharField(_("令牌前缀"), max_length=16, editable=False)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("签发时间"), auto_now_add=True)
    created_by = models.ForeignKey(
        User,
        verbose_name=_("签发人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    expires_at = models.DateTimeField(_("有效期至"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("最近使用"), null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(_("吊销时间"), null=True, blank=True, editable=False)
    revoked_by = models.ForeignKey(
        User,
        verbose_name=_("吊销人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )

    class Meta:
        verbose_name = _("接口令牌")
        verbose_name_plural = _("接口令牌")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name}（{self.prefix}…）"

    @property
    def is_usable(self) -> bool:
        return self.revoked_at is None and (
            self.expires_at is None or self.expires_at > timezone.now()
        )


class ApiPull(models.Model):
    """One answer of the read API to an authenticated caller: who, which resource, with
    which filters, how many rows, and whether (and why) full ID numbers and phones were
    revealed. Never the values themselves."""

    user = models.ForeignKey(
        User,
        verbose_name=_("账号"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    username = models.CharField(_("用户名"), max_length=150)
    token = models.ForeignKey(
        ApiToken,
        verbose_name=_("令牌"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="pulls",
    )
    resource = models.CharField(_("资源"), max_length=32)
    action = models.CharField(_("操作"), max_length=16)
    filters = models.JSONField(_("筛选条件"), default=dict, blank=True)
    continued = models.BooleanField(_("带游标续取"), default=False)
    rows = models.PositiveIntegerField(_("返回条数"), default=0)
    status = models.PositiveSmallIntegerField(_("状态码"))
    revealed = models.BooleanField(_("查看了完整个人信息"), default=False)
    reason = models.CharField(_("查看理由"), max_length=200, blank=True)
    ip = models.GenericIPAddressField(_("来源地址"), null=True, blank=True)
    duration_ms = models.PositiveIntegerField(_("耗时（毫秒）"), null=True, blank=True)
    created_at = models.DateTimeField(_("时间"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("接口调用记录")
        verbose_name_plural = _("接口调用记录")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["user", "created_at"], name="api_pull_user_time"),
            models.Index(
                fields=["created_at"],
                condition=models.Q(revealed=True),
                name="api_pull_revealed",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.username} {self.resource} {self.created_at:%Y-%m-%d %H:%M}"
