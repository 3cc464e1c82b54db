"""The locustfile itself, headless against the live site: it must hold up."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from django.core.management import call_command

from events import ledger
from tests.conftest import ROOT

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]


def test_locust_fires_together_and_finds_no_overbooking(live_site, tmp_path):
    fixture, summary = tmp_path / "fixture.json", tmp_path / "summary.json"
    call_command(
        "make_loadtest_fixture", users=30, capacity=5, out=fixture, api_url=f"{live_site.url}/api"
    )
    result = subprocess.run(
        [
            sys.executable, "-m", "locust", "-f", "loadtests/locustfile.py", "--headless",
            "--users", "30", "--spawn-rate", "30", "--host", live_site.url,
            "--run-time", "2m", "--only-summary", "--loglevel", "WARNING",
        ],
        cwd=ROOT,
        env={**os.environ, "LOADTEST_FIXTURE": str(fixture), "LOADTEST_SUMMARY": str(summary)},
        capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    report = json.loads(summary.read_text())
    assert report["violations"] == []
    assert (report["confirmed"], report["full"], report["errors"]) == (5, 25, 0)
    assert report["attendees"] == 5 and report["overbooked"] == 0
    event_id = json.loads(fixture.read_text())["event_id"]
    assert len({a.user_id for a in ledger.attendees(event_id)}) == 5
