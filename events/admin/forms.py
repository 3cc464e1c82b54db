"""The admin's event form: it validates and reads, and never writes.

Saving is ``EventAdmin.save_model``'s, through the services: the SQL row and
the ledger's one guarded write go together there (``services.update_event``).
"""

from __future__ import annotations

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


def _limit(enabled: bool, limit: int | None) -> int | None:
    """The ledger's one number for the form's two fields: 0 off, None no cap."""
    return limit if enabled else 0


class EventAdminForm(EventTimesForm):
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
        fields = [*DESCRIPTIVE_FIELDS, "status", "organiser"]  # laid out by the fieldsets
        help_texts = {
            "starts_at": "In the event's time zone.",
            "ends_at": "Optional, in the event's time zone.",
            "status": "A draft is seen only here and by its organisers (the Preview link); "
            "publishing makes it public. To cancel a published event, use Cancel event.",
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
