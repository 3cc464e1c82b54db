"""Django itself: keys, hosts, apps, middleware, templates, time, static files."""

import secrets

from eventsite.env import BASE_DIR, IS_PRODUCTION, VAR_DIR, env_bool, env_json, env_list, env_str


def _secret_key() -> str:
    """Use DJANGO_SECRET_KEY, else a key generated once into var/ and kept.

    Production always sets the variable (eventsite/settings/production.py).
    """
    if key := env_str("DJANGO_SECRET_KEY"):
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
# DJANGO_ENV=production (eventsite/env.py), for code that must behave apart
# there: no demo accounts, for one.
IS_PRODUCTION = IS_PRODUCTION
DEBUG = env_bool("DJANGO_DEBUG")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

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
    "django_tasks_db",  # the task queue of emails (settings/mail.py)
    # The JSON API: allauth's headless mode issues its tokens (settings/auth.py),
    # Django REST framework and drf-spectacular serve it (settings/api.py).
    "allauth.headless",
    "rest_framework",
    "drf_spectacular",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Outside everything that may answer on its own (static files, a 503 while
    # a database is down), so every response carries the policy.
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "events.middleware.DependencyUnavailableMiddleware",
    "events.errors.RefusedRequestMiddleware",  # a body too large or nested too deeply: 4xx
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
]

# Request bodies: the site takes forms and small JSON, and no uploads. 64 KiB holds
# an event's description of some 10,000 words; anything larger is refused 413
# (events/refusals.py). The front (eventsite/haproxy.cfg) buffers a request of this
# size whole before gunicorn sees it, so a slow sender never holds a thread.
DATA_UPLOAD_MAX_MEMORY_SIZE = 64 * 1024
DATA_UPLOAD_MAX_NUMBER_FILES = 0  # no form of the site takes a file

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
                # {{ csp_nonce }} for inline <script> and <style> under the
                # Content Security Policy (settings/security.py).
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# Messages ride in a cookie so an RSVP redirect writes nothing to the database.
MESSAGE_STORAGE = "django.contrib.messages.storage.cookie.CookieStorage"

LANGUAGE_CODE = "en-gb"
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Uploaded pictures (eventsite/pictures.py) go through the default storage:
# files under var/media/ served by the site itself, or any Django storage
# backend (an S3 bucket, say) named by STORAGE_BACKEND with its OPTIONS as
# JSON in STORAGE_OPTIONS; MEDIA_URL is then the bucket's public address.
MEDIA_ROOT = VAR_DIR / "media"
MEDIA_URL = env_str("MEDIA_URL", "/media/")
STORAGES = {
    "default": {
        "BACKEND": env_str("STORAGE_BACKEND", "django.core.files.storage.FileSystemStorage"),
        "OPTIONS": env_json("STORAGE_OPTIONS"),
    },
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
