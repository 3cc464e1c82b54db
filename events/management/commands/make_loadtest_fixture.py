"""Users with tokens and one fresh event, as JSON, for load tests and scripts.

Writes ``{"api_url", "event_id", "users": [{"id", "username", "password", "token"}],
"guests_allowed", "approval", "organiser_token"}``: ``--guests N`` lets each RSVP
bring up to N guests, ``--approval`` makes every RSVP a request that the
organiser (whose token is the fixture's) approves, ``--lottery-in S`` opens the
event with a draw S seconds later (RSVPs before it are entries).
Users are created (or reused, with their password reset to the known one) in
bulk with one password hash; each gets an allauth access token over a new
logged-in session, as if they had logged in through the API.
"""

from __future__ import annotations

import json
import os
import sys
import time
from datetime import timedelta
from itertools import batched
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.test.utils import override_settings
from django.utils import timezone

from accounts.services import record_verified_emails
from accounts.tokens import issue_access_tokens
from events import services
from events.models import MAX_GUESTS
from eventsite.env import env_str

DEFAULT_PASSWORD = "loadtest-password"
MIN_TOKEN_SECONDS = 3600  # a load test must not outlive its tokens
BATCH = 500  # names per query, well under SQLite's bound-parameter limit


def ensure_users(names: list[str], password: str) -> list:
    """The users named, created or reused, all with ``password``; in ``names`` order."""
    User = get_user_model()
    hashed = make_password(password)  # once: hashing is deliberately slow
    found: dict[str, Any] = {}
    with transaction.atomic():
        for batch in batched(names, BATCH, strict=False):
            User.objects.filter(username__in=batch).update(password=hashed, is_active=True)
            existing = set(
                User.objects.filter(username__in=batch).values_list("username", flat=True)
            )
            User.objects.bulk_create(
                User(username=name, email=f"{name}@loadtest.example.com", password=hashed)
                for name in batch
                if name not in existing
            )
            found.update((u.username, u) for u in User.objects.filter(username__in=batch))
        record_verified_emails(users=found.values())  # page users log in with the password
    return [found[name] for name in names]


class Command(BaseCommand):
    help = (
        "Create (or reuse) N users with a known password and one fresh event of capacity C; "
        "give each user an API access token; write the fixture as JSON."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--users", type=int, required=True, help="How many users (N).")
        parser.add_argument("--capacity", type=int, required=True, help="Seats of the event (C).")
        parser.add_argument("--out", type=Path, help="Write here instead of standard output.")
        parser.add_argument(
            "--api-url",
            default=f"http://127.0.0.1:{env_str('PORT', '8000')}/api",
            help="Base URL of the API, written into the fixture (default: %(default)s).",
        )
        parser.add_argument(
            "--starts-in",
            type=int,
            default=86400,
            metavar="SECONDS",
            help="The event starts this long from now (default: %(default)s).",
        )
        parser.add_argument(
            "--reminder",
            type=int,
            metavar="SECONDS",
            help="One reminder this long before the start (default: none, so a load run "
            "mails nobody a reminder).",
        )
        parser.add_argument(
            "--guests",
            type=int,
            default=0,
            metavar="N",
            help=f"Guests each RSVP may bring, 0 to {MAX_GUESTS} (default: %(default)s).",
        )
        parser.add_argument(
            "--approval",
            action="store_true",
            help="RSVPs are requests the organiser approves (the fixture holds their token).",
        )
        parser.add_argument(
            "--lottery-in",
            type=int,
            metavar="SECONDS",
            help="The event opens with a draw this many seconds from now: RSVPs before it "
            "are entries (default: none).",
        )
        parser.add_argument("--prefix", default="loadtest-", help="Usernames are PREFIX0..N-1.")
        parser.add_argument("--password", default=DEFAULT_PASSWORD, help="Everyone's password.")
        parser.add_argument(
            "--token-seconds",
            type=int,
            default=max(settings.HEADLESS_JWT_ACCESS_TOKEN_EXPIRES_IN, MIN_TOKEN_SECONDS),
            help="Lifetime of the access tokens (default: %(default)s).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        count, capacity = options["users"], options["capacity"]
        if count < 1 or capacity < 0:
            raise CommandError("--users must be at least 1 and --capacity at least 0.")
        reminder, starts_in = options["reminder"], options["starts_in"]
        if starts_in < 1 or (reminder is not None and not 0 < reminder < starts_in):
            raise CommandError("--starts-in must be positive, --reminder between 0 and it.")
        lottery_in = options["lottery_in"]
        if lottery_in is not None and not 0 < lottery_in < starts_in:
            raise CommandError("--lottery-in must be positive and before --starts-in.")
        if not 0 <= options["guests"] <= MAX_GUESTS:
            raise CommandError(f"--guests must be between 0 and {MAX_GUESTS}.")
        if not options["prefix"]:
            raise CommandError("--prefix must not be empty: it keeps load-test users apart.")
        started = time.monotonic()

        users = ensure_users([f"{options['prefix']}{i}" for i in range(count)], options["password"])
        organiser = self._organiser()
        event = services.create_event(
            capacity=capacity,
            organiser=organiser,
            title=f"Load test ({count} users, {capacity} seats)",
            venue="Load test",
            description="Made by make_loadtest_fixture.",
            starts_at=timezone.now() + timedelta(seconds=starts_in),
            reminders=[reminder] if reminder is not None else [],
            guests_allowed=options["guests"],
            requires_approval=options["approval"],
            draw_at=timezone.now() + timedelta(seconds=lottery_in) if lottery_in else None,
        )
        with override_settings(HEADLESS_JWT_ACCESS_TOKEN_EXPIRES_IN=options["token_seconds"]):
            tokens = issue_access_tokens([*users, organiser])

        fixture = {
            "api_url": options["api_url"].rstrip("/"),
            "event_id": event.pk,
            "users": [
                {
                    "id": u.pk,
                    "username": u.username,
                    "password": options["password"],
                    "token": tokens[u.pk],
                }
                for u in users
            ],
            "guests_allowed": options["guests"],
            "approval": options["approval"],
            "organiser_token": tokens[organiser.pk],
            "draw_at": event.draw_at.isoformat() if event.draw_at else None,
        }
        text = json.dumps(fixture, indent=1) + "\n"
        if options["out"] is None:
            self.stdout.write(text, ending="")
            return
        options["out"].parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(options["out"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # secrets
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
        print(
            f"{count} users with tokens and event {event.pk} ({capacity} seats) written to "
            f"{options['out']} in {time.monotonic() - started:.1f}s",
            file=sys.stderr,
        )

    def _organiser(self):
        organiser, created = get_user_model().objects.get_or_create(username="loadtest-organiser")
        if created:
            organiser.set_unusable_password()
            organiser.save(update_fields=["password"])
        return organiser
