"""Copies of an event: a duplicate, and weekly or monthly series at the same local time."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from events import ledger, selectors, services
from events.models import Event, Rsvp
from events.services import copies
from tests.helpers import logged_in, make_organiser, make_users

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")
COPIED = [
    "title",
    "description",
    "time_zone",
    "starts_at",
    "ends_at",
    "rsvp_deadline",
    "venue",
    "online_url",
    "organiser_id",
    "attendees_public",
]


def said(response) -> str:
    return " ".join(str(m) for m in get_messages(response.wsgi_request))


def london_event(user, starts: datetime, **fields) -> Event:
    """An event at a London wall-clock time, ending 2h30 later, RSVPs closing at noon."""
    fields = {
        "title": "Tuesday talk",
        "description": "Talks *and* pizza.",
        "venue": "The Hall",
        "online_url": "https://example.org/join",
        "attendees_public": True,
        "time_zone": "Europe/London",
        "starts_at": starts,
        "ends_at": starts + timedelta(hours=2, minutes=30),
        "rsvp_deadline": starts.replace(hour=12, minute=0),
        **fields,
    }
    return services.create_event(capacity=5, waitlist_limit=3, organiser=user, **fields)


@pytest.fixture
def alice():
    return make_organiser("alice")


def test_duplicate_is_a_draft_with_the_same_details_and_seats_and_nobody_going(alice):
    source = london_event(alice, datetime(2027, 10, 12, 19, 0, tzinfo=LONDON))
    for user in make_users(2, prefix="guest"):
        assert services.rsvp(event_id=source.pk, user_id=user.pk).outcome == "confirmed"
    Event.objects.filter(pk=source.pk).update(sequence=4)  # as after a few edits
    client = logged_in(alice)
    url = reverse("admin:events_event_duplicate", args=[source.pk])

    confirm = client.get(url)
    assert confirm.status_code == 200 and "Yes, duplicate it" in confirm.content.decode()
    assert Event.objects.count() == 1  # a GET makes nothing

    response = client.post(url)
    copy = Event.objects.exclude(pk=source.pk).get()
    assert response.status_code == 302
    assert response.url == reverse("admin:events_event_change", args=[copy.pk])
    assert "new draft" in said(response)
    source.refresh_from_db()
    assert [getattr(copy, f) for f in COPIED] == [getattr(source, f) for f in COPIED]
    assert copy.status == Event.Status.DRAFT and copy.sequence == 0
    seats = selectors.seats_of([copy.pk, source.pk])
    assert seats[copy.pk] == ledger.Seats(capacity=5, taken=0, waiting=0, waitlist_limit=3)
    assert not Rsvp.objects.filter(event=copy).exists()
    # The source is as it was.
    assert source.status == Event.Status.PUBLISHED and source.sequence == 4
    assert seats[source.pk] == ledger.Seats(capacity=5, taken=2, waiting=0, waitlist_limit=3)


def test_another_organisers_event_cannot_be_copied(alice):
    source = london_event(alice, datetime(2027, 10, 12, 19, 0, tzinfo=LONDON))
    bob = logged_in(make_organiser("bob"))
    duplicate = reverse("admin:events_event_duplicate", args=[source.pk])
    repeat = reverse("admin:events_event_repeat", args=[source.pk])

    assert bob.get(duplicate).status_code == 404
    assert bob.post(duplicate).status_code == 404
    assert bob.get(repeat, {"every": "week", "count": 2}).status_code == 404
    assert bob.post(repeat, {"every": "week", "count": 2}).status_code == 404
    assert Event.objects.count() == 1


def test_weekly_copies_keep_the_local_time_across_the_clock_change(alice):
    # The clocks go back on Sunday 31 October 2027: the first copy is in
    # summer time (BST, UTC+1), the next two in winter time (GMT, UTC+0).
    source = london_event(alice, datetime(2027, 10, 19, 19, 0, tzinfo=LONDON))
    client = logged_in(alice)
    url = reverse("admin:events_event_repeat", args=[source.pk])

    preview = client.get(url, {"every": "week", "count": 3})
    assert preview.status_code == 200
    assert preview.context["preview"] == [
        "Tue 26 Oct 2027, 19:00 – 21:30 BST",
        "Tue 2 Nov 2027, 19:00 – 21:30 GMT",
        "Tue 9 Nov 2027, 19:00 – 21:30 GMT",
    ]
    assert Event.objects.count() == 1  # a preview makes nothing

    response = client.post(url, {"every": "week", "count": 3})
    made = list(Event.objects.exclude(pk=source.pk).order_by("starts_at"))
    assert len(made) == 3
    assert response.url.endswith("?id__in=" + "%2C".join(str(e.pk) for e in made))
    message = said(response)
    assert "Made 3 drafts" in message and "Tue 2 Nov 2027, 19:00 GMT" in message
    starts = [e.starts_at.astimezone(LONDON) for e in made]
    assert [s.date().isoformat() for s in starts] == ["2027-10-26", "2027-11-02", "2027-11-09"]
    assert {s.strftime("%H:%M") for s in starts} == {"19:00"}
    assert [s.utcoffset() for s in starts] == [timedelta(hours=1), timedelta(0), timedelta(0)]
    assert [e.starts_at.astimezone(ZoneInfo("UTC")).hour for e in made] == [18, 19, 19]
    for copy in made:
        assert copy.ends_at.astimezone(LONDON).strftime("%H:%M") == "21:30"
        assert copy.rsvp_deadline.astimezone(LONDON).strftime("%H:%M") == "12:00"
        assert copy.status == Event.Status.DRAFT and copy.title == source.title
        assert selectors.seats_of([copy.pk])[copy.pk].capacity == 5
    listed = client.get(response.url)
    assert {e.pk for e in listed.context["cl"].result_list} == {e.pk for e in made}


def test_monthly_copies_from_the_31st_take_each_months_last_day(alice):
    source = london_event(alice, datetime(2027, 1, 31, 18, 0, tzinfo=LONDON), ends_at=None)

    made = copies.repeat_event(event_id=source.pk, every="month", count=4)

    local = [e.starts_at.astimezone(LONDON) for e in made]
    assert [d.date().isoformat() for d in local] == [
        "2027-02-28",
        "2027-03-31",  # from the 31st again, not from 28 February
        "2027-04-30",
        "2027-05-31",
    ]
    assert {d.strftime("%H:%M") for d in local} == {"18:00"}
    assert all(e.ends_at is None for e in made)


def test_a_local_time_lost_to_the_spring_clock_change_lands_after_it():
    # 01:30 on Sunday 28 March 2027 does not exist in London (01:00 -> 02:00).
    event = Event(time_zone="Europe/London", starts_at=datetime(2027, 3, 21, 1, 30, tzinfo=LONDON))

    (copy,) = copies.series_times(event, "week", 1)

    assert copy.starts_at.astimezone(LONDON).isoformat() == "2027-03-28T02:30:00+01:00"


@pytest.mark.parametrize("count", [0, 53])
def test_a_count_out_of_range_is_a_form_error(alice, count):
    source = london_event(alice, datetime(2027, 10, 19, 19, 0, tzinfo=LONDON))
    url = reverse("admin:events_event_repeat", args=[source.pk])

    response = logged_in(alice).post(url, {"every": "week", "count": count})

    assert response.status_code == 200
    assert "count" in response.context["form"].errors
    assert Event.objects.count() == 1


def test_a_refused_ledger_keeps_no_copy(alice, monkeypatch):
    """MongoDB refuses the third copy's ledger: no row stays, nor the two ledgers opened."""
    source = london_event(alice, datetime(2027, 10, 19, 19, 0, tzinfo=LONDON))
    opened = []
    real_create = ledger.create_event

    def third_refused(event_id, *args):  # a fault injected, on the real server
        if len(opened) == 2:
            raise ledger.LedgerUnavailable("refused")
        opened.append(event_id)
        real_create(event_id, *args)

    monkeypatch.setattr(ledger, "create_event", third_refused)
    with pytest.raises(ledger.LedgerUnavailable):
        copies.repeat_event(event_id=source.pk, every="week", count=4)

    assert list(Event.objects.values_list("pk", flat=True)) == [source.pk]
    assert len(opened) == 2 and not any(ledger.exists(event_id) for event_id in opened)
    assert ledger.exists(source.pk)


def test_an_event_without_a_readable_ledger_is_not_copied(alice):
    source = london_event(alice, datetime(2027, 10, 19, 19, 0, tzinfo=LONDON))
    ledger.delete_events([source.pk])  # lost, as check_ledger would report it
    client = logged_in(alice)

    response = client.post(reverse("admin:events_event_duplicate", args=[source.pk]))

    assert response.url == reverse("admin:events_event_change", args=[source.pk])
    assert "no readable ledger" in said(response)
    with pytest.raises(copies.CopyError):
        copies.repeat_event(event_id=source.pk, every="week", count=2)
    assert list(Event.objects.values_list("pk", flat=True)) == [source.pk]
