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
