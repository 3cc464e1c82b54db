"""What a production start needs, checked before anything else is configured.

Production is declared with ``DJANGO_ENV=production`` (see eventsite/env.py).
Development needs no variable at all: it generates its keys into ``var/``,
prints mail to the console and answers on localhost. None of that may happen
silently in production, so a production start without these variables stops
with ImproperlyConfigured naming every one that is missing, before a key
could be generated into ``var/``.
"""

from django.core.exceptions import ImproperlyConfigured

from eventsite.env import IS_PRODUCTION, SERVING_STRATEGIES, env_bool, env_is_set, env_str

SMTP_EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
# Backends that never deliver (Django's mail.E001 refuses the same ones).
DEVELOPMENT_EMAIL_BACKENDS = frozenset(
    {
        "django.core.mail.backends.console.EmailBackend",
        "django.core.mail.backends.dummy.EmailBackend",
        "django.core.mail.backends.filebased.EmailBackend",
        "django.core.mail.backends.locmem.EmailBackend",
    }
)

# Each variable production cannot do without, and why its development
# default is wrong there.
REQUIRED_IN_PRODUCTION = {
    "DJANGO_SECRET_KEY": "a key generated into var/ differs on every host and every fresh disk",
    "ALLOWED_HOSTS": "the host names the site answers to, not localhost",
    "SITE_URL": "the public https:// address that links in emails point to",
    "DEFAULT_FROM_EMAIL": "a sender address mail servers accept, not eventsite@localhost",
    "HEADLESS_JWT_PRIVATE_KEY": "every host must sign and check API tokens with the same key",
    "MONGODB_URI": "the ledger's MongoDB (a replica set); production starts no embedded server",
}


def production_problems() -> list[str]:
    """Why the current environment cannot run in production, one line each."""
    problems = [
        f"{name} is not set: {why}."
        for name, why in REQUIRED_IN_PRODUCTION.items()
        if not env_is_set(name)
    ]
    backend = env_str("EMAIL_BACKEND", SMTP_EMAIL_BACKEND)
    if backend in DEVELOPMENT_EMAIL_BACKENDS:
        problems.append(
            f"EMAIL_BACKEND is {backend}, which delivers no mail: unset it to send "
            "through EMAIL_HOST over SMTP, or name a backend that delivers."
        )
    elif backend == SMTP_EMAIL_BACKEND and not env_is_set("EMAIL_HOST"):
        problems.append("EMAIL_HOST is not set: the SMTP server that sends the site's mail.")
    if env_str("STRATEGY").strip().lower() not in ("", *SERVING_STRATEGIES):
        problems.append("STRATEGY names a seat strategy that may not serve the site: unset it.")
    if env_bool("DJANGO_DEBUG"):
        problems.append("DJANGO_DEBUG is on: production never shows tracebacks to visitors.")
    return problems


if IS_PRODUCTION and (problems := production_problems()):
    raise ImproperlyConfigured(
        "DJANGO_ENV=production, but the environment is not ready for it:\n"
        + "\n".join(f"  - {problem}" for problem in problems)
        + "\ndocs/configuration.md lists every variable."
    )
