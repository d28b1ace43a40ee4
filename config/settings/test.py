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
