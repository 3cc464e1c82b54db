"""The SQL record of RSVPs: written after each ledger write, repaired from the ledger.

The crash test kills a real process (SIGKILL) between the ledger write and
the SQL write, then checks that the record is repaired by the event's next
write, and by ``manage.py check_ledger``.
"""

from __future__ import annotations

import io
import logging
import signal
import subprocess
import sys

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django_tasks_db.models import DBTaskResult

from events import ledger, records, rush, services
from events.ledger import Outcome
from events.models import Rsvp
from tests.helpers import (
    ROOT,
    fire_together,
    make_event,
    make_users,
    session_database_url,
    site_env,
)

Status = Rsvp.Status


def statuses(event) -> dict[int, str]:
    return dict(Rsvp.objects.filter(event=event).values_list("user_id", "status"))


@pytest.mark.django_db
def test_every_write_is_recorded_with_what_the_ledger_returned(organiser):
    event = make_event(organiser, 1)
    alice, bob, carol, dan = make_users(4, prefix="rec")
    services.rsvp(event_id=event.pk, user_id=alice.pk)
    services.join_waitlist(event_id=event.pk, user_id=bob.pk)
    services.join_waitlist(event_id=event.pk, user_id=carol.pk)
    services.rsvp(event_id=event.pk, user_id=dan.pk)  # full: holds nothing, no row
    assert statuses(event) == {alice.pk: "going", bob.pk: "waiting", carol.pk: "waiting"}

    services.cancel_rsvp(event_id=event.pk, user_id=alice.pk)  # bob is promoted
    services.leave_waitlist(event_id=event.pk, user_id=carol.pk)
    assert statuses(event) == {alice.pk: "cancelled", bob.pk: "going", carol.pk: "left"}

    services.remove_attendee(event_id=event.pk, user_id=bob.pk)
    services.rsvp(event_id=event.pk, user_id=alice.pk)  # the same row, going again
    assert statuses(event) == {alice.pk: "going", bob.pk: "removed", carol.pk: "left"}


@pytest.mark.django_db
def test_my_rsvps_come_from_the_record_confirmed_by_the_ledger(organiser):
    mine, stale = make_event(organiser, 2, title="Mine"), make_event(organiser, 2, title="Stale")
    (alice,) = make_users(1, prefix="confirm")
    services.rsvp(event_id=mine.pk, user_id=alice.pk)
    Rsvp.objects.create(event=stale, user=alice, status=Status.GOING)  # the ledger disagrees
    client = Client()
    client.force_login(alice)
    page = client.get("/me/rsvps/").content.decode()
    assert "Mine" in page and "Stale" not in page


def kill_between_the_two_writes(action: str, event_id: int, user_id: int) -> None:
    """Run a service in its own process and SIGKILL it right after the ledger write."""
    script = (
        "import os, signal\n"
        "from events import records, services\n"
        "records.record_many = lambda *a, **k: os.kill(os.getpid(), signal.SIGKILL)\n"
        f"services.{action}(event_id={event_id}, user_id={user_id})\n"
    )
    done = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", script],
        cwd=ROOT,
        env=site_env(session_database_url()),
        capture_output=True,
        timeout=120,
    )
    assert done.returncode == -signal.SIGKILL, done.stderr.decode()[-2000:]


@pytest.mark.django_db(transaction=True)
def test_a_crash_between_the_writes_is_repaired_by_the_events_next_write(organiser):
    event = make_event(organiser, 3)
    alice, bob = make_users(2, prefix="crash")

    kill_between_the_two_writes("rsvp", event.pk, alice.pk)

    assert [a.user_id for a in ledger.attendees(event.pk)] == [alice.pk]
    assert statuses(event) == {}, "the process died before the record was written"
    services.rsvp(event_id=event.pk, user_id=bob.pk)
    assert statuses(event) == {alice.pk: "going", bob.pk: "going"}


@pytest.mark.django_db(transaction=True)
def test_check_ledger_reports_then_repairs_the_record(organiser):
    event = make_event(organiser, 1)
    alice, bob = make_users(2, prefix="check")
    services.rsvp(event_id=event.pk, user_id=alice.pk)
    services.join_waitlist(event_id=event.pk, user_id=bob.pk)

    kill_between_the_two_writes("cancel_rsvp", event.pk, alice.pk)  # bob promoted in the ledger

    assert statuses(event) == {alice.pk: "going", bob.pk: "waiting"}
    out = io.StringIO()
    with pytest.raises(CommandError):
        call_command("check_ledger", event=[event.pk], stdout=out)
    assert (
        f"event {event.pk}: record disagrees with the ledger: "
        f"user {alice.pk}: going -> cancelled, user {bob.pk}: waiting -> going"
    ) in out.getvalue()
    assert statuses(event) == {alice.pk: "going", bob.pk: "waiting"}, "the audit writes nothing"
    call_command("check_ledger", "--repair", event=[event.pk], stdout=out)
    assert statuses(event) == {alice.pk: "cancelled", bob.pk: "going"}
    call_command("check_ledger", event=[event.pk], stdout=out)
    assert out.getvalue().endswith("1 event checked: no problems.\n")


@pytest.mark.django_db
def test_a_late_copy_never_overwrites_a_newer_one(organiser):
    """A worker slow to record its RSVP must not undo the cancel recorded after it."""
    event = make_event(organiser, 3)
    (alice,) = make_users(1, prefix="late")
    seated = ledger.take_seat(event.pk, alice.pk)
    services.cancel_rsvp(event_id=event.pk, user_id=alice.pk)

    records.record(event.pk, alice.pk, seated, Status.CANCELLED)  # the RSVP's copy, late

    assert statuses(event) == {alice.pk: "cancelled"}


@pytest.mark.django_db
def test_a_write_landing_during_a_repair_is_not_undone(organiser, monkeypatch):
    """Alice's seat was never recorded; she cancels just after a repair read the ledger."""
    event = make_event(organiser, 3)
    (alice,) = make_users(1, prefix="midrepair")
    ledger.take_seat(event.pk, alice.pk)  # a crash before the record: no row
    read_roster = ledger.roster

    def read_then_alice_cancels(event_id):
        found = read_roster(event_id)
        monkeypatch.setattr(ledger, "roster", read_roster)
        services.cancel_rsvp(event_id=event_id, user_id=alice.pk)
        return found

    monkeypatch.setattr(ledger, "roster", read_then_alice_cancels)
    records.reconcile(event.pk)

    assert [a.user_id for a in ledger.attendees(event.pk)] == []
    assert statuses(event) == {alice.pk: "cancelled"}


@pytest.mark.django_db
@pytest.mark.parametrize("step", ["record", "repair_if_behind"])
def test_a_seat_taken_is_answered_as_taken_even_if_its_record_cannot_be_read(
    organiser, monkeypatch, step
):
    """The record's repair read meets a busy or absent ledger: the RSVP still says confirmed.

    Seen in ``make compare``: another session's transaction refused the repair
    read after the seat was given, and the user was told 503 while holding it.
    Whether it strikes the copy (inside the SQL transaction) or the check
    after it, the answer is the same.
    """
    event = make_event(organiser, 2)
    (guest,) = make_users(1, prefix="unrecorded")

    def ledger_busy(*args, **kwargs):
        raise ledger.LedgerUnavailable("busy with another transaction")

    monkeypatch.setattr(records, step, ledger_busy)
    result = services.rsvp(event_id=event.pk, user_id=guest.pk)

    assert result.outcome == "confirmed"
    assert [a.user_id for a in ledger.attendees(event.pk)] == [guest.pk]


@pytest.fixture
def long_check_window(monkeypatch):
    """A window no test outlasts: which write checks is decided by their order, not the clock."""
    monkeypatch.setattr(records, "CHECK_EVERY_S", 300)


def record_counts(queries: CaptureQueriesContext) -> int:
    """How many of the statements counted the record's rows (``records._counts``)."""
    return sum('COUNT("events_rsvp"' in query["sql"] for query in queries.captured_queries)


@pytest.mark.django_db
def test_the_record_is_counted_once_per_window_not_on_every_write(organiser, long_check_window):
    event = make_event(organiser, 10)
    people = make_users(4, prefix="counted")

    with CaptureQueriesContext(connection) as queries:
        for person in people:
            services.rsvp(event_id=event.pk, user_id=person.pk)

    assert record_counts(queries) == 1, "only the window's first write counts the rows"
    assert statuses(event) == dict.fromkeys((p.pk for p in people), "going")


@pytest.mark.django_db
def test_a_gap_waits_for_the_next_window_and_its_first_write_repairs_it(
    organiser, long_check_window
):
    event = make_event(organiser, 10)
    alice, bob, carol, dan = make_users(4, prefix="window")
    services.rsvp(event_id=event.pk, user_id=alice.pk)  # the window's check: all agree
    ledger.take_seat(event.pk, bob.pk)  # a crash before bob's record

    services.rsvp(event_id=event.pk, user_id=carol.pk)
    assert bob.pk not in statuses(event), "inside the window nothing is counted"

    cache.clear()  # the window is over (its key expired)
    services.rsvp(event_id=event.pk, user_id=dan.pk)
    assert statuses(event) == dict.fromkeys((alice.pk, bob.pk, carol.pk, dan.pk), "going")


@pytest.mark.django_db
def test_a_failed_sql_copy_rolls_back_as_one_and_the_seat_stands(
    organiser, monkeypatch, caplog, settings, long_check_window
):
    """The record, the sample and the email's task share a transaction: all of it or none.

    The seat is the ledger's and is answered as taken; the record is mended by
    the first check after it, as after a crash.
    """
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    event = make_event(organiser, 3)
    carol, alice, bob = make_users(3, prefix="rolledback")
    services.rsvp(event_id=event.pk, user_id=carol.pk)  # the window's check is made
    keep_sample = rush.record_samples

    def disk_full(*args, **kwargs):
        raise DatabaseError("database or disk is full")

    monkeypatch.setattr(rush, "record_samples", disk_full)
    with caplog.at_level(logging.ERROR, logger="events.mirror"):
        result = services.rsvp(event_id=event.pk, user_id=alice.pk)

    assert result.outcome is Outcome.CONFIRMED
    assert [a.user_id for a in ledger.attendees(event.pk)] == [carol.pk, alice.pk]
    assert statuses(event) == {carol.pk: "going"}, "alice's row went with the failed sample"
    assert DBTaskResult.objects.count() == 1, "and so did her email's task"
    assert "Could not record 1 write(s)" in caplog.text

    monkeypatch.setattr(rush, "record_samples", keep_sample)
    cache.clear()  # the next window
    services.rsvp(event_id=event.pk, user_id=bob.pk)
    assert statuses(event) == dict.fromkeys((carol.pk, alice.pk, bob.pk), "going")


@pytest.mark.django_db
def test_a_seat_whose_answer_was_lost_is_recorded_by_its_owners_retry(organiser):
    """A write that landed while its answer was lost (a crash, a 503) left no row."""
    event = make_event(organiser, 3)
    alice, bob = make_users(2, prefix="retry")
    ledger.take_seat(event.pk, alice.pk)  # the seat, with no record of it
    ledger.set_seats(event.pk, capacity=1)
    ledger.join_waitlist(event.pk, bob.pk)
    assert statuses(event) == {}

    assert services.rsvp(event_id=event.pk, user_id=alice.pk).outcome is Outcome.ALREADY_GOING
    assert services.rsvp(event_id=event.pk, user_id=bob.pk).outcome is Outcome.ALREADY_WAITING
    assert statuses(event) == {alice.pk: Rsvp.Status.GOING, bob.pk: Rsvp.Status.WAITING}


@pytest.mark.django_db(transaction=True)
def test_copies_of_rsvps_at_once_are_each_recorded_with_the_version_that_decided_them(organiser):
    """Copies that meet are written together (events.mirror): every row still its own."""
    event = make_event(organiser, 20)
    users = make_users(30, prefix="together")

    results = fire_together(
        [lambda u=u: services.rsvp(event_id=event.pk, user_id=u.pk) for u in users]
    )

    going = {a.user_id for a in ledger.attendees(event.pk)}
    assert len(going) == 20
    assert statuses(event) == dict.fromkeys(going, "going")
    # Each row copied from the write that seated its user, or from a newer
    # version (the drift check may rewrite the record from the ledger meanwhile).
    versions = dict(Rsvp.objects.filter(event=event).values_list("user_id", "ledger_version"))
    seated_by = {u.pk: r.version for u, r in zip(users, results, strict=True) if r.going}
    assert set(versions) == set(seated_by)
    assert all(versions[u] >= seated_by[u] for u in seated_by), (versions, seated_by)
