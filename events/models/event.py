"""An event's descriptive fields. Its capacity and attendees live in the ledger."""

import secrets
from datetime import datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator, MaxValueValidator
from django.db import models
from django.urls import reverse
from django.utils import timezone

from events import times

MARKDOWN_HELP = (
    "Markdown: *italic*, **bold**, [a link](https://example.org), lists, ## headings, "
    "`code`. HTML is shown as typed, not run."
)

# Long enough for a full programme (about 3,000 words); short enough that the
# page renders in well under a second even from hostile Markdown (nested
# brackets cost the renderer about 15 microseconds a character).
DESCRIPTION_MAX_CHARS = 20_000


def validate_one_line(value: str) -> None:
    """Refuse line breaks in a field that ends up in an email subject or a calendar line.

    Python's mail code refuses such a header outright, so one title with a line
    break would stop every email about its event.
    """
    if value and value.splitlines() != [value]:  # any of Unicode's line breaks
        raise ValidationError("Keep this on one line: line breaks are not allowed here.")


# What describes an event, as organisers type it (its seats are the ledger's):
# the admin's form, a copy, the pages' answers all take their fields from here.
DESCRIPTIVE_FIELDS = (
    "title",
    "description",
    "time_zone",
    "starts_at",
    "ends_at",
    "rsvp_deadline",
    "venue",
    "online_url",
    "attendees_public",
    "guests_allowed",
    "requires_approval",
    "draw_at",
    "draw_losers",
)
# The ones an .ics file carries: changing one raises the event's sequence.
CALENDAR_FIELDS = tuple(
    name
    for name in DESCRIPTIVE_FIELDS
    if name
    not in (
        *("rsvp_deadline", "attendees_public", "guests_allowed", "requires_approval"),
        *("draw_at", "draw_losers"),
    )
)
# The ones whose change people going or waiting are emailed about (a change
# notice): when and where. A new title or description only updates calendars.
NOTICE_FIELDS = ("starts_at", "ends_at", "time_zone", "venue", "online_url")
# The ones the timed mail depends on (events.services.timed): a save that
# changes none of them leaves the reminders and reconfirmation as queued.
SCHEDULE_FIELDS = (
    "status",
    "starts_at",
    "reminders",
    "reconfirm_ask_before",
    "reconfirm_release_before",
    "draw_at",
)


# The most guests an organiser may let each attendee bring: a party is one
# entry of the ledger's lists, and a party larger than a small event's seats
# could only ever wait.
MAX_GUESTS = 10


# A day before the start, unless the organiser picks other lead times (or none).
DEFAULT_REMINDERS = (24 * 3600,)


def new_draw_seed() -> str:
    return secrets.token_hex(32)


def default_reminders() -> list[int]:
    return list(DEFAULT_REMINDERS)


def _as_json(value):
    """A saved value as ``calendar_before`` keeps it: datetimes as ISO 8601 strings."""
    return value.isoformat() if isinstance(value, datetime) else value


class EventQuerySet(models.QuerySet):
    def upcoming(self) -> "EventQuerySet":
        return self.filter(starts_at__gte=timezone.now())

    def public(self) -> "EventQuerySet":
        """What anyone may see: published and cancelled events, never drafts."""
        return self.exclude(status=Event.Status.DRAFT)


class Event(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "draft (only organisers see it)"
        PUBLISHED = "published"
        # Final: RSVPs and the waiting list are closed (in the ledger too),
        # the lists are kept for the record and everyone on them was emailed.
        CANCELLED = "cancelled"

    title = models.CharField(max_length=200, validators=[validate_one_line])
    status = models.CharField(max_length=10, choices=Status, default=Status.PUBLISHED)
    cancelled_at = models.DateTimeField(null=True, blank=True, editable=False)
    description = models.TextField(
        blank=True,
        max_length=DESCRIPTION_MAX_CHARS,
        validators=[MaxLengthValidator(DESCRIPTION_MAX_CHARS)],
        help_text=MARKDOWN_HELP,
    )
    # An IANA name, not a choice list: the tz database changes with the
    # system, and a migration must not freeze (or churn on) its contents.
    time_zone = models.CharField(
        max_length=64,
        default=times.default_zone,
        validators=[times.validate_zone],
        help_text="Where the event happens: its times are entered and shown in this zone.",
    )
    starts_at = models.DateTimeField("starts")
    ends_at = models.DateTimeField("ends", null=True, blank=True)
    rsvp_deadline = models.DateTimeField(
        "RSVPs close at",
        null=True,
        blank=True,
        help_text="Optional, in the event's time zone. After it, nobody can RSVP or join the "
        "waiting list; cancelling stays possible until the event starts.",
    )
    venue = models.CharField(max_length=200, validators=[validate_one_line])
    online_url = models.URLField(
        "join link",
        max_length=500,
        blank=True,
        help_text="Optional, for an online event: shown only to people who are going.",
    )
    organiser = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="organised_events"
    )
    attendees_public = models.BooleanField(
        "show who is going", default=False, help_text="List attendees on the event page."
    )
    requires_approval = models.BooleanField(
        "require approval",
        default=False,
        help_text="An RSVP is a request that you approve or decline (people are emailed "
        "either way); only approved requests take seats.",
    )
    guests_allowed = models.PositiveSmallIntegerField(
        "guests per RSVP",
        default=0,
        validators=[MaxValueValidator(MAX_GUESTS)],
        help_text=f"How many guests each attendee may bring (0 to {MAX_GUESTS}); each guest "
        "takes a seat. 0: everyone comes alone.",
    )
    # Lead times before the start, in seconds, at which everyone going is
    # reminded: an empty list sends none.
    reminders = models.JSONField(default=default_reminders, blank=True)
    # Reconfirm-or-release: this long before the start everyone going is asked
    # "still coming?"; whoever has not said yes by ``reconfirm_release_before``
    # gives their seat to the waiting list. Both or neither.
    reconfirm_ask_before = models.DurationField(
        "ask to reconfirm", null=True, blank=True,
        help_text="How long before the start everyone going is asked “Still coming?”.",
    )  # fmt: skip
    reconfirm_release_before = models.DurationField(
        "release unconfirmed seats", null=True, blank=True,
        help_text="How long before the start the seats of those who did not say yes go to "
        "the waiting list.",
    )  # fmt: skip

    class DrawLosers(models.TextChoices):
        WAIT = "wait", "join the waiting list, in the order drawn"
        RELEASE = "release", "are let go (they may RSVP for any seats left)"

    # A draw for the rush: until ``draw_at`` an RSVP is an entry; at it the
    # site draws who gets the seats, in an order made from ``draw_seed``
    # (secret until the draw; shown afterwards so anyone can redo it).
    draw_at = models.DateTimeField(
        "draw at",
        null=True,
        blank=True,
        help_text="Optional, in the event's time zone: until then an RSVP is an entry in a "
        "draw, and at this time the seats are drawn at random among the entries. After it, "
        "any seats left go first come, first served.",
    )
    draw_losers = models.CharField(
        "those not drawn", max_length=7, choices=DrawLosers, default=DrawLosers.WAIT
    )
    draw_seed = models.CharField(max_length=64, default=new_draw_seed, editable=False)
    drawn_at = models.DateTimeField(null=True, blank=True, editable=False)
    # What the calendar fields were when attendees were last told (a change
    # notice is due while this is set): several edits send one notice, old → new.
    calendar_before = models.JSONField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    # iCalendar's SEQUENCE: calendar apps replace their copy of an event only
    # when a newer file carries a higher number, so it rises with each change
    # an attendee's calendar shows (see save()).
    sequence = models.PositiveIntegerField(default=0, editable=False)

    objects = EventQuerySet.as_manager()

    class Meta:
        ordering = ["starts_at", "pk"]
        indexes = [models.Index(fields=["starts_at"]), models.Index(fields=["ends_at"])]

    def __str__(self) -> str:
        return self.title

    def save(self, *args, **kwargs) -> None:
        saved = self._saved_calendar()
        # The row as it was, for the post_save receivers (events.services):
        # what they compare against, read once here for every one of them.
        self.saved_before = saved
        changed = saved is not None and self._calendar_changed(saved)
        # Read by the change notices' post_save receiver: only a save that
        # raised the sequence queues a notice (events.services.change_notices).
        self._sequence_raised = changed
        also_saved = set()
        if saved is not None:
            self._keep_calendar_before(saved)
            if self.calendar_before != saved["calendar_before"]:
                also_saved.add("calendar_before")
        if changed:
            self.sequence += 1
            also_saved.add("sequence")
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], *also_saved}
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("events:detail", args=[self.pk])

    def clean(self) -> None:
        errors = {}
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            errors["ends_at"] = "The end must be after the start."
        if self.starts_at and self.rsvp_deadline and self.rsvp_deadline > self.starts_at:
            errors["rsvp_deadline"] = "RSVPs must close by the start of the event."
        errors.update(self._reconfirm_errors())
        if self.draw_at and self.starts_at and self.draw_at >= self.starts_at:
            errors["draw_at"] = "The draw must be before the start of the event."
        elif self.draw_at and self.rsvp_deadline and self.draw_at > self.rsvp_deadline:
            errors["draw_at"] = "The draw must be by the time RSVPs close."
        if errors:
            raise ValidationError(errors)

    def _reconfirm_errors(self) -> dict[str, str]:
        ask, release = self.reconfirm_ask_before, self.reconfirm_release_before
        if (ask is None) != (release is None):
            missing = "reconfirm_release_before" if release is None else "reconfirm_ask_before"
            return {missing: "Set both times to ask for reconfirmation, or neither."}
        if ask is not None and release >= ask:
            return {"reconfirm_release_before": "Release seats after asking: closer to the start."}
        if release is not None and release.total_seconds() <= 0:
            return {"reconfirm_release_before": "Release seats before the event starts."}
        return {}

    @property
    def asks_to_reconfirm(self) -> bool:
        return self.reconfirm_ask_before is not None and self.reconfirm_release_before is not None

    def _saved_calendar(self) -> dict | None:
        """The saved row's calendar and schedule fields and ``calendar_before``; None if new."""
        if self.pk is None:
            return None
        fields = dict.fromkeys([*CALENDAR_FIELDS, *SCHEDULE_FIELDS, "calendar_before"])
        return Event.objects.filter(pk=self.pk).values(*fields).first()

    def _keep_calendar_before(self, saved: dict) -> None:
        """What attendees were last told: kept from the row, set by the first change since.

        Taken from the row, never from this instance: a form loaded before a
        notice went out still holds the baseline that notice cleared. Only a
        published event owes a notice (a draft has nobody to tell, a
        cancellation sends its own email), so any other status drops it.
        """
        if self.status != Event.Status.PUBLISHED:
            self.calendar_before = None
            return
        self.calendar_before = saved["calendar_before"]
        if self.calendar_before is None and any(
            saved[name] != getattr(self, name) for name in NOTICE_FIELDS
        ):
            self.calendar_before = {name: _as_json(saved[name]) for name in NOTICE_FIELDS}

    def _calendar_changed(self, saved: dict) -> bool:
        """Whether a field an .ics file carries differs from the saved row."""
        return any(saved[name] != getattr(self, name) for name in CALENDAR_FIELDS)

    @property
    def is_past(self) -> bool:
        return self.starts_at < timezone.now()

    @property
    def rsvps_closed(self) -> bool:
        """Past the RSVP deadline: no new seats or places (those held can still be given up)."""
        return self.rsvp_deadline is not None and self.rsvp_deadline <= timezone.now()

    @property
    def taking_entries(self) -> bool:
        """Before the event's draw: an RSVP (or a join) is an entry in it, not a seat."""
        return self.draw_at is not None and timezone.now() < self.draw_at

    @property
    def zone(self) -> ZoneInfo:
        return times.zone(self.time_zone)

    @property
    def is_draft(self) -> bool:
        return self.status == self.Status.DRAFT

    @property
    def is_cancelled(self) -> bool:
        return self.status == self.Status.CANCELLED
