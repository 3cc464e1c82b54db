"""Forms' shared parts: an event's times, entered in the event's own zone."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from django import forms
from django.utils import timezone

from events import times
from events.models import MAX_GUESTS, validate_one_line

# The longest guest name a form takes: a name, not a note.
NAME_LENGTH = 100

# Entered and shown in the event's zone, whatever the site's TIME_ZONE.
ZONED_FIELDS = ("starts_at", "ends_at", "rsvp_deadline")


class EventTimesForm(forms.ModelForm):
    """A ModelForm of ``Event`` whose times are wall-clock times in the event's zone.

    Django reads and shows a datetime in the *current* zone; an organiser
    typing 18:30 for a Berlin event means 18:30 in Berlin, not on the server.
    Changing the zone keeps the typed times (the event is at 18:30 wherever
    it is): they are read again in the new zone.
    """

    time_zone = forms.ChoiceField(
        label="Time zone",
        choices=times.zone_choices,
        initial=times.default_zone,
        # A browser always posts the select; a post without it keeps the zone.
        required=False,
        help_text="Where the event happens: its start, end and RSVP deadline are entered "
        "and shown in this zone.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Naive values are shown as they are: the event's wall-clock times.
        for name in ZONED_FIELDS:
            if (value := self.initial.get(name)) is not None:
                self.initial[name] = timezone.make_naive(value, self.instance.zone)

    def _posted_zone(self) -> ZoneInfo:
        """The zone the posted times are meant in: the one chosen on this form."""
        name = self.data.get(self.add_prefix("time_zone"))
        return times.zone(name) if name in times.zone_names() else self.instance.zone

    def full_clean(self) -> None:
        with timezone.override(self._posted_zone()):
            super().full_clean()

    def clean_time_zone(self) -> str:
        return self.cleaned_data["time_zone"] or self.instance.time_zone


class PartyForm(forms.Form):
    """How many guests come with the person, and their names, as the event page posts them.

    Checks the shape only (a whole number up to ``MAX_GUESTS``, names on one
    line): the event's own limit is the service's rule (``PartyError``), read
    from the same row the ledger's write is checked against. One name field
    per possible guest, ``guest_name_1`` on; blank ones are ignored, so the
    page needs no script to add or remove them.
    """

    guests = forms.IntegerField(
        label="Guests",
        min_value=0,
        max_value=MAX_GUESTS,
        required=False,
        error_messages={
            "invalid": "enter a whole number.",
            "min_value": "enter 0 or more.",
            "max_value": "at most %(limit_value)s.",
        },
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for number in range(1, MAX_GUESTS + 1):
            self.fields[f"guest_name_{number}"] = forms.CharField(
                label=f"Guest {number}",
                max_length=NAME_LENGTH,
                required=False,
                validators=[validate_one_line],
            )

    def clean_guests(self) -> int:
        return self.cleaned_data["guests"] or 0

    @property
    def party(self) -> dict:
        """The service's keyword arguments: ``guests`` and ``guest_names``.

        A party of one passes no names (None: the record is left as it is,
        and every reader cuts names to the ledger's guests): the RSVP that
        most people make costs no SQL write more than before guests existed.
        """
        data = self.cleaned_data
        if not data["guests"]:
            return {"guests": 0, "guest_names": None}
        names = [data[f"guest_name_{n}"].strip() for n in range(1, MAX_GUESTS + 1)]
        return {"guests": data["guests"], "guest_names": [name for name in names if name]}

    def error_text(self) -> str:
        """Every error in one sentence each, for the page's message."""
        return " ".join(
            f"{self.fields[name].label}: {error}"
            for name, errors in self.errors.items()
            for error in errors
        )
