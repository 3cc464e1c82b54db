"""An organiser manages the list by hand: remove someone, or give someone a free seat.

Each is one guarded ledger write through the services, like an RSVP: a
removal hands the seat to the first waiting in the same write; an addition
takes a seat only if one is free (and so nobody waits for it), and only for
someone who asked for the event (``selectors.seatable_by_hand``).
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path

from events import outcomes, selectors, services
from events.admin.base import EventToolMixin
from events.ledger import Outcome


def username(row: selectors.AttendeeRow) -> str:
    return row.user.get_username() if row.user else f"deleted user #{row.user_id}"


# The same whether the account does not exist or its owner never asked for
# the event: the form must not tell who has an account (selectors.seatable_by_hand).
NOBODY_WHO_ASKED = (
    "Nobody who asked for this event has that username or email. Anyone else RSVPs "
    "themselves, or joins the waiting list."
)


class AddAttendeeForm(forms.Form):
    who = forms.CharField(
        label="Username or email",
        max_length=254,
        help_text="Someone who asked for this event: who cancelled, left the waiting list or "
        "was removed, or you.",
    )

    def __init__(self, *args, event_id: int, by, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.event_id, self.by = event_id, by

    def clean_who(self):
        who = self.cleaned_data["who"].strip()
        found = selectors.seatable_by_hand(self.event_id, who, by=self.by)
        if not found:
            raise forms.ValidationError(NOBODY_WHO_ASKED)
        if len(found) > 1:
            raise forms.ValidationError("More than one account has that email: use the username.")
        return found[0]


class AttendeeAdmin(EventToolMixin):
    def get_urls(self):
        remove = self.admin_site.admin_view(self.remove_attendee_view)
        add = self.admin_site.admin_view(self.add_attendee_view)
        return [
            path(
                "<int:event_id>/attendees/<int:user_id>/remove/",
                remove,
                name="events_event_remove_attendee",
            ),
            path("<int:event_id>/attendees/add/", add, name="events_event_add_attendee"),
            *super().get_urls(),
        ]

    def remove_attendee_view(self, request: HttpRequest, event_id: int, user_id: int):
        """Confirm, then take the seat away; the first in line gets it in the same write."""
        event = self.tool_event(request, event_id)
        context = self.tool_context(request, event, "Remove an attendee")
        if request.method == "POST":
            result = services.remove_attendee(event_id=event_id, user_id=user_id)
            if result.outcome is Outcome.CANCELLED:
                promoted = " The first person waiting got the seat." if result.promoted else ""
                self.message_user(request, f"Removed from {event}.{promoted}", messages.SUCCESS)
            else:
                self.message_user(request, outcomes.sentence(result), messages.WARNING)
            return HttpResponseRedirect(context["change_url"])
        row = next((r for r in selectors.attendee_rows(event_id) if r.user_id == user_id), None)
        if row is None:
            raise Http404("That person is not going to this event.")
        context |= {"row": row, "username": username(row)}
        return TemplateResponse(request, "admin/events/event/remove_attendee.html", context)

    def add_attendee_view(self, request: HttpRequest, event_id: int):
        """Give someone a free seat, guarded like an RSVP (the deadline does not apply)."""
        event = self.tool_event(request, event_id)
        context = self.tool_context(request, event, "Add an attendee")
        form = AddAttendeeForm(request.POST or None, event_id=event_id, by=request.user)
        if request.method == "POST" and form.is_valid():
            user = form.cleaned_data["who"]
            result = services.add_attendee(event_id=event_id, user_id=user.pk)
            level, text = outcomes.organiser_answer(result, user.get_username())
            self.message_user(request, text, level)
            if result.outcome is Outcome.CONFIRMED:
                return HttpResponseRedirect(context["change_url"])
        context |= {"form": form, "seats": selectors.seats_of([event_id]).get(event_id)}
        return TemplateResponse(request, "admin/events/event/add_attendee.html", context)
