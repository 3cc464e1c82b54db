"""`make chaos`, short: a small crowd, one kill of each kind, MongoDB held down a few seconds.

The run (``python -m loadtests.chaos``) starts its own stack, supervised as
``make run`` has it, in a scratch directory; about 15 to 25 seconds here. Its
end check is also tested alone, on a ledger broken on purpose, and its
sorting of the outage's answers on made-up ones.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from loadtests import ledger_benchmark
from loadtests.chaos import check as chaos_check
from loadtests.chaos.faults import Fault
from loadtests.chaos.report import outage_stats
from loadtests.endcheck import Click
from tests.helpers import ROOT, make_event, make_users

SHORT_RUN = {
    "CHAOS_USERS": "60",
    "CHAOS_CAPACITY": "10",
    "CHAOS_CROWD_S": "6",
    "CHAOS_MONGO_KILLS": "1",
    "CHAOS_WORKER_KILLS": "1",
    "CHAOS_OUTAGE_S": "3",
    "CHAOS_OUTAGE_CLIENTS": "30",
    "CHAOS_CLIENT_PROCESSES": "2",
}
# A row of the faults' table: number, fault, pid, when (group 1, seconds
# after the crowd's release), replaced after, serving again after, /healthz
# 200 after (a time, or why not: it may lag while the ledger is swamped), the
# crowd's requests that failed after it, the longest of those.
FAULT_ROW = (
    r"\| {n} \| {what} \| \d+ \| ([\d.]+) \| [\d.]+ s \| [\d.]+ s \| [^|]+ \| \d+ \| \d+ ms \|"
)


def chaos_env(out) -> dict[str, str]:
    """`make chaos`'s environment: the embedded MongoDB (not the suite's), output in ``out``."""
    outer = {"MONGODB_URI", "MONGODB_DB", "DATABASE_URL", "DJANGO_SETTINGS_MODULE"}
    env = {k: v for k, v in os.environ.items() if k not in outer}
    return {**env, **SHORT_RUN, "CHAOS_OUT": str(out)}


@pytest.mark.live
def test_a_short_chaos_run_keeps_every_promise(tmp_path):
    run = subprocess.run(
        [sys.executable, "-m", "loadtests.chaos"],
        cwd=ROOT,
        env=chaos_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=240,
    )
    summary = (tmp_path / "summary.md").read_text()
    assert run.returncode == 0, summary + run.stderr[-3000:]
    assert run.stdout.startswith("PASS") and len(run.stdout.splitlines()) == 1
    assert summary.startswith("# Chaos run: PASS")
    assert summary.rstrip().endswith("## Violations\n\nnone")
    # Each fault was injected while the crowd arrived, and the site came back.
    # (How many requests met it is reported, not asserted: the standby often
    # takes over within 50 ms, between two requests of a 60-person crowd.)
    crowd_s = float(SHORT_RUN["CHAOS_CROWD_S"])
    for n, what in ((1, "SIGKILL MongoDB server"), (2, "SIGKILL gunicorn worker")):
        found = re.search(FAULT_ROW.format(n=n, what=what), summary)
        assert found, summary
        assert 0 < float(found.group(1)) < crowd_s, f"{what} outside the crowd: {found[0]}"
    assert "- users: 60 (" in summary
    assert re.search(r"crowd \(event \d+\): 10 attendees of 10 seats, \d+ waiting", summary)
    # The outage was held, and answered with 503s (times reported, not asserted).
    assert "MongoDB held down 3." in summary
    assert re.search(
        r"time to a 503: p50 \d+ ms, p99 \d+ ms, max \d+ ms over [1-9]\d* 503s", summary
    )
    assert "- other answers during the hold: none" in summary
    assert re.search(r"end of the hold → a server on MongoDB's address: [\d.]+ s; "
                     r"→ serving again: [\d.]+ s; → /healthz 200: ", summary)  # fmt: skip


def click(user: str, action: str, outcome: str, status: int, at: float = 1.0, done: float = 1.1):
    return Click(user, 1, action, outcome, at, status, done)


@pytest.mark.django_db
def test_the_end_check_names_each_broken_promise():
    organiser, *users = make_users(5, prefix="chaos-check-")
    names = {user.pk: user.username for user in users}
    a, b, c, d = (user.pk for user in users)
    overbooked = make_event(organiser, 2)
    ledger_benchmark.fill_for_benchmark(overbooked.pk, [a, b, c, a])  # bypasses the guard
    ledger_benchmark.fill_for_benchmark(overbooked.pk, [b], waiting=True)
    told = [
        click(names[d], "rsvp", "confirmed", 201),  # told going, yet not in the ledger
        click(names[c], "join", "unavailable", 503),  # never answered for good
        click(names[b], "join", "error", 500),
    ]

    violations = chaos_check.check_event(overbooked.pk, told, names, settled=True).violations

    assert "overbooked: 4 attendees for 2 seats" in violations
    assert f"listed twice in the attendees: ['{names[a]}']" in violations
    assert f"both going and waiting: ['{names[b]}']" in violations
    assert f"told 'going' but not in the ledger: ['{names[d]}']" in violations
    assert f"no definitive answer after every retry: ['{names[c]}']" in violations
    assert "server errors other than 503: statuses [500]" in violations

    idle = make_event(organiser, 3)
    ledger_benchmark.fill_for_benchmark(idle.pk, [a])
    ledger_benchmark.fill_for_benchmark(idle.pk, [b], waiting=True)
    cancelled = [
        click(names[a], "rsvp", "confirmed", 201),
        click(names[a], "cancel", "cancelled", 200, 2.0),
    ]
    violations = chaos_check.check_event(idle.pk, cancelled, names, settled=True).violations
    assert "idle seats while waiting: 1 of 3 seats taken while 1 wait" in violations
    assert f"told 'cancelled' but still holding a seat or place: ['{names[a]}']" in violations


def test_the_outage_sorts_each_answer():
    hold = Fault("held down", pid=1, at=100.0, held_s=10.0)
    clicks = [
        click("a", "rsvp", "unavailable", 503, at=101.0, done=101.25),
        click("b", "read", "read", 200, at=102.0, done=102.01),  # from the seat cache
        click("c", "standing", "timeout", 0, at=103.0, done=113.0),
        click("d", "rsvp", "confirmed", 201, at=109.5, done=110.5),  # once it was over
        click("e", "standing", "read", 200, at=104.0, done=104.1),  # wrong: MongoDB is down
        click("f", "rsvp", "unavailable", 503, at=99.0, done=100.5),  # sent before the hold
    ]

    stats = outage_stats(clicks, hold)

    assert stats.sent == 5 and stats.to_503_ms == [pytest.approx(250)]
    assert (stats.from_cache, stats.timeouts, stats.no_answer) == (1, 1, 0)
    assert stats.after_hold == {201: 1} and stats.other == {200: 1}
