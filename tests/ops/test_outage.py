"""MongoDB goes away mid-run: pages answer 503 plainly, then recover by themselves."""

from __future__ import annotations

import logging
import os
import subprocess
import sys

import pytest
import requests
from django.test import Client
from django.urls import reverse

from tests.helpers import ROOT, live_gunicorn, make_event, make_users, outcomes, wait_for


@pytest.mark.django_db
def test_mongodb_stopped_gives_503_and_restart_recovers(spare_mongo, settings, caplog):
    settings.MONGODB_URI = spare_mongo.uri
    settings.MONGODB_TIMEOUT_MS = 500
    organiser, member = make_users(2, prefix="outage")
    event = make_event(organiser, 3)
    client = Client()
    client.force_login(member)

    spare_mongo.stop()
    caplog.set_level(logging.WARNING, logger="events.middleware")
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
    # At most the first request waited for the server (pymongo's monitor may
    # have found it gone even before that); the others were refused at once,
    # from this process's memory of the outage.
    reasons = [r.getMessage() for r in caplog.records if r.name == "events.middleware"]
    assert len(reasons) == 3
    assert all("unreachable a moment ago" in reason for reason in reasons[1:]), reasons

    spare_mongo.start()
    assert wait_for(lambda: client.get("/healthz").status_code == 200, seconds=10)
    response = client.post(reverse("events:rsvp", args=[event.pk]), follow=True)
    assert outcomes(response.content.decode()) == ["confirmed"]


def test_sql_database_unreachable_gives_503_then_recovers(tmp_path):
    """gunicorn on a SQLite file that cannot be opened yet, then is migrated."""
    db_dir = tmp_path / "not-yet"
    database_url = f"sqlite:///{db_dir / 'db.sqlite3'}"
    with live_gunicorn(database_url, workers=1, healthy=False) as site:
        page = requests.get(f"{site.url}/", timeout=30)
        assert page.status_code == 503
        assert "briefly unavailable" in page.text and "Traceback" not in page.text
        health = requests.get(f"{site.url}/healthz", timeout=30).json()
        assert health["database"].startswith("unavailable") and health["mongodb"] == "ok"

        db_dir.mkdir()
        env = {**os.environ, "DATABASE_URL": database_url}
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "--verbosity", "0"],
            cwd=ROOT,
            env=env,
            check=True,
            timeout=120,
        )
        assert requests.get(f"{site.url}/", timeout=30).status_code == 200
        assert requests.get(f"{site.url}/healthz", timeout=30).json()["status"] == "ok"
