"""The waiting list under simultaneous requests, against gunicorn with two workers.

Every client holds a Bearer token; all wait at a barrier and fire at once
(``tests.helpers.fire_together``). Afterwards the ledger is read back and held
against every answer, with exact counts: nobody overbooked, lost, duplicated
or in both lists, and never a free seat while someone waits.
"""

from __future__ import annotations

from collections import Counter

import pytest

from accounts.tokens import issue_access_tokens
from events import ledger, services
from tests.helpers import api_call, fire_together, make_event, make_users

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]


def seated(event_id: int) -> list[int]:
    return [a.user_id for a in ledger.attendees(event_id)]


def assert_ledger_sound(event_id: int) -> tuple[list[int], list[int]]:
    """The invariants every state must keep; returns (going, waiting)."""
    going, waiting = seated(event_id), ledger.waitlist(event_id)
    capacity = ledger.seats([event_id])[event_id].capacity
    assert len(going) == len(set(going)) <= capacity, "overbooked or duplicated"
    assert len(waiting) == len(set(waiting)), "someone waits twice"
    assert not set(going) & set(waiting), "someone both going and waiting"
    assert not waiting or len(going) == capacity, "a free seat while someone waits"
    return going, waiting


def fill(event_id: int, users: list, action) -> None:
    """Users take seats or places one after another, so their order is known."""
    for user in users:
        action(event_id=event_id, user_id=user.pk)


def test_two_hundred_join_the_list_of_five_seats_at_once(live_site, django_user_model):
    organiser = django_user_model.objects.create_user("wl-race-org", password="x")
    event = make_event(organiser, 5)
    users = make_users(200, prefix="wl-racer")
    tokens = issue_access_tokens(users)
    url = f"{live_site.url}/api/events/{event.pk}/waitlist"

    answers = fire_together([api_call("POST", url, tokens[u.pk]) for u in users])

    assert Counter(a.status_code for a in answers) == {201: 5, 202: 195}
    going, waiting = assert_ledger_sound(event.pk)
    by_status = {201: set(), 202: {}}
    for user, answer in zip(users, answers, strict=True):
        if answer.status_code == 201:
            by_status[201].add(user.pk)
        else:
            body = answer.json()
            assert body["code"] == "waitlisted"
            by_status[202][body["position"]] = user.pk
    assert set(going) == by_status[201]
    # No seat freed meanwhile, so each answer's position is its final place.
    assert sorted(by_status[202]) == list(range(1, 196))
    assert waiting == [by_status[202][p] for p in range(1, 196)]


def test_cancel_storm_seats_the_first_waiting_and_nobody_else(live_site, django_user_model):
    """5 attendees cancel while 8 wait and 50 newcomers RSVP or join, all at once."""
    organiser = django_user_model.objects.create_user("storm-org", password="x")
    event = make_event(organiser, 5)
    attendees, queued, newcomers = (
        make_users(n, prefix=f"storm-{kind}") for kind, n in (("in", 5), ("q", 8), ("new", 50))
    )
    fill(event.pk, attendees, services.rsvp)
    fill(event.pk, queued, services.join_waitlist)
    tokens = issue_access_tokens([*attendees, *newcomers])
    base = f"{live_site.url}/api/events/{event.pk}"
    rsvpers, joiners = newcomers[:25], newcomers[25:]
    calls = (
        [api_call("DELETE", f"{base}/rsvp", tokens[u.pk]) for u in attendees]
        + [api_call("POST", f"{base}/rsvp", tokens[u.pk]) for u in rsvpers]
        + [api_call("POST", f"{base}/waitlist", tokens[u.pk]) for u in joiners]
    )

    answers = fire_together(calls)

    cancels, rsvps, joins = answers[:5], answers[5:30], answers[30:]
    assert [a.status_code for a in cancels] == [200] * 5
    # Someone always waited, so every freed seat went to the head of the list.
    assert {(a.status_code, a.json()["code"]) for a in rsvps} == {(409, "full")}
    assert [a.status_code for a in joins] == [202] * 25
    going, waiting = assert_ledger_sound(event.pk)
    assert going == [u.pk for u in queued[:5]]  # first come, first served, in order
    assert waiting[:3] == [u.pk for u in queued[5:]]
    assert sorted(waiting[3:]) == sorted(u.pk for u in joiners)


def test_cancel_storm_with_free_seats_loses_and_duplicates_nobody(live_site, django_user_model):
    """5 attendees cancel while 50 newcomers RSVP or join: seats go to whoever comes first."""
    organiser = django_user_model.objects.create_user("free-storm-org", password="x")
    event = make_event(organiser, 5)
    attendees, newcomers = make_users(5, prefix="fstorm-in"), make_users(50, prefix="fstorm-new")
    fill(event.pk, attendees, services.rsvp)
    tokens = issue_access_tokens([*attendees, *newcomers])
    base = f"{live_site.url}/api/events/{event.pk}"
    rsvpers, joiners = newcomers[::2], newcomers[1::2]
    calls = (
        [api_call("DELETE", f"{base}/rsvp", tokens[u.pk]) for u in attendees]
        + [api_call("POST", f"{base}/rsvp", tokens[u.pk]) for u in rsvpers]
        + [api_call("POST", f"{base}/waitlist", tokens[u.pk]) for u in joiners]
    )

    answers = fire_together(calls)

    assert [a.status_code for a in answers[:5]] == [200] * 5
    rsvp_answers = dict(zip((u.pk for u in rsvpers), answers[5:30], strict=True))
    join_answers = dict(zip((u.pk for u in joiners), answers[30:], strict=True))
    assert {a.status_code for a in rsvp_answers.values()} <= {201, 409}
    assert {a.status_code for a in join_answers.values()} <= {201, 202}
    going, waiting = assert_ledger_sound(event.pk)
    # 25 joiners are more than 5 seats: every seat ends up taken.
    assert len(going) == 5
    assert not {u.pk for u in attendees} & (set(going) | set(waiting))
    seated_by_rsvp = {pk for pk, a in rsvp_answers.items() if a.status_code == 201}
    assert seated_by_rsvp <= set(going)
    refused = {pk for pk, a in rsvp_answers.items() if a.status_code == 409}
    assert {rsvp_answers[pk].json()["code"] for pk in refused} <= {"full"}
    assert not refused & (set(going) | set(waiting))
    # Every joiner holds exactly one thing: a seat (at once or promoted) or a place.
    assert set(join_answers) == (set(going) - seated_by_rsvp) | set(waiting)
    assert len(going) + len(waiting) == len(seated_by_rsvp) + len(joiners)


def test_capacity_raise_while_users_join_promotes_exactly_the_first_fifteen(
    live_site, django_user_model
):
    organiser = django_user_model.objects.create_user("raise-org", password="x")
    event = make_event(organiser, 5)
    attendees, queued = make_users(5, prefix="raise-in"), make_users(30, prefix="raise-q")
    newcomers = make_users(20, prefix="raise-new")
    fill(event.pk, attendees, services.rsvp)
    fill(event.pk, queued, services.join_waitlist)
    tokens = issue_access_tokens(newcomers)
    url = f"{live_site.url}/api/events/{event.pk}/waitlist"

    def raise_capacity():
        return services.set_capacity(event_id=event.pk, capacity=20)

    answers = fire_together(
        [raise_capacity, *(api_call("POST", url, tokens[u.pk]) for u in newcomers)]
    )

    assert answers[0].capacity == 20
    assert [a.status_code for a in answers[1:]] == [202] * 20
    going, waiting = assert_ledger_sound(event.pk)
    assert going == [u.pk for u in attendees] + [u.pk for u in queued[:15]]
    assert waiting[:15] == [u.pk for u in queued[15:]]
    assert sorted(waiting[15:]) == sorted(u.pk for u in newcomers)
