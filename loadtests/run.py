"""``make loadtest``: the whole stack, a fixture, locust headless, a verdict.

Starts the site as deployed (embedded MongoDB unless ``MONGODB_URI``; gunicorn
with ``WORKERS`` processes) in a scratch directory, makes a fixture of
``USERS`` users and one event of ``CAPACITY`` seats, runs
``loadtests/locustfile.py`` headless with every user firing at once, and
writes the locust HTML report and a short summary under ``var/loadtest/``.
Everything started is stopped again, also on Ctrl-C. Exits non-zero on any
violation the locustfile's end check reports (overbooked, idle seats while
people wait, someone both going and waiting, places on the list not 1..n,
an answer the ledger contradicts, ...), any 5xx answer, or if locust failed.

    make loadtest                                     # 500 users click RSVP, capacity 50
    LOADTEST_WAVES=3 make loadtest                    # seated users cancel, all click again
    LOADTEST_WAITLIST=1 LOADTEST_WAVES=3 make loadtest  # all click "Join the waiting list";
                                                      # cancels promote the first waiting
    USERS=1000 CAPACITY=10 WORKERS=4 LOCUST_PROCESSES=0 make loadtest
    LOADTEST_MODE=guests GUESTS=3 make loadtest       # parties of 1 to 4 rush the seats
    LOADTEST_MODE=approval make loadtest              # all ask; the organiser's approvals race
    LOADTEST_MODE=lottery make loadtest               # all enter a draw; then the draw

``LOADTEST_MODE``, ``LOADTEST_WAITLIST`` and ``LOADTEST_WAVES`` are passed to
the locustfile (see its docstring and ``loadtests.modes``); ``GUESTS`` (default
3 in ``guests`` mode, else 0) is the event's guests per RSVP.
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

from django.core.management import call_command

from loadtests import stack

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "var" / "loadtest"
USERS = int(os.environ.get("USERS", "500"))
CAPACITY = int(os.environ.get("CAPACITY", "50"))
WORKERS = int(os.environ.get("WORKERS", "3"))
# Two locust processes (a master and two workers) send the burst in half the time.
LOCUST_PROCESSES = int(os.environ.get("LOCUST_PROCESSES", "2"))
WAVES = os.environ.get("LOADTEST_WAVES", "1")
WAITLIST = os.environ.get("LOADTEST_WAITLIST", "0")
MODE = os.environ.get("LOADTEST_MODE", "")
GUESTS = int(os.environ.get("GUESTS", "3" if MODE == "guests" else "0"))
# The draw comes this long after the fixture: every user enters before it.
LOTTERY_IN_S = int(os.environ.get("LOTTERY_IN", "60"))
SERVER_ERROR = re.compile(r"\b5\d\d\b")
# The locustfile's request names whose latency the summary reports.
CLICK_REQUESTS = (
    "API RSVP", "page RSVP", "API join waitlist", "page join waitlist", "API cancel", "page cancel",
)  # fmt: skip


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
        "LOADTEST_WAITLIST": WAITLIST,
        "LOADTEST_MODE": MODE,
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
            if row["Name"] in CLICK_REQUESTS:
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


def verdict(summary: dict, server_errors: int, locust_code: int) -> bool:
    """PASS only if locust ran clean, the end check ran and found nothing, and no 5xx."""
    return (
        locust_code == 0
        and "violations" in summary
        and not summary["violations"]
        and summary.get("overbooked", 1) == 0
        and summary.get("idle_seats_while_waiting", 1) == 0
        and server_errors == 0
    )


def summary_lines(summary: dict, server_errors: int) -> list[str]:
    s = summary.get
    violations = s("violations", ["the locustfile wrote no summary (its end check did not run)"])
    return [
        f"- answers in the last wave: confirmed {s('confirmed')}, already going "
        f"{s('already_going')}, waitlisted {s('waitlisted')}, already waiting "
        f"{s('already_waiting')}, full {s('full')}, waitlist closed {s('waitlist_closed')}, "
        f"errors {s('errors')}",
        f"- between waves: cancelled {s('cancelled')}, promoted from the waiting list "
        f"{s('promoted')}",
        f"- ledger: {s('attendees')} attendees of {s('capacity')} seats, {s('going')} users "
        f"going, {s('waiting')} waiting",
        f"- overbooked: {s('overbooked')}; idle seats while waiting: "
        f"{s('idle_seats_while_waiting')}",
        f"- 5xx answers: {server_errors}",
        f"- click spread (first to last click sent): {s('click_spread_ms')} ms",
        f"- clicks answered per second (first click to last answer): {s('rsvps_per_s')}",
        *(f"- VIOLATION: {v}" for v in violations),
    ]


def write_summary(summary: dict, rsvp: dict, server_errors: int, locust_code: int) -> bool:
    ok = verdict(summary, server_errors, locust_code)
    mode = "join the waiting list" if summary.get("mode") == "waitlist" else "RSVP"
    lines = [
        "# Load test",
        "",
        f"{USERS} users click {mode}, capacity {CAPACITY}, gunicorn {WORKERS} workers, "
        f"waves {summary.get('waves')}; verdict: **{'PASS' if ok else 'FAIL'}**"
        + ("" if locust_code == 0 else f" (locust exited with {locust_code})"),
        "",
        *summary_lines(summary, server_errors),
        "",
        "| requests | count | p50 ms | p95 ms | p99 ms |",
        "|---|---:|---:|---:|---:|",
        *(
            f"| {name} | {r['requests']} | {r['p50_ms']:.0f} | {r['p95_ms']:.0f} "
            f"| {r['p99_ms']:.0f} |"
            for name, r in rsvp.items()
        ),
        "",
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
    with stack.running(WORKERS, log_file=OUT / "gunicorn.log", mail=True) as site:
        fixture = OUT / "fixture.json"
        call_command(
            "make_loadtest_fixture", users=USERS, capacity=CAPACITY,
            out=fixture, api_url=f"{site.url}/api",
            guests=GUESTS, approval=MODE == "approval",
            lottery_in=LOTTERY_IN_S if MODE == "lottery" else None,
        )  # fmt: skip
        locust_code = run_locust(site, fixture)
    summary_file = OUT / "summary.json"
    summary = json.loads(summary_file.read_text()) if summary_file.exists() else {}
    rsvp, server_errors = latency_and_failures()
    return 0 if write_summary(summary, rsvp, server_errors, locust_code) else 1


if __name__ == "__main__":
    stack.exit_with(main)
