"""Outgoing mail (account emails, "a seat freed up for you") and the tasks that send it."""

from django.core.exceptions import ImproperlyConfigured

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
        # Each message a file in a directory (the load tools' mail worker).
        else {"file_path": env_str("EMAIL_FILE_PATH")}
        if _EMAIL_BACKEND.endswith("filebased.EmailBackend")
        else {},
    }
}
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "eventsite@localhost")
SITE_NAME = env_str("SITE_NAME", "Eventsite")
# Links in emails are absolute: a promotion email can be sent while serving
# someone else's request (their cancel), so it cannot take the host from it.
SITE_URL = env_str("SITE_URL", f"http://127.0.0.1:{env_str('PORT', '8000')}").rstrip("/")

# Background work (emails) through django.tasks. The database backend
# (django-tasks-db) keeps queued tasks in the SQL database and a worker process
# runs them (`manage.py db_worker`, started beside gunicorn by `make run`), so
# an RSVP never waits for a mail server. TASKS_BACKEND=immediate runs each task
# at once in the process that queued it instead (no worker needed; the tests).
TASKS_BACKENDS = {
    "database": "django_tasks_db.DatabaseBackend",
    "immediate": "django.tasks.backends.immediate.ImmediateBackend",
}
_TASKS_BACKEND = env_str("TASKS_BACKEND", "database").strip().lower()
if _TASKS_BACKEND not in TASKS_BACKENDS:
    raise ImproperlyConfigured(
        f"TASKS_BACKEND must be one of {', '.join(TASKS_BACKENDS)}, not {_TASKS_BACKEND!r}."
    )
TASKS = {"default": {"BACKEND": TASKS_BACKENDS[_TASKS_BACKEND]}}

# Seconds a change notice waits after an organiser moves a published event
# (its time, zone, venue or join link): edits in a row send one email, and
# a change undone within it sends none.
CHANGE_NOTICE_DELAY = 120

# How long a finished task's row (its result, or a failed one's traceback under
# *DB task results*) is kept before `manage.py serve` prunes it
# (events.task_worker.prune_finished); queued and running tasks are never pruned.
TASK_RESULTS_KEEP_DAYS = env_int("TASK_RESULTS_KEEP_DAYS", 7)
if TASK_RESULTS_KEEP_DAYS < 0:
    raise ImproperlyConfigured("TASK_RESULTS_KEEP_DAYS must be 0 or more (days).")
