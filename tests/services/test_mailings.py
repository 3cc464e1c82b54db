"""Organisers write to attendees, cancel events and delete them: who is emailed, and with what."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import icalendar
import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from events import calendar, ledger, outcomes, selectors, services
from events.ledger import Outcome
from events.ledger.connection import collection as ledger_collection
from events.models import DESCRIPTION_MAX_CHARS, Event, Mailing
from events.services import mailings
from loadtests.stack import free_port
from tests.browser import SCREENSHOTS, chromium, new_context
from tests.helpers import bearer, logged_in, make_event, make_organiser, make_users, session_cookie
from tests.mail import DATABASE_TASKS

pytestmark = pytest.mark.django_db


@dataclass
class Packed:
    alice: object
    client: Client
    event: Event
    going: list
    waiting: list


def packed(prefix: str) -> Packed:
    """Alice's event of two seats: two going, then two waiting."""
    alice = make_organiser(f"{prefix}-alice")
    event = make_event(alice, 2, title=f"{prefix} night")
    people = make_users(4, prefix=prefix)
    for user in people[:2]:
        services.rsvp(event_id=event.pk, user_id=user.pk)
    for user in people[2:]:
        services.join_waitlist(event_id=event.pk, user_id=user.pk)
    mail.outbox.clear()  # the RSVPs' own emails
    return Packed(alice, logged_in(alice), event, people[:2], people[2:])


@pytest.fixture
def full():
    return packed("mail")


def emails(users) -> set[str]:
    return {user.email for user in users}


def cancel_file(message) -> icalendar.Calendar:
    (ics,) = [a for a in message.attachments if a.mimetype.startswith("text/calendar")]
    assert "method=CANCEL" in ics.mimetype
    content = ics.content.encode() if isinstance(ics.content, str) else ics.content
    return icalendar.Calendar.from_ical(content)


def vevent(cal: icalendar.Calendar) -> icalendar.Event:
    (found,) = cal.walk("VEVENT")
    return found


def test_a_message_reaches_exactly_the_audience_chosen(full, django_capture_on_commit_callbacks):
    url = reverse("admin:events_event_message", args=[full.event.pk])
    form = full.client.get(url)
    assert form.status_code == 200
    page = form.content.decode()
    assert "everyone going (2 people)" in page and "everyone waiting (2 people)" in page
    assert "everyone going or waiting (4 people)" in page

    expected = {
        "going": full.going,
        "waiting": full.waiting,
        "both": full.going + full.waiting,
    }
    for audience, users in expected.items():
        mail.outbox.clear()
        post = {"audience": audience, "subject": f"To {audience}", "body": "Bring <b>snacks</b>"}
        with django_capture_on_commit_callbacks(execute=True):
            answer = full.client.post(url, post, follow=True)
        assert f"Message queued for {len(users)} people." in answer.content.decode()
        # Each one copy of their own: seat order, then the waiting list's order.
        assert [m.to for m in mail.outbox] == [[user.email] for user in users]
        first = mail.outbox[0]
        assert first.subject == f"[{settings.SITE_NAME}] To {audience}"
        assert first.body.startswith(f"Hello {users[0].username},")
        assert "Bring <b>snacks</b>" in first.body
        html, _ = first.alternatives[0]
        assert "Bring &lt;b&gt;snacks&lt;/b&gt;" in html and "<b>" not in html
        assert not first.attachments

    log = full.client.get(reverse("admin:events_event_change", args=[full.event.pk]))
    body = log.content.decode()
    for audience in expected:
        assert f"To {audience}" in body
    assert body.count('<td class="mailing-state">finished') == 3
    assert body.count('<td class="mailing-sent">4</td>') == 1
    assert body.count('<td class="mailing-sent">2</td>') == 2
    assert body.count('<td class="mailing-pending">0</td>') == 3
    sent = Mailing.objects.filter(event=full.event)
    assert {m.sent_by_id for m in sent} == {full.alice.pk}


def test_an_empty_audience_is_refused_and_another_organisers_event_is_not_found(full):
    lonely = make_event(full.alice, 5, title="Quiet")
    services.rsvp(event_id=lonely.pk, user_id=full.going[0].pk)
    url = reverse("admin:events_event_message", args=[lonely.pk])

    answer = full.client.post(url, {"audience": "waiting", "subject": "Hi", "body": "Hello"})

    assert answer.status_code == 200
    assert answer.context["form"].errors["audience"]
    assert not Mailing.objects.filter(event=lonely).exists()
    bob = logged_in(make_organiser("mail-bob"))
    for name in ("admin:events_event_message", "admin:events_event_cancel"):
        assert bob.get(reverse(name, args=[full.event.pk])).status_code == 404
        assert bob.post(reverse(name, args=[full.event.pk])).status_code == 404
    assert not Event.objects.get(pk=full.event.pk).is_cancelled


def test_a_subject_with_a_line_break_or_an_overlong_text_is_a_form_error(full):
    url = reverse("admin:events_event_message", args=[full.event.pk])
    form = {"audience": "going", "subject": "Hi", "body": "Hello"}

    broken = full.client.post(url, {**form, "subject": "Hi\r\nBcc: all@example.org"})
    too_long = full.client.post(url, {**form, "body": "x" * (DESCRIPTION_MAX_CHARS + 1)})

    assert "line breaks are not allowed" in broken.context["form"].errors["subject"][0]
    assert "at most 20000 characters" in too_long.context["form"].errors["body"][0]
    assert not Mailing.objects.exists()


def test_cancelling_emails_a_calendar_cancel_to_everyone_and_keeps_the_lists(
    full, django_capture_on_commit_callbacks
):
    event, everyone = full.event, full.going + full.waiting
    before = vevent(icalendar.Calendar.from_ical(calendar.event_ics(event)))
    seats_before = selectors.seats_of([event.pk])[event.pk]
    url = reverse("admin:events_event_cancel", args=[event.pk])
    confirm = full.client.get(url).content.decode()
    assert "2 people are going and 2 waiting" in confirm

    with django_capture_on_commit_callbacks(execute=True):
        answer = full.client.post(url, follow=True)

    assert "is cancelled. Emailing 4 people." in answer.content.decode()
    assert sorted(m.to[0] for m in mail.outbox) == sorted(emails(everyone))
    for message in mail.outbox:
        cal = cancel_file(message)
        cancelled = vevent(cal)
        assert str(cal["METHOD"]) == "CANCEL" and str(cancelled["STATUS"]) == "CANCELLED"
        assert str(cancelled["UID"]) == str(before["UID"])
        assert int(cancelled["SEQUENCE"]) > int(before["SEQUENCE"])
    assert selectors.seats_of([event.pk])[event.pk] == seats_before  # the lists are kept
    assert [a.user_id for a in ledger.attendees(event.pk)] == [u.pk for u in full.going]

    (newcomer,) = make_users(1, prefix="late")
    assert services.rsvp(event_id=event.pk, user_id=newcomer.pk).outcome is Outcome.EVENT_CANCELLED
    refused = bearer(newcomer).post(f"/api/events/{event.pk}/rsvp", {}, format="json")
    assert refused.status_code == 409 and refused.json()["code"] == "event_cancelled"
    assert refused.json()["message"] == outcomes.ANSWERS[Outcome.EVENT_CANCELLED].sentence
    page = logged_in(full.going[0]).get(event.get_absolute_url()).content.decode()
    assert "This event has been cancelled." in page and 'id="cancel-button"' not in page
    listing = Client().get(reverse("events:list")).content.decode()
    assert "Cancelled</span>" in listing

    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        again = full.client.post(url, follow=True)
        assert mailings.cancel_event(event_id=event.pk, cancelled_by=full.alice) is None
    assert "was already cancelled" in again.content.decode()
    assert mail.outbox == []
    assert Mailing.objects.filter(event=event, kind=Mailing.Kind.CANCELLATION).count() == 1


def test_the_changelist_action_cancels_after_a_confirmation_only_the_organisers_own(
    full, django_capture_on_commit_callbacks
):
    bobs = make_event(make_organiser("mail-bob"), 3, title="Bob's night")
    services.rsvp(event_id=bobs.pk, user_id=full.going[0].pk)
    mail.outbox.clear()
    chosen = {"action": "cancel_selected", "_selected_action": [full.event.pk, bobs.pk]}
    changelist = reverse("admin:events_event_changelist")

    confirm = full.client.post(changelist, chosen).content.decode()
    assert "mail night</strong>: 2 going, 2 waiting" in confirm and "Bob" not in confirm
    assert not Event.objects.filter(status=Event.Status.CANCELLED).exists()
    with django_capture_on_commit_callbacks(execute=True):
        done = full.client.post(changelist, {**chosen, "confirmed": "yes"}, follow=True)

    assert "1 cancelled. Emailing 4 people." in done.content.decode()
    assert Event.objects.get(pk=full.event.pk).is_cancelled
    assert not Event.objects.get(pk=bobs.pk).is_cancelled
    assert sorted(m.to[0] for m in mail.outbox) == sorted(emails(full.going + full.waiting))


def test_a_cancel_mongodb_refuses_leaves_the_event_as_it_was(full, settings):
    settings.MONGODB_URI = f"mongodb://127.0.0.1:{free_port()}/"  # nobody listens there
    settings.MONGODB_TIMEOUT_MS = 300

    with pytest.raises(ledger.LedgerUnavailable):
        mailings.cancel_event(event_id=full.event.pk, cancelled_by=full.alice)

    event = Event.objects.get(pk=full.event.pk)
    assert event.status == Event.Status.PUBLISHED and event.cancelled_at is None
    assert event.sequence == full.event.sequence
    assert not Mailing.objects.exists()


def test_deleting_an_event_tells_its_people_after_the_row_is_gone(
    full, django_capture_on_commit_callbacks
):
    event = full.event
    url = reverse("admin:events_event_delete", args=[event.pk])
    confirm = full.client.get(url).content.decode()
    assert "2 people are going and 2 waiting; they will be emailed" in confirm
    assert reverse("admin:events_event_cancel", args=[event.pk]) in confirm

    with django_capture_on_commit_callbacks(execute=True):
        full.client.post(url, {"post": "yes"})

    assert not Event.objects.filter(pk=event.pk).exists()
    assert sorted(m.to[0] for m in mail.outbox) == sorted(emails(full.going + full.waiting))
    for message in mail.outbox:
        assert str(vevent(cancel_file(message))["UID"]) == calendar.uid(event)
        assert event.title in message.subject
    (kept,) = Mailing.objects.all()
    assert kept.event is None and kept.kind == Mailing.Kind.DELETION and kept.finished_at


def test_an_event_with_a_damaged_ledger_is_still_deleted_and_its_record_told(
    full, django_capture_on_commit_callbacks
):
    ledger_collection().update_one(
        {"_id": full.event.pk}, {"$set": {"capacity": "2"}}, bypass_document_validation=True
    )

    with django_capture_on_commit_callbacks(execute=True):
        services.delete_events(event_ids=[full.event.pk], deleted_by=full.alice)

    assert not Event.objects.filter(pk=full.event.pk).exists()
    # From the SQL record: going first, then waiting.
    assert [m.to[0] for m in mail.outbox] == [u.email for u in full.going + full.waiting]


def test_a_failed_send_keeps_the_rest_and_resumes_skipping_people_without_email(full, settings):
    nobody = get_user_model().objects.create_user("mail-noaddress", "", "pw")
    people = [*full.going, nobody, *full.waiting]
    mailing = Mailing.objects.create(
        event=full.event,
        event_title=full.event.title,
        subject="Doors open at six",
        body="See you there.",
        recipients=[u.pk for u in people] + [10**9],  # the last account is gone
    )
    settings.TASKS = DATABASE_TASKS  # a backend that can wait, so the task retries
    working = settings.MAILERS
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": free_port(), "timeout": 2},
        }
    }
    # The mail server refuses: nothing is counted, and the rest is queued again.
    assert mailings.send_mailing.call(mailing_id=mailing.pk) == 0
    mailing.refresh_from_db()
    assert (mailing.sent, mailing.failed, mailing.finished_at) == (0, 0, None)
    (retry,) = DBTaskResult.objects.filter(task_path__endswith="send_mailing")
    assert retry.args_kwargs["kwargs"] == {"mailing_id": mailing.pk, "attempt": 2}

    settings.MAILERS = working
    assert mailings.send_mailing.call(mailing_id=mailing.pk, attempt=2) == 6

    mailing.refresh_from_db()
    assert (mailing.sent, mailing.failed) == (6, 0) and mailing.finished_at is not None
    assert sorted(m.to[0] for m in mail.outbox) == sorted(emails(full.going + full.waiting))
    assert mailings.send_mailing.call(mailing_id=mailing.pk) == 0  # finished: sends nothing
    assert len(mail.outbox) == 4


@pytest.mark.live
@pytest.mark.django_db(transaction=True)
def test_message_form_screenshot(live_site):
    full = packed("shot")
    url = f"{live_site.url}{reverse('admin:events_event_message', args=[full.event.pk])}"
    cookie = session_cookie(full.alice)  # the ORM before the event loop, not inside it

    async def shoot() -> str:
        async with chromium() as browser:
            context = await new_context(browser, live_site.url, cookie)
            page = await context.new_page()
            await page.goto(url)
            await page.fill("#id_subject", "Doors open at six")
            await page.fill("#id_body", "Hello all,\n\nThe doors open at six; bring a friend.")
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            await page.screenshot(path=SCREENSHOTS / "message-form.png", full_page=True)
            return await page.inner_text("#message-form")

    text = asyncio.run(shoot())
    assert "everyone going (2 people)" in text and "everyone waiting (2 people)" in text
