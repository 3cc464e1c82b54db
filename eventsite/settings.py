"""Settings for the event site.

Every deploy-specific value comes from an environment variable, read here and
nowhere else. The defaults make a safe local run: DEBUG off, SQLite and the
embedded MongoDB under ``var/``, a secret key generated on first use.
"""

import os
import secrets
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("EVENTSITE_VAR_DIR", BASE_DIR / "var")).resolve()
VAR_DIR.mkdir(parents=True, exist_ok=True)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def _secret_key() -> str:
    """Use DJANGO_SECRET_KEY, else a key generated once into var/ and kept."""
    if key := os.environ.get("DJANGO_SECRET_KEY"):
        return key
    key_file = VAR_DIR / "secret_key"
    if not key_file.exists():
        try:
            with open(key_file, "x") as handle:  # "x": two first starts never race
                handle.write(secrets.token_urlsafe(50))
            key_file.chmod(0o600)
        except FileExistsError:
            pass
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = env_bool("DJANGO_DEBUG")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "allauth",
    "allauth.account",
    "accounts",
    "events",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "events.middleware.DependencyUnavailableMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
]

ROOT_URLCONF = "eventsite.urls"
WSGI_APPLICATION = "eventsite.wsgi.application"

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

# Django's own data: SQLite under var/ unless DATABASE_URL names another.
DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Several gunicorn workers share the file: WAL lets readers run beside a
    # writer, IMMEDIATE takes the write lock up front instead of failing midway.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    # A file (not memory) so a live gunicorn can share it; per process so runs never collide.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test_db_{os.getpid()}.sqlite3")}
    DATABASES["default"]["CONN_MAX_AGE"] = 0

# Django's cache: per-process memory, or Redis when CACHE_URL names one (then
# shared by every process and host: the short-lived seat counts of pages, and
# allauth's login throttle). Nothing is ever decided from it.
CACHE_URL = os.environ.get("CACHE_URL", "")
CACHES = {
    "default": (
        {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": CACHE_URL,
            # A Redis that is down costs a page a quarter second, not a hang.
            "OPTIONS": {"socket_connect_timeout": 0.25, "socket_timeout": 0.25},
        }
        if CACHE_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}
# How long a page may show seat counts read earlier (seconds; 0: never cached).
SEATS_CACHE_SECONDS = int(os.environ.get("SEATS_CACHE_SECONDS", "1"))

# The RSVP ledger. Unset MONGODB_URI means the embedded server (see
# eventsite/embedded_mongo.py), whose address manage.py puts in the environment.
MONGODB_URI = os.environ.get("MONGODB_URI", "")
MONGODB_DB = os.environ.get("MONGODB_DB", "eventsite")
MONGODB_TIMEOUT_MS = int(os.environ.get("MONGODB_TIMEOUT_MS", "2000"))

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]

# Accounts (django-allauth): log in with email or username and a password.
SITE_NAME = os.environ.get("SITE_NAME", "Eventsite")
ACCOUNT_LOGIN_METHODS = {"email", "username"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "username*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = os.environ.get("ACCOUNT_EMAIL_VERIFICATION", "optional")
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_LOGOUT_ON_GET = False
# allauth's login throttle (30/m per IP by default). A load test logs many users
# in from one address, so the stack ``make loadtest`` starts raises it.
ACCOUNT_RATE_LIMITS = {"login": os.environ.get("LOGIN_RATE_LIMIT", "30/m/ip")}
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "events:list"
ACCOUNT_LOGOUT_REDIRECT_URL = "events:list"
_EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
MAILERS = {
    "default": {
        "BACKEND": _EMAIL_BACKEND,
        "OPTIONS": {
            "host": os.environ.get("EMAIL_HOST", "localhost"),
            "port": int(os.environ.get("EMAIL_PORT", "25")),
            "username": os.environ.get("EMAIL_HOST_USER", ""),
            "password": os.environ.get("EMAIL_HOST_PASSWORD", ""),
            "use_tls": env_bool("EMAIL_USE_TLS"),
        }
        if _EMAIL_BACKEND.endswith("smtp.EmailBackend")
        else {},
    }
}
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "eventsite@localhost")
# Links in emails are absolute: a promotion email can be sent while serving
# someone else's request (their cancel), so it cannot take the host from it.
SITE_URL = os.environ.get("SITE_URL", f"http://127.0.0.1:{os.environ.get('PORT', '8000')}").rstrip(
    "/"
)

# Background work (emails) through django.tasks. The ImmediateBackend runs a
# task at once in the process that enqueues it, after the ledger has decided;
# a task backend with workers can replace it here without touching the callers.
TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}

# Messages ride in a cookie so an RSVP redirect writes nothing to the database.
MESSAGE_STORAGE = "django.contrib.messages.storage.cookie.CookieStorage"

LANGUAGE_CODE = "en-gb"
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}

SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("BEHIND_HTTPS_PROXY") else None
)
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = env_bool("SECURE_COOKIES")

# --- API -------------------------------------------------------------------
# The JSON API under /api/ (Django REST framework), its OpenAPI schema
# (drf-spectacular) and its Bearer tokens: django-allauth's headless mode with
# the JWT strategy, so logins, refreshes and token checks are allauth's code.
INSTALLED_APPS += [
    "allauth.headless",
    "rest_framework",
    "drf_spectacular",
]


def _jwt_private_key() -> str:
    """Use HEADLESS_JWT_PRIVATE_KEY (PEM), else an RSA key generated once into var/.

    Every worker and every manage.py command must sign and check tokens with
    the same key, so a generated key is published with a hard link: a second
    first start finds the finished file, never a half-written one.
    """
    if key := os.environ.get("HEADLESS_JWT_PRIVATE_KEY"):
        return key.replace("\\n", "\n")  # PEMs often arrive on one line
    key_file = VAR_DIR / "jwt_private_key.pem"
    if not key_file.exists():
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import rsa

        pem = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        tmp = key_file.with_name(f"{key_file.name}.{os.getpid()}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(pem)
        try:
            os.link(tmp, key_file)
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    return key_file.read_text()


# Headless mode adds allauth's JSON endpoints under /_allauth/app/v1/ (login,
# token refresh, logout, ...); the account pages keep working. Only the "app"
# client: browsers use the site's own pages and their session cookie.
HEADLESS_ONLY = False
HEADLESS_CLIENTS = ("app",)
HEADLESS_TOKEN_STRATEGY = "allauth.headless.tokens.strategies.jwt.JWTTokenStrategy"
HEADLESS_JWT_ALGORITHM = "RS256"
HEADLESS_JWT_PRIVATE_KEY = _jwt_private_key()
# At least an hour by default, so a load test's tokens outlive the test.
HEADLESS_JWT_ACCESS_TOKEN_EXPIRES_IN = int(os.environ.get("API_ACCESS_TOKEN_SECONDS", "3600"))
HEADLESS_JWT_REFRESH_TOKEN_EXPIRES_IN = int(os.environ.get("API_REFRESH_TOKEN_SECONDS", "86400"))
# Access tokens are checked by signature and expiry alone (allauth's default):
# no session lookup per API call. Logging out revokes the refresh token, and an
# access token then lives out its lifetime.
HEADLESS_JWT_STATEFUL_VALIDATION_ENABLED = env_bool("API_STATEFUL_TOKENS")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # First, so an anonymous caller is told 401 with "WWW-Authenticate: Bearer".
        "accounts.authentication.JWTAuthentication",
        "rest_framework.authentication.SessionAuthentication",  # page JS, with CSRF
    ],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_PAGINATION_CLASS": "events.api.pagination.StrictPageNumberPagination",
    "PAGE_SIZE": 20,
    "EXCEPTION_HANDLER": "events.api.exceptions.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Eventsite API",
    "DESCRIPTION": (
        "RSVP to events with a hard capacity; never overbooked. Every error body "
        "is JSON with a human-readable `message`.\n\n"
        "Get a Bearer token: `POST /_allauth/app/v1/auth/login` with JSON "
        '`{"username": ..., "password": ...}` (or `"email"`) and read '
        "`meta.access_token`; renew it with `POST /_allauth/app/v1/tokens/refresh` "
        'and `{"refresh_token": ...}`. Browser sessions work too (with the CSRF token).'
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # /api/docs/ loads Swagger UI from a CDN: bundling it (drf-spectacular-sidecar)
    # made every collectstatic 20 s slower for one page.
    "SWAGGER_UI_DIST": "https://cdn.jsdelivr.net/npm/swagger-ui-dist@5",
    "SWAGGER_UI_FAVICON_HREF": "https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/favicon-32x32.png",
}
