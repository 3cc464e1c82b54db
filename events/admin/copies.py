"""Duplicate an event, or repeat it weekly or monthly (stub, filled by the copies work)."""

from __future__ import annotations

from django.http import Http404
from django.urls import path

from events.admin.base import EventToolMixin


class CopyAdmin(EventToolMixin):
    def get_urls(self):
        duplicate = self.admin_site.admin_view(self.duplicate_view)
        repeat = self.admin_site.admin_view(self.repeat_view)
        return [
            path("<int:event_id>/duplicate/", duplicate, name="events_event_duplicate"),
            path("<int:event_id>/repeat/", repeat, name="events_event_repeat"),
            *super().get_urls(),
        ]

    def duplicate_view(self, request, event_id: int):
        raise Http404("Not built yet.")

    def repeat_view(self, request, event_id: int):
        raise Http404("Not built yet.")
