"""The admin's event form: it validates and reads, and never writes.

Saving is ``EventAdmin.save_model``'s, through the services: the SQL row and
the ledger's one guarded write go together there (``services.update_event``).
"""

from __future__ import annotations

import re
from datetime import timedelta

from django import forms

from events import selectors
from events.forms import EventTimesForm
from events.ledger import Seats
from events.models import DESCRIPTIVE_FIELDS, Event

NO_LEDGER_NOTICE = (
    "This event has no ledger document, so nobody can RSVP to it. Enter a capacity and "
    "save to open an empty one."
)
DAMAGED_HELP = (
    "This event's ledger document is damaged, so its seats cannot be changed here: "
    "run manage.py check_ledger."
)
SEAT_FIELDS = ("capacity", "waitlist", "waitlist_limit")
TIMED_FIELDS = ("reminders", "reconfirm_ask_before", "reconfirm_release_before")

# Lead times as an organiser writes them: a number and a unit, "1d", "36h", "90m".
UNITS = {"d": 86400, "h": 3600, "m": 60}
LEAD_TIME = re.compile(r"^\s*(\d{1,4})\s*([dhm])\s*$", re.IGNORECASE)


def lead_text(seconds: int) -> str:
    """A lead time in its largest whole unit: 86400 is "1d", 5400 is "90m"."""
    for unit, size in UNITS.items():
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds // 60}m"


def lead_seconds(text: str) -> int:
    found = LEAD_TIME.match(text)
    if not found or int(found.group(1)) == 0:
        raise forms.ValidationError(
            f"“{text.strip()}” is not a lead time: write a number and d, h or m, as 1d, 36h or 90m."
        )
    return int(found.group(1)) * UNITS[found.group(2).lower()]


class LeadTimesField(forms.CharField):
    """Several lead times, comma-separated ("1d, 2h"), as a sorted list of seconds."""

    def prepare_value(self, value):
        if isinstance(value, list):
            return ", ".join(lead_text(s) for s in value)
        return value

    def to_python(self, value) -> list[int]:
        parts = [part for part in (value or "").split(",") if part.strip()]
        return sorted({lead_seconds(part) for part in parts}, reverse=True)


class LeadTimeField(forms.CharField):
    """One lead time ("48h") as a duration; empty for none."""

    def prepare_value(self, value):
        if isinstance(value, timedelta):
            return lead_text(int(value.total_seconds()))
        return value

    def to_python(self, value) -> timedelta | None:
        if not (value or "").strip():
            return None
        return timedelta(seconds=lead_seconds(value))


def _limit(enabled: bool, limit: int | None) -> int | None:
    """The ledger's one number for the form's two fields: 0 off, None no cap."""
    return limit if enabled else 0


class EventAdminForm(EventTimesForm):
    reminders = LeadTimesField(
        required=False,
        initial="1d",
        help_text="How long before the start everyone going is reminded, e.g. “1d” or "
        "“1d, 2h”; empty for no reminder.",
    )
    reconfirm_ask_before = LeadTimeField(
        label="ask “still coming?”",
        required=False,
        help_text="E.g. “48h”: this long before the start everyone going is asked to keep "
        "their seat. Empty: nobody is asked.",
    )
    reconfirm_release_before = LeadTimeField(
        label="release unkept seats",
        required=False,
        help_text="E.g. “24h”: this long before the start, the seats of those who did not "
        "say yes go to the waiting list (they are told).",
    )
    capacity = forms.IntegerField(min_value=0, help_text="Seats available in total.")
    waitlist = forms.BooleanField(
        label="waiting list",
        required=False,
        initial=True,
        help_text="When the event is full, people can join a waiting list; a freed seat "
        "goes to the first in line at once, and they are emailed.",
    )
    waitlist_limit = forms.IntegerField(
        label="waiting list limit",
        min_value=1,
        required=False,
        help_text="At most this many people waiting; empty for no limit.",
    )

    class Meta:
        model = Event
        fields = [
            *DESCRIPTIVE_FIELDS,
            *TIMED_FIELDS,
            "status",
            "organiser",
        ]  # laid out by the fieldsets
        help_texts = {
            "starts_at": "In the event's time zone.",
            "ends_at": "Optional, in the event's time zone.",
            "status": "A draft is seen only here and by its organisers (the Preview link); "
            "publishing makes it public. To cancel a published event, use Cancel event.",
            "guests_allowed": "How many guests each attendee may bring (0 to 10); each guest "
            "takes a seat and the party waits as one. Lowering it keeps the guests of RSVPs "
            "already made: only new RSVPs and changes are held to it.",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.ledger_missing = False
        self.seats: Seats | None = None
        if self.instance.pk:
            self._show_seats()
        status = self.fields.get("status")
        if status is not None:  # a draft's or a new event's: cancelling has its own page
            status.choices = [
                (s.value, s.label) for s in (Event.Status.DRAFT, Event.Status.PUBLISHED)
            ]
        organiser = self.fields.get("organiser")
        if organiser is not None and self.instance.organiser_id:
            # The present organiser stays a valid choice even if they have left
            # the group since: saving the event must not fail on them.
            organiser.queryset = selectors.organisers(also=self.instance.organiser_id)

    def _show_seats(self) -> None:
        self.seats = selectors.seats_of([self.instance.pk]).get(self.instance.pk)
        if self.seats is None:
            self._without_seats()
        seats = self.seats or selectors.NO_LEDGER
        self.fields["capacity"].initial = None if self.ledger_missing else seats.capacity
        self.fields["waitlist"].initial = seats.waitlist_limit != 0
        self.fields["waitlist_limit"].initial = seats.waitlist_limit or None

    def _without_seats(self) -> None:
        """No readable ledger: missing (a saved capacity reopens it) or damaged (hands off)."""
        if selectors.has_ledger(self.instance.pk):
            for name in SEAT_FIELDS:
                self.fields[name].disabled = True
            self.fields["capacity"].help_text = DAMAGED_HELP
        else:
            self.ledger_missing = True
            self.fields["capacity"].help_text = NO_LEDGER_NOTICE

    def clean_capacity(self) -> int:
        # Early word for the usual case; the ledger's guarded write on saving
        # is the check that counts (someone may RSVP in between).
        capacity = self.cleaned_data["capacity"]
        if self.seats is not None and capacity is not None and capacity < self.seats.taken:
            taken = self.seats.taken
            raise forms.ValidationError(
                f"{taken} people are already going, so capacity cannot be lower than {taken}."
            )
        return capacity

    def clean_requires_approval(self) -> bool:
        # Requests hold no seats: with approval off nobody would decide them.
        # (One made between this check and the save stays listed, see requests.py.)
        required = self.cleaned_data["requires_approval"]
        pending = self.seats.requested if self.seats is not None else 0
        if self.instance.requires_approval and not required and pending:
            raise forms.ValidationError(
                f"{pending} request{'s are' if pending != 1 else ' is'} pending: approve or "
                "decline them first (Requests), then turn approval off."
            )
        return required

    @property
    def ledger_waitlist_limit(self) -> int | None:
        return _limit(self.cleaned_data["waitlist"], self.cleaned_data.get("waitlist_limit"))

    def seat_changes(self) -> dict:
        """What ``services.update_event`` should change in the ledger: only what was edited."""
        changed = set(self.changed_data)
        if self.ledger_missing or self.fields["capacity"].disabled:
            return {}
        changes = {}
        if "capacity" in changed:
            changes["capacity"] = self.cleaned_data["capacity"]
        if {"waitlist", "waitlist_limit"} & changed:
            changes["waitlist_limit"] = self.ledger_waitlist_limit
        return changes

    def clean_draw_at(self):
        # Entries hold no seats: without a draw nobody would ever draw them.
        draw_at = self.cleaned_data.get("draw_at")
        entered = self.seats.entered if self.seats is not None else 0
        if self.instance.draw_at and draw_at is None and entered:
            raise forms.ValidationError(
                f"{entered} {'people are' if entered != 1 else 'person is'} in the draw: move "
                "the draw to an earlier time instead of removing it."
            )
        if draw_at and self.instance.drawn_at and draw_at != self.instance.draw_at:
            raise forms.ValidationError("The draw has been held: its time cannot change now.")
        return draw_at
