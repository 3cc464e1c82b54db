"""Small helpers shared by the tests."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.sessions.backends.db import SessionStore
from django.utils import timezone

from events import services
from events.models import Event

PASSWORD = "correct horse battery staple"
OUTCOME = re.compile(r'data-outcome="outcome-([a-z_]+)"')
CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


@dataclass(frozen=True)
class LiveSite:
    url: str
    pid: int


def make_users(count: int, prefix: str = "user") -> list:
    """Many users at once: one password hash, one bulk insert."""
    User = get_user_model()
    hashed = make_password(PASSWORD)
    names = [f"{prefix}{i}" for i in range(count)]
    User.objects.bulk_create(
        User(username=name, email=f"{name}@example.com", password=hashed) for name in names
    )
    return list(User.objects.filter(username__in=names).order_by("pk"))


def session_cookie(user) -> dict[str, str]:
    """A logged-in session for ``user``, as the login view would have made it."""
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    return {settings.SESSION_COOKIE_NAME: session.session_key}


def make_event(organiser, capacity: int, *, days: float = 7, **fields) -> Event:
    fields.setdefault("title", f"Event of {capacity}")
    fields.setdefault("venue", "Test hall")
    return services.create_event(
        capacity=capacity,
        organiser=organiser,
        starts_at=timezone.now() + timedelta(days=days),
        **fields,
    )


def outcomes(html: str) -> list[str]:
    return OUTCOME.findall(html)


def csrf_token(html: str) -> str:
    match = CSRF_INPUT.search(html)
    assert match, "page should carry a CSRF token"
    return match.group(1)
