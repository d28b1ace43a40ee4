"""Token authentication of machine clients: `Authorization: Token <key>` (or `Bearer`).

The key is looked up by its SHA-256; a revoked or expired token, an inactive account or an
account no longer of an API role authenticates nobody (401). People use their login session
(DRF's SessionAuthentication, configured beside this class).
"""

import hashlib

from django.utils.translation import gettext as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header

from .models import ApiToken
from .roles import API_TOKEN_ROLES

KEYWORDS = (b"token", b"bearer")


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def token_for_key(key: str) -> ApiToken | None:
    """The usable token of a key, with its account and the account's region; None else."""
    token = (
        ApiToken.objects.select_related("user", "user__region")
        .filter(key_hash=key_hash(key), revoked_at__isnull=True)
        .first()
    )
    if token is None or not token.is_usable:
        return None
    if not token.user.is_active or token.user.role not in API_TOKEN_ROLES:
        return None
    return token


class ApiTokenAuthentication(BaseAuthentication):
    machine = True  # its callers have their own throttle scope (common.api.throttling)

    def authenticate(self, request):
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() not in KEYWORDS:
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed(
                _("令牌格式不正确，应为 Authorization: Token <令牌>。")
            )
        try:
            key = parts[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed(_("令牌无效、已过期或已吊销。")) from None
        token = token_for_key(key)
        if token is None:
            raise exceptions.AuthenticationFailed(_("令牌无效、已过期或已吊销。"))
        from .services import api_token_touch

        api_token_touch(token=token)
        return token.user, token

    def authenticate_header(self, request) -> str:
        return 'Token realm="api"'


class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = "accounts.api_auth.ApiTokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": _(
                "机器客户端（省级系统）的令牌，由安全管理员签发：Authorization: Token <令牌>。"
            ),
        }
