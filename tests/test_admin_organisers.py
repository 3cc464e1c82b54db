"""Organisers kept apart in the admin: each sees and acts on only their own events."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client, RequestFactory
from django.urls import reverse

from events import selectors, services
from events.apps import ORGANISERS_GROUP
from events.models import Event
from tests.helpers import change_form, make_event, make_users

pytestmark = pytest.mark.django_db


@dataclass
class Organiser:
    user: object
    client: Client
    events: list[Event]


def organiser(name: str, *, in_group: bool = True, superuser: bool = False) -> Organiser:
    """A logged-in staff user (in the Organisers group, as docs/organisers.md says), two events."""
    User = get_user_model()
    if superuser:
        user = User.objects.create_superuser(name, f"{name}@example.com", "pw")
    else:
        user = User.objects.create_user(name, f"{name}@example.com", "pw", is_staff=True)
    if in_group:
        user.groups.add(Group.objects.get(name=ORGANISERS_GROUP))
    client = Client()
    client.force_login(user)
    events = [make_event(user, 5, title=f"{name}'s event {i}") for i in (1, 2)]
    return Organiser(user, client, events)


@pytest.fixture
def alice() -> Organiser:
    return organiser("alice")


@pytest.fixture
def bob() -> Organiser:
    return organiser("bob")


@pytest.fixture
def boss() -> Organiser:
    return organiser("boss", in_group=False, superuser=True)


def refused(response) -> bool:
    """How Django's admin answers for an object outside get_queryset: 403, 404 or home."""
    if response.status_code in (403, 404):
        return True
    return response.status_code == 302 and response.url == reverse("admin:index")


def listed(client: Client) -> set[int]:
    response = client.get(reverse("admin:events_event_changelist"))
    assert response.status_code == 200
    return {event.pk for event in response.context["cl"].result_list}


def ids(events: list[Event]) -> set[int]:
    return {event.pk for event in events}


def capacity(event: Event) -> int:
    return selectors.seats_of([event.pk])[event.pk].capacity


def test_each_organisers_changelist_lists_only_their_events(alice, bob, boss):
    assert listed(alice.client) == ids(alice.events)
    assert listed(bob.client) == ids(bob.events)
    assert listed(boss.client) == ids(alice.events + bob.events + boss.events)


def test_the_other_organisers_change_page_is_refused_and_changes_nothing(alice, bob):
    theirs = bob.events[0]
    (guest,) = make_users(1, prefix="guest")
    services.rsvp(event_id=theirs.pk, user_id=guest.pk)
    url = reverse("admin:events_event_change", args=[theirs.pk])

    page = alice.client.get(url)
    assert refused(page)
    assert guest.email not in page.content.decode(), "nobody else's attendees' emails"
    history = alice.client.get(reverse("admin:events_event_history", args=[theirs.pk]))
    assert refused(history)

    hijack = {**change_form(theirs, alice.user, 9), "title": "Hijacked"}
    assert refused(alice.client.post(url, hijack))
    theirs.refresh_from_db()
    assert (theirs.title, theirs.organiser_id) == ("bob's event 1", bob.user.pk)
    assert capacity(theirs) == 5

    own = alice.events[0]
    own_url = reverse("admin:events_event_change", args=[own.pk])
    assert alice.client.get(own_url).status_code == 200
    assert alice.client.post(own_url, change_form(own, alice.user, 9)).status_code == 302
    assert capacity(own) == 9, "their own event still changes"


def test_the_other_organisers_event_cannot_be_deleted_one_by_one(alice, bob):
    theirs = bob.events[0]
    url = reverse("admin:events_event_delete", args=[theirs.pk])
    assert refused(alice.client.get(url))
    assert refused(alice.client.post(url, {"post": "yes"}))
    assert Event.objects.filter(pk=theirs.pk).exists()
    assert capacity(theirs) == 5, "its ledger is still there"


def test_bulk_delete_of_a_mix_deletes_only_their_own(alice, bob):
    mix = [alice.events[0], bob.events[0], bob.events[1]]
    response = alice.client.post(
        reverse("admin:events_event_changelist"),
        {"action": "delete_selected", "_selected_action": [e.pk for e in mix], "post": "yes"},
    )
    assert response.status_code == 302
    assert set(Event.objects.values_list("pk", flat=True)) == ids(alice.events[1:] + bob.events)
    assert set(selectors.seats_of([e.pk for e in mix])) == ids(bob.events)


def test_removing_an_attendee_from_the_other_organisers_event_is_refused(alice, bob):
    theirs = bob.events[0]
    (guest,) = make_users(1, prefix="guest")
    services.rsvp(event_id=theirs.pk, user_id=guest.pk)
    url = reverse("admin:events_event_remove_attendee", args=[theirs.pk, guest.pk])

    confirm = alice.client.get(url)
    assert refused(confirm) and guest.email not in confirm.content.decode()
    assert refused(alice.client.post(url))

    assert [row.user_id for row in selectors.attendee_rows(theirs.pk)] == [guest.pk]
    assert bob.client.get(url).status_code == 200, "their organiser still may"


def test_object_permissions_refuse_the_other_organisers_event(alice, bob, boss):
    """Checked per object too, for any view that fetches an event by itself."""
    event_admin = admin.site.get_model_admin(Event)
    request = RequestFactory().get("/admin/")
    for who, mine, theirs in [(alice, alice, bob), (bob, bob, alice), (boss, alice, bob)]:
        request.user = who.user
        for check in ("view", "change", "delete"):
            allowed = getattr(event_admin, f"has_{check}_permission")
            assert allowed(request, mine.events[0]), (who.user, check)
            assert allowed(request, theirs.events[0]) is (who is boss), (who.user, check)


def test_a_new_event_belongs_to_its_creator_even_if_the_post_names_another(alice, bob):
    add = reverse("admin:events_event_add")
    assert "organiser" not in alice.client.get(add).context["adminform"].form.fields
    form = {**change_form(alice.events[0], bob.user, 7), "title": "Alice's new one"}

    assert alice.client.post(add, form).status_code == 302

    event = Event.objects.get(title="Alice's new one")
    assert event.organiser_id == alice.user.pk
    assert capacity(event) == 7
    assert event.pk in listed(alice.client) and event.pk not in listed(bob.client)


def test_an_organiser_cannot_hand_their_event_to_another(alice, bob):
    own = alice.events[0]
    url = reverse("admin:events_event_change", args=[own.pk])
    form = {**change_form(own, bob.user, 5), "title": "Renamed"}
    assert alice.client.post(url, form).status_code == 302
    own.refresh_from_db()
    assert (own.title, own.organiser_id) == ("Renamed", alice.user.pk)


def test_the_superusers_organiser_dropdown_offers_only_organisers(alice, bob, boss):
    (attendee,) = make_users(1, prefix="attendee")
    organiser("staff-not-in-group", in_group=False)
    field = boss.client.get(reverse("admin:events_event_add")).context["adminform"].form
    offered = {user.username for user in field.fields["organiser"].queryset}
    assert offered == {"alice", "bob", "boss"}

    theirs = alice.events[0]
    url = reverse("admin:events_event_change", args=[theirs.pk])
    refused_choice = boss.client.post(url, change_form(theirs, attendee, 5))
    assert refused_choice.status_code == 200 and refused_choice.context["adminform"].form.errors
    assert boss.client.post(url, change_form(theirs, bob.user, 5)).status_code == 302
    theirs.refresh_from_db()
    assert theirs.organiser_id == bob.user.pk, "a superuser may hand an event over"


def test_an_event_whose_organiser_left_the_group_stays_editable(boss):
    former = organiser("former")
    former.user.groups.clear()
    event = former.events[0]
    url = reverse("admin:events_event_change", args=[event.pk])
    form = {**change_form(event, former.user, 5), "title": "Still theirs"}
    assert boss.client.post(url, form).status_code == 302
    event.refresh_from_db()
    assert (event.title, event.organiser_id) == ("Still theirs", former.user.pk)


# Every organiser's tool on one event, as (URL name, extra arguments, a POST to try).
TOOLS = [
    ("admin:events_event_check_in", (), {"user_id": "1", "checked_in": "1"}),
    ("admin:events_event_message", (), {"audience": "both", "subject": "Hi", "body": "x"}),
    ("admin:events_event_cancel", (), {}),
    ("admin:events_event_duplicate", (), {}),
    ("admin:events_event_repeat", (), {"every": "week", "count": "2"}),
    ("admin:events_event_export", (), None),
    ("admin:events_event_add_attendee", (), {"who": "bob"}),
]


def test_every_tool_works_on_your_own_event_and_no_one_elses(alice, bob):
    """Each tool page opens on your own event; on someone else's, GET and POST are refused."""
    theirs, own = bob.events[0], alice.events[0]
    before = Event.objects.count()
    for name, extra, post in TOOLS:
        assert alice.client.get(reverse(name, args=[own.pk, *extra])).status_code == 200, name
        url = reverse(name, args=[theirs.pk, *extra])
        assert refused(alice.client.get(url)), name
        if post is not None:
            assert refused(alice.client.post(url, post)), name
    theirs.refresh_from_db()
    assert theirs.status == Event.Status.PUBLISHED and Event.objects.count() == before
