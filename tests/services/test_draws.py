"""A draw for the rush: entries until the draw time, the draw at it, and what everyone is told.

In-process against the real MongoDB, with Django's test mail outbox.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail

from events import ledger, services
from events.ledger import Outcome
from events.models import Event, Rsvp
from events.services import draws, timed
from tests.helpers import draw_time_comes, make_users, opening_with_a_draw

pytestmark = pytest.mark.django_db
Status = Rsvp.Status


def test_tickets_are_fixed_by_the_seed_and_spread_over_zero_to_one():
    first = [draws.ticket("seed-a", user_id) for user_id in range(1000)]
    assert first == [draws.ticket("seed-a", user_id) for user_id in range(1000)]
    assert first != [draws.ticket("seed-b", user_id) for user_id in range(1000)]
    assert all(0 <= t < 1 for t in first)
    assert 400 < sum(t < 0.5 for t in first) < 600, "about half below a half"


def test_an_rsvp_before_the_draw_is_an_entry_that_holds_no_seat(organiser):
    event = opening_with_a_draw(organiser, 1, guests_allowed=1)
    (alice,) = make_users(1, prefix="entrant")
    entered = services.rsvp(event_id=event.pk, user_id=alice.pk, guests=1)
    assert (entered.outcome, entered.entered, entered.party) == (Outcome.ENTERED, True, 2)
    assert entered.seats.taken == 0 and entered.seats.entered == 1
    assert Rsvp.objects.get(event=event, user=alice).status == Status.ENTERED
    again = services.join_waitlist(event_id=event.pk, user_id=alice.pk)
    assert again.outcome is Outcome.ALREADY_ENTERED
    assert services.cancel_rsvp(event_id=event.pk, user_id=alice.pk).outcome is (
        Outcome.ENTRY_WITHDRAWN
    )


def test_the_draw_seats_by_ticket_puts_the_rest_in_line_and_tells_everyone(organiser):
    event = opening_with_a_draw(organiser, 2)
    people = make_users(5, prefix="drawn")
    for user in people:
        services.rsvp(event_id=event.pk, user_id=user.pk)
    by_ticket = sorted(people, key=lambda u: draws.ticket(event.draw_seed, u.pk))
    mail.outbox.clear()

    drawn = draws.hold_draw(event_id=event.pk)

    assert list(drawn.drawn_in) == [u.pk for u in by_ticket[:2]]
    assert ledger.waitlist(event.pk) == [u.pk for u in by_ticket[2:]]
    statuses = dict(Rsvp.objects.filter(event=event).values_list("user_id", "status"))
    assert [statuses[u.pk] for u in by_ticket] == ["going"] * 2 + ["waiting"] * 3
    subjects = {m.to[0]: m.subject for m in mail.outbox}
    assert "drawn for a seat" in subjects[by_ticket[0].email]
    assert "waiting list" in subjects[by_ticket[2].email]
    assert Event.objects.get(pk=event.pk).drawn_at is not None
    assert draws.hold_draw(event_id=event.pk).result.outcome is Outcome.ALREADY_DRAWN


def test_the_losers_let_go_are_told_and_may_rsvp_for_what_is_left(organiser):
    event = opening_with_a_draw(organiser, 1, draw_losers=Event.DrawLosers.RELEASE)
    alice, bob = make_users(2, prefix="released")
    for user in (alice, bob):
        services.rsvp(event_id=event.pk, user_id=user.pk)
    drawn = draws.hold_draw(event_id=event.pk)
    (out,) = drawn.drawn_out
    assert Rsvp.objects.get(event=event, user_id=out).status == Status.NOT_DRAWN
    assert any("Not this time" in m.subject for m in mail.outbox)


def test_a_request_after_the_draw_time_runs_the_draw_first_then_takes_what_is_left(organiser):
    event = opening_with_a_draw(organiser, 3)
    entrants, (late,) = make_users(2, prefix="early"), make_users(1, prefix="late")
    for user in entrants:
        services.rsvp(event_id=event.pk, user_id=user.pk)
    draw_time_comes(event)  # the task has not run (a worker was down)

    result = services.rsvp(event_id=event.pk, user_id=late.pk)

    assert result.outcome is Outcome.CONFIRMED
    going = [a.user_id for a in ledger.attendees(event.pk)]
    assert set(going[:2]) == {u.pk for u in entrants} and going[2] == late.pk


def test_the_task_draws_at_its_time_and_a_moved_draw_waits_for_its_own(organiser):
    event = opening_with_a_draw(organiser, 1)
    (alice,) = make_users(1, prefix="task")
    services.rsvp(event_id=event.pk, user_id=alice.pk)
    moved_from = event.draw_at.isoformat()
    start = event.starts_at.isoformat()
    Event.objects.filter(pk=event.pk).update(draw_at=event.draw_at + timedelta(minutes=5))
    assert timed.hold_draw.call(event_id=event.pk, starts_at=start, draw_at=moved_from) == 0
    assert ledger.attendees(event.pk) == []
    event.refresh_from_db()
    drawn = timed.hold_draw.call(
        event_id=event.pk, starts_at=start, draw_at=event.draw_at.isoformat()
    )
    assert drawn == 1 and [a.user_id for a in ledger.attendees(event.pk)] == [alice.pk]
