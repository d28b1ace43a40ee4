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
    "drf_spectacular",
    "drf_spectacular_sidecar",
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
    # Machine clients (the province's systems) use tokens; people use their login session.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.api_auth.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_SCHEMA_CLASS": "common.api.schema.ApiAutoSchema",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "驻村通 数据接口",
    "DESCRIPTION": (
        "省级驻村办及其系统按省拉取全省数据的接口（第1版）：业务数据只读；另可申请 Excel "
        "导出（`/api/v1/exports/`，令牌也可使用），县乡工作人员可用登录会话导入 Excel "
        "（`/api/v1/imports/`，先检查后确认）。\n\n"
        "**身份**：机器客户端使用安全管理员签发的令牌（请求头 `Authorization: Token <令牌>`），"
        "个人使用登录会话。每个账号只能看到其管辖区划内的数据；不在范围内的记录与不存在的"
        "记录回答完全相同（404）。\n\n"
        "**增量同步**：每个资源按提交顺序分页，响应中的 `next` 链接总是给出：`has_more` 为 "
        "true 时立即继续；为 false 时保存 `next`，下次从它开始只取此后新增和修改的记录，"
        "不会遗漏在途事务稍后提交的修改，也不会重复。删除的记录从 `/api/v1/deletions/` "
        "以同样方式读取。\n\n"
        "**个人信息**：身份证号和电话默认脱敏；具有权限的角色在请求中给出 `reveal=true` "
        "和理由 `reason` 时返回完整值，每次都记录在案。\n\n"
        '**错误**：统一为 `{"message": "中文说明", "extra": {...}}`。'
    ),
    "VERSION": "1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_GENERATE_CHOICE_DESCRIPTION": True,
    # One name for a choice set used by several fields.
    "ENUM_NAME_OVERRIDES": {
        "CauseEnum": "households.codes.Cause",
        "GenderEnum": "teams.models.Gender",
        # The same choice sets as the export filters of the API (`<field>__exact`).
        "HouseholdTypeEnum": "households.codes.HouseholdType",
        "CardColourEnum": "households.codes.CardColour",
        "RelationEnum": "households.codes.Relation",
        "LabourEnum": "households.codes.Labour",
        "HealthEnum": "households.codes.Health",
        "EducationEnum": "households.codes.Education",
        "SchoolStatusEnum": "households.codes.SchoolStatus",
        "UnitLevelEnum": "teams.models.UnitLevel",
        "UnitKindEnum": "teams.models.UnitKind",
        "PoliticalStatusEnum": "teams.models.PoliticalStatus",
        "ImportJobStatusEnum": "reports.models.ImportJobStatus",
    },
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# The read API: rates per machine client (token) and per person (session); how long the
# deletion feed and the pull log are kept; who logs each pull.
ZHUCUN_API_THROTTLE_RATES = {
    "api_client": env("ZHUCUN_API_CLIENT_RATE", default="1200/min"),
    "api_user": env("ZHUCUN_API_USER_RATE", default="300/min"),
}
ZHUCUN_TOMBSTONE_RETENTION_DAYS = env.int("ZHUCUN_TOMBSTONE_RETENTION_DAYS", default=90)
ZHUCUN_API_PULL_RETENTION_DAYS = env.int("ZHUCUN_API_PULL_RETENTION_DAYS", default=180)
ZHUCUN_API_PULL_LOGGER = "accounts.services.api_pull_log"

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

# Exports (reports.exports): a finished file is kept this long for its requester, then the
# housekeeping task deletes it; rows are read from the server-side cursor in chunks.
ZHUCUN_EXPORT_TTL_HOURS = env.int("ZHUCUN_EXPORT_TTL_HOURS", default=24)
ZHUCUN_EXPORT_CHUNK_ROWS = 5000
