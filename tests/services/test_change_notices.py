"""Change notices: a published event moved, everyone going and waiting told once, old → new.

The end-to-end test runs the real worker (``db_worker``) against a real SMTP
server: two saves in a row queue two tasks, and the earlier one, finding the
sequence moved on, leaves the notice to the later. The others call the task
itself (``.call``), as the worker would.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest
from django.conf import settings as django_settings
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from events import calendar, services
from events.models import Event, Mailing
from events.services import change_notices, check_ins, mailings
from tests.helpers import change_form, logged_in, make_event, make_organiser, make_users, wait_for
from tests.mail import DATABASE_TASKS, mail_worker, smtp_sink

BERLIN = ZoneInfo("Europe/Berlin")
OLD_LINK = "https://meet.example/old"
NEW_LINK = "https://meet.example/new"
CHANGE = Mailing.Kind.CHANGE


def delivered(sink, subject_start: str) -> list:
    return [m for m in sink.messages() if m["Subject"].startswith(subject_start)]


def text_of(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def html_of(message) -> str:
    return message.get_body(preferencelist=("html",)).get_content()


def calendar_of(message) -> icalendar.Event:
    parts = [p for p in message.iter_attachments() if p.get_content_type() == "text/calendar"]
    return icalendar.Calendar.from_ical(parts[0].get_content()).walk("VEVENT")[0]


def at_half_past_six(organiser, capacity: int, **fields) -> Event:
    """An event in Berlin ten days ahead, 18:30 to 21:00 local time."""
    day = (timezone.now() + timedelta(days=10)).astimezone(BERLIN).date()
    start = datetime(day.year, day.month, day.day, 18, 30, tzinfo=BERLIN)
    fields.setdefault("online_url", OLD_LINK)
    return services.create_event(
        capacity=capacity,
        organiser=organiser,
        title="Moved night",
        venue="Test hall",
        time_zone="Europe/Berlin",
        starts_at=start,
        ends_at=start.replace(hour=21, minute=0),
        reminders=[],
        **fields,
    )


def mailings_of(event: Event) -> list[Mailing]:
    return list(Mailing.objects.filter(event=event, kind=CHANGE).order_by("pk"))


@pytest.mark.live
@pytest.mark.django_db(transaction=True)
def test_two_edits_in_a_row_send_one_notice_each_old_to_new_with_the_new_ics(
    tmp_path, settings, organiser
):
    settings.TASKS = DATABASE_TASKS
    settings.CHANGE_NOTICE_DELAY = 1
    ann, bea, cal = make_users(3, prefix="moved-")
    event = at_half_past_six(organiser, 2)
    for user in (ann, bea, cal):  # cal waits
        services.join_waitlist(event_id=event.pk, user_id=user.pk)

    site = f"[{django_settings.SITE_NAME}]"
    prefix = f"{site} Changed: Moved night"

    with smtp_sink(tmp_path) as sink, mail_worker(tmp_path, sink):
        seat_emails = lambda: delivered(sink, f"{site} You're going")  # noqa: E731
        assert wait_for(lambda: len(seat_emails()) >= 2, 30), sink.accepted()
        # Two saves well within the delay: the first task finds the sequence moved on.
        event.starts_at = event.starts_at.replace(hour=19, minute=0)
        services.update_event(event=event)
        event.venue, event.online_url = "Big hall", NEW_LINK
        services.update_event(event=event)
        assert wait_for(lambda: len(delivered(sink, prefix)) >= 3, 30), sink.accepted()
        idle = lambda: not DBTaskResult.objects.filter(status__in=["READY", "RUNNING"]).exists()  # noqa: E731
        assert wait_for(idle, 30)
        seat_email = seat_emails()[0]

    notices = delivered(sink, prefix)
    assert sorted(m["To"] for m in notices) == sorted(u.email for u in (ann, bea, cal))
    to_ann = next(m for m in notices if m["To"] == ann.email)
    text = text_of(to_ann)
    assert "18:30 – 21:00 CET → " in text and "19:00 – 21:00 CET" in text.split("→")[1]
    assert "Where: Test hall → Big hall" in text
    assert f"Join online: {OLD_LINK} → {NEW_LINK}" in text
    ics, before = calendar_of(to_ann), calendar_of(seat_email)
    assert ics["UID"] == before["UID"] == calendar.uid(event)
    assert ics["SEQUENCE"] > before["SEQUENCE"]
    assert ics.decoded("DTSTART") == event.starts_at
    assert ics["LOCATION"] == "Big hall"
    assert check_ins.code_for(event.pk, ann.pk) in ics["DESCRIPTION"]

    to_cal = next(m for m in notices if m["To"] == cal.email)
    waiting_text = text_of(to_cal)
    assert "Where: Test hall → Big hall" in waiting_text
    assert "the link has changed" in waiting_text
    seen_by_cal = waiting_text + html_of(to_cal) + calendar_of(to_cal).to_ical().decode()
    assert "meet.example" not in seen_by_cal
    assert [m.key for m in mailings_of(event)] == [
        f"change {event.sequence} going",
        f"change {event.sequence} waiting",
    ]
    assert Event.objects.get(pk=event.pk).calendar_before is None


@pytest.mark.django_db
def test_an_edit_undone_before_the_notice_sends_nothing(organiser):
    event = at_half_past_six(organiser, 2)
    (ann,) = make_users(1, prefix="undone-")
    services.rsvp(event_id=event.pk, user_id=ann.pk)
    event.venue = "Big hall"
    services.update_event(event=event)
    assert event.calendar_before["venue"] == "Test hall"
    event.venue = "Test hall"
    services.update_event(event=event)

    sent = change_notices.send_change_notice.call(event_id=event.pk, sequence=event.sequence)

    assert sent == 0 and mailings_of(event) == []
    assert Event.objects.get(pk=event.pk).calendar_before is None, "the next change starts afresh"


@pytest.mark.django_db
def test_the_task_of_an_earlier_edit_leaves_the_notice_to_the_last(organiser):
    event = at_half_past_six(organiser, 2)
    (ann,) = make_users(1, prefix="later-")
    services.rsvp(event_id=event.pk, user_id=ann.pk)
    event.venue = "Big hall"
    services.update_event(event=event)
    first = event.sequence
    event.venue = "Bigger hall"
    services.update_event(event=event)

    assert change_notices.send_change_notice.call(event_id=event.pk, sequence=first) == 0
    assert mailings_of(event) == []
    assert change_notices.send_change_notice.call(event_id=event.pk, sequence=first + 1) == 1
    (notice,) = mailings_of(event)
    assert "Where: Test hall → Bigger hall" in notice.body


@pytest.mark.django_db
def test_a_cancelled_event_sends_no_change_notice(organiser):
    event = at_half_past_six(organiser, 2)
    (ann,) = make_users(1, prefix="called-")
    services.rsvp(event_id=event.pk, user_id=ann.pk)
    event.venue = "Big hall"
    services.update_event(event=event)
    queued = event.sequence
    mailings.cancel_event(event_id=event.pk, cancelled_by=organiser)
    now = Event.objects.get(pk=event.pk).sequence

    assert change_notices.send_change_notice.call(event_id=event.pk, sequence=queued) == 0
    assert change_notices.send_change_notice.call(event_id=event.pk, sequence=now) == 0
    assert mailings_of(event) == []


@pytest.mark.django_db
def test_the_task_run_twice_writes_each_mailing_once(organiser):
    event = at_half_past_six(organiser, 1)
    ann, bea = make_users(2, prefix="twice-")
    for user in (ann, bea):
        services.join_waitlist(event_id=event.pk, user_id=user.pk)
    event.starts_at += timedelta(hours=1)
    services.update_event(event=event)

    first = change_notices.send_change_notice.call(event_id=event.pk, sequence=event.sequence)
    again = change_notices.send_change_notice.call(event_id=event.pk, sequence=event.sequence)

    assert (first, again) == (2, 0)
    going, waiting = mailings_of(event)
    assert (going.recipients, waiting.recipients) == ([ann.pk], [bea.pk])
    assert going.key == f"change {event.sequence} going"
    assert "When: " in going.body and "Join online" not in going.body
    assert "meet.example" not in waiting.body


@pytest.mark.django_db
def test_a_new_title_raises_the_sequence_and_owes_no_notice(organiser):
    event = at_half_past_six(organiser, 2)
    event.title = "Renamed night"
    services.update_event(event=event)

    saved = Event.objects.get(pk=event.pk)
    assert saved.sequence == 1 and saved.calendar_before is None
    assert change_notices.send_change_notice.call(event_id=event.pk, sequence=1) == 0


@pytest.mark.django_db
def test_a_draft_owes_no_notice(organiser):
    event = at_half_past_six(organiser, 2, status=Event.Status.DRAFT)
    event.venue = "Big hall"
    services.update_event(event=event)

    saved = Event.objects.get(pk=event.pk)
    assert saved.sequence == 1 and saved.calendar_before is None
    assert change_notices.send_change_notice.call(event_id=event.pk, sequence=1) == 0
    assert mailings_of(event) == []


@pytest.mark.django_db
def test_a_form_loaded_before_the_notice_does_not_bring_its_baseline_back(organiser):
    event = at_half_past_six(organiser, 2)
    event.venue = "Big hall"
    services.update_event(event=event)
    stale = Event.objects.get(pk=event.pk)  # an admin form opened now, saved later
    change_notices.send_change_notice.call(event_id=event.pk, sequence=event.sequence)
    stale.attendees_public = True
    services.update_event(event=stale)

    assert Event.objects.get(pk=event.pk).calendar_before is None


@pytest.mark.django_db
def test_where_tasks_run_at_once_the_notice_is_sent_on_commit(
    organiser, django_capture_on_commit_callbacks
):
    event = at_half_past_six(organiser, 2)
    (ann,) = make_users(1, prefix="at-once-")
    services.rsvp(event_id=event.pk, user_id=ann.pk)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        event.venue = "Big hall"
        services.update_event(event=event)

    (notice,) = [m for m in mail.outbox if "Changed:" in m.subject]
    assert notice.to == [ann.email] and "Where: Test hall → Big hall" in notice.body


@pytest.mark.django_db
def test_an_edit_on_the_admin_form_sends_the_notice(django_capture_on_commit_callbacks):
    boss = make_organiser("notice-boss")
    event = make_event(boss, 3)
    (ann,) = make_users(1, prefix="admin-told-")
    services.rsvp(event_id=event.pk, user_id=ann.pk)
    mail.outbox.clear()
    url = reverse("admin:events_event_change", args=[event.pk])
    form = {**change_form(event, boss, 3), "venue": "Admin hall"}
    with django_capture_on_commit_callbacks(execute=True):
        assert logged_in(boss).post(url, form).status_code == 302

    (notice,) = [m for m in mail.outbox if "Changed:" in m.subject]
    assert notice.to == [ann.email] and "Where: Test hall → Admin hall" in notice.body
    assert [m.audience for m in mailings_of(event)] == [Mailing.Audience.GOING]
