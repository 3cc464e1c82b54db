"""Check-in at the door: a phone-sized page per event, its organisers only.

The page lists who is going with a button per person, a search box and a
code box; every button is a form that posts the state it wants (in or out),
so it works without JavaScript and two phones never undo each other.
``static/js/check-in.js`` posts the same forms with fetch (asking for JSON),
filters the list as one types, and scans QR codes with the browser's own
BarcodeDetector where there is one.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.http import HttpRequest, HttpResponseRedirect, JsonResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse

from events.admin.base import EventToolMixin
from events.services import check_ins


def _wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def _int(value: str | None) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


class CheckInAdmin(EventToolMixin):
    def get_urls(self):
        view = self.admin_site.admin_view(self.check_in_view)
        return [
            path("<int:event_id>/check-in/", view, name="events_event_check_in"),
            *super().get_urls(),
        ]

    def check_in_view(self, request: HttpRequest, event_id: int):
        event = self.tool_event(request, event_id)  # someone else's event: 404
        if request.method == "POST":
            return self._check_in_post(request, event)
        q = request.GET.get("q", "").strip()
        context = {
            **self.tool_context(request, event, f"Check-in: {event}"),
            "door": check_ins.door(event.pk, q),
            "q": q,
            "page_rows": check_ins.PAGE_ROWS,
        }
        return TemplateResponse(request, "admin/events/event/check_in.html", context)

    def _check_in_post(self, request: HttpRequest, event):
        """One tap or one code: do it, then answer JSON (for the script) or redirect back."""
        if "code" in request.POST:
            result = check_ins.check_in_by_code(
                event_id=event.pk, code=request.POST["code"], by=request.user
            )
        else:
            user_id = _int(request.POST.get("user_id"))
            wanted = request.POST.get("checked_in")
            if user_id is None or wanted not in ("0", "1"):
                result = check_ins.CheckInResult(False, "Nobody was chosen.")
            else:
                result = check_ins.check_in(
                    event_id=event.pk, user_id=user_id, by=request.user, checked_in=wanted == "1"
                )
        if _wants_json(request):
            return self._json_answer(event, result)
        self.message_user(
            request, result.message, messages.SUCCESS if result.ok else messages.ERROR
        )
        url = reverse("admin:events_event_check_in", args=[event.pk])
        q = request.POST.get("q", "").strip()
        return HttpResponseRedirect(f"{url}?{urlencode({'q': q})}" if q else url)

    def _json_answer(self, event, result: check_ins.CheckInResult) -> JsonResponse:
        counts = check_ins.counts(event.pk)
        body = {
            "ok": result.ok,
            "message": result.message,
            "user_id": result.user_id,
            "checked_in": result.checked_in,
            "counts": {
                "checked_in": counts.checked_in,
                "going": counts.going,
                "seats_checked_in": counts.seats_checked_in,
                "seats": counts.seats,
            },
        }
        # A refusal is the client's to show, not a server failure: 422, never a 5xx.
        return JsonResponse(body, status=200 if result.ok else 422)
