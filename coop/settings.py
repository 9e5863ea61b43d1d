"""Settings for coop, driven by environment variables.

Every variable is documented in the README. ``COOP_ENV=development`` (the default) gives a
comfortable local set-up; ``COOP_ENV=production`` turns DEBUG off, requires a secret key and
an encryption key, and enables every ``manage.py check --deploy`` protection.
"""

import os
from decimal import Decimal
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from csp.constants import NONE, SELF, UNSAFE_INLINE
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("COOP_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool) -> bool:
    """Read a yes/no environment variable."""
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    """Read a comma-separated environment variable."""
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


COOP_ENV = os.environ.get("COOP_ENV", "development")
if COOP_ENV not in {"development", "production"}:
    raise ImproperlyConfigured("COOP_ENV must be 'development' or 'production'.")
PRODUCTION = COOP_ENV == "production"

DEBUG = env_bool("DEBUG", default=not PRODUCTION)

if PRODUCTION:
    SECRET_KEY = os.environ.get("SECRET_KEY", "")
    if len(SECRET_KEY) < 50:
        raise ImproperlyConfigured("SECRET_KEY must be set to at least 50 random characters.")
else:
    SECRET_KEY = os.environ.get(
        "SECRET_KEY", "development-only-secret-key-never-used-in-production-0123456789abcdef"
    )

# Key for the encrypted personal fields (national register number): a Fernet key printed by
# ``manage.py generate_encryption_key``; in development it is derived from SECRET_KEY. Backups
# never contain it (only its fingerprint): see "Encryption key custody" in the README.
FIELD_ENCRYPTION_KEY = os.environ.get("FIELD_ENCRYPTION_KEY", "")
if PRODUCTION and not FIELD_ENCRYPTION_KEY:
    raise ImproperlyConfigured("FIELD_ENCRYPTION_KEY must be set in production.")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "" if PRODUCTION else "127.0.0.1,localhost,testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.postgres",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "csp",
    "django_countries",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "coop",
    "audit",
    "members",
    "invoicing",
    "quotes",
    "contracts",
    "declarations",
    "copyrights",
    "spaces",
    "checkout",
    "portal",
    "taxforms",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "audit.context.AuditContextMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "members.middleware.SessionTimeoutMiddleware",
    "members.middleware.PreferredLanguageMiddleware",
    "members.middleware.StaffTwoFactorMiddleware",
]

if PRODUCTION:
    # Serve collected static files from the web process itself (no separate file server).
    MIDDLEWARE.insert(1, "whitenoise.middleware.WhiteNoiseMiddleware")

# Every form writes Django's common widgets and labels in Python, the same markup as Django's
# templates but without a template per field and per option (coop/widgets.py).
FORM_RENDERER = "coop.widgets.FormRenderer"
ROOT_URLCONF = "coop.urls"
WSGI_APPLICATION = "coop.wsgi.application"

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
                "coop.context_processors.navigation",
            ],
        },
    },
]

# Database: PostgreSQL only.
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/coop"),
        conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "60" if PRODUCTION else "0")),
        conn_health_checks=True,
    )
}
if not DATABASES["default"]["ENGINE"].endswith("postgresql"):
    raise ImproperlyConfigured("coop runs on PostgreSQL only: DATABASE_URL must be postgres://…")
# Behind PgBouncer in transaction pooling (DATABASE_POOLING=transaction) consecutive transactions
# of one Django connection may run on different server connections: no server-side cursors
# (``.iterator()`` falls back to client-side fetching) and no prepared statements (PgBouncer
# before 1.21 does not track them). The code keeps no other session state: advisory locks are
# ``pg_advisory_xact_lock`` and settings ``SET LOCAL`` (tests/test_pooling.py scans for it).
DATABASE_POOLING = os.environ.get("DATABASE_POOLING", "session")
if DATABASE_POOLING not in {"session", "transaction"}:
    raise ImproperlyConfigured("DATABASE_POOLING must be 'session' or 'transaction'.")
if DATABASE_POOLING == "transaction":
    DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = True
    DATABASES["default"].setdefault("OPTIONS", {})["prepare_threshold"] = None
# An optional streaming replica for heavy read-only reports (coop.db): only code inside
# ``coop.db.reads_from_replica`` reads there, outside any transaction; every write goes to default.
DATABASE_REPLICA_URL = os.environ.get("DATABASE_REPLICA_URL", "")
if DATABASE_REPLICA_URL:
    DATABASES["replica"] = dj_database_url.parse(
        DATABASE_REPLICA_URL,
        conn_max_age=DATABASES["default"]["CONN_MAX_AGE"],
        conn_health_checks=True,
    )
    if DATABASE_POOLING == "transaction":
        DATABASES["replica"]["DISABLE_SERVER_SIDE_CURSORS"] = True
        DATABASES["replica"].setdefault("OPTIONS", {})["prepare_threshold"] = None
    # Tests run the replica as a second connection to the test database.
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
    DATABASE_ROUTERS = ["coop.db_router.ReportingRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Redis carries only Celery's messages. The cache (rate limits, lock-outs, used authenticator
# codes, API throttle counters) lives in PostgreSQL, in a table created by coop's migrations, so a
# broker flush or restart resets none of it (coop/cache.py).
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
CACHES = {
    "default": {
        "BACKEND": "coop.cache.DatabaseCache",
        "LOCATION": "coop_cache",
        "KEY_PREFIX": os.environ.get("CACHE_KEY_PREFIX", "coop"),
    }
}
SESSION_ENGINE = "coop.sessions"
# A session ends 12 hours after signing in, however active (members.middleware); staff and space
# managers are also signed out after 30 minutes without a request.
SESSION_COOKIE_AGE = int(os.environ.get("SESSION_COOKIE_AGE", str(12 * 60 * 60)))
COOP_STAFF_IDLE_TIMEOUT = int(os.environ.get("COOP_STAFF_IDLE_MINUTES", "30")) * 60

AUTH_USER_MODEL = "members.User"
# Django's and django-allauth's backends, each loading the member profile with the user.
AUTHENTICATION_BACKENDS = [
    "members.backends.ModelBackend",
    "members.backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "members:dashboard"

# django-allauth: e-mail is the login, verified before the first sign-in.
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_CHANGE_EMAIL = True
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[coop] "
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "https" if PRODUCTION else "http"
ACCOUNT_ADAPTER = "members.adapters.AccountAdapter"
# Lock-out: five failed sign-ins for one account within 15 minutes lock that account for up to
# 15 minutes; fifty from one IP address lock that address. Another person signing in from the
# same address is not affected by the first limit. The same "login_failed" limit counts wrong
# authenticator codes per account. Stored in the PostgreSQL cache.
ACCOUNT_RATE_LIMITS = {
    "login": "30/m/ip",
    "login_failed": "50/15m/ip,5/15m/key",
    "signup": "20/m/ip",
    "reset_password": "20/m/ip,5/m/key",
    "change_email": "2/m/user",
}
# Proxies in front of the web process that append to X-Forwarded-For (the TLS proxy in
# production): per-IP limits then count the client's address, not the proxy's.
TRUSTED_PROXY_COUNT = int(os.environ.get("TRUSTED_PROXY_COUNT", "1" if PRODUCTION else "0"))
ALLAUTH_TRUSTED_PROXY_COUNT = TRUSTED_PROXY_COUNT
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "coop"
# Staff must have TOTP before they reach the admin (members.middleware).
COOP_STAFF_REQUIRE_TWO_FACTOR = env_bool("COOP_STAFF_REQUIRE_TWO_FACTOR", default=True)
# API tokens (members.ApiToken): longest lifetime in days for members and for staff and space
# managers (whose tokens also need a second-factor check), and active tokens per user.
COOP_API_TOKEN_MAX_DAYS = int(os.environ.get("COOP_API_TOKEN_MAX_DAYS", "90"))
COOP_API_TOKEN_MAX_DAYS_ELEVATED = int(os.environ.get("COOP_API_TOKEN_MAX_DAYS_ELEVATED", "30"))
COOP_API_TOKENS_PER_USER = 20

# E-mail: console in development (or a folder with EMAIL_FILE_PATH), SMTP in production.
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "coop <no-reply@coop.example>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
if PRODUCTION:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
elif os.environ.get("EMAIL_FILE_PATH"):
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = os.environ["EMAIL_FILE_PATH"]
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", EMAIL_BACKEND)
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "587"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", default=True)

# Languages: French, Dutch and English ship complete.
LANGUAGE_CODE = os.environ.get("LANGUAGE_CODE", "fr")
LANGUAGES = [("fr", _("French")), ("nl", _("Dutch")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
LANGUAGE_COOKIE_NAME = "coop_language"
LANGUAGE_COOKIE_SECURE = PRODUCTION
LANGUAGE_COOKIE_SAMESITE = "Lax"
TIME_ZONE = "Europe/Brussels"
USE_I18N = True
USE_TZ = True

# Static files are served by WhiteNoise; uploaded and generated files go through the storage
# API: a local folder by default, S3-compatible storage when AWS_STORAGE_BUCKET_NAME is set.
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
AWS_STORAGE_BUCKET_NAME = os.environ.get("AWS_STORAGE_BUCKET_NAME", "")
# ``manage.py backup`` writes dated folders here unless told where. PG_DUMP / PG_RESTORE name the
# client tools to use; by default the oldest copy at least as new as the server is picked.
BACKUP_ROOT = Path(os.environ.get("BACKUP_ROOT", VAR_DIR / "backups"))
PG_DUMP = os.environ.get("PG_DUMP", "")
PG_RESTORE = os.environ.get("PG_RESTORE", "")
if AWS_STORAGE_BUCKET_NAME:
    default_storage: dict = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": AWS_STORAGE_BUCKET_NAME,
            "endpoint_url": os.environ.get("AWS_S3_ENDPOINT_URL") or None,
            "region_name": os.environ.get("AWS_S3_REGION_NAME") or None,
            "access_key": os.environ.get("AWS_ACCESS_KEY_ID") or None,
            "secret_key": os.environ.get("AWS_SECRET_ACCESS_KEY") or None,
            "addressing_style": os.environ.get("AWS_S3_ADDRESSING_STYLE") or None,
            # Documents are private: no public ACL, and a URL made for one (nothing in coop
            # makes one: downloads stream through the views that check permissions) is a
            # presigned one that expires after five minutes.
            "default_acl": "private",
            "querystring_auth": True,
            "querystring_expire": int(os.environ.get("AWS_QUERYSTRING_EXPIRE", "300")),
            "signature_version": "s3v4",
            "file_overwrite": False,
        },
    }
else:
    default_storage = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
STORAGES = {
    "default": default_storage,
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

# Security: every item of ``check --deploy`` is on in production.
if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy on every answer (django-csp): scripts only from our own static files,
# never inline (tests/test_csp.py checks every template and the pages that use JavaScript).
# Inline style attributes stay allowed: the Django admin and Swagger UI set them.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, UNSAFE_INLINE],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

# REST API.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "members.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "coop.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "coop.api.exception_handler",
    "COERCE_DECIMAL_TO_STRING": True,
    "DEFAULT_THROTTLE_CLASSES": ["coop.throttling.UserRateThrottle"],
    "DEFAULT_PARSER_CLASSES": [
        "coop.api.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "NUM_PROXIES": TRUSTED_PROXY_COUNT,
    "DEFAULT_THROTTLE_RATES": {"user": os.environ.get("API_RATE_LIMIT", "1000/hour")},
}
SPECTACULAR_SETTINGS = {
    "TITLE": "coop API",
    "DESCRIPTION": (
        "The cooperative's REST API: members, Activities and their ledgers, clients, invoices,"
        " credit notes and payments. Authenticate with a token in the header `Authorization:"
        " Token <key>` (`Bearer <key>` works too) or a browser session. Create tokens on your"
        " profile page (/profile/tokens/): each has a name and an expiry (at most 90 days; 30"
        " for staff and space managers), its key is shown once and only its hash is stored. List"
        " and revoke them there or with `GET /api/v1/tokens/` and `DELETE /api/v1/tokens/{id}/`."
        " Staff and space managers must enter their authenticator (TOTP) code when creating a"
        " token; a token created without it gets 401 for them. An expired or revoked token gets"
        " 401 saying so. Requests are throttled per user (429 with `Retry-After`)."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "LanguageEnum": "members.models.Language.choices",
        "QuoteStatusEnum": "quotes.models.QuoteStatus.choices",
        "RecurringInvoiceStatusEnum": "invoicing.models.RecurringInvoiceStatus.choices",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "coop.schema.add_problem_responses",
    ],
}

# Apps that hold members' personal data: each module's part of the data export and of the
# anonymisation (see audit/privacy.py).
COOP_PRIVACY_MODULES = [
    "members.privacy",
    "invoicing.privacy",
    "contracts.privacy",
    "copyrights.privacy",
    "spaces.privacy",
    "taxforms.privacy",
]

# Celery: Redis broker; PDF rendering has its own queue so it never delays the rest.
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", REDIS_URL)
CELERY_RESULT_BACKEND = None
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_ROUTES = {"*.render_*": {"queue": "pdf"}}
# A message is acknowledged when its task has finished, and goes back to the queue when the
# process running it dies: tasks are idempotent (they take primary keys and check the row), so
# running one twice produces nothing twice.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Redis hands a message that was taken but not acknowledged to another worker after this long.
# It must exceed the longest task *including* a retry's countdown (retry_backoff_max is 30
# minutes), or a task waiting for its retry would be delivered twice. It is only the broker's
# slow second net: the recovery sweep below enqueues lost work again within two minutes.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": int(os.environ.get("CELERY_VISIBILITY_TIMEOUT", str(2 * 60 * 60)))
}
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = TIME_ZONE
# The one place where periodic work is scheduled.
CELERY_BEAT_SCHEDULE = {
    "data-export-housekeeping": {
        "task": "audit.tasks.data_export_housekeeping_task",
        "schedule": 10 * 60,
    },
    "clear-expired-sessions": {
        "task": "coop.tasks.clear_expired_sessions_task",
        "schedule": 24 * 60 * 60,
    },
    "purge-expired-cache": {
        "task": "coop.tasks.purge_expired_cache_task",
        "schedule": 15 * 60,
    },
    "purge-old-api-tokens": {
        "task": "members.tasks.purge_api_tokens_task",
        "schedule": crontab(hour=3, minute=15),
    },
    "purge-portal-links": {
        "task": "portal.tasks.purge_expired_tokens_task",
        "schedule": crontab(hour=3, minute=45),
    },
    "purge-idempotency-keys": {
        "task": "coop.tasks.purge_idempotency_keys_task",
        "schedule": 60 * 60,
    },
    # The guarantee fund page shows the figures computed last (invoicing.guarantee_fund).
    "refresh-guarantee-fund": {
        "task": "invoicing.tasks.refresh_guarantee_fund_task",
        "schedule": 5 * 60,
    },
    "send-payment-reminders": {
        "task": "invoicing.tasks.send_payment_reminders_task",
        "schedule": crontab(hour=8, minute=0),
    },
    # Each period once, however often this runs: hourly, so a missed hour costs nothing.
    "run-due-recurring-invoices": {
        "task": "invoicing.tasks.run_due_recurring_invoices_task",
        "schedule": crontab(minute=20),
    },
    "advance-contracts": {
        "task": "contracts.tasks.advance_contracts_task",
        "schedule": crontab(hour=0, minute=30),
    },
    # Pays the work whose pay date has come, once however often it runs: hourly, so a missed
    # hour (or day) costs nothing.
    "pay-due-work": {
        "task": "contracts.tasks.pay_due_work_task",
        "schedule": crontab(minute=40),
    },
    # Quotes past their validity expire; clients who have not answered are reminded.
    "expire-and-remind-quotes": {
        "task": "quotes.reminders.expire_and_remind_task",
        "schedule": crontab(hour=7, minute=30),
    },
    "charge-lease-rent": {
        "task": "spaces.tasks.charge_leases_task",
        "schedule": crontab(hour=6, minute=0),
    },
    "release-no-shows": {
        "task": "spaces.tasks.release_no_shows_task",
        "schedule": 5 * 60,
    },
    # Work whose broker message was lost is enqueued again (also when a worker starts).
    "recover-lost-work": {
        "task": "coop.tasks.recover_lost_work_task",
        "schedule": 30,
    },
}
# The recovery sweep (coop.recovery): the queues it watches and each app's function.
COOP_RECOVERY_QUEUES = ["default", "pdf"]
COOP_RECOVERY_SWEEPS = [
    "members.tasks.recover_lost_work",
    "invoicing.tasks.recover_lost_work",
    "quotes.tasks.recover_lost_work",
    "contracts.tasks.recover_lost_work",
    "copyrights.tasks.recover_lost_work",
    "spaces.tasks.recover_lost_work",
    "taxforms.tasks.recover_lost_work",
]

# Employment declarations (Dimona, DOMAIN.md §7). The recording gateway files nothing and is the
# development default; "contracts.dimona_rest.RestDimonaGateway" files with ONSS's REST service,
# authenticated by a JWT signed with the key of the certificate registered in Chaman.
COOP_DIMONA_GATEWAY = os.environ.get(
    "COOP_DIMONA_GATEWAY", "contracts.dimona.RecordingDimonaGateway"
)
COOP_DIMONA = {
    "token_url": os.environ.get(
        "COOP_DIMONA_TOKEN_URL", "https://services.socialsecurity.be/REST/oauth/v5/token"
    ),
    "base_url": os.environ.get(
        "COOP_DIMONA_BASE_URL", "https://services.socialsecurity.be/REST/dimona/v1"
    ),
    "client_id": os.environ.get("COOP_DIMONA_CLIENT_ID", ""),
    "key_path": os.environ.get("COOP_DIMONA_KEY_PATH", ""),
    "cert_path": os.environ.get("COOP_DIMONA_CERT_PATH", ""),
    "scope": os.environ.get("COOP_DIMONA_SCOPE", ""),
    "employer_number": os.environ.get(
        "COOP_DIMONA_EMPLOYER_NUMBER", os.environ.get("COOP_ENTERPRISE_NUMBER", "0812345603")
    ),
    # Seconds: each HTTP exchange, then the first wait between two polls, doubled up to the last.
    "timeout": int(os.environ.get("COOP_DIMONA_TIMEOUT", "20")),
    "poll_attempts": int(os.environ.get("COOP_DIMONA_POLL_ATTEMPTS", "6")),
    "poll_first_delay": int(os.environ.get("COOP_DIMONA_POLL_FIRST_DELAY", "1")),
    "poll_max_delay": int(os.environ.get("COOP_DIMONA_POLL_MAX_DELAY", "16")),
}
# Pay on time (DOMAIN.md §1: within 7 working days): the scheduled run pays work that ended up
# to this many days ago; staff are warned this many working days before a pay date is missed.
COOP_PAYROLL_CATCH_UP_DAYS = int(os.environ.get("COOP_PAYROLL_CATCH_UP_DAYS", "60"))
COOP_PAYROLL_WARNING_WORKING_DAYS = int(os.environ.get("COOP_PAYROLL_WARNING_WORKING_DAYS", "3"))

# Reminders to clients who have not answered a quote: days after sending, days before expiry.
QUOTE_REMINDER_AFTER_DAYS = int(os.environ.get("QUOTE_REMINDER_AFTER_DAYS", "7"))
QUOTE_REMINDER_BEFORE_EXPIRY_DAYS = int(os.environ.get("QUOTE_REMINDER_BEFORE_EXPIRY_DAYS", "3"))

# The cooperative.
COOP_NAME = os.environ.get("COOP_NAME", "coop SCE")
COOP_SHARE_NOMINAL_VALUE = Decimal(os.environ.get("COOP_SHARE_NOMINAL_VALUE", "30.00"))
COOP_SHARE_PERIOD = os.environ.get("COOP_SHARE_PERIOD", "yearly")
COOP_FEE_RATE = Decimal(os.environ.get("COOP_FEE_RATE", "0.065"))

# The cooperative as the legal seller on every invoice (company-law mentions, DOMAIN.md §2).
COOP_SELLER = {
    "name": os.environ.get("COOP_LEGAL_NAME", "coop SCE"),
    "street": os.environ.get("COOP_STREET", "Rue Ransfort 27"),
    "postal_code": os.environ.get("COOP_POSTAL_CODE", "1080"),
    "city": os.environ.get("COOP_CITY", "Bruxelles"),
    "country": os.environ.get("COOP_COUNTRY", "BE"),
    "vat_number": os.environ.get("COOP_VAT_NUMBER", "BE0812345603"),
    "enterprise_number": os.environ.get("COOP_ENTERPRISE_NUMBER", "0812345603"),
    "iban": os.environ.get("COOP_IBAN", "BE71096123456769"),
    "bic": os.environ.get("COOP_BIC", "GKCCBEBB"),
    "legal_form": os.environ.get("COOP_LEGAL_FORM", "SCE"),
    "seat": os.environ.get("COOP_SEAT", "Rue Ransfort 27, 1080 Bruxelles"),
    # The register of legal entities and its court, in French; see COOP_SELLER_REGISTER.
    "register": os.environ.get("COOP_REGISTER", "RPM Bruxelles"),
    "email": os.environ.get("COOP_EMAIL", "invoices@coop.example"),
    "phone": os.environ.get("COOP_PHONE", "+32 2 542 10 80"),
    "website": os.environ.get("COOP_WEBSITE", SITE_URL),
}
# The cooperative's bank accounts: a bank statement of any other account is refused. Each is an
# IBAN or othr:<id>[:<scheme>[:<issuer>]]; they seed the bank accounts staff edit in the admin.
# The cooperative's employer registration number at ONSS/RSZ, for the DmfA (a made-up number
# by default, as the other mentions above: set the real one where declarations are filed).
COOP_ONSS_NUMBER = os.environ.get("COOP_ONSS_NUMBER", "51234567")
COOP_BANK_ACCOUNTS = env_list("COOP_BANK_ACCOUNTS", COOP_SELLER["iban"])
# A bank statement booking anything older than this many days is refused as a whole.
COOP_BANK_STATEMENT_MAX_AGE_DAYS = int(os.environ.get("COOP_BANK_STATEMENT_MAX_AGE_DAYS", "400"))
# The register line in each language of the invoices: RPM in French, RPR in Dutch, RLE
# (register of legal entities) in English, with the court's city in that language.
COOP_SELLER_REGISTER = {
    "fr": COOP_SELLER["register"],
    "nl": os.environ.get("COOP_REGISTER_NL", "RPR Brussel"),
    "en": os.environ.get("COOP_REGISTER_EN", "RLE Brussels"),
}
# Who the FPS Finance may contact about the Belcotax-on-web files (v0021_contactpersoon), and
# the language it writes in (fr or nl).
COOP_BELCOTAX_CONTACT = os.environ.get("COOP_BELCOTAX_CONTACT", "Payroll department")
COOP_BELCOTAX_LANGUAGE = os.environ.get("COOP_BELCOTAX_LANGUAGE", "fr")
# Submitted invoices above this amount (incl. VAT), or for a client never invoiced before,
# wait for a staff review instead of being issued at once.
COOP_INVOICE_REVIEW_THRESHOLD = Decimal(os.environ.get("COOP_INVOICE_REVIEW_THRESHOLD", "10000"))
COOP_INVOICE_REVIEW_NEW_CLIENTS = env_bool("COOP_INVOICE_REVIEW_NEW_CLIENTS", default=True)
# A quote's public link works until the end of its validity date, or this many days after it
# is sent when set.
QUOTE_LINK_DAYS = int(os.environ.get("QUOTE_LINK_DAYS", "0")) or None
# Payment reminders, in days after the due date; after the last one a formal notice is due.
COOP_REMINDER_OFFSETS = [int(days) for days in env_list("COOP_REMINDER_OFFSETS", "7,21,35")]
# Online payment of invoices (the checkout app): "" offers none, only the bank transfer with
# its QR code; "mollie" needs MOLLIE_API_KEY; "simulated" records and takes no money, for
# development and the demo only (refused in production).
PAYMENT_PROVIDER = os.environ.get("PAYMENT_PROVIDER", "" if PRODUCTION else "simulated")
if PRODUCTION and PAYMENT_PROVIDER == "simulated":
    raise ImproperlyConfigured("PAYMENT_PROVIDER=simulated takes no money: not in production.")
MOLLIE_API_KEY = os.environ.get("MOLLIE_API_KEY", "")
# The shared secret of Mollie's signed webhooks (X-Mollie-Signature); when set, an unsigned or
# wrongly signed webhook is refused. The payment is fetched from Mollie's API either way.
MOLLIE_WEBHOOK_SECRET = os.environ.get("MOLLIE_WEBHOOK_SECRET", "")
# The methods offered on the provider's page, in Mollie's names.
PAYMENT_METHODS = env_list("PAYMENT_METHODS", "bancontact,creditcard,directdebit")
PEPPOL_TRANSPORT = os.environ.get("PEPPOL_TRANSPORT", "invoicing.peppol.OutboxTransport")
# Where the official Peppol BIS Billing rule files are installed, one folder per release
# (<dir>/3.0.21/PEPPOL-EN16931-UBL.sch); see schemas/peppol-bis-billing-3.0/README.md.
PEPPOL_RULES_DIR = os.environ.get("PEPPOL_RULES_DIR", "")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}
