"""The custom user: a role (what one may do) and a region (which rows one may see)."""

import pghistory
from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
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
