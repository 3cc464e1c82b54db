"""The organiser's Requests view: approve and decline one or many, and who may.

In-process against the real MongoDB; the race (many organiser sessions
approving at once) runs against gunicorn with two workers.
"""

from __future__ import annotations

import re
from html import unescape

import pytest
from django.core import mail
from django.urls import reverse

from events import ledger, services
from events.admin.requests import BAD_CHOICE, NOTHING_SELECTED, TOO_MANY
from events.models import Rsvp
from tests.admin.test_admin_lists import admin_post, admin_session
from tests.helpers import change_form, fire_together, logged_in, make_event, make_organiser
from tests.helpers import make_users as make_people

pytestmark = pytest.mark.django_db


@pytest.fixture
def boss():
    return make_organiser("req-boss")


def requested_by(event, users, guests=None) -> None:
    for i, user in enumerate(users):
        services.rsvp(event_id=event.pk, user_id=user.pk, guests=(guests or {}).get(i, 0))


def seated(event_id: int) -> list[int]:
    return [a.user_id for a in ledger.attendees(event_id)]


def decide(client, event, data: dict) -> str:
    url = reverse("admin:events_event_requests", args=[event.pk])
    response = client.post(url, data, follow=True)
    assert response.status_code == 200
    assert response.redirect_chain == [(url, 302)]
    # The admin writes each message with a capital first letter: compare in lower case.
    return unescape(response.content.decode()).lower()


def test_the_view_lists_requests_first_asked_first_with_parties(boss):
    event = make_event(boss, 5, requires_approval=True, guests_allowed=2)
    people = make_people(3, prefix="req-list")
    requested_by(event, people, guests={1: 2})
    page = logged_in(boss).get(reverse("admin:events_event_requests", args=[event.pk]))
    text = unescape(page.content.decode())
    positions = [text.index(p.email) for p in people]
    assert positions == sorted(positions), "in the order they asked"
    assert re.search(r"<td>3</td>\s*<td>\+2\s*</td>", text), "a party of 3: +2 guests"
    assert "3 requests waiting" in text
    assert "unknown" not in text, "each row says when they asked"


def test_approve_one_and_decline_one(boss):
    event = make_event(boss, 5, requires_approval=True)
    alice, bob = make_people(2, prefix="req-one")
    requested_by(event, [alice, bob])
    client = logged_in(boss)
    mail.outbox.clear()

    approved = decide(client, event, {"approve": alice.pk})
    assert f"{alice.username} is approved and has a seat; emailed." in approved
    assert seated(event.pk) == [alice.pk] and [m.to for m in mail.outbox] == [[alice.email]]

    declined = decide(client, event, {"decline": bob.pk})
    assert f"{bob.username}'s request is declined; emailed." in declined
    assert Rsvp.objects.get(event=event, user=bob).status == Rsvp.Status.DECLINED
    assert ledger.roster(event.pk).requests == () and seated(event.pk) == [alice.pk]
    assert "no requests are waiting." in declined

    again = decide(client, event, {"approve": bob.pk})
    assert f"{bob.username} has no request waiting." in again


def test_bulk_approval_seats_who_fits_and_says_who_did_not(boss):
    event = make_event(boss, 3, requires_approval=True, guests_allowed=2)
    people = make_people(4, prefix="req-bulk")
    requested_by(event, people, guests={1: 2})  # the second asks for 3 seats
    client = logged_in(boss)
    selected = {"bulk": "approve", "selected": [p.pk for p in people]}

    html = decide(client, event, selected)
    # First asked first while parties fit: 1 seat, then 3 do not fit, then 1, 1.
    assert seated(event.pk) == [people[0].pk, people[2].pk, people[3].pk]
    assert "approved 3:" in html
    assert f"1 did not fit (no seats left): {people[1].username}." in html
    assert "put them on the waiting list or raise the capacity." in html
    assert ledger.roster(event.pk).requests == (people[1].pk,)

    full = decide(client, event, {"bulk": "approve", "selected": [people[1].pk]})
    assert "nobody was approved" in full and "approve them onto the waiting list" in full

    queued = decide(client, event, {"bulk": "approve_or_wait", "selected": [people[1].pk]})
    assert f"1 did not fit, so on the waiting list: {people[1].username}." in queued
    assert ledger.waitlist(event.pk) == [people[1].pk] and ledger.roster(event.pk).requests == ()
    assert Rsvp.objects.get(event=event, user=people[1]).status == Rsvp.Status.WAITING


def test_bulk_decline_and_bad_input_are_answered(boss):
    event = make_event(boss, 3, requires_approval=True)
    people = make_people(2, prefix="req-no")
    requested_by(event, people)
    client = logged_in(boss)
    url = reverse("admin:events_event_requests", args=[event.pk])

    nothing = client.post(url, {"bulk": "approve"})
    assert nothing.status_code == 400 and NOTHING_SELECTED in nothing.content.decode()
    for bad_choice in ({"approve": "alice"}, {"decline": str(2**63)}, {"approve": "0"}):
        bad = client.post(url, bad_choice)
        assert bad.status_code == 400 and BAD_CHOICE in unescape(bad.content.decode())
    odd = client.post(url, {"bulk": "approve", "selected": [people[0].pk, "-1"]})
    assert odd.status_code == 400 and BAD_CHOICE in unescape(odd.content.decode())
    many = client.post(url, {"bulk": "decline", "selected": list(range(1, 502))})
    assert many.status_code == 400 and TOO_MANY in many.content.decode()
    assert ledger.roster(event.pk).requests == tuple(p.pk for p in people)

    html = decide(client, event, {"bulk": "decline", "selected": [p.pk for p in people]})
    assert "declined 2:" in html and ledger.roster(event.pk).requests == ()


def test_another_organiser_cannot_see_or_decide(boss):
    event = make_event(boss, 3, requires_approval=True)
    (alice,) = make_people(1, prefix="req-perm")
    requested_by(event, [alice])
    other = logged_in(make_organiser("req-other"))
    url = reverse("admin:events_event_requests", args=[event.pk])
    assert other.get(url).status_code == 404
    assert other.post(url, {"approve": alice.pk}).status_code == 404
    assert other.post(url, {"bulk": "decline", "selected": [alice.pk]}).status_code == 404
    assert ledger.roster(event.pk).requests == (alice.pk,) and seated(event.pk) == []


def test_the_changelist_and_change_page_link_the_requests(boss):
    event = make_event(boss, 3, title="Vetted", requires_approval=True)
    make_event(boss, 3, title="Open")
    requested_by(event, make_people(2, prefix="req-count"))
    client = logged_in(boss)
    listing = client.get(reverse("admin:events_event_changelist")).content.decode()
    link = reverse("admin:events_event_requests", args=[event.pk])
    assert f'<a href="{link}">2 waiting</a>' in listing
    change = client.get(reverse("admin:events_event_change", args=[event.pk])).content.decode()
    assert 'name="requires_approval"' in change and f'href="{link}"' in change


def test_approval_cannot_be_turned_off_while_requests_wait(boss):
    event = make_event(boss, 3, requires_approval=True)
    (alice,) = make_people(1, prefix="req-off")
    requested_by(event, [alice])
    client = logged_in(boss)
    url = reverse("admin:events_event_change", args=[event.pk])
    form = change_form(event, boss, 3)  # no requires_approval: the box is unticked

    refused = client.post(url, form)
    assert refused.status_code == 200
    assert "1 request is pending: approve or decline them first" in refused.content.decode()
    event.refresh_from_db()
    assert event.requires_approval

    services.decline_requests(event_id=event.pk, user_ids=[alice.pk])
    assert client.post(url, form).status_code == 302
    event.refresh_from_db()
    assert not event.requires_approval
    assert client.post(url, {**form, "requires_approval": "on"}).status_code == 302


@pytest.mark.live
@pytest.mark.django_db(transaction=True)
def test_many_organiser_sessions_approving_at_once_seat_exactly_the_capacity(
    live_site, django_user_model
):
    """30 requests of 1 to 3 seats for 12 seats; 16 approvals from 8 sessions at once.

    Each session approves an overlapping share of the requests (every one is
    in some share), in its own order. The one guarded write per approval
    means: seats taken are exactly the approved parties, never above the
    capacity, each person is seated once or still requested, and no request
    left would have fitted (free seats only ever shrink, so each one was
    refused for lack of room).
    """
    boss = make_organiser("race-boss")
    root = django_user_model.objects.create_superuser("race-root", "root@example.com", "x")
    event = make_event(boss, 12, requires_approval=True, guests_allowed=2)
    people = make_people(30, prefix="race-ask")
    parties = {p.pk: 1 + i % 3 for i, p in enumerate(people)}
    for p in people:
        services.rsvp(event_id=event.pk, user_id=p.pk, guests=parties[p.pk] - 1)
    sessions = [admin_session(live_site, who, event.pk) for who in [boss] * 6 + [root] * 2]
    url = f"{live_site.url}/admin/events/event/{event.pk}/requests/"
    ids = [p.pk for p in people]
    calls = []
    for n, http in enumerate(sessions):
        share = ids[n::4] + ids[(n + 1) :: 5]
        calls.append(admin_post(http, url, {"bulk": "approve", "selected": share[::-1]}))
        calls.append(admin_post(http, url, {"approve": ids[(7 * n) % 30]}))

    answers = fire_together(calls)

    assert [a.status_code for a in answers] == [302] * len(calls)
    going = seated(event.pk)
    left = ledger.roster(event.pk).requests
    seats = ledger.seats([event.pk])[event.pk]
    assert len(going) == len(set(going)), "nobody seated twice"
    assert not set(going) & set(left), "nobody both seated and requested"
    assert set(going) | set(left) == set(ids), "nobody lost"
    assert seats.taken == sum(parties[u] for u in going) <= 12
    assert all(parties[u] > seats.left for u in left), "a request left over would have fitted"
    by_status = dict(Rsvp.objects.filter(event=event).values_list("user_id", "status").iterator())
    assert {u for u, s in by_status.items() if s == Rsvp.Status.GOING} == set(going)
