"""Organisers approving requests all at once, against gunicorn with two workers.

Each call of ``/requests/approve`` is one guarded ledger write, so however
the calls interleave across processes the seats taken are exactly the
approved parties, never above capacity, each request approved once or still
waiting, and none left waiting that would fit.
"""

from __future__ import annotations

import pytest

from accounts.tokens import issue_access_tokens
from events import ledger, services
from events.ledger.audit import findings
from events.ledger.connection import collection
from tests.helpers import api_call, fire_together, make_event, make_users

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]


def test_organisers_approving_at_once_seat_exactly_the_capacity(live_site, django_user_model):
    owner = django_user_model.objects.create_user("approve-race-org", password="x")
    co_organisers = [
        django_user_model.objects.create_superuser(f"approve-race-admin{i}", password="x")
        for i in range(3)
    ]
    event = make_event(owner, 25, requires_approval=True, guests_allowed=2)
    askers = make_users(40, prefix="approve-racer")
    guests = {user.pk: user.pk % 3 for user in askers}  # about 80 seats asked for 25
    for user in askers:
        services.rsvp(event_id=event.pk, user_id=user.pk, guests=guests[user.pk])
    tokens = issue_access_tokens([owner, *co_organisers])
    deciders = [owner, *co_organisers]
    url = f"{live_site.url}/api/events/{event.pk}/requests/approve"
    # Every asker approved by two organisers at once, in batches of five.
    batches = [askers[i : i + 5] for i in range(0, len(askers), 5)]
    calls = [
        api_call("POST", url, tokens[deciders[(i + k) % 4].pk], {"user_ids": [u.pk for u in b]})
        for i, b in enumerate(batches)
        for k in (0, 1)
    ]

    answers = fire_together(calls)

    assert {a.status_code for a in answers} == {200}
    approved = [u for a in answers for u in a.json()["approved"]]
    assert len(approved) == len(set(approved)), "a request approved twice"
    seats = ledger.seats([event.pk])[event.pk]
    assert seats.taken == sum(1 + guests[u] for u in approved) <= seats.capacity
    roster = ledger.roster(event.pk)
    assert {a.user_id for a in roster.attendees} == set(approved)
    assert set(roster.requests) == set(guests) - set(approved)
    assert all(1 + guests[u] > seats.left for u in roster.requests), "one left would fit"
    assert findings(collection().find_one({"_id": event.pk})) == []
