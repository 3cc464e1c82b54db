"""The organiser sets a draw for the rush on the event form; its time is checked there."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from events import services
from events.models import Event
from tests.helpers import change_form, logged_in, make_event, make_organiser, make_users

pytestmark = pytest.mark.django_db


def draw_fields(moment) -> dict:
    local = timezone.localtime(moment)
    return {"draw_at_0": local.strftime("%Y-%m-%d"), "draw_at_1": local.strftime("%H:%M:%S")}


def test_the_form_sets_a_draw_before_the_start_and_refuses_one_after_it():
    alice = make_organiser("draw-admin")
    event = make_event(alice, 5)
    url = reverse("admin:events_event_change", args=[event.pk])
    soon = timezone.now() + timedelta(hours=1)
    saved = logged_in(alice).post(url, {**change_form(event, alice, 5), **draw_fields(soon)})
    assert saved.status_code == 302
    assert Event.objects.get(pk=event.pk).draw_at is not None

    late = event.starts_at + timedelta(hours=1)
    refused = logged_in(alice).post(url, {**change_form(event, alice, 5), **draw_fields(late)})
    assert refused.status_code == 200
    assert "The draw must be before the start of the event." in refused.content.decode()


def test_a_draw_with_people_in_it_cannot_be_removed():
    alice = make_organiser("draw-keeper")
    event = make_event(alice, 5, draw_at=timezone.now() + timedelta(hours=1))
    (entrant,) = make_users(1, prefix="in-the-draw")
    services.rsvp(event_id=event.pk, user_id=entrant.pk)
    url = reverse("admin:events_event_change", args=[event.pk])
    refused = logged_in(alice).post(url, change_form(event, alice, 5))  # no draw time
    assert refused.status_code == 200
    assert "1 person is in the draw" in refused.content.decode()
    assert Event.objects.get(pk=event.pk).draw_at is not None
