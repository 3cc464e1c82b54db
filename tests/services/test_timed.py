"""Reminders and reconfirm-or-release, sent by a real worker to a real SMTP server.

The lead times are durations on the event, so an event two hours ahead with
a lead of two hours less two seconds has its mail due two seconds from now:
the worker (``db_worker``) runs the task when it is due and the messages are
read back whole from the server.
"""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.test import Client
from django_tasks_db.models import DBTaskResult

from events import ledger, services
from events.ledger import Outcome
from events.models import Event, Mailing, Rsvp
from events.services import mailings, timed
from tests.helpers import make_event, make_users, wait_for
from tests.mail import DATABASE_TASKS, mail_worker, smtp_sink

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]

AHEAD = timedelta(hours=2)
DUE_IN = timedelta(seconds=2)
LINK = re.compile(r"https?://\S+/e/[^/\s]+/")


def due_soon(organiser, capacity: int, **fields) -> Event:
    return make_event(organiser, capacity, days=AHEAD / timedelta(days=1), **fields)


def lead(moment_from_now: timedelta = DUE_IN) -> int:
    return int((AHEAD - moment_from_now).total_seconds())


def delivered(sink, subject_start: str) -> list:
    return [m for m in sink.messages() if m["Subject"].startswith(subject_start)]


def text_of(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def calendar_of(message) -> str:
    parts = [p for p in message.iter_attachments() if p.get_content_type() == "text/calendar"]
    return parts[0].get_content()


def test_a_reminder_reaches_everyone_going_once_with_the_time_the_ics_and_a_link(
    tmp_path, settings, organiser
):
    settings.TASKS = DATABASE_TASKS
    ann, bea, cal = make_users(3, prefix="reminded-")
    event = due_soon(organiser, 2, reminders=[lead()], online_url="https://meet.example/x")
    for user in (ann, bea, cal):  # cal waits: not reminded
        services.join_waitlist(event_id=event.pk, user_id=user.pk)
    prefix = "[Eventsite] Reminder:"

    with smtp_sink(tmp_path) as sink, mail_worker(tmp_path, sink):
        assert wait_for(lambda: len(delivered(sink, prefix)) >= 2, 30), sink.accepted()
        timed.send_reminder.enqueue(
            event_id=event.pk, starts_at=event.starts_at.isoformat(), lead_s=lead()
        )  # queued twice: sent once
        done = lambda: not DBTaskResult.objects.filter(status__in=["READY", "RUNNING"]).exists()  # noqa: E731
        assert wait_for(done, 30)

    reminders = delivered(sink, prefix)
    assert sorted(m["To"] for m in reminders) == sorted([ann.email, bea.email])
    text = text_of(reminders[0])
    assert event.title in reminders[0]["Subject"] and "Test hall" in text
    assert "Join online: https://meet.example/x" in text and "check-in code" in text
    assert "UID:" in calendar_of(reminders[0]) and "METHOD:PUBLISH" in calendar_of(reminders[0])
    link = LINK.search(text).group(0)
    client = Client()
    assert b"Give up your seat?" in client.get(urlsplit(link).path).content
    client.post(urlsplit(link).path)
    assert ledger.roster(event.pk).waitlist == [], "the link gave the seat to cal"
    assert Mailing.objects.filter(event=event, kind=Mailing.Kind.REMINDER).count() == 1


def test_a_moved_or_cancelled_event_sends_no_stale_reminder(settings, organiser):
    settings.TASKS = DATABASE_TASKS
    (ann,) = make_users(1, prefix="stale-")
    event = due_soon(organiser, 2, reminders=[3600])
    services.rsvp(event_id=event.pk, user_id=ann.pk)
    old_start = event.starts_at.isoformat()
    event.starts_at += timedelta(hours=1)
    services.update_event(event=event)

    assert timed.send_reminder.call(event_id=event.pk, starts_at=old_start, lead_s=3600) == 0
    rows = DBTaskResult.objects.filter(task_path__endswith="send_reminder")
    starts = {row.args_kwargs["kwargs"]["starts_at"] for row in rows}
    assert starts == {old_start, event.starts_at.isoformat()}, "the move queued a new reminder"
    mailings.cancel_event(event_id=event.pk, cancelled_by=organiser)
    new_start = event.starts_at.isoformat()
    assert timed.send_reminder.call(event_id=event.pk, starts_at=new_start, lead_s=3600) == 0
    assert not Mailing.objects.filter(kind=Mailing.Kind.REMINDER).exists()


def test_still_coming_keep_my_seat_and_the_release_to_the_waiting_list(
    tmp_path, settings, organiser
):
    settings.TASKS = DATABASE_TASKS
    ann, bea, cal, dee = make_users(4, prefix="still-")
    event = due_soon(
        organiser,
        2,
        reminders=[],
        reconfirm_ask_before=AHEAD - DUE_IN,
        reconfirm_release_before=timedelta(hours=1),
    )
    for user in (ann, bea, cal, dee):
        services.join_waitlist(event_id=event.pk, user_id=user.pk)
    releases = DBTaskResult.objects.filter(task_path__endswith="release_unconfirmed")
    assert releases.get().run_after == event.starts_at - timedelta(hours=1)

    with smtp_sink(tmp_path) as sink, mail_worker(tmp_path, sink):
        asked = lambda: delivered(sink, "[Eventsite] Still coming")  # noqa: E731
        assert wait_for(lambda: len(asked()) >= 2, 30), sink.accepted()
        to_ann = next(m for m in asked() if m["To"] == ann.email)
        text = text_of(to_ann)
        keep, give_up = LINK.findall(text)[:2]
        assert "Yes, keep my seat" in text and "gives it to the waiting list" in text
        assert b"Give up your seat?" in Client().get(urlsplit(give_up).path).content
        assert b"Still coming?" in Client().get(urlsplit(keep).path).content
        Client().post(urlsplit(keep).path)  # ann keeps hers; bea says nothing

        released = timed.release_unconfirmed.call(
            event_id=event.pk, starts_at=event.starts_at.isoformat()
        )
        assert released == 1
        told = lambda: delivered(sink, "[Eventsite] Your seat was given")  # noqa: E731
        promoted = lambda: delivered(sink, "[Eventsite] You're in")  # noqa: E731
        assert wait_for(lambda: told() and promoted(), 30), sink.accepted()

    roster = ledger.roster(event.pk)
    assert [a.user_id for a in roster.attendees] == [ann.pk, cal.pk]
    assert roster.waitlist == [dee.pk]
    assert [m["To"] for m in told()] == [bea.email]
    assert [m["To"] for m in promoted()] == [cal.email]
    assert "METHOD:CANCEL" in calendar_of(told()[0])
    assert Rsvp.objects.get(event=event, user=bea).status == Rsvp.Status.CANCELLED
    assert (
        timed.release_unconfirmed.call(event_id=event.pk, starts_at=event.starts_at.isoformat())
        == 1
    ), "run again: the same one released, told once"
    assert Mailing.objects.filter(event=event, kind=Mailing.Kind.RELEASED).count() == 1
    assert services.keep_seat(event_id=event.pk, user_id=bea.pk).outcome is Outcome.NOT_GOING


def test_publishing_a_draft_queues_its_reminder_and_a_draft_queues_none(settings, organiser):
    settings.TASKS = DATABASE_TASKS
    draft = due_soon(organiser, 2, status=Event.Status.DRAFT, reminders=[3600])
    reminders = DBTaskResult.objects.filter(task_path__endswith="send_reminder")
    assert not reminders.exists(), "a draft reminds nobody"

    assert services.publish_events(event_ids=[draft.pk]) == 1

    (queued,) = reminders
    assert queued.run_after == draft.starts_at - timedelta(seconds=3600)
    assert queued.args_kwargs["kwargs"] == {
        "event_id": draft.pk,
        "starts_at": draft.starts_at.isoformat(),
        "lead_s": 3600,
    }
