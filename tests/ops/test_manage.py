"""manage.py finds the embedded MongoDB the site uses, or starts its own."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from eventsite import embedded_mongo
from tests.helpers import ROOT

COUNT_EVENTS = (
    "from django.conf import settings; from events import ledger; from events.models import Event;"
    "ids = list(Event.objects.values_list('pk', flat=True));"
    "print(settings.MONGODB_URI); print(len(ledger.seats(ids)))"
)


def manage(var_dir: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in {"MONGODB_URI", "DATABASE_URL"}}
    env.update(EVENTSITE_VAR_DIR=str(var_dir), MONGODB_DB="eventsite")
    env["DJANGO_SUPERUSER_PASSWORD"] = "a-long-admin-password"
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )


def test_commands_start_their_own_server_then_share_the_running_one(tmp_path):
    manage(tmp_path, "migrate", "--verbosity", "0")
    seeded = manage(tmp_path, "seed_demo")
    assert "Demo organiser: username 'organiser'" in seeded.stdout
    assert embedded_mongo.running_uri(tmp_path) is None, "its server stops with the command"
    manage(tmp_path, "createsuperuser", "--noinput", "--username", "ops", "--email", "o@x.io")

    server = embedded_mongo.spawn(tmp_path)
    try:
        uri = embedded_mongo.wait_until_up(tmp_path, server)
        shown = manage(tmp_path, "shell", "--no-imports", "-c", COUNT_EVENTS).stdout.split()
        assert shown == [uri, "4"], "same server, same ledger as the seeded site"
        assert embedded_mongo.running_uri(tmp_path) == uri, "the shared server keeps running"
    finally:
        embedded_mongo.stop(server)
