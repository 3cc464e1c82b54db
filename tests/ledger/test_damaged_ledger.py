"""A damaged ledger document: refused by the server, contained to its event, never overbooked.

Damage is written the way a person with a MongoDB shell would: straight into
the collection, past its validator (``bypass_document_validation``).
"""

from __future__ import annotations

import logging

import pytest
from django.test import Client
from django.urls import reverse
from pymongo import ReturnDocument
from pymongo.errors import WriteError

from events import ledger
from events.ledger import pipelines as ledger_pipelines
from events.ledger.connection import collection as ledger_collection
from tests.helpers import fire_together, make_event, make_users

DAMAGE = {
    "capacity missing": {"$unset": {"capacity": ""}},
    "capacity a string": {"$set": {"capacity": "2"}},
    "attendees missing": {"$unset": {"attendees": "", "taken": ""}},
    # Pages read the stored counts, not the list: they still show the event;
    # the next write finds the damage.
    "attendees null": {"$set": {"attendees": None}},
}
SEATS_UNREADABLE = list(DAMAGE)[:3]


def damage(event, update: dict) -> None:
    ledger_collection().update_one({"_id": event.pk}, update, bypass_document_validation=True)


@pytest.fixture
def people(django_user_model):
    organiser = django_user_model.objects.create_superuser("dmg-org", "org@example.com", "pw")
    (member,) = make_users(1, prefix="dmg")
    return organiser, member


@pytest.mark.django_db
@pytest.mark.parametrize("update", DAMAGE.values(), ids=DAMAGE.keys())
def test_the_collection_refuses_a_write_that_damages_a_document(people, update):
    event = make_event(people[0], 2)
    with pytest.raises(WriteError, match="failed validation"):
        ledger_collection().update_one({"_id": event.pk}, update)
    assert ledger.seats([event.pk])[event.pk].capacity == 2


@pytest.mark.django_db
@pytest.mark.parametrize("kind", DAMAGE)
def test_a_damaged_document_costs_its_own_event_only(people, kind, caplog):
    organiser, member = people
    fine, broken = make_event(organiser, 3, title="Fine"), make_event(organiser, 2, title="Hurt")
    damage(broken, DAMAGE[kind])
    visitor, admin = Client(), Client()
    visitor.force_login(member)
    admin.force_login(organiser)
    caplog.set_level(logging.ERROR)

    listing = visitor.get(reverse("events:list"))
    assert listing.status_code == 200 and "Fine" in listing.content.decode()
    assert "3 seats left" in listing.content.decode()
    assert visitor.get(fine.get_absolute_url()).status_code == 200
    assert Client().get("/api/events/").status_code == 200
    assert admin.get(reverse("admin:events_event_changelist")).status_code == 200

    if kind in SEATS_UNREADABLE:
        page = visitor.get(broken.get_absolute_url())
        assert page.status_code == 503 and "seats cannot be read" in page.content.decode()
        api = Client().get(f"/api/events/{broken.pk}/")
        assert api.status_code == 503 and "seats cannot be read" in api.json()["message"]
    click = visitor.post(reverse("events:rsvp", args=[broken.pk]))
    assert click.status_code == 503 and "seats cannot be read" in click.content.decode()
    assert not ledger_collection().find_one({"_id": broken.pk}).get("attendees")
    assert any(f"event {broken.pk}" in r.getMessage() for r in caplog.records)


@pytest.fixture
def unvalidated():
    """A ledger-shaped collection without a validator, as an old embedded deployment has."""
    scratch = ledger_collection("ledger_without_validator")
    yield scratch
    scratch.drop()


@pytest.mark.parametrize("capacity", ["2", 2.5, None, [2], True])
def test_the_guard_fails_closed_on_a_capacity_of_the_wrong_type(unvalidated, capacity):
    unvalidated.insert_one({"_id": 1, "capacity": capacity, "attendees": [], "waitlist": []})

    def rsvp(user_id: int):
        pipeline = ledger_pipelines.take_seat(user_id, 0.0)
        return unvalidated.find_one_and_update(
            {"_id": 1}, pipeline, return_document=ReturnDocument.AFTER
        )

    answers = fire_together([lambda u=u: rsvp(u) for u in range(10)])

    assert all(doc["last_write"]["outcome"] == "full" for doc in answers)
    assert unvalidated.find_one({"_id": 1})["attendees"] == []


def test_a_waitlist_limit_of_the_wrong_type_closes_the_list(unvalidated):
    unvalidated.insert_one(
        {"_id": 1, "capacity": 0, "attendees": [], "waitlist": [], "waitlist_limit": "5"}
    )
    doc = unvalidated.find_one_and_update(
        {"_id": 1},
        ledger_pipelines.join_waitlist(7, 0.0),
        return_document=ReturnDocument.AFTER,
    )
    assert doc["last_write"]["outcome"] == "waitlist_closed" and doc["waitlist"] == []


@pytest.mark.django_db
def test_only_int_user_ids_enter_the_lists(people):
    """The validator checks the lists' types, not each item (a walk on every write): we do."""
    event = make_event(people[0], 2)
    for take in (ledger.take_seat, ledger.join_waitlist):
        with pytest.raises(TypeError, match="a user id is an int"):
            take(event.pk, "7")
    with pytest.raises(TypeError):
        ledger.take_seat(event.pk, True, combined=False)
    assert ledger.attendees(event.pk) == [] and ledger.waitlist(event.pk) == []
