"""Organisers in the admin: capacity goes through the ledger's guarded write."""

from __future__ import annotations

from datetime import timedelta
from html import unescape

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from events import ledger, services
from events.models import DESCRIPTION_MAX_CHARS, Event
from tests.helpers import change_form, make_event, make_users

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client_() -> tuple[Client, object]:
    user = get_user_model().objects.create_superuser("boss", "boss@example.com", "pw")
    client = Client()
    client.force_login(user)
    return client, user


def fill(event: Event, count: int) -> list:
    users = make_users(count, prefix=f"guest{event.pk}-")
    for user in users:
        assert services.rsvp(event_id=event.pk, user_id=user.pk).outcome == "confirmed"
    return users


def add_event(client: Client, organiser, **fields):
    """POST the admin's "Add event" form: a valid event, with ``fields`` changed."""
    starts = timezone.localtime() + timedelta(days=3)
    form = {
        "title": "Made in admin",
        "status": "published",
        "description": "",
        "starts_at_0": starts.strftime("%Y-%m-%d"),
        "starts_at_1": starts.strftime("%H:%M:%S"),
        "venue": "Hall",
        "organiser": organiser.pk,
        "capacity": 12,
        "guests_allowed": 0,
        "draw_losers": "wait",
    }
    return client.post(reverse("admin:events_event_add"), {**form, **fields})


def test_create_event_opens_its_ledger(admin_client_):
    client, boss = admin_client_
    response = add_event(client, boss)
    assert response.status_code == 302, response.content.decode()[:2000]
    event = Event.objects.get(title="Made in admin")
    assert ledger.seats([event.pk])[event.pk].capacity == 12


def test_line_breaks_in_a_title_or_venue_and_an_overlong_description_are_form_errors(
    admin_client_,
):
    client, boss = admin_client_
    longest = "x" * DESCRIPTION_MAX_CHARS

    answer = add_event(client, boss, title="Two\r\nlines", venue="Hall\nBcc: x@example.org")
    too_long = add_event(client, boss, description=longest + "x")

    errors = answer.context["adminform"].form.errors
    assert "line breaks are not allowed" in errors["title"][0]
    assert "line breaks are not allowed" in errors["venue"][0]
    (error,) = too_long.context["adminform"].form.errors["description"]
    assert "at most 20000 characters" in error
    assert not Event.objects.exists()
    assert add_event(client, boss, description=longest).status_code == 302


def test_capacity_below_taken_is_refused(admin_client_):
    client, boss = admin_client_
    event = make_event(boss, 5)
    fill(event, 3)
    url = reverse("admin:events_event_change", args=[event.pk])
    response = client.post(url, change_form(event, boss, 2))
    assert response.status_code == 200
    assert "3 people are already going" in unescape(response.content.decode())
    assert ledger.seats([event.pk])[event.pk].capacity == 5


def test_capacity_down_to_taken_and_up_works(admin_client_):
    client, boss = admin_client_
    event = make_event(boss, 5)
    fill(event, 3)
    url = reverse("admin:events_event_change", args=[event.pk])
    assert client.post(url, change_form(event, boss, 3)).status_code == 302
    assert ledger.seats([event.pk])[event.pk].capacity == 3
    (late,) = make_users(1, prefix="late")
    assert services.rsvp(event_id=event.pk, user_id=late.pk).outcome == "full"
    assert client.post(url, change_form(event, boss, 4)).status_code == 302
    assert services.rsvp(event_id=event.pk, user_id=late.pk).outcome == "confirmed"


def test_change_page_lists_attendees_and_changelist_shows_seats(admin_client_):
    client, boss = admin_client_
    event = make_event(boss, 5, title="Listed")
    guests = fill(event, 2)
    page = client.get(reverse("admin:events_event_change", args=[event.pk])).content.decode()
    for guest in guests:
        assert guest.username in page and guest.email in page
    assert "2 going." in page
    assert page.count(timezone.localtime().strftime("%Y-%m-%d ")) >= 2, "each RSVP's time"
    changelist = client.get(reverse("admin:events_event_changelist") + "?q=Listed")
    html = changelist.content.decode()
    assert "Listed" in html
    assert '<td class="field-capacity">5</td>' in html
    assert '<td class="field-seats_taken">2</td>' in html


def test_delete_removes_ledger_document(admin_client_):
    client, boss = admin_client_
    event = make_event(boss, 5)
    fill(event, 1)
    response = client.post(reverse("admin:events_event_delete", args=[event.pk]), {"post": "yes"})
    assert response.status_code == 302
    assert not Event.objects.filter(pk=event.pk).exists()
    assert ledger.seats([event.pk]) == {}
    assert ledger.attendees(event.pk) == []


def test_staff_in_organisers_group_can_manage_events():
    from django.contrib.auth.models import Group

    user = get_user_model().objects.create_user("helper", password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name="Organisers"))
    client = Client()
    client.force_login(user)
    assert client.get(reverse("admin:events_event_add")).status_code == 200
    assert client.get(reverse("admin:events_event_changelist")).status_code == 200


# --- The waiting list --------------------------------------------------------------


def queue(event: Event, count: int) -> list:
    users = make_users(count, prefix=f"waiter{event.pk}-")
    for user in users:
        services.join_waitlist(event_id=event.pk, user_id=user.pk)
    return users


def test_change_page_shows_the_waiting_list_in_order_and_counts(admin_client_):
    client, boss = admin_client_
    event = make_event(boss, 1, title="Queued")
    fill(event, 1)
    waiters = queue(event, 3)
    page = client.get(reverse("admin:events_event_change", args=[event.pk])).content.decode()
    positions = [page.index(w.username) for w in waiters]
    assert positions == sorted(positions) and "3 waiting, first in line first." in page
    changelist = client.get(reverse("admin:events_event_changelist") + "?q=Queued")
    assert '<td class="field-waiting">3</td>' in changelist.content.decode()


def test_removing_an_attendee_confirms_then_seats_the_first_waiting(admin_client_, mailoutbox):
    client, boss = admin_client_
    event = make_event(boss, 1, title="Door")
    (guest,) = fill(event, 1)
    first, second = queue(event, 2)
    url = reverse("admin:events_event_remove_attendee", args=[event.pk, guest.pk])
    confirm = client.get(url).content.decode()
    assert guest.username in confirm and "Yes, remove them" in confirm
    assert [a.user_id for a in ledger.attendees(event.pk)] == [guest.pk], "a GET changes nothing"
    mailoutbox.clear()

    response = client.post(url, follow=True)

    assert "The first person waiting got the seat." in response.content.decode()
    assert [a.user_id for a in ledger.attendees(event.pk)] == [first.pk]
    assert ledger.waitlist(event.pk) == [second.pk]
    # The removed guest is told (their calendar drops the event), the first waiting seated.
    told = {m.to[0]: m.subject for m in mailoutbox}
    assert told == {
        guest.email: "[Eventsite] Your seat was cancelled by the organiser: Door",
        first.email: "[Eventsite] You're in: a seat freed up for Door",
    }
    assert client.get(url).status_code == 404


def test_waiting_list_settings_and_a_capacity_raise_in_the_form(admin_client_):
    client, boss = admin_client_
    event = make_event(boss, 1)
    fill(event, 1)
    waiters = queue(event, 3)
    url = reverse("admin:events_event_change", args=[event.pk])
    form = {**change_form(event, boss, 3), "waitlist_limit": "5"}
    assert client.post(url, form).status_code == 302
    seats = ledger.seats([event.pk])[event.pk]
    assert (seats.capacity, seats.taken, seats.waiting, seats.waitlist_limit) == (3, 3, 1, 5)
    assert ledger.waitlist(event.pk) == [waiters[2].pk]

    form = change_form(event, boss, 3)
    del form["waitlist"]
    assert client.post(url, form).status_code == 302
    assert ledger.seats([event.pk])[event.pk].waitlist_limit == 0
    shown = client.get(url).context["adminform"].form
    assert (shown["waitlist"].value(), shown["waitlist_limit"].value()) == (False, None)
