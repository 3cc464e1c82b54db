"""How events, RSVPs and errors look in JSON. Output only: the API takes no fields."""

from __future__ import annotations

from typing import Any

from django.core.validators import RegexValidator
from rest_framework import serializers

from events.ledger import Outcome
from events.models import MAX_GUESTS


class EventSerializer(serializers.Serializer):
    """An event and its seats. (Serializes an ``events.services.EventCard``.)"""

    id = serializers.IntegerField(source="event.pk")
    title = serializers.CharField(source="event.title")
    start = serializers.DateTimeField(source="event.starts_at")
    venue = serializers.CharField(source="event.venue")
    status = serializers.ChoiceField(
        source="event.status",
        choices=["published", "cancelled", "draft"],
        help_text="`cancelled`: the organiser cancelled it; RSVPs, cancels and joins are "
        "refused (`event_cancelled`) and the lists are kept as they were. `draft`: only "
        "its organisers see it (in its detail, never in the list).",
    )
    capacity = serializers.IntegerField(source="seats.capacity")
    seats_left = serializers.IntegerField(source="seats.left")
    seats_taken = serializers.IntegerField(
        source="seats.taken",
        help_text="Seats taken (people going and their guests), as the ledger counts them.",
    )
    waiting = serializers.IntegerField(
        source="seats.waiting", help_text="Parties on the waiting list."
    )
    guests_allowed = serializers.IntegerField(
        source="event.guests_allowed",
        help_text="How many guests each RSVP may bring (each takes a seat); 0: none.",
    )


class EventDetailSerializer(EventSerializer):
    """An event, its seats and the caller's seat or place on the waiting list."""

    description = serializers.CharField(
        source="event.description", help_text="Markdown, as the organiser wrote it."
    )
    end = serializers.DateTimeField(source="event.ends_at", allow_null=True)
    time_zone = serializers.CharField(
        source="event.time_zone",
        help_text="The IANA name of the event's zone (`Europe/Berlin`): its pages show "
        "its times in this zone.",
    )
    rsvp_deadline = serializers.DateTimeField(
        source="event.rsvp_deadline",
        allow_null=True,
        help_text="After it, RSVPs and joins are refused (`rsvps_closed`); null: open "
        "until the event starts.",
    )
    going = serializers.BooleanField(
        required=False, help_text="Whether the caller holds a seat; only for a signed-in caller."
    )
    guests = serializers.IntegerField(
        required=False,
        help_text="The guests of the caller's RSVP or place on the list; only for a "
        "signed-in caller.",
    )
    requested = serializers.BooleanField(
        required=False,
        help_text="Whether the caller's request awaits the organiser's approval; only for a "
        "signed-in caller.",
    )
    entered = serializers.BooleanField(
        required=False,
        help_text="Whether the caller is in the event's draw, not yet drawn; only for a "
        "signed-in caller.",
    )
    draw_at = serializers.DateTimeField(
        source="event.draw_at",
        allow_null=True,
        help_text="If the event opens with a draw: until then RSVPs are entries; null: none.",
    )
    join_url = serializers.URLField(
        source="event.online_url",
        required=False,
        help_text="An online event's join link: only for a caller who is going.",
    )
    waitlist_position = serializers.IntegerField(
        source="position",
        required=False,
        allow_null=True,
        help_text=(
            "The caller's place on the waiting list (1 is next), or null; "
            "only for a signed-in caller."
        ),
    )

    def to_representation(self, instance: Any) -> dict[str, Any]:
        data = super().to_representation(instance)
        request = self.context.get("request")
        if request is None or not request.user.is_authenticated:
            for mine in ("going", "waitlist_position", "guests", "requested", "entered"):
                del data[mine]
        # The link lets anyone in: it goes to the people holding a seat, no one else.
        if not (data.get("going") and data["join_url"]):
            del data["join_url"]
        return data


class StrictIntegerField(serializers.IntegerField):
    """A JSON integer only: ``"2"``, ``2.0`` and ``true`` are refused, not read as 2."""

    def to_internal_value(self, data):
        if not isinstance(data, int) or isinstance(data, bool):
            self.fail("invalid")
        return super().to_internal_value(data)


class PartySerializer(serializers.Serializer):
    """Who comes with the caller: the URL names the event and the token the caller.

    Every field is optional (no body, or ``{}``, is a party of one), so the
    clients of the plain contract keep working; a body that is not a JSON
    object, or fields of the wrong type, are a 400 instead of being ignored.
    """

    guests = StrictIntegerField(
        min_value=0,
        max_value=MAX_GUESTS,
        default=0,
        help_text="Guests coming with the caller, each taking a seat; at most the event's "
        "`guests_allowed`.",
    )
    guest_names = serializers.ListField(
        # No NUL character: no database stores one in text (PostgreSQL refuses it).
        child=serializers.CharField(
            max_length=100, allow_blank=True, validators=[RegexValidator(r"^[^\x00]*$")]
        ),
        max_length=MAX_GUESTS,
        required=False,
        help_text="Optional: the guests' names, for the door's list.",
    )


class PartyChangeSerializer(PartySerializer):
    """A new number of guests for the caller's RSVP or place on the list (required here)."""

    guests = StrictIntegerField(min_value=0, max_value=MAX_GUESTS)


class SeatChangeSerializer(serializers.Serializer):
    """A confirmed RSVP (201), a cancelled one (200) or a place given back (200)."""

    message = serializers.CharField()
    event = EventDetailSerializer()
    seats_left = serializers.IntegerField()
    party = serializers.IntegerField(
        required=False, help_text="The caller and their guests: the seats their RSVP holds."
    )


class WaitlistedSerializer(serializers.Serializer):
    """A place on the waiting list (202): no seat yet, one will come in this order."""

    message = serializers.CharField()
    code = serializers.CharField(help_text="Always `waitlisted`.")
    position = serializers.IntegerField(help_text="1 is next in line.")
    party = serializers.IntegerField(help_text="The caller and their guests: seats they wait for.")


class RequestedSerializer(serializers.Serializer):
    """A request at an event that requires approval, or an entry in a draw (202): no seat yet."""

    message = serializers.CharField()
    code = serializers.CharField(help_text="`requested` or `entered`.")
    status = serializers.CharField(help_text="`requested` or `entered`.")
    party = serializers.IntegerField(help_text="The caller and their guests: seats asked for.")


class ErrorSerializer(serializers.Serializer):
    """Every error answer of the API."""

    message = serializers.CharField(help_text="Human-readable; show it to the user.")
    code = serializers.CharField(
        required=False,
        help_text=(
            "Machine-readable: for RSVPs one of "
            + ", ".join(
                f"`{o}`"
                for o in (
                    Outcome.FULL,
                    Outcome.ALREADY_GOING,
                    Outcome.EVENT_PAST,
                    Outcome.RSVPS_CLOSED,
                    Outcome.EVENT_CANCELLED,
                    Outcome.UNKNOWN_EVENT,
                    Outcome.NOT_GOING,
                    Outcome.ALREADY_WAITING,
                    Outcome.WAITLIST_CLOSED,
                    Outcome.NOT_WAITING,
                    Outcome.ALREADY_REQUESTED,
                    Outcome.NOT_REQUESTED,
                    Outcome.ALREADY_ENTERED,
                )
            )
            + "; `too_many_guests` for more guests than the event allows"
            + "; otherwise DRF's error code, e.g. `not_authenticated`."
        ),
    )
    seats_left = serializers.IntegerField(required=False)
    position = serializers.IntegerField(
        required=False, help_text="For `already_waiting`: the caller's place on the list."
    )
    errors = serializers.DictField(
        required=False, help_text="Per-field problems, for `code` = `invalid`."
    )
