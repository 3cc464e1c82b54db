"""Create a demo organiser and a few events, once."""

import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from accounts.services import record_verified_emails
from events import services

DEMO_EVENTS = [
    ("Django meetup: atomic updates", "The Old Library, room 2", 3, 2),
    ("Intro to MongoDB for Django people", "Hub café", 10, 25),
    ("Community picnic", "Riverside park", 21, 100),
    ("Load-testing workshop", "Online", 30, 5),
]


class Command(BaseCommand):
    help = "Create the demo organiser and demo events unless they exist; print the login."

    def handle(self, *args, **options) -> None:
        if settings.IS_PRODUCTION:
            # A superuser whose password is printed to the log and kept in
            # var/ is a way in for whoever reads either.
            raise CommandError(
                "seed_demo refuses to run in production (DJANGO_ENV=production): it makes a "
                "superuser and writes its password to the log and var/. Create real "
                "organisers with createsuperuser and the admin."
            )
        User = get_user_model()
        login_file = settings.VAR_DIR / "demo-login.txt"
        organiser = User.objects.filter(username="organiser").first()
        if organiser is None:
            password = secrets.token_urlsafe(9)
            organiser = User.objects.create_superuser(
                "organiser",
                "organiser@example.com",
                password,
                first_name="Demo",
                last_name="Organiser",
            )
            record_verified_emails(users=[organiser])  # logs in at once, no link to follow
            login_file.write_text(password)
            login_file.chmod(0o600)
            today = timezone.localtime().replace(hour=18, minute=30, second=0, microsecond=0)
            for title, venue, days, capacity in DEMO_EVENTS:
                services.create_event(
                    title=title,
                    venue=venue,
                    capacity=capacity,
                    organiser=organiser,
                    starts_at=today + timedelta(days=days),
                    attendees_public=True,
                    description=f"A demo event with {capacity} seats. RSVP while you can!",
                )
        password = login_file.read_text() if login_file.exists() else "(set by you)"
        self.stdout.write(
            "Demo organiser: username 'organiser' (or organiser@example.com), "
            f"password '{password}'. Admin at /admin/."
        )
