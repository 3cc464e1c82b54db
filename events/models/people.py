"""Who holds a seat, as SQL mirrors it, who was let in, and each person's calendar feed."""

import secrets

from django.conf import settings
from django.db import models

from events.models.event import Event


class Rsvp(models.Model):
    """Who holds (or held) a seat or a place, mirrored from the ledger for queries.

    Written by ``events.services`` after each ledger write, from the document
    that write returned; repaired from the ledger when the two disagree
    (``events.records``). Never consulted to decide a seat: the ledger does.
    """

    class Status(models.TextChoices):
        GOING = "going"
        WAITING = "waiting"
        CANCELLED = "cancelled", "cancelled by them"
        LEFT = "left", "left the waiting list"
        REMOVED = "removed", "removed by the organiser"
        REQUESTED = "requested", "awaiting approval"
        DECLINED = "declined", "declined by the organiser"
        ENTERED = "entered", "in the draw"
        NOT_DRAWN = "not_drawn", "not drawn"

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="rsvps")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="rsvps"
    )
    status = models.CharField(max_length=10, choices=Status)
    # The names of the guests the attendee gave (their number is the ledger's):
    # for the door's list and the export; written after the ledger has decided.
    guest_names = models.JSONField(default=list, blank=True)
    # The ledger document's version this row was copied from: a copy only
    # replaces an older one, so a late write never undoes a newer repair.
    ledger_version = models.PositiveBigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["event", "user"], name="one_rsvp_per_user")]
        indexes = [
            models.Index(fields=["user", "status"]),
            models.Index(fields=["event", "status"]),
        ]
        verbose_name = "RSVP"

    def __str__(self) -> str:
        return f"{self.user_id} {self.status} at {self.event_id}"


def new_feed_token() -> str:
    return secrets.token_urlsafe(32)


class CalendarFeed(models.Model):
    """A user's secret calendar feed address: whoever has the token reads the feed.

    Calendar apps cannot log in, so the token in the URL is the key. Resetting
    gives a new token; the old address then answers 404.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feed"
    )
    token = models.CharField(max_length=64, unique=True, default=new_feed_token)
    # When the current token was made (a reset replaces it).
    issued_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"calendar feed of {self.user_id}"


class CheckIn(models.Model):
    """Someone going was let in at the door. A row exists or not: setting it twice is a no-op."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="check_ins")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="check_ins"
    )
    at = models.DateTimeField(auto_now_add=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["event", "user"], name="one_check_in")]
        verbose_name = "check-in"

    def __str__(self) -> str:
        return f"{self.user_id} checked in at {self.event_id}"
