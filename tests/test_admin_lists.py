"""Organisers manage the list by hand, and drafts stay theirs until published.

The races run against gunicorn with two workers: an organiser's admin
requests (removals, additions by hand) fire at the same instant as
attendees' RSVPs, and the ledger is held to exact counts afterwards.
"""

from __future__ import annotations

import pytest
import requests
from django.contrib.admin.models import LogEntry
from django.core import mail
from django.urls import reverse

from accounts.tokens import issue_access_tokens
from events import ledger, services
from events.admin.attendees import NOBODY_WHO_ASKED
from events.admin.forms import EventAdminForm
from events.models import Event
from tests.helpers import (
    api_call,
    bearer,
    change_form,
    csrf_token,
    fire_together,
    logged_in,
    make_event,
    make_organiser,
    make_users,
    session_cookie,
)


def admin_session(live_site, user, event_id: int) -> requests.Session:
    """An organiser's browser: their session cookie and the admin's CSRF token."""
    http = requests.Session()
    http.cookies.update(session_cookie(user))
    page = http.get(f"{live_site.url}/admin/events/event/{event_id}/attendees/add/", timeout=30)
    assert page.status_code == 200, page.text[:500]
    http.headers["X-CSRFToken"] = csrf_token(page.text)
    http.headers["Referer"] = page.url
    return http


def admin_post(http: requests.Session, url: str, data: dict | None = None):
    def call() -> requests.Response:
        return http.post(url, data=data or {}, timeout=60, allow_redirects=False)

    return call


def seated(event_id: int) -> list[int]:
    return [a.user_id for a in ledger.attendees(event_id)]


def asked_then_cancelled(event: Event, users: list) -> None:
    """Each RSVPs and cancels: someone who asked, whom an organiser may seat by hand."""
    for user in users:
        services.rsvp(event_id=event.pk, user_id=user.pk)
        services.cancel_rsvp(event_id=event.pk, user_id=user.pk)


@pytest.mark.live
@pytest.mark.django_db(transaction=True)
def test_removals_seat_the_first_waiting_while_additions_and_rsvps_find_it_full(
    live_site, django_user_model
):
    """10 going, 8 waiting: 5 removals, 5 additions by hand and 10 RSVPs, all at once.

    A freed seat goes to the head of the list in the removal's own write, so
    no addition or RSVP can ever find one free: exactly the first five
    waiting take the five seats, and nobody else gets in.
    """
    boss = django_user_model.objects.create_superuser("lists-boss", "b@example.com", "x")
    event = make_event(boss, 10)
    going, queued, added, rsvpers = (
        make_users(n, prefix=f"lists-{k}") for k, n in (("in", 10), ("q", 8), ("add", 5), ("r", 10))
    )
    asked_then_cancelled(event, added)
    for user in going:
        services.rsvp(event_id=event.pk, user_id=user.pk)
    for user in queued:
        services.join_waitlist(event_id=event.pk, user_id=user.pk)
    http = admin_session(live_site, boss, event.pk)
    base = f"{live_site.url}/admin/events/event/{event.pk}/attendees"
    tokens = issue_access_tokens(rsvpers)
    calls = [
        *(admin_post(http, f"{base}/{u.pk}/remove/") for u in going[:5]),
        *(admin_post(http, f"{base}/add/", {"who": u.username}) for u in added),
        *(
            api_call("POST", f"{live_site.url}/api/events/{event.pk}/rsvp", tokens[u.pk])
            for u in rsvpers
        ),
    ]

    answers = fire_together(calls)

    assert [a.status_code for a in answers[:5]] == [302] * 5  # removed: back to the event
    assert [a.status_code for a in answers[5:10]] == [200] * 5  # the form again, with why
    assert [a.status_code for a in answers[10:]] == [409] * 10
    now_going = seated(event.pk)
    assert len(now_going) == 10
    assert set(now_going) == {u.pk for u in [*going[5:], *queued[:5]]}
    assert ledger.waitlist(event.pk) == [u.pk for u in queued[5:]]


@pytest.mark.live
@pytest.mark.django_db(transaction=True)
def test_additions_by_hand_take_only_the_free_seats(live_site, django_user_model):
    """3 seats free: 10 additions by hand and 10 RSVPs at once seat exactly 3."""
    boss = django_user_model.objects.create_superuser("adds-boss", "a@example.com", "x")
    event = make_event(boss, 5)
    added, rsvpers = make_users(10, prefix="adds-h"), make_users(10, prefix="adds-r")
    asked_then_cancelled(event, added)
    for user in make_users(2, prefix="adds-in"):
        services.rsvp(event_id=event.pk, user_id=user.pk)
    http = admin_session(live_site, boss, event.pk)
    url = f"{live_site.url}/admin/events/event/{event.pk}/attendees/add/"
    tokens = issue_access_tokens(rsvpers)
    rsvp_url = f"{live_site.url}/api/events/{event.pk}/rsvp"
    calls = [
        *(admin_post(http, url, {"who": u.username}) for u in added),
        *(api_call("POST", rsvp_url, tokens[u.pk]) for u in rsvpers),
    ]

    answers = fire_together(calls)

    seated_now = seated(event.pk)
    assert len(seated_now) == len(set(seated_now)) == 5
    added_in = sum(a.status_code == 302 for a in answers[:10])
    rsvped_in = sum(a.status_code == 201 for a in answers[10:])
    assert added_in + rsvped_in == 3
    assert {a.status_code for a in answers[:10]} <= {200, 302}
    assert {a.status_code for a in answers[10:]} <= {201, 409}


@pytest.mark.django_db
def test_adding_by_hand_confirms_and_emails_or_says_why_not(django_user_model):
    boss = django_user_model.objects.create_superuser("hand-boss", "h@example.com", "x")
    event = make_event(boss, 1, rsvp_deadline=None)
    guest, late = make_users(2, prefix="hand-")
    asked_then_cancelled(event, [guest, late])
    client = logged_in(boss)
    url = reverse("admin:events_event_add_attendee", args=[event.pk])
    mail.outbox.clear()

    assert client.post(url, {"who": guest.email.upper()}).status_code == 302
    assert seated(event.pk) == [guest.pk]
    assert [m.to for m in mail.outbox] == [[guest.email]]
    full = client.post(url, {"who": late.username})
    assert "No seat is free" in full.content.decode()
    unknown = client.post(url, {"who": "nobody-at-all"})
    assert NOBODY_WHO_ASKED in unknown.content.decode()
    assert seated(event.pk) == [guest.pk]


@pytest.mark.django_db
def test_adding_by_hand_seats_only_who_asked_and_tells_nobody_who_has_an_account(
    django_user_model,
):
    """Staff, superusers and anyone who never asked get the answer an unknown address gets."""
    boss = make_organiser("hand-organiser")
    event = make_event(boss, 5, rsvp_deadline=None)
    colleague = make_organiser("hand-colleague")
    root = django_user_model.objects.create_superuser("hand-root", "root@example.com", "x")
    (stranger,) = make_users(1, prefix="hand-stranger")
    asked_then_cancelled(event, [colleague, root])  # even staff who asked
    client = logged_in(boss)
    url = reverse("admin:events_event_add_attendee", args=[event.pk])
    mail.outbox.clear()

    unknown = client.post(url, {"who": "no-such-person@example.com"}).content.decode()
    assert NOBODY_WHO_ASKED in unknown
    for who in (stranger.email, stranger.username, colleague.email, root.username):
        answer = client.post(url, {"who": who})
        assert answer.status_code == 200 and NOBODY_WHO_ASKED in answer.content.decode(), who
    assert seated(event.pk) == [] and mail.outbox == []
    assert client.post(url, {"who": boss.username}).status_code == 302  # yourself, yes
    assert seated(event.pk) == [boss.pk]


@pytest.mark.django_db
def test_a_draft_is_its_organisers_until_published(django_user_model):
    boss = django_user_model.objects.create_user("draft-boss", password="x", is_staff=True)
    event = make_event(boss, 5, title="Secret plans", status=Event.Status.DRAFT)
    stranger = make_users(1, prefix="draft-stranger")[0]
    detail = reverse("events:detail", args=[event.pk])

    assert "Secret plans" not in logged_in(stranger).get("/").content.decode()
    assert logged_in(stranger).get(detail).status_code == 404
    assert bearer(stranger).get(f"/api/events/{event.pk}").status_code == 404
    assert "Secret plans" not in bearer(stranger).get("/api/events").content.decode()
    assert services.rsvp(event_id=event.pk, user_id=stranger.pk).outcome == "unknown_event"
    preview = logged_in(boss).get(detail)
    assert preview.status_code == 200 and "Draft preview." in preview.content.decode()

    assert services.publish_events(event_ids=[event.pk]) == 1
    assert logged_in(stranger).get(detail).status_code == 200
    assert "Secret plans" in logged_in(stranger).get("/").content.decode()
    assert services.rsvp(event_id=event.pk, user_id=stranger.pk).outcome == "confirmed"


@pytest.mark.django_db
def test_the_form_warns_early_but_the_guarded_write_decides(django_user_model, monkeypatch):
    """Two RSVPs land after the form's early check: the save refuses, and keeps nothing."""
    boss = django_user_model.objects.create_superuser("cap-boss", "c@example.com", "x")
    event = make_event(boss, 3, title="Before")
    client = logged_in(boss)
    url = reverse("admin:events_event_change", args=[event.pk])
    form = {**change_form(event, boss, 1), "title": "After"}
    for user in make_users(2, prefix="cap-"):
        services.rsvp(event_id=event.pk, user_id=user.pk)
    early = client.post(url, form)
    assert "2 people are already going" in early.content.decode()  # the form's word

    # As if the RSVPs came between the form's check and its save.
    monkeypatch.setattr(
        EventAdminForm, "clean_capacity", lambda self: self.cleaned_data["capacity"]
    )
    answer = client.post(url, form, follow=True)

    assert "Nothing was saved: 2 people are already going" in answer.content.decode()
    event.refresh_from_db()
    assert event.title == "Before"
    assert ledger.seats([event.pk])[event.pk].capacity == 3
    assert not LogEntry.objects.filter(object_id=str(event.pk)).exists()
