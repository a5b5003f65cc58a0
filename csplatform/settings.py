"""Settings for the customer-service intelligence platform.

Every value comes from the environment through one django-environ ``env``.
The defaults are development values for one machine (SQLite under ``var/``,
kombu's filesystem broker, local-memory cache); production sets
``DEBUG=false`` and must then provide ``SECRET_KEY`` and ``ALLOWED_HOSTS``.
"""
import datetime
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

VAR_DIR = Path(env("VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

# Off unless set: development (make demo/run/test, the test suite) sets DEBUG=true explicitly.
DEBUG = env.bool("DEBUG", default=False)
DEV_SECRET_KEY = "dev-insecure-secret-key-change-me-for-production-0123456789abcdef"
if DEBUG:
    SECRET_KEY = env("SECRET_KEY", default=DEV_SECRET_KEY)
    ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])
else:
    SECRET_KEY = env("SECRET_KEY")  # no default: a production start without it fails here
    ALLOWED_HOSTS = env.list("ALLOWED_HOSTS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework_api_key",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "django_celery_results",
    "django_prometheus",
    "apps.core",
    "apps.customers",
    "apps.agents",
    "apps.conversations",
    "apps.registry",
    "apps.jobs",
    "apps.scoring",
    "apps.webhooks",
    "apps.qa",
    "apps.dashboard",
    "apps.alerts",
    "apps.demo",
]

MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "apps.core.middleware.RequestIdMiddleware",
    "apps.core.middleware.BodySizeLimitMiddleware",
    "apps.core.middleware.ApiNotFoundMiddleware",  # JSON 404 for unknown URLs under /api/
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "apps.core.middleware.MessageMiddleware",  # Django's, skipped for /api/
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "apps.core.metrics.RequestMetricsMiddleware",  # django-prometheus' after-middleware, cheaper
]

ROOT_URLCONF = "csplatform.urls"
WSGI_APPLICATION = "csplatform.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL + IMMEDIATE transactions let the web process and a worker share the file.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 30,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test_db.sqlite3")}
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://")}
CACHES["default"]["KEY_PREFIX"] = env("CACHE_KEY_PREFIX", default="")  # deployments sharing one Redis
if CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache":
    CACHES["default"]["BACKEND"] = "apps.core.cache_backends.RedisCache"  # one client per pool

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "admin:login"

LANGUAGE_CODE = env("LANGUAGE_CODE", default="zh-hans")
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env("TIME_ZONE", default="Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# --- REST API -------------------------------------------------------------
API_MAX_BODY_BYTES = env.int("API_MAX_BODY_BYTES", default=10 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = API_MAX_BODY_BYTES
BULK_MAX_ITEMS = env.int("BULK_MAX_ITEMS", default=1000)
# JSON bodies nesting deeper than this are refused with 400 (apps/core/parsers.py).
API_MAX_JSON_DEPTH = env.int("API_MAX_JSON_DEPTH", default=32)
# Conversation dates accepted on the way in: from this day to this many days after now (apps/core/dates.py).
CONVERSATION_DATE_MIN = datetime.date.fromisoformat(env("CONVERSATION_DATE_MIN", default="2000-01-01"))
CONVERSATION_DATE_MAX_FUTURE_DAYS = env.int("CONVERSATION_DATE_MAX_FUTURE_DAYS", default=2)
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "apps.core.auth.APIKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["apps.core.permissions.HasScope"],
    "DEFAULT_THROTTLE_CLASSES": ["apps.core.throttling.ClientRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "default": env("THROTTLE_DEFAULT", default="6000/min"),
        "predict": env("THROTTLE_PREDICT", default="120000/min"),
        "bulk": env("THROTTLE_BULK", default="600/min"),
    },
    # JSON only: the bulk and nested bodies have no form encoding (other types → 415).
    "DEFAULT_PARSER_CLASSES": ["apps.core.parsers.StrictJSONParser"],
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "apps.core.pagination.DefaultPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "apps.core.exceptions.api_exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Customer-service intelligence platform API",
    "DESCRIPTION": "CRM integration: bulk upserts, real-time predictions, batch jobs.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "APPEND_COMPONENTS": {
        "securitySchemes": {"ApiKeyAuth": {"type": "apiKey", "in": "header", "name": "Authorization"}}
    },
    "SECURITY": [{"ApiKeyAuth": []}],
}

# --- Celery (keys read by csplatform/celery.py with namespace="CELERY") ----
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="filesystem://")
if CELERY_BROKER_URL.startswith("filesystem"):
    _broker_dir = VAR_DIR / "broker"
    for _sub in ("queue", "processed", "control"):
        (_broker_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
else:
    # Longer than the longest hard time limit, so a slow task is not redelivered twice. Any other
    # kombu transport option (e.g. how often unacknowledged messages are swept back) comes as JSON in
    # CELERY_BROKER_TRANSPORT_OPTIONS and wins over these.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=7200),
        **env.json("CELERY_BROKER_TRANSPORT_OPTIONS", default={}),
    }
CELERY_RESULT_BACKEND = env("CELERY_RESULT_BACKEND", default="django-db")
CELERY_RESULT_EXTENDED = True
CELERY_RESULT_EXPIRES = env.int("CELERY_RESULT_EXPIRES", default=7 * 24 * 3600)
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=3300)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=3600)
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_TRACK_STARTED = True
CELERY_WORKER_SEND_TASK_EVENTS = True
CELERY_TASK_SEND_SENT_EVENT = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# The default beat entries, created in the database (in TIME_ZONE) by the jobs migrations and
# ``manage.py setup_schedules`` when missing; managers edit them in the admin afterwards.
# "crontab" is "minute hour day_of_week".
BEAT_SCHEDULE = {
    "nightly quality assessment": {"task": "scoring.nightly_assessment", "crontab": "0 2 *"},
    "weekly team reports": {"task": "alerts.send_team_reports", "crontab": "0 8 1"},
    "clean up old task results": {"task": "jobs.cleanup_results", "crontab": "30 3 *"},
    "reply index, incremental": {"task": "scoring.rebuild_reply_index", "crontab": "0 4 *",
                                 "kwargs": {"full": False}},
    "reply index, full rebuild": {"task": "scoring.rebuild_reply_index", "crontab": "30 4 0",
                                  "kwargs": {"full": True}},
    "jobs watchdog": {"task": "jobs.watchdog", "every_seconds": env.int("JOB_WATCHDOG_SECONDS", default=120)},
}

# --- Models and scoring ---------------------------------------------------
MODEL_STORE = Path(env("MODEL_STORE", default=str(VAR_DIR / "models")))
SCORE_CHUNK_SIZE = env.int("SCORE_CHUNK_SIZE", default=1000)
# The jobs watchdog (``jobs.watchdog``, every JOB_WATCHDOG_SECONDS): a queued job sent but not started
# for JOB_STALL_SECONDS is sent again; a pending chunk neither sent nor started for
# JOB_CHUNK_STALL_SECONDS is sent again; a chunk tried more than JOB_CHUNK_MAX_ATTEMPTS times is failed.
JOB_WATCHDOG_SECONDS = env.int("JOB_WATCHDOG_SECONDS", default=120)
JOB_STALL_SECONDS = env.int("JOB_STALL_SECONDS", default=300)
JOB_CHUNK_STALL_SECONDS = env.int("JOB_CHUNK_STALL_SECONDS", default=300)
JOB_CHUNK_MAX_ATTEMPTS = env.int("JOB_CHUNK_MAX_ATTEMPTS", default=3)
# Tasks retry transient database errors with exponential backoff and full jitter, capped at
# TASK_RETRY_BACKOFF_MAX seconds, TASK_MAX_RETRIES times (an outage of several minutes is survived).
TASK_MAX_RETRIES = env.int("TASK_MAX_RETRIES", default=10)
TASK_RETRY_BACKOFF_MAX = env.int("TASK_RETRY_BACKOFF_MAX", default=300)
CONFIDENCE_THRESHOLD = env.float("CONFIDENCE_THRESHOLD", default=0.5)
CONFIDENCE_MIN_GAP = env.float("CONFIDENCE_MIN_GAP", default=0.1)
RETRAIN_MIN_NEW_LABELS = env.int("RETRAIN_MIN_NEW_LABELS", default=200)
# The backend a retraining job trains when its parameters name none (quality always uses "quality").
RETRAIN_BACKEND = env("RETRAIN_BACKEND", default="linear")
# Seconds a process keeps the active suggestion rules before reading them again.
SUGGESTION_RULES_TTL = env.float("SUGGESTION_RULES_TTL", default=60.0)
# Rows at most in one console XLSX export.
DASHBOARD_XLSX_MAX_ROWS = env.int("DASHBOARD_XLSX_MAX_ROWS", default=100_000)
# QA scorecards: conversations per qa_score chunk; a rule "try" over at most QA_TRY_SYNC_MAX
# conversations answers at once, a larger range runs as a job; a criterion's learned model
# can be trained once reviewers answered it QA_LEARNED_MIN_ANSWERS times.
QA_SCORE_CHUNK_SIZE = env.int("QA_SCORE_CHUNK_SIZE", default=2000)
QA_TRY_SYNC_MAX = env.int("QA_TRY_SYNC_MAX", default=5000)
QA_LEARNED_MIN_ANSWERS = env.int("QA_LEARNED_MIN_ANSWERS", default=200)
# The nightly assessment puts conversations whose QA score is below this into the review queue.
QA_REVIEW_BELOW = env.float("QA_REVIEW_BELOW", default=60.0)
PROMOTION_MARGIN = env.float("PROMOTION_MARGIN", default=0.005)
FLOWER_URL = env("FLOWER_URL", default="http://127.0.0.1:5555/")
# Where e-mails (alerts, weekly team reports) link back to.
CONSOLE_URL = env("CONSOLE_URL", default="http://127.0.0.1:8000/dashboard/")

# --- E-mail (alerts and weekly reports) ----------------------------------------
# By default messages are written as files under var/mail/ (what the demo uses); set
# EMAIL_BACKEND=django.core.mail.backends.smtp.EmailBackend and the EMAIL_HOST* values for SMTP.
EMAIL_BACKEND = env("EMAIL_BACKEND", default="django.core.mail.backends.filebased.EmailBackend")
EMAIL_FILE_PATH = env("EMAIL_FILE_PATH", default=str(VAR_DIR / "mail"))
EMAIL_HOST = env("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="cs-platform@localhost")
# Webhook receivers: public addresses only, unless listed here (CIDRs) or private ranges are allowed.
WEBHOOK_ALLOWED_NETWORKS = env.list("WEBHOOK_ALLOWED_NETWORKS", default=[])
WEBHOOK_ALLOW_PRIVATE = env.bool("WEBHOOK_ALLOW_PRIVATE", default=False)

# --- Security -------------------------------------------------------------
# Sign-in lockout (django-axes): LOGIN_FAILURE_LIMIT failures in a row for one username from one
# address lock that pair out for LOGIN_LOCKOUT_MINUTES (apps/core/backends.py).
INSTALLED_APPS.append("axes")
MIDDLEWARE.append("axes.middleware.AxesMiddleware")
AUTHENTICATION_BACKENDS = ["apps.core.backends.LoginThrottleBackend", "django.contrib.auth.backends.ModelBackend"]
AXES_ENABLED = env.bool("LOGIN_LOCKOUT_ENABLED", default=True)
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = datetime.timedelta(minutes=env.int("LOGIN_LOCKOUT_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_REDIRECT_EXEMPT = [r"^health$", r"^metrics$"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# --- Logging: JSON lines with the request id; PII masked by a filter --------
LOG_LEVEL = env("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "pii": {"()": "apps.core.logging.PiiFilter"},
        "request_id": {"()": "apps.core.logging.RequestIdFilter"},
    },
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json",
            "filters": ["request_id", "pii"],
        },
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# --- Operations: /metrics, scrape-time collectors, deploy hardening ---------------------
# /metrics is answered first in the stack (no Host check, no HTTPS redirect); when
# METRICS_TOKEN is set a scrape must send it as a Bearer token or basic-auth password.
MIDDLEWARE.insert(0, "apps.core.metrics.MetricsEndpointMiddleware")
METRICS_TOKEN = env("METRICS_TOKEN", default="")
# /metrics answers anyone when true; otherwise it needs METRICS_TOKEN or a staff session.
METRICS_PUBLIC = env.bool("METRICS_PUBLIC", default=False)
METRICS_CACHE_SECONDS = env.float("METRICS_CACHE_SECONDS", default=15.0)
METRICS_CELERY_TIMEOUT = env.float("METRICS_CELERY_TIMEOUT", default=1.0)
SPECTACULAR_SETTINGS.setdefault("ENUM_NAME_OVERRIDES", {}).update(
    {
        "WebhookEventEnum": "apps.webhooks.models.Event",
        "SentimentEnum": "apps.core.labels.Sentiment",
        "JobStatusEnum": "apps.jobs.models.Job.Status",
        "ModelVersionStatusEnum": "apps.registry.models.ModelVersion.Status",
        "ReviewItemStatusEnum": "apps.scoring.models.ReviewItem.Status",
        "WebhookDeliveryStatusEnum": "apps.webhooks.models.WebhookDelivery.Status",
    }
)
SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"] = [
    "drf_spectacular.hooks.postprocess_schema_enums",
    "apps.core.schema.add_error_responses",  # every operation documents the API's error answers
]
# The schema and API docs need an API key with "read" (or a staff session) like the rest of /api/.
SPECTACULAR_SETTINGS["SERVE_PERMISSIONS"] = ["apps.core.permissions.HasScope"]
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SAMESITE = "Lax"

# --- Model cache and inference threads ---------------------------------------
# How often a process re-checks which versions are in production (seconds).
REGISTRY_CHECK_SECONDS = env.float("REGISTRY_CHECK_SECONDS", default=5.0)
# Native (OpenMP/BLAS) threads per process for inference; processes give the parallelism.
ML_NUM_THREADS = env.int("ML_NUM_THREADS", default=1)

# --- Real-time predict path -----------------------------------------------------------------
# Verified API keys are cached per process this many seconds (by sha256 of the key), so a
# revocation takes effect within this time; 0 turns the cache off (apps/core/auth.py).
API_KEY_CACHE_SECONDS = env.float("API_KEY_CACHE_SECONDS", default=30.0)
