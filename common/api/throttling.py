"""Request rates: machine clients (API tokens) and people (sessions) have separate scopes.

Rates come from `settings.ZHUCUN_API_THROTTLE_RATES` each time (so that tests and deployments
can change them) and the history lives in the default cache (Redis). A provincial system is
limited per token, a person per account.
"""

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle


class _ApiThrottle(SimpleRateThrottle):
    machine: bool

    def get_rate(self) -> str | None:
        return settings.ZHUCUN_API_THROTTLE_RATES.get(self.scope)

    def get_cache_key(self, request, view) -> str | None:
        user = request.user
        if not (user and user.is_authenticated):
            return None
        is_machine = getattr(request.successful_authenticator, "machine", False)
        if is_machine != self.machine:
            return None
        ident = f"token-{request.auth.pk}" if is_machine else f"user-{user.pk}"
        return self.cache_format % {"scope": self.scope, "ident": ident}

    def __init__(self):
        # SimpleRateThrottle reads the rate in __init__; ours is read per request.
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)


class ApiClientThrottle(_ApiThrottle):
    """Machine clients (token authentication), per token."""

    scope = "api_client"
    machine = True


class ApiUserThrottle(_ApiThrottle):
    """People (session authentication), per account."""

    scope = "api_user"
    machine = False
