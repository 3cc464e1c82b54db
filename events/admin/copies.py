"""Duplicate an event, or repeat it weekly or monthly: each copy a draft (services.copies)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.http import urlencode

from events import times
from events.admin.base import EventToolMixin
from events.ledger import LedgerUnavailable
from events.models import Event
from events.services import copies

REFUSED = "The ledger (MongoDB) did not answer, so no copy was made: try again in a moment."


class RepeatForm(forms.Form):
    every = forms.ChoiceField(
        label="Repeat",
        choices=[(copies.Every.WEEK, "every week"), (copies.Every.MONTH, "every month")],
        initial=copies.Every.WEEK,
        help_text="A monthly copy keeps the day of the month, or the month's last day if "
        "shorter (31 January: 28 February, 31 March).",
    )
    count = forms.IntegerField(
        label="How many copies",
        min_value=1,
        max_value=copies.MAX_REPEATS,
        initial=4,
        help_text=f"1 to {copies.MAX_REPEATS}. Each is a draft at the same local time.",
    )


def _when(event: Event, copy: copies.Times) -> str:
    return times.span(copy.starts_at, copy.ends_at, event.zone)


class CopyAdmin(EventToolMixin):
    def get_urls(self):
        duplicate = self.admin_site.admin_view(self.duplicate_view)
        repeat = self.admin_site.admin_view(self.repeat_view)
        return [
            path("<int:event_id>/duplicate/", duplicate, name="events_event_duplicate"),
            path("<int:event_id>/repeat/", repeat, name="events_event_repeat"),
            *super().get_urls(),
        ]

    def duplicate_view(self, request: HttpRequest, event_id: int):
        """Confirm, then make the draft and open it."""
        event = self.tool_event(request, event_id)
        context = self.tool_context(request, event, "Duplicate an event")
        if request.method != "POST":
            return TemplateResponse(request, "admin/events/event/duplicate.html", context)
        try:
            copy = copies.duplicate_event(event_id=event.pk)
        except (copies.CopyError, LedgerUnavailable) as exc:
            refusal = str(exc) if isinstance(exc, copies.CopyError) else REFUSED
            self.message_user(request, refusal, messages.ERROR)
            return HttpResponseRedirect(context["change_url"])
        self.message_user(
            request,
            f"Copied “{event}” to a new draft: nobody is going yet. Publish it when ready.",
            messages.SUCCESS,
        )
        return HttpResponseRedirect(reverse("admin:events_event_change", args=[copy.pk]))

    def repeat_view(self, request: HttpRequest, event_id: int):
        """A form whose GET shows the dates to come; its POST makes the drafts."""
        event = self.tool_event(request, event_id)
        data = request.POST if request.method == "POST" else request.GET or None
        form = RepeatForm(data)
        preview = []
        if form.is_valid():
            every, count = form.cleaned_data["every"], form.cleaned_data["count"]
            if request.method == "POST":
                return self._repeat(request, event, every, count)
            preview = [_when(event, copy) for copy in copies.series_times(event, every, count)]
        context = {
            **self.tool_context(request, event, "Repeat an event"),
            "form": form,
            "preview": preview,
            "source_when": times.span(event.starts_at, event.ends_at, event.zone),
        }
        return TemplateResponse(request, "admin/events/event/repeat.html", context)

    def _repeat(self, request: HttpRequest, event: Event, every: str, count: int):
        try:
            made = copies.repeat_event(event_id=event.pk, every=every, count=count)
        except (copies.CopyError, LedgerUnavailable) as exc:
            refusal = str(exc) if isinstance(exc, copies.CopyError) else REFUSED
            self.message_user(request, refusal, messages.ERROR)
            return HttpResponseRedirect(reverse("admin:events_event_repeat", args=[event.pk]))
        dates = "; ".join(times.moment(copy.starts_at, copy.zone) for copy in made)
        self.message_user(
            request, f"Made {len(made)} drafts of “{event}”: {dates}.", messages.SUCCESS
        )
        shown = urlencode({"id__in": ",".join(str(copy.pk) for copy in made)})
        return HttpResponseRedirect(f"{reverse('admin:events_event_changelist')}?{shown}")
