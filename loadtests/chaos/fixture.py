"""What ``make chaos`` makes before the crowd: users with tokens and its two events.

Runs with Django set up on the stack's databases (``loadtests.chaos.command``
imports it once ``stack.running`` has started).
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.utils import timezone

from events import services


def make(
    site_url: str, path: Path, users: int, capacity: int, outage_capacity: int
) -> tuple[dict, int]:
    """``make_loadtest_fixture``'s users and the crowd's event (in ``path``); the outage's event."""
    call_command(
        "make_loadtest_fixture", users=users, capacity=capacity, out=path,
        api_url=f"{site_url}/api",
    )  # fmt: skip
    outage = services.create_event(
        capacity=outage_capacity,
        organiser=get_user_model().objects.get(username="loadtest-organiser"),
        title="Chaos: the held outage",
        venue="Chaos",
        starts_at=timezone.now() + timedelta(days=1),
    )
    return json.loads(path.read_text()), outage.pk
