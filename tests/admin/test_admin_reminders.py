"""The organiser's reminders and reconfirmation, in the event's admin page."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse

from events import ledger, services
from events.models import Event
from tests.helpers import change_form, make_event, make_organiser, make_users

pytestmark = pytest.mark.django_db


@pytest.fixture
def organiser_client():
    organiser = make_organiser("timed-organiser")
    client = Client()
    client.force_login(organiser)
    return client, organiser


def post(client, event: Event, organiser, **fields):
    url = reverse("admin:events_event_change", args=[event.pk])
    return client.post(url, {**change_form(event, organiser, 10), **fields})


def test_lead_times_are_written_as_an_organiser_says_them(organiser_client):
    client, organiser = organiser_client
    event = make_event(organiser, 10)
    answer = post(
        client,
        event,
        organiser,
        reminders="2h, 1d",
        reconfirm_ask_before="48h",
        reconfirm_release_before="1d",
    )
    assert answer.status_code == 302, answer.content.decode()[:3000]
    event.refresh_from_db()
    assert event.reminders == [86400, 7200]
    assert event.reconfirm_ask_before == timedelta(hours=48)
    assert event.reconfirm_release_before == timedelta(days=1)
    page = client.get(reverse("admin:events_event_change", args=[event.pk])).content.decode()
    assert 'value="1d, 2h"' in page and 'value="2d"' in page  # 48h, in its largest unit
    assert "Everyone going is asked on" in page


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"reminders": "tomorrow"}, "is not a lead time"),
        ({"reconfirm_ask_before": "24h", "reconfirm_release_before": "48h"}, "closer to the start"),
        ({"reconfirm_ask_before": "24h"}, "Set both times"),
    ],
)
def test_lead_times_that_mean_nothing_are_form_errors(organiser_client, fields, error):
    client, organiser = organiser_client
    event = make_event(organiser, 10)
    answer = post(client, event, organiser, **fields)
    assert answer.status_code == 200 and error in answer.content.decode()
    event.refresh_from_db()
    assert event.reminders == [86400] and event.reconfirm_ask_before is None


def test_the_organiser_sees_how_many_kept_their_seat_and_how_many_will_be_released(
    organiser_client,
):
    client, organiser = organiser_client
    event = make_event(
        organiser,
        10,
        reconfirm_ask_before=timedelta(days=3),
        reconfirm_release_before=timedelta(days=2),
    )
    people = make_users(3, prefix="counted-")
    for user in people:
        services.rsvp(event_id=event.pk, user_id=user.pk)
    ledger.ask_to_reconfirm(event.pk)
    services.keep_seat(event_id=event.pk, user_id=people[0].pk)

    page = client.get(reverse("admin:events_event_change", args=[event.pk])).content.decode()

    assert "1 of the 3 going have kept their seat" in page
    assert "2 will be released at" in page
