"""Killed processes lose no email and send none twice.

A task worker SIGKILLed in the middle of a mailing: the worker started after
it runs the mailing again, and everyone has exactly one copy at a real SMTP
server process. Web workers SIGKILLed after the ledger seated a burst of
RSVPs and before any of their SQL copies: the people whose retry says
"already going" and, after the sweep (``check_ledger --repair``), everyone
else seated, have exactly one confirmation queued.
"""

from __future__ import annotations

import os
import signal
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from io import StringIO

import pytest
import requests
from django.core.management import call_command
from django.db import connection, transaction
from django_tasks_db.models import DBTaskResult

from accounts.tokens import issue_access_token
from events import ledger
from events.models import Mailing
from events.services import mailings
from loadtests.stack import children
from tests.helpers import (
    api_call,
    fire_together,
    live_gunicorn,
    make_event,
    make_users,
    session_database_url,
    wait_for,
)
from tests.mail import DATABASE_TASKS, smtp_sink, task_workers

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]

RECIPIENTS = 120  # two chunks of the mailing's progress
KILLED_AFTER = 31  # copies accepted when the worker dies, inside the first chunk
RUSH = 20


def test_a_mailing_survives_its_worker_killed_mid_send_with_one_copy_each(tmp_path, settings):
    settings.TASKS = DATABASE_TASKS
    organiser, *people = make_users(RECIPIENTS + 1, prefix="mailed-")
    event = make_event(organiser, RECIPIENTS)
    mailing = Mailing.objects.create(
        event=event,
        event_title=event.title,
        subject="Doors open at six",
        body="See you there.",
        recipients=[user.pk for user in people],
    )
    mailings.send_mailing.enqueue(mailing_id=mailing.pk)

    with smtp_sink(tmp_path, hold_after=KILLED_AFTER) as sink:
        workers = task_workers(tmp_path, sink)
        first = workers.start()
        try:
            assert wait_for(sink.held, 60), "the worker never reached the held message"
            first.send_signal(signal.SIGKILL)  # no cleanup, no goodbye to the server
            first.wait(timeout=10)
        finally:
            first.kill()
        assert len(sink.accepted()) == KILLED_AFTER
        sink.release()

        second = workers.start()  # as `serve` starts it again
        try:
            done = wait_for(lambda: len(sink.accepted()) >= RECIPIENTS, 60)
            assert done, f"{len(sink.accepted())} of {RECIPIENTS} copies after the restart"
            finished = wait_for(
                lambda: Mailing.objects.filter(pk=mailing.pk, finished_at__isnull=False), 30
            )
            assert finished, "the mailing is marked finished"
        finally:
            second.kill()
            second.wait(timeout=10)

    copies = Counter(sink.accepted())
    assert copies == Counter({user.email: 1 for user in people})
    assert Mailing.objects.get(pk=mailing.pk).sent == RECIPIENTS


@contextmanager
def sql_writes_held() -> Iterator[None]:
    """Hold the SQL database's write lock: the site's copies of ledger writes wait for it.

    SQLite: an IMMEDIATE transaction takes the database's one write lock
    (the settings' transaction mode); PostgreSQL: a lock on the record's table.
    """
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("LOCK TABLE events_rsvp IN SHARE ROW EXCLUSIVE MODE")
        else:
            with connection.cursor() as cursor:  # the BEGIN IMMEDIATE has run: write to be sure
                cursor.execute("UPDATE events_rsvp SET id = id WHERE 0")
        yield


def confirmations(event_id: int) -> Counter:
    """Seat emails queued for the event, per user (the database backend's task rows)."""
    rows = DBTaskResult.objects.filter(task_path__endswith="send_seat_email")
    told = Counter()
    for args in rows.values_list("args_kwargs", flat=True):
        kwargs = args["kwargs"]
        if kwargs["event_id"] == event_id and kwargs["kind"] in ("confirmed", "promoted"):
            told[kwargs["user_id"]] += 1
    return told


def test_seats_taken_by_web_workers_killed_before_their_record_are_each_told_once(settings):
    settings.TASKS = DATABASE_TASKS
    organiser, *users = make_users(RUSH + 1, prefix="rush-told-")
    event = make_event(organiser, RUSH)
    tokens = [issue_access_token(user) for user in users]
    extra = {"TASKS_BACKEND": "database", "GUNICORN_THREADS": str(RUSH + 4)}

    with live_gunicorn(session_database_url(), workers=1, **extra) as site:
        url = f"{site.url}/api/events/{event.pk}/rsvp"
        calls = [api_call("POST", url, token) for token in tokens]
        answers: list = []

        def rush() -> None:
            answers.extend(fire_together([lambda c=c: _attempt(c) for c in calls]))

        with sql_writes_held():
            crowd = threading.Thread(target=rush)
            crowd.start()
            seated = wait_for(lambda: len(ledger.roster(event.pk).attendees) == RUSH, 30)
            assert seated, "the burst was seated in the ledger"
            for worker in children(site.pid):  # after the ledger writes, before any record
                os.kill(worker, signal.SIGKILL)
        crowd.join(timeout=60)
        assert answers == [None] * RUSH, "every request died with its worker"

        # What the finding saw: a retry says "already going" (and now tells them).
        retried = [wait_for(lambda c=c: _attempt(c), 30) for c in calls[:5]]
        assert retried == [(409, "already_going")] * 5

    call_command("check_ledger", "--repair", "--event", str(event.pk), stdout=StringIO())

    attendees = {a.user_id for a in ledger.roster(event.pk).attendees}
    assert attendees == {user.pk for user in users}
    assert confirmations(event.pk) == Counter(dict.fromkeys(attendees, 1))


def _attempt(call) -> tuple[int, str] | None:
    """The answer's status and code, or None when the connection died with its worker."""
    try:
        answer = call()
    except requests.RequestException:
        return None
    return (answer.status_code, answer.json().get("code", "")) if answer.status_code < 500 else None
