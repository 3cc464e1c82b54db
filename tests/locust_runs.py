"""Running the locustfile headless against a live test site, for the load tools' tests."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from django.core.management import call_command

from tests.helpers import ROOT


def make_fixture(site, path: Path, users: int, capacity: int, **options) -> dict:
    call_command(
        "make_loadtest_fixture",
        users=users,
        capacity=capacity,
        out=path,
        api_url=f"{site.url}/api",
        **options,
    )
    return json.loads(path.read_text())


def run_locust(
    site, tmp_path: Path, users: int, *, waitlist: bool = False, waves: int = 1, mode: str = ""
):
    """Run the locustfile headless on ``tmp_path/fixture.json``; its process and summary."""
    summary = tmp_path / "summary.json"
    result = subprocess.run(
        [
            sys.executable, "-m", "locust", "-f", "loadtests/locustfile.py", "--headless",
            "--users", str(users), "--spawn-rate", str(users), "--host", site.url,
            "--run-time", "2m", "--only-summary", "--loglevel", "WARNING",
        ],
        cwd=ROOT,
        env={
            **os.environ,
            "LOADTEST_FIXTURE": str(tmp_path / "fixture.json"),
            "LOADTEST_SUMMARY": str(summary),
            "LOADTEST_WAITLIST": "1" if waitlist else "0",
            "LOADTEST_WAVES": str(waves),
            "LOADTEST_MODE": mode,
        },
        capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    output = result.stdout[-3000:] + result.stderr[-3000:]
    return result, (json.loads(summary.read_text()) if summary.exists() else {}), output
