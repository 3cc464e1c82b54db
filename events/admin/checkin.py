"""Check-in at the door: a phone-sized page per event (stub, filled by the check-in work)."""

from __future__ import annotations

from django.http import Http404
from django.urls import path

from events.admin.base import EventToolMixin


class CheckInAdmin(EventToolMixin):
    def get_urls(self):
        view = self.admin_site.admin_view(self.check_in_view)
        return [
            path("<int:event_id>/check-in/", view, name="events_event_check_in"),
            *super().get_urls(),
        ]

    def check_in_view(self, request, event_id: int):
        raise Http404("Not built yet.")
