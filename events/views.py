"""Pages. Each view reads the request, calls one service, and renders."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.paginator import Paginator
from django.db import connection
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from events import selectors, services
from events.ledger import LedgerUnavailable, Outcome
from events.models import Event

PAGE_SIZE = 20

_LEVELS = {
    Outcome.CONFIRMED: messages.SUCCESS,
    Outcome.CANCELLED: messages.SUCCESS,
    Outcome.ALREADY_GOING: messages.INFO,
    Outcome.NOT_GOING: messages.INFO,
    Outcome.FULL: messages.ERROR,
    Outcome.EVENT_PAST: messages.ERROR,
    Outcome.RSVPS_CLOSED: messages.ERROR,
    Outcome.WAITLISTED: messages.SUCCESS,
    Outcome.LEFT_WAITLIST: messages.SUCCESS,
    Outcome.ALREADY_WAITING: messages.INFO,
    Outcome.NOT_WAITING: messages.INFO,
    Outcome.WAITLIST_CLOSED: messages.ERROR,
}


@require_GET
def event_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(Event.objects.upcoming(), PAGE_SIZE).get_page(request.GET.get("page"))
    cards = selectors.event_cards(list(page.object_list), request.user)
    return render(request, "events/event_list.html", {"page": page, "cards": cards})


@require_GET
def event_detail(request: HttpRequest, pk: int) -> HttpResponse:
    event = get_object_or_404(Event.objects.select_related("organiser"), pk=pk)
    card = selectors.event_card(event, request.user)
    attendees = selectors.attendee_rows(event.pk) if event.attendees_public else None
    return render(request, "events/event_detail.html", {"card": card, "attendees": attendees})


def _seat_action(request: HttpRequest, pk: int, action) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect_to_login(reverse("events:detail", args=[pk]))
    result = action(event_id=pk, user_id=request.user.pk)
    if result.outcome is Outcome.UNKNOWN_EVENT:
        raise Http404(services.message(result))
    messages.add_message(
        request,
        _LEVELS[result.outcome],
        services.message(result),
        extra_tags=f"outcome-{result.outcome}",
    )
    return redirect("events:detail", pk=pk)


@require_POST
def rsvp(request: HttpRequest, pk: int) -> HttpResponse:
    return _seat_action(request, pk, services.rsvp)


@require_POST
def cancel_rsvp(request: HttpRequest, pk: int) -> HttpResponse:
    return _seat_action(request, pk, services.cancel_rsvp)


@require_POST
def join_waitlist(request: HttpRequest, pk: int) -> HttpResponse:
    return _seat_action(request, pk, services.join_waitlist)


@require_POST
def leave_waitlist(request: HttpRequest, pk: int) -> HttpResponse:
    return _seat_action(request, pk, services.leave_waitlist)


@require_GET
@login_required
def my_rsvps(request: HttpRequest) -> HttpResponse:
    cards = selectors.upcoming_rsvps(request.user)
    going = [card for card in cards if card.going]
    waiting = [card for card in cards if card.waiting]
    return render(request, "events/my_rsvps.html", {"going": going, "waiting": waiting})


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness of both stores, for load balancers and the tests."""
    checks = {}
    try:
        connection.ensure_connection()
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception as exc:  # any failure is "down", reported not raised
        checks["database"] = f"unavailable: {exc.__class__.__name__}"
    try:
        selectors.check_ledger()
        checks["mongodb"] = "ok"
    except LedgerUnavailable as exc:
        checks["mongodb"] = f"unavailable: {exc.__class__.__name__}"
    healthy = all(v == "ok" for v in checks.values())
    return JsonResponse(
        {"status": "ok" if healthy else "unavailable", **checks}, status=200 if healthy else 503
    )
