"""Every write to accounts."""

import datetime as dt
import hashlib
import secrets
from typing import Any

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from common.errors import ApplicationError
from villages.models import Region

from .models import ApiPull, ApiToken, User
from .roles import API_TOKEN_ROLES, GRANTABLE_ROLES, SYSTEM_ROLES


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


# --- API tokens and the pull log ------------------------------------------------------------

TOKEN_TOUCH_SECONDS = 60


@transaction.atomic
def api_token_issue(
    *, user: User, name: str, actor: User | None, expires_at: dt.datetime | None = None
) -> tuple[ApiToken, str]:
    """Issue a token for a machine client's account. Returns the token and its key, which is
    shown once and never stored."""
    name = (name or "").strip()
    if user.role not in API_TOKEN_ROLES or not user.is_active:
        raise ApplicationError(_("只能为在用的省级接口账号签发令牌。"), extra={"role": user.role})
    if expires_at is not None and expires_at <= timezone.now():
        raise ApplicationError(_("有效期应晚于现在。"))
    key = "zc_" + secrets.token_urlsafe(32)
    token = ApiToken(
        user=user,
        name=name,
        prefix=key[:11],
        key_hash=hashlib.sha256(key.encode()).hexdigest(),
        created_by=actor if actor is not None and actor.pk else None,
        expires_at=expires_at,
    )
    token.full_clean(exclude=["key_hash", "prefix"])
    token.save()
    return token, key


@transaction.atomic
def api_token_revoke(*, token: ApiToken, actor: User | None) -> ApiToken:
    """Revoke a token at once. Revoking twice changes nothing."""
    token = ApiToken.objects.select_for_update().get(pk=token.pk)
    if token.revoked_at is not None:
        return token
    token.revoked_at = timezone.now()
    token.revoked_by = actor if actor is not None and actor.pk else None
    token.save(update_fields=["revoked_at", "revoked_by"])
    return token


def api_token_touch(*, token: ApiToken) -> None:
    """Record that a token was used, at most once a minute (not a write per request)."""
    now = timezone.now()
    if token.last_used_at and (now - token.last_used_at).total_seconds() < TOKEN_TOUCH_SECONDS:
        return
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    token.last_used_at = now


LOGGED_FILTERS_MAX = 20


def api_pull_log(
    *,
    request,
    resource: str,
    action: str,
    status: int,
    rows: int,
    reveal_reason: str = "",
    duration_ms: int | None = None,
) -> ApiPull:
    """Log one answer of the read API (common.api's pull logger). The filters are the query
    parameters that select rows; the cursor is noted as "continued", never stored."""
    from common.api.pagination import NOT_FILTERS
    from common.audit import client_ip

    def clean(text: str, size: int = 200) -> str:
        return text.replace("\x00", "")[:size]  # NUL cannot be stored in PostgreSQL text

    params = request.query_params
    filters = {}
    for key in list(params)[:LOGGED_FILTERS_MAX]:
        if key in NOT_FILTERS:
            continue
        values = [clean(v) for v in params.getlist(key)[:LOGGED_FILTERS_MAX]]
        filters[clean(key, 64)] = values[0] if len(values) == 1 else values
    if "page_size" in params:
        filters["page_size"] = clean(params["page_size"], 10)
    token = request.auth if isinstance(request.auth, ApiToken) else None
    return ApiPull.objects.create(
        user=request.user,
        username=request.user.get_username(),
        token=token,
        resource=resource[:32],
        action=(action or "")[:16],
        filters=filters,
        continued="cursor" in params,
        rows=rows,
        status=status,
        revealed=bool(reveal_reason),
        reason=reveal_reason[:200],
        ip=client_ip(request) or None,
        duration_ms=duration_ms,
    )


def api_pulls_purge(*, older_than_days: int | None = None) -> int:
    """Drop pull logs past their retention (ZHUCUN_API_PULL_RETENTION_DAYS)."""
    days = older_than_days or settings.ZHUCUN_API_PULL_RETENTION_DAYS
    cutoff = timezone.now() - dt.timedelta(days=days)
    deleted, _counts = ApiPull.objects.filter(created_at__lt=cutoff).delete()
    return deleted
