"""Small helpers shared by the tests."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from events import services
from events.models import Event
from loadtests import fixtures

PASSWORD = "correct horse battery staple"
OUTCOME = re.compile(r'data-outcome="outcome-([a-z_]+)"')
CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


@dataclass(frozen=True)
class LiveSite:
    url: str
    pid: int


def make_users(count: int, prefix: str = "user") -> list:
    """Many users at once, all with ``PASSWORD``."""
    return fixtures.make_users(count, prefix, PASSWORD)


def session_cookie(user) -> dict[str, str]:
    """A logged-in session for ``user``, as the login view would have made it."""
    return {settings.SESSION_COOKIE_NAME: fixtures.login_sessions([user])[0]}


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
