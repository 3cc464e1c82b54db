"""A draw raced by the requests that find its time passed, against gunicorn with two workers.

The draw's task never ran (no task worker here), so every request after the
draw time tries to run it first: across both processes the ledger runs it
once, the entrants are seated by ticket, and the late requests take only
what the draw left, first come.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.tokens import issue_access_tokens
from events import ledger, services
from events.ledger.audit import findings
from events.ledger.connection import collection
from events.models import Event
from events.services import draws
from tests.helpers import api_call, fire_together, make_event, make_users

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]


def test_late_requests_in_both_workers_run_the_draw_once(live_site, django_user_model):
    organiser = django_user_model.objects.create_user("draw-race-org", password="x")
    event = make_event(organiser, 10, draw_at=timezone.now() + timedelta(hours=1))
    entrants, late = make_users(30, prefix="draw-entrant"), make_users(20, prefix="draw-late")
    for user in entrants:
        services.rsvp(event_id=event.pk, user_id=user.pk)
    Event.objects.filter(pk=event.pk).update(draw_at=timezone.now() - timedelta(seconds=1))
    tokens = issue_access_tokens(late)
    url = f"{live_site.url}/api/events/{event.pk}/rsvp"

    answers = fire_together([api_call("POST", url, tokens[u.pk]) for u in late])

    assert Counter(a.status_code for a in answers) == {409: 20}, "the draw filled every seat"
    by_ticket = sorted(entrants, key=lambda u: draws.ticket(event.draw_seed, u.pk))
    assert [a.user_id for a in ledger.attendees(event.pk)] == [u.pk for u in by_ticket[:10]]
    assert ledger.waitlist(event.pk) == [u.pk for u in by_ticket[10:]], "drawn once, in order"
    assert all(a.json()["code"] == "full" for a in answers)
    assert Event.objects.get(pk=event.pk).drawn_at is not None
    assert findings(collection().find_one({"_id": event.pk})) == []
