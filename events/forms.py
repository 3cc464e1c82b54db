"""Forms' shared parts: an event's times, entered in the event's own zone."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from django import forms
from django.utils import timezone

from events import times

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
