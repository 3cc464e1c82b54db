"""Calendar pages: an event's .ics, a user's secret feed, and the page that shows and resets it."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache

from events import calendar, selectors, services
from events.errors import allow
from events.models import CalendarFeed
from events.services import check_ins


def _ics_response(body: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(body, content_type=calendar.CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@allow("GET")
def event_ics(request: HttpRequest, pk: int) -> HttpResponse:
    event = selectors.visible_event_or_404(pk, request.user)
    # Someone going gets their own check-in code in the description, as in their email.
    going = request.user.is_authenticated and selectors.event_card(event, request.user).going
    code = check_ins.code_for(event.pk, request.user.pk) if going else None
    return _ics_response(calendar.event_ics(event, check_in_code=code), calendar.filename(event))


@never_cache
@allow("GET")
def feed(request: HttpRequest, token: str) -> HttpResponse:
    """The feed of the token's owner: no login (calendar apps have none), the token is the key."""
    owner = get_object_or_404(CalendarFeed.objects.select_related("user"), token=token).user
    events = list(selectors.feed_events(owner))  # the owner is going to each
    codes = {event.pk: check_ins.code_for(event.pk, owner.pk) for event in events}
    body = calendar.feed_ics(events, name=f"{settings.SITE_NAME}: my events", check_in_codes=codes)
    response = HttpResponse(body, content_type=calendar.CONTENT_TYPE)
    # Shown inline: a subscription reads it, a browser may display it.
    response["Content-Disposition"] = 'inline; filename="my-events.ics"'
    return response


@never_cache
@allow("GET", "POST")
@login_required
def feed_settings(request: HttpRequest) -> HttpResponse:
    """GET shows the feed's addresses; POST replaces them with new ones."""
    if request.method == "POST":
        services.reset_calendar_feed(user=request.user)
        messages.success(request, "Your calendar feed has a new address; the old one is gone.")
        return redirect("events:calendar_feed_settings")
    feed = services.calendar_feed(user=request.user)
    https_url = settings.SITE_URL + reverse("events:calendar_feed", args=[feed.token])
    webcal_url = "webcal://" + https_url.split("://", 1)[1]
    context = {"https_url": https_url, "webcal_url": webcal_url}
    return render(request, "events/calendar_feed.html", context)
