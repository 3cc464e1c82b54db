"""Outgoing mail (account emails, "a seat freed up for you") and the tasks that send it."""

from eventsite.env import IS_PRODUCTION, env_bool, env_int, env_str
from eventsite.settings import production

# Development prints mail to the console; production delivers it, over SMTP
# through EMAIL_HOST unless EMAIL_BACKEND names another backend that delivers.
_EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    production.SMTP_EMAIL_BACKEND
    if IS_PRODUCTION
    else "django.core.mail.backends.console.EmailBackend",
)
MAILERS = {
    "default": {
        "BACKEND": _EMAIL_BACKEND,
        "OPTIONS": {
            "host": env_str("EMAIL_HOST", "localhost"),
            "port": env_int("EMAIL_PORT", 25),
            "username": env_str("EMAIL_HOST_USER"),
            "password": env_str("EMAIL_HOST_PASSWORD"),
            "use_tls": env_bool("EMAIL_USE_TLS"),
        }
        if _EMAIL_BACKEND.endswith("smtp.EmailBackend")
        else {},
    }
}
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "eventsite@localhost")
SITE_NAME = env_str("SITE_NAME", "Eventsite")
# Links in emails are absolute: a promotion email can be sent while serving
# someone else's request (their cancel), so it cannot take the host from it.
SITE_URL = env_str("SITE_URL", f"http://127.0.0.1:{env_str('PORT', '8000')}").rstrip("/")

# Background work (emails) through django.tasks. The ImmediateBackend runs a
# task at once in the process that enqueues it, after the ledger has decided;
# a task backend with workers can replace it here without touching the callers.
TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
