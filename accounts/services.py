"""Every write to accounts."""

from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.db import transaction
from django.utils.translation import gettext as _

from common.errors import ApplicationError
from villages.models import Region

from .models import User
from .roles import GRANTABLE_ROLES, SYSTEM_ROLES


def _check_grant(actor: User | None, role: str, region: Region | None) -> None:
    if actor is None or actor.is_superuser:
        return
    if role not in GRANTABLE_ROLES.get(actor.role, set()):
        raise ApplicationError(_("您不能授予该角色。"), extra={"role": role})
    if role not in SYSTEM_ROLES:
        prefix = actor.scope_prefix
        if region is None or prefix is None or not region.code.startswith(prefix):
            raise ApplicationError(_("只能在本人管辖范围内分配区划。"))


@transaction.atomic
def user_create(
    *,
    username: str,
    password: str,
    role: str,
    region: Region | None = None,
    full_name: str = "",
    actor: User | None = None,
    is_superuser: bool = False,
) -> User:
    _check_grant(actor, role, region)
    if role in SYSTEM_ROLES:
        region = None  # 三员分立: the separated administrators see no business rows
    user = User(
        username=username.strip(),
        role=role,
        region=region,
        full_name=full_name.strip(),
        is_superuser=is_superuser,
    )
    user.sync_staff_flag()
    validate_password(password, user)
    user.set_password(password)
    user.full_clean(exclude=["password"])
    user.save()
    return user


USER_FIELDS = ("full_name", "role", "region", "is_active", "email")


@transaction.atomic
def user_update(*, user: User, actor: User | None = None, **changes: Any) -> User:
    unknown = set(changes) - set(USER_FIELDS)
    if unknown:
        raise ApplicationError(_("这些字段不能修改：%s") % ", ".join(sorted(unknown)))
    role = changes.get("role", user.role)
    region = changes.get("region", user.region)
    if "role" in changes or "region" in changes:
        _check_grant(actor, role, region)
    changed = [k for k, v in changes.items() if getattr(user, k) != v]
    for k in changed:
        setattr(user, k, changes[k])
    if changed:
        if user.role in SYSTEM_ROLES:
            user.region = None
        user.sync_staff_flag()
        user.full_clean(exclude=["password"])
        user.save()
    return user


@transaction.atomic
def user_set_password(*, user: User, password: str) -> User:
    validate_password(password, user)
    user.set_password(password)
    user.save(update_fields=["password"])
    return user
