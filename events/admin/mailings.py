"""Messages to attendees, cancelling an event, and what deleting one tells people.

The pages read counts through the selectors and write through
``events.services.mailings``; the log and the pages are templates.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.options import IS_POPUP_VAR, ActionLocation
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponseRedirect
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import ngettext

from events import selectors
from events.admin.base import EventToolMixin
from events.ledger import LedgerDamaged
from events.models import DESCRIPTION_MAX_CHARS, Event, Mailing, validate_one_line
from events.services import mailings

Audience = Mailing.Audience
# A message is read like a description, and bounded the same way.
MESSAGE_MAX_CHARS = DESCRIPTION_MAX_CHARS
DAMAGED = (
    "This event's ledger document is damaged, so it was not cancelled: "
    "run manage.py check_ledger, then cancel it again."
)


def _people(count: int) -> str:
    return ngettext("%(count)d person", "%(count)d people", count) % {"count": count}


def _counts(event: Event) -> dict[str, int]:
    """How many are going and waiting now (the ledger's counts; zero without a ledger)."""
    seats = selectors.seats_of([event.pk]).get(event.pk) or selectors.NO_LEDGER
    return {"going": seats.taken, "waiting": seats.waiting}


class MessageForm(forms.Form):
    audience = forms.ChoiceField(label="To", widget=forms.RadioSelect, initial=Audience.GOING)
    subject = forms.CharField(
        max_length=200,
        validators=[validate_one_line],
        widget=forms.TextInput(attrs={"size": 60}),
    )
    body = forms.CharField(
        label="Text",
        max_length=MESSAGE_MAX_CHARS,
        widget=forms.Textarea(attrs={"rows": 12, "cols": 72}),
        help_text="Plain text. Each person's copy starts with “Hello” and their name.",
    )

    def __init__(self, *args, going: int, waiting: int, **kwargs):
        super().__init__(*args, **kwargs)
        # "Both" counts people, not entries: nobody is in both lists.
        self.sizes = {
            Audience.GOING: going,
            Audience.WAITING: waiting,
            Audience.BOTH: going + waiting,
        }
        self.fields["audience"].choices = [
            (value, f"{Audience(value).label} ({_people(size)})")
            for value, size in self.sizes.items()
        ]

    def clean_audience(self) -> str:
        audience = self.cleaned_data["audience"]
        if not self.sizes[audience]:
            raise forms.ValidationError("Nobody is in this audience: there is no one to write to.")
        return audience


class MailingAdmin(EventToolMixin):
    def get_urls(self):
        message = self.admin_site.admin_view(self.message_view)
        cancel = self.admin_site.admin_view(self.cancel_view)
        return [
            path("<int:event_id>/message/", message, name="events_event_message"),
            path("<int:event_id>/cancel/", cancel, name="events_event_cancel"),
            *super().get_urls(),
        ]

    def message_view(self, request: HttpRequest, event_id: int):
        """Write to everyone going, waiting or both; sent in the background."""
        event = self.tool_event(request, event_id)
        form = MessageForm(request.POST or None, **_counts(event))
        if request.method == "POST" and form.is_valid():
            try:
                mailing = mailings.send_message(
                    event_id=event.pk, sent_by=request.user, **form.cleaned_data
                )
            except mailings.NoRecipients:  # the list emptied since the page was read
                form.add_error("audience", "Nobody is in this audience any more.")
            else:
                count = len(mailing.recipients)
                self.message_user(request, f"Message queued for {_people(count)}.")
                return HttpResponseRedirect(reverse("admin:events_event_change", args=[event.pk]))
        fieldsets = [(None, {"fields": list(form.fields)})]
        context = {
            **self.tool_context(request, event, "Message attendees"),
            "form": form,
            "adminform": helpers.AdminForm(form, fieldsets, {}),  # the admin's own layout
        }
        return TemplateResponse(request, "admin/events/event/message.html", context)

    def cancel_view(self, request: HttpRequest, event_id: int):
        """Confirm, then cancel: RSVPs close, the lists stay, everyone on them is emailed."""
        event = self.tool_event(request, event_id)
        change_url = reverse("admin:events_event_change", args=[event.pk])
        if event.is_cancelled:
            self.message_user(request, f"{event} was already cancelled.", messages.WARNING)
            return HttpResponseRedirect(change_url)
        if request.method == "POST":
            try:
                mailing = mailings.cancel_event(event_id=event.pk, cancelled_by=request.user)
            except LedgerDamaged:  # rolled back: nothing changed, nobody emailed
                self.message_user(request, DAMAGED, messages.ERROR)
                return HttpResponseRedirect(change_url)
            if mailing is None:  # cancelled by someone else since the page was read
                self.message_user(request, f"{event} was already cancelled.", messages.WARNING)
            else:
                told = _people(len(mailing.recipients))
                self.message_user(request, f"{event} is cancelled. Emailing {told}.")
            return HttpResponseRedirect(change_url)
        context = {**self.tool_context(request, event, "Cancel this event"), **_counts(event)}
        return TemplateResponse(request, "admin/events/event/cancel.html", context)

    def get_actions(self, request: HttpRequest, action_location=ActionLocation.CHANGE_LIST):
        """The changelist's actions, and "Cancel selected events" for whoever may change them."""
        actions = super().get_actions(request, action_location)
        wanted = action_location == ActionLocation.CHANGE_LIST and IS_POPUP_VAR not in request.GET
        if wanted and self.actions is not None and self.has_change_permission(request):
            action = self.get_action("cancel_selected", action_location)
            actions[action.name] = action
        return actions

    @admin.action(description="Cancel selected events (emails everyone going or waiting)")
    def cancel_selected(self, request: HttpRequest, queryset: QuerySet[Event]):
        """Confirm on a page of its own (as deleting does), then cancel each, one by one."""
        # The queryset went through get_queryset: an organiser's own events only.
        events = [event for event in queryset if not event.is_cancelled]
        if not events:
            self.message_user(request, "Those events were already cancelled.", messages.WARNING)
            return None
        if request.POST.get("confirmed") != "yes":
            seats = selectors.seats_of([event.pk for event in events])
            rows = [(event, seats.get(event.pk) or selectors.NO_LEDGER) for event in events]
            context = {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "title": "Cancel events",
                "rows": rows,
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            }
            return TemplateResponse(request, "admin/events/event/cancel_selected.html", context)
        cancelled = [self._cancel_one(request, event) for event in events]
        done = [mailing for mailing in cancelled if mailing is not None]
        told = _people(sum(len(mailing.recipients) for mailing in done))
        self.message_user(request, f"{len(done)} cancelled. Emailing {told}.")
        return None

    def _cancel_one(self, request: HttpRequest, event: Event) -> Mailing | None:
        try:
            return mailings.cancel_event(event_id=event.pk, cancelled_by=request.user)
        except LedgerDamaged:  # that one rolled back; the others go ahead
            self.message_user(request, f"{event}: {DAMAGED}", messages.ERROR)
            return None

    def render_delete_form(self, request: HttpRequest, context: dict):
        """The delete page says who would be told, and offers cancelling instead."""
        event = context.get("object")
        if isinstance(event, Event) and not event.is_cancelled:
            context.update(_counts(event))
            context["cancel_url"] = reverse("admin:events_event_cancel", args=[event.pk])
        return super().render_delete_form(request, context)

    def mailing_log(self, event: Event) -> str:
        """Each mailing with how many have it, how many failed and how many are still to go."""
        rows = [
            (mailing, len(mailing.recipients) - mailing.sent - mailing.failed)
            for mailing in (event.mailings.select_related("sent_by") if event.pk else [])
        ]
        return render_to_string("admin/events/event/_mailing_log.html", {"rows": rows})

    mailing_log.short_description = "messages sent"
