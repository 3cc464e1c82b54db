"""The one place that reads the environment.

Settings (``eventsite/settings/``), ``manage.py`` and the gunicorn config read
their variables through these helpers, so a variable is parsed one way
everywhere and a malformed value stops the start with the variable's name
instead of a bare ``ValueError`` from deep inside the settings.

A value is read when a helper is called, not when this module is imported:
``manage.py`` puts the embedded MongoDB's address into the environment after
importing it.
"""

import json
import os
import re
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

TRUE_VALUES = frozenset({"1", "true", "yes", "on"})
FALSE_VALUES = frozenset({"", "0", "false", "no", "off"})


def env_str(name: str, default: str = "") -> str:
    """The variable as it is; ``default`` only when it is unset."""
    return os.environ.get(name, default)


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None:
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {value!r}.") from None


def env_bool(name: str, default: bool = False) -> bool:
    """1/true/yes/on or 0/false/no/off (any case; empty is off).

    Anything else is refused rather than read as off: ``SECURE_COOKIES=ture``
    must not quietly send cookies over plain HTTP.
    """
    value = os.environ.get(name)
    if value is None:
        return default
    value = value.strip().lower()
    if value in TRUE_VALUES:
        return True
    if value in FALSE_VALUES:
        return False
    raise ImproperlyConfigured(f"{name} must be on or off (1/0, true/false, yes/no): {value!r}.")


def env_list(name: str, default: str = "") -> list[str]:
    """A comma-separated list; blanks around and between items are dropped."""
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


RATE = re.compile(r"\d+/\d*[smhd]")


def env_rate(name: str, default: str) -> str:
    """A rate such as ``10/m`` (how many per second, minute, hour or day; ``5/10s`` too)."""
    value = os.environ.get(name, default).strip()
    if not RATE.fullmatch(value):
        raise ImproperlyConfigured(
            f"{name} must be a rate such as 10/m (per s, m, h or d), not {value!r}."
        )
    return value


def env_json(name: str) -> dict:
    """A JSON object (a storage backend's options, say); {} when unset."""
    value = os.environ.get(name, "").strip()
    if not value:
        return {}
    try:
        parsed = json.loads(value)
    except ValueError:
        parsed = None
    if not isinstance(parsed, dict):
        raise ImproperlyConfigured(f"{name} must be a JSON object, not {value!r}.")
    return parsed


def env_is_set(name: str) -> bool:
    """Set to something other than blanks: what a required variable must be."""
    return bool(os.environ.get(name, "").strip())


# Where the site keeps local state: the SQLite database, the embedded
# MongoDB's files, generated keys in development, collected static files.
# Made here, so it exists wherever its path is known.
VAR_DIR = Path(env_str("EVENTSITE_VAR_DIR", str(BASE_DIR / "var"))).resolve()
VAR_DIR.mkdir(parents=True, exist_ok=True)

# How the site is deployed. "development" (the default) needs no configuration
# at all; "production" refuses to start without the variables a real
# deployment needs (see eventsite/settings/production.py) and turns on the
# HTTPS-only defaults (see eventsite/settings/security.py).
ENVIRONMENTS = ("development", "production")
ENVIRONMENT = env_str("DJANGO_ENV").strip().lower() or "development"
if ENVIRONMENT not in ENVIRONMENTS:
    # A typo such as "prod" must not quietly start a development site.
    raise ImproperlyConfigured(
        f"DJANGO_ENV must be one of {', '.join(ENVIRONMENTS)}, not {ENVIRONMENT!r}."
    )
IS_PRODUCTION = ENVIRONMENT == "production"


# How an RSVP takes its seat (events.ledger.strategies). "combined" serves the
# site, and "atomic" (one write per request, no combining) may too; the others
# exist to be compared and to show the checks catching an overbooking, so any
# other STRATEGY is honoured only where a load tool or the test suite says it
# runs a proving ground (PROVING_GROUND=1), never in production: nobody can
# deploy the naive one, or the broken batch guard, by accident.
SERVING_STRATEGIES = ("combined", "atomic")
SEAT_STRATEGIES = (
    *SERVING_STRATEGIES,
    "transaction",
    "optimistic",
    "redis_lock",
    "naive",
    "unguarded_batch",
)
PROVING_GROUND = "EVENTSITE_PROVING_GROUND"


def seat_strategy() -> str:
    """``STRATEGY`` (default combined), refused unless it may be used here."""
    name = env_str("STRATEGY").strip().lower() or "combined"
    if name not in SEAT_STRATEGIES:
        raise ImproperlyConfigured(
            f"STRATEGY must be one of {', '.join(SEAT_STRATEGIES)}, not {name!r}."
        )
    if name in SERVING_STRATEGIES:
        return name
    if IS_PRODUCTION:
        raise ImproperlyConfigured(
            f"STRATEGY={name}: production takes seats with combined or atomic only; unset STRATEGY."
        )
    if not env_bool(PROVING_GROUND):
        raise ImproperlyConfigured(
            f"STRATEGY={name} is for load tests and the test suite only (it may overbook or "
            f"refuse under load); they set {PROVING_GROUND}=1. Unset STRATEGY to serve the site."
        )
    return name


def trusted_proxy_count() -> int:
    """How many proxies of ours stand in front of the site (``TRUSTED_PROXY_COUNT``).

    Each appends the address it was reached from to X-Forwarded-For, so the
    client is the entry that many from the end; entries before it are the
    client's own say and count for nothing. Default: one behind the proxy
    ``BEHIND_HTTPS_PROXY`` declares, none without (then X-Forwarded-For is
    ignored: anyone could write it).
    """
    count = env_int("TRUSTED_PROXY_COUNT", 1 if env_bool("BEHIND_HTTPS_PROXY") else 0)
    if count < 0:
        raise ImproperlyConfigured(f"TRUSTED_PROXY_COUNT must be 0 or more, not {count}.")
    return count
