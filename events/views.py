"""Pages. Each view reads the request, calls one service or selector, and renders."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.paginator import Paginator
from django.db import connection
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from events import limits, outcomes, selectors, services
from events.errors import allow
from events.forms import PartyForm
from events.ledger import LedgerUnavailable, Outcome
from events.services import email_actions

PAGE_SIZE = 20

# Outcomes whose message says where the viewer stands: the event page then
# leaves out its own status line, so "You're going" is said once.
_STANDING_SAID = {
    f"outcome-{outcome}"
    for outcome in (
        Outcome.CONFIRMED,
        Outcome.ALREADY_GOING,
        Outcome.WAITLISTED,
        Outcome.ALREADY_WAITING,
    )
}


@allow("GET")
def event_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.upcoming_events(), PAGE_SIZE).get_page(request.GET.get("page"))
    cards = selectors.event_cards(list(page.object_list), request.user)
    # Started events leave the upcoming list; until they end they head its first page.
    happening = selectors.happening_now(request.user) if page.number == 1 else []
    context = {"page": page, "cards": cards, "happening": happening}
    return render(request, "events/event_list.html", context)


@allow("GET")
def event_detail(request: HttpRequest, pk: int) -> HttpResponse:
    event = selectors.visible_event_or_404(pk, request.user)
    card = selectors.event_card(event, request.user)
    attendees = selectors.attendee_rows(event.pk) if event.attendees_public else None
    # Reading the messages here leaves them to the template, which shows them.
    said = any(m.extra_tags in _STANDING_SAID for m in messages.get_messages(request))
    context = {
        "card": card,
        "attendees": attendees,
        "standing_said": said,
        "guest_names": selectors.guest_names(card, request.user),
    }
    return render(request, "events/event_detail.html", context)


@never_cache
@allow("GET")
def event_seats(request: HttpRequest, pk: int) -> HttpResponse:
    """The event page's seat line and buttons alone, for its live update (live-seats.js)."""
    event = selectors.visible_event_or_404(pk, request.user)
    card = selectors.event_card(event, request.user)
    context = {"card": card, "guest_names": selectors.guest_names(card, request.user)}
    return render(request, "events/_live_seats.html", context)


def _seat_action(request: HttpRequest, pk: int, action, *, party: bool = False) -> HttpResponse:
    """One seat button: limited, then one service call, its answer said on the event page.

    ``party``: the form posts a party (``PartyForm``), passed to the service.
    """
    if request.method != "POST":
        # A reload of a POST's answer, or a shared link: the event page, not an error.
        return redirect("events:detail", pk=pk)
    if not request.user.is_authenticated:
        return redirect_to_login(reverse("events:detail", args=[pk]))
    if wait := limits.seat_action_wait(request, user_id=request.user.pk):
        # Said on the event page, as every other answer to a seat button: the
        # person sees where they stand, and a reload does not post again.
        messages.warning(request, limits.sentence(wait), extra_tags="rate-limited")
        return redirect("events:detail", pk=pk)
    form = PartyForm(request.POST) if party else None
    if form is not None and not form.is_valid():
        messages.error(request, form.error_text(), extra_tags="party-refused")
        return redirect("events:detail", pk=pk)
    try:
        result = action(event_id=pk, user_id=request.user.pk, **(form.party if form else {}))
    except services.PartyError as exc:
        messages.error(request, str(exc), extra_tags="party-refused")
        return redirect("events:detail", pk=pk)
    if result.outcome is Outcome.UNKNOWN_EVENT:
        raise Http404(outcomes.sentence(result))
    messages.add_message(
        request,
        outcomes.level(result),
        outcomes.sentence(result),
        extra_tags=f"outcome-{result.outcome}",
    )
    return redirect("events:detail", pk=pk)


@allow("GET", "POST")
def rsvp(request: HttpRequest, pk: int) -> HttpResponse:
    return _seat_action(request, pk, services.rsvp, party=True)


@allow("GET", "POST")
def change_party(request: HttpRequest, pk: int) -> HttpResponse:
    """A new number of guests for the viewer's seats or place: a seat action like the others."""
    return _seat_action(request, pk, services.change_party, party=True)


@allow("GET", "POST")
def cancel_rsvp(request: HttpRequest, pk: int) -> HttpResponse:
    """POST cancels at once; GET asks first (the event page links here when a seat is scarce)."""
    if request.method == "POST":
        return _seat_action(request, pk, services.cancel_rsvp)
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    event = selectors.visible_event_or_404(pk, request.user)
    card = selectors.event_card(event, request.user)
    if not card.going or event.is_past:  # nothing to give back: the page says why
        return redirect(event)
    return render(request, "events/cancel_confirm.html", {"card": card})


@allow("GET", "POST")
def join_waitlist(request: HttpRequest, pk: int) -> HttpResponse:
    return _seat_action(request, pk, services.join_waitlist, party=True)


@allow("GET", "POST")
def leave_waitlist(request: HttpRequest, pk: int) -> HttpResponse:
    return _seat_action(request, pk, services.leave_waitlist)


@allow("GET")
@login_required
def my_rsvps(request: HttpRequest) -> HttpResponse:
    cards = selectors.upcoming_rsvps(request.user)
    context = {
        "tab": "upcoming",
        "going": [card for card in cards if card.going],
        "waiting": [card for card in cards if card.waiting],
        "requested": [card for card in cards if card.requested],
        "entered": [card for card in cards if card.entered],
    }
    return render(request, "events/my_rsvps.html", context)


@allow("GET")
@login_required
def my_past_rsvps(request: HttpRequest) -> HttpResponse:
    events = selectors.past_rsvps(request.user)
    page = Paginator(events, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"tab": "past", "page": page, "past": selectors.past_cards(list(page.object_list))}
    return render(request, "events/my_rsvps.html", context)


@never_cache
@allow("GET", "POST")
def email_action(request: HttpRequest, token: str) -> HttpResponse:
    """A link from an email: GET shows what it does, POST does it (no login: the link is signed)."""
    try:
        link = email_actions.read_link(token)
    except email_actions.BadLink:
        return render(request, "events/email_action.html", {"bad": True}, status=400)
    event = selectors.visible_event_or_404(link.event_id)
    context = {"event": event, "action": link.action}
    if request.method != "POST":
        return render(request, "events/email_action.html", context)
    if wait := limits.seat_action_wait(request, user_id=link.user_id):
        context["limited"] = limits.sentence(wait)
        response = render(request, "events/email_action.html", context, status=429)
        response["Retry-After"] = str(wait)
        return response
    context["done"] = outcomes.sentence(services.carry_out_email_action(link=link))
    return render(request, "events/email_action.html", context)


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
