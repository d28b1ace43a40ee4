"""Settings shared by every environment, read from the environment (django-environ)."""

from datetime import timedelta
from pathlib import Path

import environ
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
# Process environment first; then .env; then the private services file written by
# `scripts/services.py` (read_env never overrides a variable that is already set).
environ.Env.read_env(BASE_DIR / ".env")
environ.Env.read_env(BASE_DIR / ".local" / "services.env")

DEBUG = env.bool("DJANGO_DEBUG", default=False)
SECRET_KEY = env("DJANGO_SECRET_KEY")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "django_filters",
    "axes",
    "pgtrigger",
    "pghistory",
    "pghistory.admin",
    "common",
    "villages",
    "accounts",
    "teams",
    "households",
    "assessments",
    "reports",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "accounts.middleware.SessionLifetimeMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "common.audit.AuditContextMiddleware",
    # Last, so that a lockout answers before any view runs (django-axes' rule).
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DJANGO_CONN_MAX_AGE", default=60)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env("REDIS_URL")
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "zhucun",
    }
}

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    # django-axes must come first so that a locked-out login never reaches the password check.
    "axes.backends.AxesStandaloneBackend",
    "accounts.backends.RoleBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 8},
    },
    {"NAME": "accounts.validators.CharacterClassesValidator", "OPTIONS": {"min_classes": 3}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "admin:login"

# Sessions: idle timeout 30 minutes (the expiry moves with every request), absolute
# lifetime 12 hours (accounts.middleware.SessionLifetimeMiddleware).
SESSION_COOKIE_AGE = 30 * 60
SESSION_SAVE_EVERY_REQUEST = True
SESSION_ABSOLUTE_LIFETIME = 12 * 60 * 60
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True

# Login lockout (django-axes): 5 failures for one username from one address within
# 15 minutes lock that pair for 15 minutes; security administrators unlock in the admin.
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked.html"
AXES_ENABLE_ADMIN = False  # re-registered under accounts.admin with the system-admin guard

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = env.path("DJANGO_MEDIA_ROOT", default=str(BASE_DIR / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# Personal data: Fernet keys (newest first) and the keyed-hash key, never in the repository.
FIELD_ENCRYPTION_KEYS = env.list("FIELD_ENCRYPTION_KEYS")
FIELD_HASH_KEY = env("FIELD_HASH_KEY")

# Celery: Redis broker; tasks acknowledge late and are bounded in time (STYLE.md).
CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = 600
CELERY_TASK_TIME_LIMIT = 660
CELERY_TIMEZONE = TIME_ZONE
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

REST_FRAMEWORK = {
    "EXCEPTION_HANDLER": "common.errors.api_exception_handler",
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
}

# Derived warnings shown in the admin: how far ahead a term end is "soon".
ZHUCUN_TERM_WARNING_DAYS = 60
# Admin lists count at most this many rows exactly (common.paginator).
ZHUCUN_ADMIN_COUNT_CAP = 1000
# Visit photos: the largest upload accepted (checked as an image by its content).
ZHUCUN_PHOTO_MAX_BYTES = env.int("ZHUCUN_PHOTO_MAX_BYTES", default=5 * 2**20)
# Selections larger than this run admin roster actions as a Celery job.
ZHUCUN_INLINE_ACTION_LIMIT = 50
# Excel imports (reports.imports): refused before parsing when the upload is bigger than
# MAX_BYTES, unpacks to more than MAX_UNPACKED bytes in all, holds more than MAX_ENTRIES
# parts, or any part is compressed more than MAX_RATIO times (zip bombs); MAX_ROWS data rows
# at most per import.
ZHUCUN_IMPORT_MAX_BYTES = env.int("ZHUCUN_IMPORT_MAX_BYTES", default=60 * 2**20)
ZHUCUN_IMPORT_MAX_UNPACKED = env.int("ZHUCUN_IMPORT_MAX_UNPACKED", default=800 * 2**20)
ZHUCUN_IMPORT_MAX_ENTRIES = env.int("ZHUCUN_IMPORT_MAX_ENTRIES", default=2000)
ZHUCUN_IMPORT_MAX_RATIO = env.int("ZHUCUN_IMPORT_MAX_RATIO", default=200)
ZHUCUN_IMPORT_MAX_ROWS = env.int("ZHUCUN_IMPORT_MAX_ROWS", default=500_000)
# Uploaded import files and their reports hold ID numbers: deleted this many days after the
# job ends (the job and its problem list stay).
ZHUCUN_IMPORT_KEEP_DAYS = env.int("ZHUCUN_IMPORT_KEEP_DAYS", default=30)

PGHISTORY_DEFAULT_TRACKERS = None  # every model says what it tracks
PGHISTORY_ADMIN_CLASS = "accounts.admin.AuditEventsAdmin"  # audit administrators only

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("DJANGO_LOG_LEVEL", default="INFO")},
}
