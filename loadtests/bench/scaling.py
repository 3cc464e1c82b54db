"""Item 6: one RSVP and one home page, one at a time, with no other events and with 5,000.

The other events are **past** ones: a site's history, which only grows and
which no page of today lists, so an RSVP or a home page that gets slower
with it is paying for a scan. ``loadtests.bench.history.History`` loads them
in bulk (``OTHER_EVENTS`` SQL events, 10 RSVP records each, and their ledger
documents, full with those 10 attendees), without the old form's seat times.

First the story's events are deleted (they have been checked), so at the
first level the site holds only what this step makes: the home page's 20
upcoming events, the same at both levels, and the event the RSVPs go to
(nobody turned away). At each level, ``WARM_ROUNDS`` unreported rounds, then
``SCALING_SAMPLES``: one RSVP over the API (a fresh user's Bearer token; it
must answer 201), then one anonymous ``GET /`` (200). Rounds start at least
the seat cache's lifetime apart, so that every home page reads its 20 events'
seats from the ledger, which is the cost that could grow; each request goes
on a new connection. Reported: the median of each, and 5,000 over none.
"""

from __future__ import annotations

import statistics
import time
from functools import partial

import requests
from django.conf import settings

from loadtests.bench.context import OTHER_EVENTS, SCALING_SAMPLES, log
from loadtests.bench.history import History, fill_the_home_page
from loadtests.bench.supplies import Bench
from loadtests.measure import STOP, timed

WARM_ROUNDS = 2
TIMEOUT_S = 60.0


class Rounds:
    """One RSVP and one home page at a time, paced past the seat cache."""

    def __init__(self, bench: Bench, event_id: int) -> None:
        self.bench = bench
        self.rsvp_url = f"{bench.site.url}/api/events/{event_id}/rsvp"
        self.home_url = f"{bench.site.url}/"
        self.pace_s = settings.SEATS_CACHE_SECONDS + 0.2

    def one(self, user: tuple[int, str], label: str) -> tuple[float, float]:
        """(RSVP ms, home page ms); a wrong answer is a problem of the run."""
        user_id, token = user
        headers = {"Authorization": f"Bearer {token}"}
        rsvp_ms, answer = timed(
            partial(requests.post, self.rsvp_url, json={}, headers=headers, timeout=TIMEOUT_S)
        )
        home_ms, page = timed(partial(requests.get, self.home_url, timeout=TIMEOUT_S))
        if answer.status_code != 201 or page.status_code != 200:
            self.bench.problem(
                f"6. {label}: user {user_id}'s RSVP answered {answer.status_code} (not 201),"
                f" the home page {page.status_code}"
            )
        return rsvp_ms, home_ms

    def level(self, users: list[tuple[int, str]], label: str) -> dict:
        rsvp, home = [], []
        for i, user in enumerate(users):
            began = time.monotonic()
            rsvp_ms, home_ms = self.one(user, label)
            if i >= WARM_ROUNDS:
                rsvp.append(rsvp_ms)
                home.append(home_ms)
            if STOP.wait(max(0.0, self.pace_s - (time.monotonic() - began))):
                break
        return {
            "rsvp_ms": round(statistics.median(rsvp), 2),
            "home_ms": round(statistics.median(home), 2),
            "rsvp_samples_ms": [round(ms, 2) for ms in rsvp],
            "home_samples_ms": [round(ms, 2) for ms in home],
        }


def measure(bench: Bench) -> dict:
    bench.clear_events()
    fill_the_home_page(bench)
    rounds = Rounds(bench, bench.new_event("bench scaling"))
    per_level = WARM_ROUNDS + SCALING_SAMPLES
    users = bench.api_users(2 * per_level)
    log(f"6. one RSVP and one home page at a time, {SCALING_SAMPLES} samples: no other events")
    none = rounds.level(users[:per_level], "no other events")
    log(f"6. loading {OTHER_EVENTS:,} past events (10 RSVPs each) in bulk")
    History(bench, legacy_times=False).grow_to(OTHER_EVENTS)
    log(f"6. the same with {OTHER_EVENTS:,} past events")
    many = rounds.level(users[per_level:], f"{OTHER_EVENTS:,} past events")
    return {
        "other_events": OTHER_EVENTS,
        "kind": "past events, 10 RSVPs each",
        "samples": SCALING_SAMPLES,
        "none": none,
        "many": many,
        "ratio": {op: round(many[f"{op}_ms"] / none[f"{op}_ms"], 3) for op in ("rsvp", "home")},
    }
