"""Reads of events, seats and waiting lists, for pages, the API and the admin.

None of these decides a seat: they show what the ledger holds right now.
Writes live in ``events.services``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, Group
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone

from events import ledger, seat_cache, times
from events.apps import ORGANISERS_GROUP
from events.ledger import Seats, Standing
from events.models import Event, Rsvp

NO_LEDGER = Seats(capacity=0, taken=0, waitlist_limit=0)
# The record's states in which a person still stands somewhere at an event.
HELD = (Rsvp.Status.GOING, Rsvp.Status.WAITING, Rsvp.Status.REQUESTED, Rsvp.Status.ENTERED)
# Marks only the ledger can confirm or place (a place in line, a request, an entry).
ASKED_OR_WAITING = (Rsvp.Status.WAITING, Rsvp.Status.REQUESTED, Rsvp.Status.ENTERED)
# How long an event without an end time is taken to last, for "happening now":
# a talk, a meetup or a workshop's afternoon. An organiser who means otherwise
# sets the end.
DEFAULT_DURATION = timedelta(hours=3)


def ends_at(event: Event) -> datetime:
    """When the event ends: its end time, or ``DEFAULT_DURATION`` after its start."""
    return event.ends_at or event.starts_at + DEFAULT_DURATION


@dataclass(frozen=True)
class EventCard:
    """An event as a page or the API shows it: SQL fields plus ledger seats.

    ``going`` and ``position`` are the viewer's: a seat, or a place (1-based)
    on the waiting list.
    """

    event: Event
    seats: Seats
    going: bool = False
    position: int | None = None
    ledger_open: bool = True  # False: no ledger document (RSVPs are not open), or unreadable
    guests: int = 0  # the viewer's guests, seated or waiting with them
    requested: bool = False  # the viewer asked for seats and awaits approval
    entered: bool = False  # the viewer is in the event's draw, not yet drawn

    @property
    def waiting(self) -> bool:
        return self.position is not None

    @property
    def happening_now(self) -> bool:
        """Started and not yet ended (RSVPs are closed, people are there)."""
        return self.event.starts_at <= timezone.now() < ends_at(self.event)

    @property
    def cancel_needs_confirmation(self) -> bool:
        """Whether giving the seat back should be asked twice: the event is full.

        Such a seat goes at once to the first waiting, or to the next click, so
        the viewer may not get it back: one mis-tap must not cost it.
        """
        return self.going and self.seats.is_full


@dataclass(frozen=True)
class AttendeeRow:
    user: AbstractBaseUser | None
    user_id: int
    rsvp_at: datetime | None = None
    guests: int = 0  # the ledger's count of the guests coming (or waiting, or asked) with them
    guest_names: tuple[str, ...] = ()  # as the person gave them: only for organisers' views

    @property
    def party(self) -> int:
        return 1 + self.guests


def _signed_in(user: AbstractBaseUser | None) -> bool:
    return user is not None and user.is_authenticated


def _card(event: Event, seats: Seats | None, standing: Standing | None) -> EventCard:
    standing = standing or Standing()
    return EventCard(
        event,
        seats or NO_LEDGER,
        standing.going,
        standing.position,
        ledger_open=seats is not None,
        guests=standing.guests,
        requested=standing.requested,
        entered=standing.entered,
    )


def seats_of(event_ids: list[int]) -> dict[int, Seats]:
    """Exact seats, straight from the ledger (the admin's form and lists)."""
    return ledger.seats(event_ids)


def has_ledger(event_id: int) -> bool:
    """Whether the event has a ledger document, readable or damaged (the admin's form)."""
    return ledger.exists(event_id)


def event_cards(events: list[Event], user: AbstractBaseUser | None = None) -> list[EventCard]:
    """Cards for a list page: seats from the seat cache, the viewer's marks from the record.

    Seats are at most ``SEATS_CACHE_SECONDS`` old. Whether the viewer goes or
    waits comes from the SQL record, one query for the page; only a "waiting"
    (or "requested", or "entered") mark is confirmed in the ledger, which alone
    knows the place in line.
    """
    seats = seat_cache.seats([e.pk for e in events], ledger.seats)
    held = _held(events, user)
    cards = []
    for event in events:
        if held.get(event.pk) in ASKED_OR_WAITING:
            cards.extend(_exact_cards([event], user))
        else:
            going = Standing(going=held.get(event.pk) == Rsvp.Status.GOING)
            cards.append(_card(event, seats.get(event.pk), going))
    return cards


def _held(events: list[Event], user: AbstractBaseUser | None) -> dict[int, str]:
    """The viewer's seats and places among ``events``, as the SQL record has them."""
    if not _signed_in(user):
        return {}
    rows = Rsvp.objects.filter(user=user, event__in=events, status__in=HELD)
    return dict(rows.values_list("event_id", "status"))


def _exact_cards(events: list[Event], user: AbstractBaseUser) -> list[EventCard]:
    """Exact seats and the user's exact standing: one key lookup per event."""
    cards = []
    for event in events:
        found = ledger.standing(event.pk, user.pk)
        cards.append(_card(event, *(found or (None, None))))
    return cards


def event_card(event: Event, user: AbstractBaseUser | None = None) -> EventCard:
    """One event's page: exact for a signed-in viewer, whose buttons depend on it.

    An anonymous viewer's seats come from the seat cache, which never waits
    for the ledger; a signed-in one's from one key lookup (the load tests'
    end checks read each user's standing back through the API this way).
    """
    if _signed_in(user):
        (card,) = _exact_cards([event], user)
        return card
    # Unlike a list, the page of a damaged event says so (LedgerDamaged).
    seats = seat_cache.seats([event.pk], partial(ledger.seats, skip_damaged=False))
    return _card(event, seats.get(event.pk), None)


def guest_names(card: EventCard, user: AbstractBaseUser | None) -> list[str]:
    """The names the viewer gave for their guests (the SQL record), as many as the ledger seats.

    The ledger holds how many guests come; names are only a courtesy kept
    beside the record, so a party that shrank shows its first names only.
    """
    if not card.guests or not _signed_in(user):
        return []
    rows = Rsvp.objects.filter(event_id=card.event.pk, user=user)
    return list(rows.values_list("guest_names", flat=True).first() or [])[: card.guests]


def guest_names_by_user(event_id: int, user_ids: list[int]) -> dict[int, list[str]]:
    """The guests' names each of these users gave, from the record (one query)."""
    rows = Rsvp.objects.filter(event_id=event_id, user_id__in=user_ids).exclude(guest_names=[])
    return dict(rows.values_list("user_id", "guest_names"))


def upcoming_rsvps(user: AbstractBaseUser) -> list[EventCard]:
    """Upcoming events the user holds a seat at, waits for, asked for or entered, soonest first.

    Found through the SQL record (indexed by user), then each confirmed by a
    key lookup in the ledger, which also gives the place on the list.
    """
    events = Event.objects.upcoming().filter(rsvps__user=user, rsvps__status__in=HELD)
    cards = _exact_cards(list(events), user)
    return [card for card in cards if card.going or card.waiting or card.requested or card.entered]


def upcoming_events() -> QuerySet[Event]:
    """The public list: published (and cancelled, marked so) events yet to start."""
    return Event.objects.public().upcoming()


def may_preview(event: Event, user: AbstractBaseUser | None) -> bool:
    """Whether ``user`` may see ``event`` while it is a draft: its organiser, or a superuser."""
    return _signed_in(user) and (user.is_superuser or user.pk == event.organiser_id)


def visible_event(pk: int, user: AbstractBaseUser | None = None) -> Event | None:
    """The event if this viewer may see it: anyone unless it is a draft, then its organisers."""
    event = Event.objects.select_related("organiser").filter(pk=pk).first()
    if event is None or (event.is_draft and not may_preview(event, user)):
        return None
    return event


def visible_event_or_404(pk: int, user: AbstractBaseUser | None = None) -> Event:
    """``visible_event``, or 404 (the API answers it as its JSON ``not_found``)."""
    event = visible_event(pk, user)
    if event is None:
        raise Http404("Event not found")
    return event


def organised_event_or_404(pk: int, user: AbstractBaseUser) -> Event:
    """The event if ``user`` organises it (or is a superuser), else 404: one key lookup.

    A 404, not a 403, so a stranger cannot tell which ids are events.
    """
    event = Event.objects.filter(pk=pk).first()
    if event is None or not (user.is_superuser or event.organiser_id == user.pk):
        raise Http404("Event not found")
    return event


def happening_now(user: AbstractBaseUser | None = None) -> list[EventCard]:
    """Events that have started and not ended, soonest end first, for the home page.

    An event without an end lasts ``DEFAULT_DURATION``. The query is two
    ranges, one on each index (ends after now; started within the default
    duration), so its cost does not grow with the site's past events; the
    few it finds that have in fact ended are dropped here.
    """
    now = timezone.now()
    events = Event.objects.filter(
        Q(ends_at__gt=now, starts_at__lte=now)
        | Q(starts_at__gt=now - DEFAULT_DURATION, starts_at__lte=now)
    ).order_by()  # sorted below: an ORDER BY would make SQLite walk the whole index
    running = [event for event in events if now < ends_at(event) and not event.is_draft]
    return sorted(event_cards(running, user), key=lambda card: ends_at(card.event))


def past_rsvps(user: AbstractBaseUser) -> QuerySet[Event]:
    """Events that have started at which the user held a seat, latest first.

    From the SQL record alone: once an event starts its list is final (no
    cancel, no promotion), so the record's "going" is what the ledger held.
    """
    return Event.objects.filter(
        starts_at__lt=timezone.now(), rsvps__user=user, rsvps__status=Rsvp.Status.GOING
    ).order_by("-starts_at", "-pk")


# How far back a calendar feed reaches: recent events stay in a subscriber's
# calendar (apps drop what a feed no longer lists), old ones keep it small.
FEED_PAST = timedelta(days=90)


def feed_events(user: AbstractBaseUser) -> QuerySet[Event]:
    """Events the user is going to, upcoming and recent, from the SQL record."""
    return Event.objects.filter(
        starts_at__gte=timezone.now() - FEED_PAST,
        rsvps__user=user,
        rsvps__status=Rsvp.Status.GOING,
    ).order_by("starts_at", "pk")


def past_cards(events: list[Event]) -> list[EventCard]:
    """Cards for past RSVPs: no seats to show, the viewer held one."""
    return [EventCard(event, NO_LEDGER, going=True) for event in events]


def attendee_rows(event_id: int, *, names: bool = False) -> list[AttendeeRow]:
    """Who is going, in the order they got their seats, joined with their accounts.

    ``names``: with the names each gave for their guests (one query on the
    record), cut to the number the ledger seats.
    """
    entries = ledger.attendees(event_id)
    parties = [(a.user_id, a.guests, a.at) for a in entries]
    return _rows(event_id, parties, names=names)


def waitlist_rows(event_id: int, *, names: bool = False) -> list[AttendeeRow]:
    """Who is waiting, first in line first, joined with their accounts."""
    roster = ledger.roster(event_id)
    if roster is None:
        return []
    waiting = zip(roster.waitlist, roster.waiting_guests, strict=True)  # aligned when read
    parties = [(user_id, guests, None) for user_id, guests in waiting]
    return _rows(event_id, parties, names=names)


def _rows(event_id: int, parties: list, *, names: bool) -> list[AttendeeRow]:
    """(user id, guests, seated at) joined with accounts and, if asked, the guests' names."""
    user_ids = [user_id for user_id, _, _ in parties]
    users = get_user_model().objects.in_bulk(user_ids)
    given = {}
    if names and any(guests for _, guests, _ in parties):
        given = guest_names_by_user(event_id, user_ids)
    return [
        AttendeeRow(users.get(u), u, at, guests, tuple(given.get(u, ())[:guests]))
        for u, guests, at in parties
    ]


def request_rows(event_id: int) -> list[AttendeeRow]:
    """The requests awaiting approval, first asked first (the order approval seats them).

    Who and how many from the ledger; when each asked from the SQL record
    (written just after the request), None where the record has no such row.
    """
    roster = ledger.roster(event_id)
    if roster is None:
        return []
    asked = dict(
        Rsvp.objects.filter(
            event_id=event_id, user_id__in=roster.requests, status=Rsvp.Status.REQUESTED
        ).values_list("user_id", "updated_at")
    )
    guests = roster.request_guests or (0,) * len(roster.requests)
    requests = zip(roster.requests, guests, strict=True)  # aligned when read
    parties = [(user_id, party, asked.get(user_id)) for user_id, party in requests]
    return _rows(event_id, parties, names=True)


def seatable_by_hand(event_id: int, who: str, *, by: AbstractBaseUser) -> list:
    """Who ``by`` may seat by hand at the event as ``who`` (exact username or email): at most 2.

    Only people who asked for this event themselves (an RSVP record of any
    state: going, waiting, cancelled, left, removed), never staff or
    superusers but ``by`` themself. The form answers alike for an address
    with no account and one whose owner never asked, so it tells nobody who
    has an account; and nobody can be seated (and emailed, then messaged)
    who did not ask.
    """
    asked = Q(pk__in=Rsvp.objects.filter(event_id=event_id).values("user"))
    may = (asked & Q(is_staff=False, is_superuser=False)) | Q(pk=by.pk)
    named = Q(username__iexact=who) | Q(email__iexact=who)
    return list(get_user_model().objects.filter(named, may, is_active=True)[:2])


def organisers(also: int | None = None) -> QuerySet:
    """Who may organise an event: active superusers, and active staff in the Organisers group.

    ``also`` keeps one more user in (an event's present organiser, who may have
    left the group since), so that editing the event does not fail on them.
    The group is matched by a subquery, not a join, so nobody is listed twice.
    """
    in_group = Group.objects.filter(name=ORGANISERS_GROUP).values("user")
    may = Q(is_active=True) & (Q(is_superuser=True) | Q(is_staff=True, pk__in=in_group))
    if also is not None:
        may |= Q(pk=also)
    return get_user_model().objects.filter(may).order_by("username")


def check_ledger() -> None:
    """Raise ``ledger.LedgerUnavailable`` unless MongoDB answers."""
    ledger.ping()


def reconfirmation_summary(event: Event) -> str:
    """What an organiser is told of the event's "still coming?": one key lookup in the ledger."""
    if not event.asks_to_reconfirm:
        return "Nobody is asked to reconfirm: set both times above to ask."
    ask_at = times.moment(event.starts_at - event.reconfirm_ask_before, event.zone)
    release_at = times.moment(event.starts_at - event.reconfirm_release_before, event.zone)
    try:
        found = ledger.reconfirmation(event.pk)
        seats = ledger.seats([event.pk]).get(event.pk)
    except ledger.LedgerUnavailable:
        return "The ledger cannot be read right now."
    if found is None or seats is None:
        return "This event has no ledger."
    if not found.asked:
        return (
            f"Everyone going is asked on {ask_at}; the seats not kept by {release_at} "
            "go to the waiting list."
        )
    if found.released or timezone.now() >= event.starts_at - event.reconfirm_release_before:
        return (
            f"Released: {len(found.released)} seats went to the waiting list; "
            f"{seats.taken} people are going."
        )
    pending = len(found.unconfirmed)
    return (
        f"Asked. {seats.taken - pending} of the {seats.taken} going have kept their seat "
        f"(or took it after the question); {pending} will be released at {release_at} "
        "unless they say yes."
    )
