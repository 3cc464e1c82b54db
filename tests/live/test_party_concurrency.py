"""Parties of mixed sizes racing for seats, against gunicorn with two workers.

Every client holds a Bearer token and all fire at once; the ledger is then
held against every answer: the seats taken are exactly the confirmed
parties, never above capacity, and no refused party would fit in the seats
left (seats only went down during the rush).
"""

from __future__ import annotations

import random
from collections import Counter

import pytest

from accounts.tokens import issue_access_tokens
from events import ledger, services
from events.ledger.audit import findings
from events.ledger.connection import collection
from tests.helpers import api_call, fire_together, make_event, make_users

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]


def test_parties_of_mixed_sizes_fill_the_event_exactly_and_never_pass_it(
    live_site, django_user_model
):
    organiser = django_user_model.objects.create_user("party-race-org", password="x")
    event = make_event(organiser, 40, guests_allowed=4)
    users = make_users(80, prefix="party-racer")
    rng = random.Random(22)  # the same mix on every run: ~2 seats a party, ~160 asked
    guests = {user.pk: rng.choice([0, 0, 1, 2, 3, 4]) for user in users}
    tokens = issue_access_tokens(users)
    url = f"{live_site.url}/api/events/{event.pk}/rsvp"

    calls = [api_call("POST", url, tokens[u.pk], {"guests": guests[u.pk]}) for u in users]
    answers = dict(zip((u.pk for u in users), fire_together(calls), strict=True))

    assert set(Counter(a.status_code for a in answers.values())) <= {201, 409}
    confirmed = {u for u, a in answers.items() if a.status_code == 201}
    for user in confirmed:
        assert answers[user].json()["party"] == 1 + guests[user]
    seated = {a.user_id: a.guests for a in ledger.attendees(event.pk)}
    assert seated == {u: guests[u] for u in confirmed}, "every 201 seated with its guests, once"
    seats = ledger.seats([event.pk])[event.pk]
    assert seats.taken == sum(1 + guests[u] for u in confirmed) <= seats.capacity
    refused = [u for u in answers if u not in confirmed]
    assert all(answers[u].json()["code"] == "full" for u in refused)
    assert all(1 + guests[u] > seats.left for u in refused), "a refused party would have fit"
    assert findings(collection().find_one({"_id": event.pk})) == []


def test_growing_parties_and_a_waiting_party_race_without_passing_the_capacity(
    live_site, django_user_model
):
    """Ten parties of one grow by two at once; a cancel frees seats for a waiting party."""
    organiser = django_user_model.objects.create_user("grow-race-org", password="x")
    event = make_event(organiser, 15, guests_allowed=3)
    going, (leaver,), (waiter,) = (
        make_users(10, prefix="grower"),
        *(make_users(1, prefix=p) for p in ("leaver", "waiter")),
    )
    for user in [*going, leaver]:
        services.rsvp(event_id=event.pk, user_id=user.pk, guests=0 if user in going else 3)
    services.join_waitlist(event_id=event.pk, user_id=waiter.pk, guests=1)  # 1 free, needs 2
    assert ledger.waitlist(event.pk) == [waiter.pk] and ledger.seats([event.pk])[event.pk].left == 1
    tokens = issue_access_tokens([*going, leaver])
    url = f"{live_site.url}/api/events/{event.pk}/rsvp"
    calls = [api_call("PATCH", url, tokens[u.pk], {"guests": 2}) for u in going]
    calls.append(api_call("DELETE", url, tokens[leaver.pk]))

    answers = fire_together(calls)

    grew = [a for a in answers[:-1] if a.status_code == 200]
    assert answers[-1].status_code == 200, "the cancel"
    # 1 free and 4 freed by the cancel: the waiting party (2) and the growths
    # (2 each) take them in whatever order their writes land.
    seats = ledger.seats([event.pk])[event.pk]
    assert seats.taken <= seats.capacity
    seated = {a.user_id: a.guests for a in ledger.attendees(event.pk)}
    if waiter.pk not in seated:
        assert ledger.waitlist(event.pk) == [waiter.pk] and seats.left < 2, "it would fit"
    assert 1 <= len(grew) <= 2
    assert sum(1 + g for g in seated.values()) == seats.taken
    assert len([u for u in going if seated[u.pk] == 2]) == len(grew)
    assert all(a.json()["code"] == "full" for a in answers[:-1] if a.status_code != 200)
    assert findings(collection().find_one({"_id": event.pk})) == []
