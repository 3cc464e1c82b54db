"""Small helpers shared by the tests."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import requests
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.tokens import issue_access_token
from events import services
from events.apps import ORGANISERS_GROUP
from events.models import Event
from eventsite.env import PROVING_GROUND
from loadtests import fixtures, forms, stack
from loadtests.crowd import fire_together as fire_together  # the one, for the load tools too
from loadtests.stack import wait_for as wait_for  # the one polling helper, for the tests too

PASSWORD = "correct horse battery staple"
OUTCOME = re.compile(r'data-outcome="outcome-([a-z_]+)"')


ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class LiveSite:
    url: str
    pid: int


def session_database_url() -> str:
    """A DATABASE_URL naming the database pytest-django created for this session."""
    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    return os.environ["DATABASE_URL"].rsplit("/", 1)[0] + f"/{db['NAME']}"


def site_env(database_url: str, **extra: str) -> dict[str, str]:
    """The environment of a server or command on this test session's databases.

    ``extra``: more variables; a ``STRATEGY`` comes with the proving-ground
    marker that lets the settings honour it.
    """
    if "STRATEGY" in extra:
        extra = {PROVING_GROUND: "1", **extra}
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "MONGODB_URI": settings.MONGODB_URI,
        "MONGODB_DB": settings.MONGODB_DB,
        "DJANGO_SETTINGS_MODULE": "eventsite.settings",
        **extra,
    }


@contextmanager
def live_gunicorn(
    database_url: str, workers: int = 2, healthy: bool = True, **extra: str
) -> Iterator[LiveSite]:
    """The site served as deployed, on this test session's databases (``extra``: env)."""
    env = site_env(database_url, **extra)
    with stack.gunicorn(env, workers, healthy=healthy) as (url, process):
        yield LiveSite(url=url, pid=process.pid)


def redis_caches(location: str) -> dict:
    """CACHES for Django's Redis cache at ``location``, with the site's short timeouts."""
    return {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": location,
            "OPTIONS": {"socket_connect_timeout": 0.25, "socket_timeout": 0.25},
        }
    }


def down_redis_url() -> str:
    """A Redis address nothing listens on: a cache that is down."""
    return f"redis://127.0.0.1:{stack.free_port()}/0"


def make_users(count: int, prefix: str = "user") -> list:
    """Many users at once, all with ``PASSWORD``."""
    return fixtures.make_users(count, prefix, PASSWORD)


def session_cookie(user) -> dict[str, str]:
    """A logged-in session for ``user``, as the login view would have made it."""
    return {settings.SESSION_COOKIE_NAME: fixtures.login_sessions([user])[0]}


def make_organiser(name: str):
    """Staff in the Organisers group, as docs/organisers.md says an organiser is made."""
    user = get_user_model().objects.create_user(name, f"{name}@example.com", "pw", is_staff=True)
    user.groups.add(Group.objects.get(name=ORGANISERS_GROUP))
    return user


def make_event(organiser, capacity: int, *, days: float = 7, **fields) -> Event:
    fields.setdefault("title", f"Event of {capacity}")
    fields.setdefault("venue", "Test hall")
    return services.create_event(
        capacity=capacity,
        organiser=organiser,
        starts_at=timezone.now() + timedelta(days=days),
        **fields,
    )


def opening_with_a_draw(organiser, capacity: int, **fields) -> Event:
    """An event whose RSVPs are entries in a draw an hour from now."""
    return make_event(organiser, capacity, draw_at=timezone.now() + timedelta(hours=1), **fields)


def draw_time_comes(event: Event) -> None:
    """The event's draw time is a second ago (its draw not yet run)."""
    Event.objects.filter(pk=event.pk).update(draw_at=timezone.now() - timedelta(seconds=1))


def change_form(event: Event, organiser, capacity: int) -> dict:
    """The admin's event form as a browser would post it, for ``event`` as it stands."""
    local = timezone.localtime(event.starts_at)
    return {
        "title": event.title,
        "status": event.status,
        "description": event.description,
        "starts_at_0": local.strftime("%Y-%m-%d"),
        "starts_at_1": local.strftime("%H:%M:%S"),
        "ends_at_0": "",
        "ends_at_1": "",
        "venue": event.venue,
        "organiser": organiser.pk,
        "capacity": capacity,
        "guests_allowed": event.guests_allowed,
        "draw_losers": event.draw_losers,
        "waitlist": "on",
        "reminders": ", ".join(f"{lead // 60}m" for lead in event.reminders),
    }


def api_call(
    method: str, url: str, token: str, body: dict | None = None
) -> Callable[[], requests.Response]:
    """One API request with a Bearer token, ready to be fired with ``fire_together``."""
    http = requests.Session()
    http.headers["Authorization"] = f"Bearer {token}"
    return lambda: http.request(method, url, json=body or {}, timeout=60)


def bearer(user) -> APIClient:
    """An in-process API client holding a real access token for ``user``."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {issue_access_token(user)}")
    return client


def outcomes(html: str) -> list[str]:
    return OUTCOME.findall(html)


def csrf_token(html: str) -> str:
    token = forms.csrf_token(html)
    assert token, "page should carry a CSRF token"
    return token


def logged_in(user, **options) -> Client:
    """A test client with ``user`` logged in (``options`` go to ``Client``)."""
    client = Client(**options)
    client.force_login(user)
    return client
