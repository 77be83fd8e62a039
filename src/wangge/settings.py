"""Wangge settings: one environment-driven module.

With no environment at all it runs on an embedded SQLite database in ``var/`` (development
defaults).  Production is selected with ``WANGGE_PRODUCTION=1`` and then refuses to start with
DEBUG on or without a real secret key.  Every secret may come from ``NAME`` or ``NAME_FILE``.
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent  # src/wangge
PROJECT_DIR = BASE_DIR.parent.parent  # repository root (when run from a checkout)
VAR_DIR = Path(os.environ.get("WANGGE_VAR_DIR", PROJECT_DIR / "var"))

DEV_SECRET_KEY = "wangge-development-only-secret-key-do-not-use-in-production"  # noqa: S105


def env(name: str, default: str | None = None) -> str | None:
    """Read NAME from the environment, or the contents of the file named by NAME_FILE."""
    file_name = os.environ.get(f"{name}_FILE")
    if file_name:
        return Path(file_name).read_text(encoding="utf-8").strip()
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    value = env(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = env(name)
    return int(value) if value not in (None, "") else default


PRODUCTION = env_bool("WANGGE_PRODUCTION")
DEBUG = env_bool("DEBUG", default=not PRODUCTION)
SECRET_KEY = env("SECRET_KEY") or DEV_SECRET_KEY

if PRODUCTION:
    if DEBUG:
        raise ImproperlyConfigured("WANGGE_PRODUCTION=1 refuses to start with DEBUG on.")
    if SECRET_KEY == DEV_SECRET_KEY or len(SECRET_KEY) < 32:
        raise ImproperlyConfigured(
            "WANGGE_PRODUCTION=1 needs SECRET_KEY (or SECRET_KEY_FILE) of at least 32 characters."
        )

ALLOWED_HOSTS = [h for h in (env("ALLOWED_HOSTS") or "").split(",") if h] or (
    [] if PRODUCTION else ["127.0.0.1", "localhost", "[::1]", "testserver"]
)
CSRF_TRUSTED_ORIGINS = [o for o in (env("CSRF_TRUSTED_ORIGINS") or "").split(",") if o]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "ninja",  # serves the OpenAPI page's Swagger UI from local static files (no CDN)
    "axes",
    "django_tasks",
    "django_tasks_db",
    "wangge.core",
    "wangge.accounts",
    "wangge.geo",
    "wangge.registers",
    "wangge.cases",
    "wangge.party",
    "wangge.analytics",
    "wangge.api",
    "wangge.web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "wangge.core.middleware.RequestIdMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "wangge.core.middleware.ChineseFirstLocaleMiddleware",
    "wangge.core.middleware.RejectNulMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "wangge.urls"
WSGI_APPLICATION = "wangge.wsgi.application"
ASGI_APPLICATION = "wangge.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "wangge.web.context_processors.shell",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
# SQLite by default: WAL so the web server and the task worker read and write at once, a busy
# timeout instead of "database is locked", and IMMEDIATE transactions so a writer takes the lock
# up front rather than failing on upgrade.
SQLITE_PATH = Path(env("SQLITE_PATH") or VAR_DIR / "wangge.sqlite3")
DATABASE_URL = env("DATABASE_URL")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
    # Behind a transaction-mode pooler (PgBouncer < 1.21) prepared statements must stay off:
    # DATABASE_PREPARED_STATEMENTS=0 keeps every statement unprepared (decisions 0024, 0025).
    if not env_bool("DATABASE_PREPARED_STATEMENTS", default=True):
        DATABASES["default"].setdefault("OPTIONS", {})["prepare_threshold"] = None
else:
    # SQLite creates the file but not its folder: on a fresh clone var/ does not exist yet.
    SQLITE_PATH.parent.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(SQLITE_PATH),
            "OPTIONS": {
                "timeout": 20,
                "transaction_mode": "IMMEDIATE",
                "init_command": (
                    "PRAGMA journal_mode=WAL;"
                    "PRAGMA synchronous=NORMAL;"
                    "PRAGMA busy_timeout=20000;"
                    "PRAGMA foreign_keys=ON;"
                ),
            },
            "TEST": {"NAME": env("SQLITE_TEST_PATH") or None},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Auth -----------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "wangge.accounts.backends.UsernameOrMobileBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "web:login"
LOGIN_REDIRECT_URL = "web:home"
LOGOUT_REDIRECT_URL = "web:login"

# Lockout after repeated failures (django-axes): per username and client address.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = env_int("AXES_COOLOFF_MINUTES", 15) / 60  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "web/locked_out.html"
AXES_VERBOSE = False
AXES_IPWARE_META_PRECEDENCE_ORDER = ["REMOTE_ADDR"]

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = PRODUCTION
CSRF_COOKIE_SECURE = PRODUCTION
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# --- Language and time ----------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = "Asia/Shanghai"  # display; storage is UTC (USE_TZ)
USE_TZ = True

# --- Static files ---------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(env("STATIC_ROOT") or PROJECT_DIR / "staticfiles")
VENDOR_DIR = PROJECT_DIR / "build" / "vendor"  # npm packages copied by `make assets`
STATICFILES_DIRS = [("vendor", VENDOR_DIR)] if VENDOR_DIR.is_dir() else []
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
MEDIA_ROOT = Path(env("MEDIA_ROOT") or VAR_DIR / "media")
MEDIA_URL = "/media/"
WHITENOISE_USE_FINDERS = DEBUG

# --- Cache ----------------------------------------------------------------------------------
# Local memory by default (zero set-up; counters per process). With REDIS_URL, Django's Redis
# cache (wangge.core.cache: clear() limited to this prefix), so rate limits are shared by every
# web worker and host. Test workers (pytest-xdist) get their own prefix.
REDIS_URL = env("REDIS_URL", "") or ""
CACHE_KEY_PREFIX = (env("CACHE_KEY_PREFIX", "") or "wangge") + os.environ.get(
    "PYTEST_XDIST_WORKER", ""
)
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "wangge.core.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": CACHE_KEY_PREFIX,
        }
    }

# --- Background tasks -----------------------------------------------------------------------
TASKS = {"default": {"BACKEND": env("TASKS_BACKEND") or "django_tasks_db.DatabaseBackend"}}
WORKER_HEARTBEAT_SECONDS = env_int("WORKER_HEARTBEAT_SECONDS", 10)
WORKER_STALE_SECONDS = env_int("WORKER_STALE_SECONDS", 60)

# --- Wangge ---------------------------------------------------------------------------------
# Map tiles: a Leaflet URL template (天地图, 高德 or an OSM-compatible server). Empty = no tiles;
# the map then draws grids on a plain background and works offline.
MAP_TILE_URL = env("MAP_TILE_URL", "") or ""
MAP_TILE_ATTRIBUTION = env("MAP_TILE_ATTRIBUTION", "") or ""
MAP_TILE_SUBDOMAINS = env("MAP_TILE_SUBDOMAINS", "") or ""  # e.g. "01234567" for 天地图
# CRS of the tile server: tiles from 高德/腾讯 are GCJ-02, so drawn geometry is shifted to match.
MAP_TILE_CRS = (env("MAP_TILE_CRS", "wgs84") or "wgs84").lower()
# The locator answers with the nearest grid within this distance when a point is in no grid.
LOCATOR_FALLBACK_METRES = float(env("LOCATOR_FALLBACK_METRES", "50") or 50)
# Sibling overlap above this share of the smaller polygon's area is an import error.
GEO_OVERLAP_TOLERANCE = float(env("GEO_OVERLAP_TOLERANCE", "0.02") or 0.02)
# Cases: upload limit for photos, anonymous intake per client address and minute, and the
# notification adapters to deliver through (console, email; SMS/WeChat/DingTalk register more).
CASE_ATTACHMENT_MAX_BYTES = env_int("CASE_ATTACHMENT_MAX_BYTES", 10 * 1024 * 1024)
CASES_PUBLIC_RATE_PER_MINUTE = env_int("CASES_PUBLIC_RATE_PER_MINUTE", 10)
WANGGE_NOTIFY_ADAPTERS = [
    a.strip() for a in (env("WANGGE_NOTIFY_ADAPTERS") or "console").split(",") if a.strip()
]
EMAIL_BACKEND = env("EMAIL_BACKEND") or "django.core.mail.backends.console.EmailBackend"
# Registers: personal data (ID numbers, phones, special groups) is encrypted with AES-256-GCM.
# WANGGE_PII_KEYS is a comma-separated list of base64url 32-byte keys, the first one current, the
# others kept only to decrypt during `wangge registers rotate-key`. WANGGE_PII_INDEX_KEY (≥ 32
# characters) keys the HMAC blind index used for exact search. Development (DEBUG) falls back to
# fixed keys; anything else refuses to start without real ones.
DEV_PII_KEY = "ZGV2ZWxvcG1lbnQtb25seS1waWkta2V5LTMyLWJ5dGU="
DEV_PII_INDEX_KEY = "wangge-development-only-pii-blind-index-key"
WANGGE_PII_KEYS = [k.strip() for k in (env("WANGGE_PII_KEYS") or "").split(",") if k.strip()]
WANGGE_PII_INDEX_KEY = env("WANGGE_PII_INDEX_KEY") or ""
if not WANGGE_PII_KEYS or not WANGGE_PII_INDEX_KEY:
    if PRODUCTION or not DEBUG:
        raise ImproperlyConfigured(
            "Set WANGGE_PII_KEYS and WANGGE_PII_INDEX_KEY (personal data encryption keys; "
            "`wangge registers generate-key` prints a new one)."
        )
    WANGGE_PII_KEYS = WANGGE_PII_KEYS or [DEV_PII_KEY]
    WANGGE_PII_INDEX_KEY = WANGGE_PII_INDEX_KEY or DEV_PII_INDEX_KEY
elif PRODUCTION and (DEV_PII_KEY in WANGGE_PII_KEYS or WANGGE_PII_INDEX_KEY == DEV_PII_INDEX_KEY):
    raise ImproperlyConfigured("WANGGE_PRODUCTION=1 refuses the development PII keys.")
if len(WANGGE_PII_INDEX_KEY) < 32:
    raise ImproperlyConfigured("WANGGE_PII_INDEX_KEY must be at least 32 characters.")
# Previous blind-index keys (comma-separated), accepted for lookups only while
# `wangge registers rotate-key` recomputes every index under WANGGE_PII_INDEX_KEY; remove them
# once it has finished (docs/deployment.md, decision 0022).
WANGGE_PII_OLD_INDEX_KEYS = [
    k.strip() for k in (env("WANGGE_PII_OLD_INDEX_KEYS") or "").split(",") if k.strip()
]
# Register imports (Excel) up to this size run in the request; larger ones (100,000 people is a
# few MB) run in the background worker with progress shown on the job page.
REGISTERS_SYNC_IMPORT_MAX_BYTES = env_int("REGISTERS_SYNC_IMPORT_MAX_BYTES", 256 * 1024)
# Notification channels (docs/deployment.md): group robots, SMS gateways, retries.
NOTIFY_HTTP_TIMEOUT = float(env("NOTIFY_HTTP_TIMEOUT", "5") or 5)
NOTIFY_MAX_ATTEMPTS = env_int("NOTIFY_MAX_ATTEMPTS", 3)
DINGTALK_WEBHOOK_URL = env("DINGTALK_WEBHOOK_URL", "") or ""
DINGTALK_SECRET = env("DINGTALK_SECRET", "") or ""  # 加签 secret (SEC…), optional
WECOM_WEBHOOK_URL = env("WECOM_WEBHOOK_URL", "") or ""
SMS_GATEWAY_URL = env("SMS_GATEWAY_URL", "") or ""
SMS_GATEWAY_KEY_ID = env("SMS_GATEWAY_KEY_ID", "") or ""
SMS_GATEWAY_SECRET = env("SMS_GATEWAY_SECRET", "") or ""
SMS_GATEWAY_TEMPLATE = env("SMS_GATEWAY_TEMPLATE", "") or "【网格】{title}"
SMS_CODE_TEMPLATE = env("SMS_CODE_TEMPLATE", "") or "【网格】验证码{code}，10分钟内有效。"
ALIYUN_SMS_ACCESS_KEY_ID = env("ALIYUN_SMS_ACCESS_KEY_ID", "") or ""
ALIYUN_SMS_ACCESS_KEY_SECRET = env("ALIYUN_SMS_ACCESS_KEY_SECRET", "") or ""
ALIYUN_SMS_SIGN_NAME = env("ALIYUN_SMS_SIGN_NAME", "") or ""
ALIYUN_SMS_TEMPLATE_CODE = env("ALIYUN_SMS_TEMPLATE_CODE", "") or ""
ALIYUN_SMS_CODE_TEMPLATE_CODE = env("ALIYUN_SMS_CODE_TEMPLATE_CODE", "") or ""
ALIYUN_SMS_ENDPOINT = env("ALIYUN_SMS_ENDPOINT", "") or "https://dysmsapi.aliyuncs.com/"
# The channel for residents' verification codes: console (logs the code), sms or aliyun_sms.
WANGGE_SMS_ADAPTER = env("WANGGE_SMS_ADAPTER", "") or "console"
PHONE_CODE_PER_IP_PER_HOUR = env_int("PHONE_CODE_PER_IP_PER_HOUR", 20)
DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024  # JSON/form bodies; files stream to disk
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
# Open311 GeoReport v2 (/open311/v2/): the jurisdiction_id clients may send, the discovery
# contact, and the default POSTs per minute of a new client key.
OPEN311_JURISDICTION_ID = env("OPEN311_JURISDICTION_ID", "wangge") or "wangge"
OPEN311_CONTACT = env("OPEN311_CONTACT", "") or ""
OPEN311_KEY_SERVICE = env("OPEN311_KEY_SERVICE", "") or ""
OPEN311_RATE_PER_MINUTE = env_int("OPEN311_RATE_PER_MINUTE", 60)
# Webhooks: attempts per delivery, first retry delay (doubling), receiver timeout.
WEBHOOK_MAX_ATTEMPTS = env_int("WEBHOOK_MAX_ATTEMPTS", 6)
WEBHOOK_BACKOFF_SECONDS = env_int("WEBHOOK_BACKOFF_SECONDS", 30)
WEBHOOK_TIMEOUT_SECONDS = env_int("WEBHOOK_TIMEOUT_SECONDS", 5)
API_TOKEN_PREFIX = "wg_"  # noqa: S105 (a visible prefix, not a secret)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
        "django_tasks": {"level": "WARNING"},
        "django_tasks_db": {"level": "WARNING"},
    },
}
