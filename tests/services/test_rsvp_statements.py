"""What a confirmed RSVP costs in SQL: the statements, counted, for each way in.

Counted as deployed: outside any test transaction (so BEGIN and COMMIT are
logged as Django sends them) and with the database task backend (the email
is a row written beside the record, not sent in the test's process).

A rush's writes are measured after the event's first write of the second:
that one also checks the record against the ledger (a COUNT over the event's
rows, ``records.repair_if_behind``), and the others must not.
"""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from events import records, services
from events.ledger import Outcome
from events.models import Rsvp
from loadtests.ledger_benchmark import fill_for_benchmark
from tests.helpers import bearer, logged_in, make_event, make_users

pytestmark = pytest.mark.django_db(transaction=True)

# One read of the event (its rules and the answer's fields), then one
# transaction: the record (one upsert), the seat sample, the email's task.
AN_RSVP = [
    "SELECT events_event",
    "BEGIN",
    "INSERT events_rsvp",
    "INSERT events_seatsample",
    "INSERT django_tasks_database_dbtaskresult",
    "COMMIT",
]
TOKEN = ["SELECT auth_user"]  # the bearer token's account
SESSION = ["SELECT django_session", "SELECT auth_user"]  # the page's login
# The first write of the event's second, after its commit: the record's counts.
CHECK = ["SELECT events_rsvp"]

SQL_NAME = re.compile(r'^\s*(\w+)(?:.*?\b(?:FROM|INTO)\s+"?(\w+))?', re.DOTALL)


def statements(queries: CaptureQueriesContext) -> list[str]:
    """Each statement as its verb and table: "INSERT events_rsvp", "BEGIN"."""
    named = (SQL_NAME.match(query["sql"]).groups() for query in queries.captured_queries)
    return [f"{verb.upper()} {table}" if table else verb.upper() for verb, table in named]


@pytest.fixture(autouse=True)
def as_deployed(settings, monkeypatch):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    # A window no test outlasts, however slow the machine: which write checks
    # is then decided by the order of the writes, not by the clock.
    monkeypatch.setattr(records, "CHECK_EVERY_S", 300)


@pytest.fixture
def event(django_user_model):
    organiser = django_user_model.objects.create_user("statements-org", "o@example.com", "pw")
    return make_event(organiser, 500)


def rush_under_way(event) -> None:
    """The event's first write of the second has been made (and has checked the record)."""
    (first,) = make_users(1, prefix=f"first{event.pk}-")
    assert services.rsvp(event_id=event.pk, user_id=first.pk).outcome is Outcome.CONFIRMED


def test_the_first_write_of_a_second_checks_the_record_and_the_others_do_not(event):
    alice, bob = make_users(2, prefix="service")

    with CaptureQueriesContext(connection) as first:
        services.rsvp(event_id=event.pk, user_id=alice.pk)
    with CaptureQueriesContext(connection) as second:
        services.rsvp(event_id=event.pk, user_id=bob.pk)

    assert statements(first) == AN_RSVP + CHECK
    assert statements(second) == AN_RSVP
    assert len(AN_RSVP) == 6


def test_an_rsvp_through_the_api_reads_the_event_once_and_writes_in_one_transaction(event):
    rush_under_way(event)
    (alice,) = make_users(1, prefix="api")
    client = bearer(alice)

    with CaptureQueriesContext(connection) as queries:
        response = client.post(f"/api/events/{event.pk}/rsvp", {}, format="json")

    assert response.status_code == 201, response.content
    assert response.json()["event"]["title"] == event.title
    assert response.json()["seats_left"] == 498
    assert statements(queries) == TOKEN + AN_RSVP


def test_an_rsvp_through_the_page_costs_the_same(event):
    rush_under_way(event)
    (alice,) = make_users(1, prefix="page")
    client = logged_in(alice)

    with CaptureQueriesContext(connection) as queries:
        response = client.post(f"/events/{event.pk}/rsvp/")

    assert response.status_code == 302
    assert statements(queries) == SESSION + AN_RSVP


@pytest.mark.parametrize("attendees", [1, 300])
def test_the_statements_do_not_grow_with_the_events_attendees(event, attendees):
    people = make_users(attendees + 1, prefix=f"many{attendees}-")
    *going, newcomer = people
    # Seated in the ledger and recorded in SQL, as their RSVPs would have left them.
    fill_for_benchmark(event.pk, [user.pk for user in going])
    Rsvp.objects.bulk_create(
        Rsvp(event=event, user=user, status=Rsvp.Status.GOING, ledger_version=1) for user in going
    )
    rush_under_way(event)

    with CaptureQueriesContext(connection) as queries:
        result = services.rsvp(event_id=event.pk, user_id=newcomer.pk)

    assert result.outcome is Outcome.CONFIRMED and result.seats.taken == attendees + 2
    assert statements(queries) == AN_RSVP
