"""MongoDB goes away mid-run: pages answer 503 plainly, then recover by themselves."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from tests.helpers import make_event, make_users, outcomes

pytestmark = pytest.mark.django_db


def test_mongodb_stopped_gives_503_and_restart_recovers(spare_mongo, settings):
    settings.MONGODB_URI = spare_mongo.uri
    settings.MONGODB_TIMEOUT_MS = 500
    organiser, member = make_users(2, prefix="outage")
    event = make_event(organiser, 3)
    client = Client()
    client.force_login(member)

    spare_mongo.stop()
    for response in (
        client.get(reverse("events:list")),
        client.get(event.get_absolute_url()),
        client.post(reverse("events:rsvp", args=[event.pk])),
    ):
        assert response.status_code == 503
        body = response.content.decode()
        assert "briefly unavailable" in body and "Traceback" not in body
        assert response["Retry-After"]
    health = client.get("/healthz")
    assert health.status_code == 503
    assert health.json()["mongodb"].startswith("unavailable")
    assert health.json()["database"] == "ok"

    spare_mongo.start()
    response = client.post(reverse("events:rsvp", args=[event.pk]), follow=True)
    assert outcomes(response.content.decode()) == ["confirmed"]
    assert client.get("/healthz").json()["status"] == "ok"
