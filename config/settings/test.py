"""Test settings: the real PostgreSQL and Redis, fast password hashing."""

from .base import *  # noqa: F403

DEBUG = False
ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
DATABASES["default"]["CONN_MAX_AGE"] = 0  # noqa: F405
# Serve static files from the apps and static/ directly (no collectstatic needed).
STATIC_ROOT = None
WHITENOISE_USE_FINDERS = True
AXES_VERBOSE = False
# Tasks queued by tests (on commit in transactional tests) go to a queue of their own, so that
# a local worker on the same broker never runs them; tests/conftest.py empties it per session.
CELERY_TASK_DEFAULT_QUEUE = "zhucun-test"
# Tests page through the API far faster than any client may; the throttling test sets its own
# low rates (tests/api/test_access.py), every other test must never meet a limit.
ZHUCUN_API_THROTTLE_RATES = {"api_client": "100000/min", "api_user": "100000/min"}
# The cache of a test run (throttle counters, job progress) is its own, apart from a local run's.
CACHES["default"]["KEY_PREFIX"] = "zhucun-test"  # noqa: F405
