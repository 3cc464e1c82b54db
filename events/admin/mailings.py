"""Messages to attendees and cancelling an event (stub, filled by the mailing work)."""

from __future__ import annotations

from django.http import Http404
from django.urls import path

from events.admin.base import EventToolMixin


class MailingAdmin(EventToolMixin):
    def get_urls(self):
        message = self.admin_site.admin_view(self.message_view)
        cancel = self.admin_site.admin_view(self.cancel_view)
        return [
            path("<int:event_id>/message/", message, name="events_event_message"),
            path("<int:event_id>/cancel/", cancel, name="events_event_cancel"),
            *super().get_urls(),
        ]

    def message_view(self, request, event_id: int):
        raise Http404("Not built yet.")

    def cancel_view(self, request, event_id: int):
        raise Http404("Not built yet.")

    def mailing_log(self, event) -> str:
        return ""

    mailing_log.short_description = "messages sent"
