"""What every organiser tool's view shares: the event, only if it is the organiser's."""

from __future__ import annotations

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest
from django.urls import reverse

from events.models import Event


class EventToolMixin:
    """For a mixin of ``EventAdmin``: an extra page about one event."""

    def tool_event(self: admin.ModelAdmin, request: HttpRequest, event_id: int, *, change=True):
        """The event, or 404 if it is not the user's (as Django's own views answer)."""
        event = self.get_object(request, str(event_id))
        if event is None or not self.has_view_permission(request, event):
            raise Http404("No such event.")
        if change and not self.has_change_permission(request, event):
            raise PermissionDenied
        return event

    def tool_context(self: admin.ModelAdmin, request: HttpRequest, event: Event, title: str):
        """What the admin's base template needs, plus the event and its change page."""
        return {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "event": event,
            "change_url": reverse("admin:events_event_change", args=[event.pk]),
            "title": title,
        }
