"""A mailing some of whose people cannot be reached still finishes, and says how many.

A real worker sends to a real SMTP server process that refuses one address
(550 at ``RCPT TO``); and a mail server that is not there at all, on the
task's last attempt, finishes the mailing with everyone left counted failed.
"""

from __future__ import annotations

import pytest
from django.core import mail

from events.models import Mailing, SentEmail
from events.services import mailings, notifications
from loadtests.stack import free_port
from tests.helpers import make_event, make_users, wait_for
from tests.mail import DATABASE_TASKS, mail_worker, smtp_sink

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]


def mailing_to(people, event) -> Mailing:
    return Mailing.objects.create(
        event=event,
        event_title=event.title,
        subject="Doors open at six",
        body="See you there.",
        recipients=[user.pk for user in people],
    )


def test_a_recipient_the_server_refuses_is_failed_and_the_others_get_theirs(tmp_path, settings):
    settings.TASKS = DATABASE_TASKS
    organiser, *people = make_users(5, prefix="refused-")
    refused = people[1]  # not the last: the ones after it are still sent
    mailing = mailing_to(people, make_event(organiser, 4))
    mailings.send_mailing.enqueue(mailing_id=mailing.pk)

    with smtp_sink(tmp_path, refuse=(refused.email,)) as sink, mail_worker(tmp_path, sink):
        finished = wait_for(
            lambda: Mailing.objects.filter(pk=mailing.pk, finished_at__isnull=False).exists(), 30
        )
        assert finished, f"not finished; the server accepted {sink.accepted()}"

    mailing.refresh_from_db()
    assert (mailing.sent, mailing.failed) == (3, 1)
    reached = [user for user in people if user != refused]
    assert sorted(sink.accepted()) == sorted(user.email for user in reached)
    # Once per person: only those reached are recorded as having it.
    rows = SentEmail.objects.filter(email=f"mailing {mailing.pk}")
    assert sorted(rows.values_list("user_id", flat=True)) == sorted(u.pk for u in reached)


def test_giving_up_on_a_dead_server_finishes_the_mailing_with_the_rest_failed(settings):
    settings.TASKS = DATABASE_TASKS  # retries are possible: giving up is the attempts' doing
    working = settings.MAILERS
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": free_port(), "timeout": 2},
        }
    }
    organiser, *people = make_users(4, prefix="gaveup-")
    mailing = mailing_to(people, make_event(organiser, 3))
    # A run before this one got a copy to the first person, then the server died.
    notifications.mark_sent(f"mailing {mailing.pk}", people[0].pk)

    with pytest.raises(OSError):  # raised, so the worker records the task as failed
        mailings.send_mailing.call(mailing_id=mailing.pk, attempt=notifications.MAX_ATTEMPTS)

    mailing.refresh_from_db()
    assert (mailing.sent, mailing.failed) == (1, 2) and mailing.finished_at is not None
    settings.MAILERS = working
    assert mailings.send_mailing.call(mailing_id=mailing.pk) == 0  # finished: nothing resent
    assert mail.outbox == []
