"""Absolute session lifetime: a session ends 12 hours after login however active it is.

The idle timeout (30 minutes) is the session expiry itself, renewed on every request
(SESSION_COOKIE_AGE + SESSION_SAVE_EVERY_REQUEST).
"""

import time

from django.conf import settings
from django.contrib.auth import logout

SESSION_LOGIN_AT = "zhucun_login_at"


class SessionLifetimeMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            login_at = request.session.get(SESSION_LOGIN_AT)
            if login_at is None:
                request.session[SESSION_LOGIN_AT] = time.time()
            elif time.time() - login_at > settings.SESSION_ABSOLUTE_LIFETIME:
                logout(request)
        return self.get_response(request)
