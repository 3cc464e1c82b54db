"""``make loadtest``: the whole stack, a fixture, locust headless, a verdict.

Starts the site as deployed (embedded MongoDB unless ``MONGODB_URI``; gunicorn
with ``WORKERS`` processes) in a scratch directory, makes a fixture of
``USERS`` users and one event of ``CAPACITY`` seats, runs
``loadtests/locustfile.py`` headless with every user firing at once, and
writes the locust HTML report and a short summary under ``var/loadtest/``.
Everything started is stopped again, also on Ctrl-C. Exits non-zero if the
event was overbooked, any answer was a 5xx, or locust itself failed.
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

from loadtests import stack

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "var" / "loadtest"
USERS = int(os.environ.get("USERS", "500"))
CAPACITY = int(os.environ.get("CAPACITY", "50"))
WORKERS = int(os.environ.get("WORKERS", "3"))
# Two locust processes (a master and two workers) send the burst in half the time.
LOCUST_PROCESSES = int(os.environ.get("LOCUST_PROCESSES", "2"))
WAVES = os.environ.get("LOADTEST_WAVES", "1")
SERVER_ERROR = re.compile(r"\b5\d\d\b")


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def run_locust(site: stack.Stack, fixture: Path) -> int:
    command = [
        sys.executable, "-m", "locust", "-f", "loadtests/locustfile.py",
        "--headless", "--users", str(USERS), "--spawn-rate", str(USERS),
        "--host", site.url, "--run-time", "15m", "--stop-timeout", "60",
        "--html", str(OUT / "report.html"), "--csv", str(OUT / "locust"),
        "--only-summary", "--loglevel", "WARNING",
    ]  # fmt: skip
    if LOCUST_PROCESSES:
        command += ["--processes", str(LOCUST_PROCESSES)]
    env = {
        **os.environ,
        "LOADTEST_FIXTURE": str(fixture),
        "LOADTEST_SUMMARY": str(OUT / "summary.json"),
        "LOADTEST_WAVES": WAVES,
    }
    # Its own process group, so that an interrupt stops locust's workers too.
    locust = subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True)
    try:
        return locust.wait()
    except KeyboardInterrupt:
        os.killpg(locust.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            locust.wait(timeout=30)
        # Workers forked by --processes outlive their master, waiting for it.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(locust.pid, signal.SIGKILL)
        raise


def latency_and_failures() -> tuple[dict, int]:
    """The RSVP requests' percentiles and rate, and how many answers were 5xx."""
    rsvp = {}
    with open(OUT / "locust_stats.csv") as handle:
        for row in csv.DictReader(handle):
            if row["Name"] in {"API RSVP", "page RSVP"}:
                rsvp[row["Name"]] = {
                    "requests": int(row["Request Count"]),
                    "p50_ms": float(row["50%"]),
                    "p95_ms": float(row["95%"]),
                    "p99_ms": float(row["99%"]),
                }
    server_errors = 0
    failures = OUT / "locust_failures.csv"
    if failures.exists():
        with open(failures) as handle:
            for row in csv.DictReader(handle):
                if SERVER_ERROR.search(row["Error"]):
                    server_errors += int(row["Occurrences"])
    return rsvp, server_errors


def write_summary(summary: dict, rsvp: dict, server_errors: int, locust_code: int) -> bool:
    ok = locust_code == 0 and summary.get("overbooked", 1) == 0 and server_errors == 0
    lines = [
        "# Load test",
        "",
        f"{USERS} users, capacity {CAPACITY}, gunicorn {WORKERS} workers, "
        f"waves {summary.get('waves')}; verdict: **{'PASS' if ok else 'FAIL'}**",
        "",
        f"- confirmed: {summary.get('confirmed')}, full: {summary.get('full')}, "
        f"already going: {summary.get('already_going')}, errors: {summary.get('errors')}",
        f"- attendees in the ledger: {summary.get('attendees')} of {summary.get('capacity')}; "
        f"overbooked: {summary.get('overbooked')}",
        f"- 5xx answers: {server_errors}",
        f"- click spread (first to last RSVP sent): {summary.get('click_spread_ms')} ms",
        f"- RSVPs answered per second (first click to last answer): {summary.get('rsvps_per_s')}",
        "",
        "| requests | count | p50 ms | p95 ms | p99 ms |",
        "|---|---:|---:|---:|---:|",
        *(
            f"| {name} | {r['requests']} | {r['p50_ms']:.0f} | {r['p95_ms']:.0f} "
            f"| {r['p99_ms']:.0f} |"
            for name, r in rsvp.items()
        ),
        "",
        *(f"- VIOLATION: {v}" for v in summary.get("violations", [])),
        "Report: var/loadtest/report.html",
    ]
    (OUT / "summary.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return ok


def main() -> int:
    # Ctrl-C, a polite kill or a closed terminal all stop everything, also when
    # this process was started in the background with SIGINT ignored.
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _interrupt)
    OUT.mkdir(parents=True, exist_ok=True)
    for old in OUT.glob("*"):
        old.unlink()
    # Every simulated browser logs in from 127.0.0.1: lift allauth's per-IP throttle.
    os.environ.setdefault("LOGIN_RATE_LIMIT", "100000/m/ip")
    with stack.running(WORKERS, log_file=OUT / "gunicorn.log") as site:
        from django.core.management import call_command

        fixture = OUT / "fixture.json"
        call_command(
            "make_loadtest_fixture", users=USERS, capacity=CAPACITY,
            out=fixture, api_url=f"{site.url}/api",
        )  # fmt: skip
        locust_code = run_locust(site, fixture)
    summary_file = OUT / "summary.json"
    summary = json.loads(summary_file.read_text()) if summary_file.exists() else {}
    rsvp, server_errors = latency_and_failures()
    return 0 if write_summary(summary, rsvp, server_errors, locust_code) else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("interrupted; everything started was stopped", file=sys.stderr)
        sys.exit(130)
