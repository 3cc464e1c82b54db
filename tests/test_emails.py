"""Seat emails: what each says and carries, and that no mail problem touches a seat."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from events import calendar, ledger, services
from events.ledger import Outcome
from events.models import Event
from events.services import notifications
from tests.helpers import make_users, outcomes

pytestmark = pytest.mark.django_db

BERLIN = ZoneInfo("Europe/Berlin")
BROKEN_MAILER = {"default": {"BACKEND": "tests.test_emails.RefusingBackend"}}


class RefusingBackend(BaseEmailBackend):
    """A mail server that is down."""

    def send_messages(self, email_messages):
        raise ConnectionRefusedError("the mail server is down")


@pytest.fixture(autouse=True)
def site(settings):
    settings.SITE_NAME = "Jazz Club"
    settings.DEFAULT_FROM_EMAIL = "events@example.org"
    settings.SITE_URL = "https://jazz.example.org"


@pytest.fixture
def people():
    return make_users(3, prefix="mail")


@pytest.fixture
def event(people) -> Event:
    """Tue 2 Dec 2031, 18:30 – 21:00 in Berlin: 17:30 – 20:00 UTC."""
    return services.create_event(
        capacity=1,
        organiser=people[2],
        title="Berlin evening",
        venue="Kulturbrauerei",
        time_zone="Europe/Berlin",
        starts_at=datetime(2031, 12, 2, 18, 30, tzinfo=BERLIN),
        ends_at=datetime(2031, 12, 2, 21, tzinfo=BERLIN),
    )


def ics_of(message) -> tuple[icalendar.Calendar, icalendar.Event]:
    (attachment,) = message.attachments
    assert attachment.filename.endswith(".ics")
    assert attachment.mimetype.startswith("text/calendar")
    cal = icalendar.Calendar.from_ical(attachment.content)
    (vevent,) = cal.walk("VEVENT")
    return cal, vevent


def check_message(message, user, event, subject: str) -> None:
    """What every seat email has: subject and sender with the site's name, both parts, the when."""
    assert message.subject == f"[Jazz Club] {subject}"
    assert message.from_email == "Jazz Club <events@example.org>"
    assert message.to == [user.email]
    assert "When: Tue 2 Dec 2031, 18:30 – 21:00 CET\n" in message.body
    assert "Where: Kulturbrauerei" in message.body
    assert f"https://jazz.example.org/events/{event.pk}/" in message.body
    ((html, mimetype),) = message.alternatives
    assert mimetype == "text/html"
    assert "Tue 2 Dec 2031, 18:30 – 21:00 CET" in html and "<strong>Berlin evening</strong>" in html


def test_an_rsvp_emails_the_event_with_its_ics(event, people):
    alice = people[0]
    assert services.rsvp(event_id=event.pk, user_id=alice.pk).outcome is Outcome.CONFIRMED

    (message,) = mail.outbox
    check_message(message, alice, event, "You're going: Berlin evening")
    cal, vevent = ics_of(message)
    assert cal["METHOD"] == "PUBLISH"
    assert vevent["UID"] == f"event-{event.pk}@jazz.example.org"
    assert vevent.decoded("DTSTART") == datetime(2031, 12, 2, 17, 30, tzinfo=UTC)
    assert vevent.decoded("DTEND") == datetime(2031, 12, 2, 20, tzinfo=UTC)
    assert vevent["SEQUENCE"] == 0 and vevent["STATUS"] == "CONFIRMED"


def test_a_cancel_sends_a_calendar_cancel(event, people):
    alice = people[0]
    services.rsvp(event_id=event.pk, user_id=alice.pk)
    mail.outbox.clear()

    services.cancel_rsvp(event_id=event.pk, user_id=alice.pk)

    (message,) = mail.outbox
    check_message(message, alice, event, "RSVP cancelled: Berlin evening")
    cal, vevent = ics_of(message)
    assert cal["METHOD"] == "CANCEL" and vevent["STATUS"] == "CANCELLED"
    assert vevent["UID"] == calendar.uid(event), "the same UID, so the app removes that event"
    assert vevent["SEQUENCE"] == 1


def test_the_waiting_and_the_promoted_are_told_and_given_the_event(event, people):
    alice, bob, _ = people
    services.rsvp(event_id=event.pk, user_id=alice.pk)
    services.join_waitlist(event_id=event.pk, user_id=bob.pk)
    waiting = mail.outbox[-1]
    check_message(waiting, bob, event, "You're on the waiting list: Berlin evening")
    mail.outbox.clear()

    services.cancel_rsvp(event_id=event.pk, user_id=alice.pk)

    by_recipient = {message.to[0]: message for message in mail.outbox}
    assert sorted(by_recipient) == sorted([alice.email, bob.email])
    promoted = by_recipient[bob.email]
    check_message(promoted, bob, event, "You're in: a seat freed up for Berlin evening")
    cal, vevent = ics_of(promoted)
    assert cal["METHOD"] == "PUBLISH" and vevent["UID"] == calendar.uid(event)
    assert ics_of(by_recipient[alice.email])[0]["METHOD"] == "CANCEL"


def test_a_change_that_changes_nothing_sends_nothing(event, people):
    alice, bob, _ = people
    services.rsvp(event_id=event.pk, user_id=alice.pk)
    mail.outbox.clear()
    assert services.rsvp(event_id=event.pk, user_id=alice.pk).outcome is Outcome.ALREADY_GOING
    assert services.rsvp(event_id=event.pk, user_id=bob.pk).outcome is Outcome.FULL
    assert services.cancel_rsvp(event_id=event.pk, user_id=bob.pk).outcome is Outcome.NOT_GOING
    assert mail.outbox == []


def test_a_mail_server_that_is_down_keeps_the_seat_and_logs(event, people, settings, caplog):
    settings.MAILERS = BROKEN_MAILER
    alice = people[0]
    client = Client()
    client.force_login(alice)

    with caplog.at_level(logging.WARNING, logger="events.services.notifications"):
        response = client.post(f"/events/{event.pk}/rsvp/", follow=True)

    assert response.status_code == 200 and outcomes(response.content.decode()) == ["confirmed"]
    assert [a.user_id for a in ledger.attendees(event.pk)] == [alice.pk]
    (record,) = [r for r in caplog.records if r.name == "events.services.notifications"]
    assert record.levelno == logging.ERROR and "confirmed email" in record.getMessage()
    assert record.exc_info and record.exc_info[0] is ConnectionRefusedError
    assert mail.outbox == []


def test_a_failed_send_is_queued_again_later_then_given_up(event, people, settings, caplog):
    """On a backend that can wait (the database one), a failure is retried with growing delays."""
    settings.MAILERS = BROKEN_MAILER
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend"}}
    backend = notifications.send_seat_email.get_backend()
    alice = people[0]
    args = {"kind": "confirmed", "event_id": event.pk, "user_id": alice.pk}

    with caplog.at_level(logging.WARNING, logger="events.services.notifications"):
        before = timezone.now()
        assert notifications.send_seat_email.call(**args, attempt=1) is True
        (retry,) = backend.results
        assert retry.kwargs == {**args, "version": 0, "attempt": 2}
        assert (
            before + timedelta(minutes=1)
            <= retry.task.run_after
            <= timezone.now() + timedelta(minutes=1)
        )
        assert caplog.records[-1].levelno == logging.WARNING

        last = notifications.MAX_ATTEMPTS
        with pytest.raises(ConnectionRefusedError):  # the backend records the task as failed
            notifications.send_seat_email.call(**args, attempt=last)

    assert len(backend.results) == 1, "the last attempt is not queued again"
    assert caplog.records[-1].levelno == logging.ERROR
    assert "giving up" in caplog.records[-1].getMessage()


@pytest.mark.django_db(transaction=True)
def test_the_database_backend_queues_and_the_worker_sends(event, people, settings):
    """django-tasks-db on Django's own django.tasks: queued by the RSVP, sent by db_worker."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    from django_tasks_db.models import DBTaskResult

    alice = people[0]
    services.rsvp(event_id=event.pk, user_id=alice.pk)
    assert mail.outbox == [], "the RSVP did not wait for the mail"
    assert DBTaskResult.objects.count() == 1

    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)

    (message,) = mail.outbox
    assert message.subject == "[Jazz Club] You're going: Berlin evening"
    assert DBTaskResult.objects.get().status == "SUCCESSFUL"


def test_a_title_with_a_line_break_still_gets_its_confirmation_on_one_line(event, people):
    # The admin refuses such a title; one that came in another way (an older
    # row, the shell) must not stop the event's emails: mail refuses the header.
    Event.objects.filter(pk=event.pk).update(title="Berlin\r\nevening\n")
    alice = people[0]

    assert services.rsvp(event_id=event.pk, user_id=alice.pk).outcome is Outcome.CONFIRMED

    (message,) = mail.outbox
    assert message.subject == "[Jazz Club] You're going: Berlin evening"
