"""The old bench's parts that still tell something, opt-in, on a default stack of their own.

``loadtests.bench`` runs this after the stacks when asked to, in a process
of its own (``loadtests.bench.stack_run`` with ``BENCH_STACK=extras``):

- ``BENCH_LEVELS=1``: (c) one RSVP, (d) one join of the waiting list, (e) one
  cancel with promotion, one at a time, raw and through the event page's
  forms, with 10, 1,000 and 10,000 people already listed
  (``loadtests.bench.levels``): what the size of one document costs a write.
  If one of their targets is missed on the embedded server, a py-spy profile
  of it during RSVPs at 10,000 attendees (``BENCH_PROFILE=0`` skips it).
- ``BENCH_HISTORY=1``: (f) RSVP, cancel, "My RSVPs" and the home page with 1,
  1,000 and 10,000 past events, today's ledger beside its form before the history fix
  (``loadtests.bench.history``).

A stack of their own, because (f) starts from an empty ledger and the story's
scaling step leaves 5,000 past events in the default stack. ``run``'s
result is ``$BENCH_OUT/extras.json``: the markdown, the JSON, the problems.
"""

from __future__ import annotations

from loadtests import stack
from loadtests.bench import extras_report, history
from loadtests.bench.context import (
    HISTORY_ON,
    LEVEL_SAMPLES,
    LEVELS,
    LEVELS_ON,
    OUT,
    PROFILE,
    log,
)
from loadtests.bench.extras_report import Extras
from loadtests.bench.levels import USERS_PER_SAMPLE, measure_level
from loadtests.bench.profile import profile_server
from loadtests.bench.supplies import Bench


def users_needed() -> int:
    """Logged-in users the extras take: each level plus a warm-up level, and (f)'s."""
    needed = USERS_PER_SAMPLE * LEVEL_SAMPLES * (len(LEVELS) + 1) if LEVELS_ON else 0
    return needed + (history.users_needed() if HISTORY_ON else 0)


def levels(bench: Bench, found: Extras) -> None:
    """(c), (d) and (e) level by level, their samples taken in turn (``levels``)."""
    log(f"warming up (c), (d) and (e) at {LEVELS[0]}: not reported")
    measure_level(bench, LEVELS[0])
    for level in LEVELS:
        log(f"(c) RSVP with {level:,} going, (d) join and (e) cancel with {level:,} waiting")
        rsvp, join, cancel = measure_level(bench, level)
        found.levels.append(rsvp)
        found.joins.append(join)
        found.cancels.append(cancel)


def profile_if_missed(bench: Bench, found: Extras) -> None:
    if not PROFILE or all(t["met"] for t in found.targets()):
        return
    if bench.site.mongo is None:
        log("a target is missed; no profile: MongoDB is an outside server (MONGODB_URI)")
        return
    log("a target is missed: profiling the embedded server (py-spy, 3 RSVPs at 10,000)")
    event_id = bench.new_event("bench profile", fill=LEVELS[-1])
    found.profile = profile_server(
        bench.site.mongo.pid, event_id, bench.fresh_ids(3)[0], OUT / "profile-mongodb-10000.txt"
    )


def run(site: stack.Stack) -> dict:
    """The extras asked for, on ``site``: ``$BENCH_OUT/extras.json``'s markdown, JSON, problems."""
    found = Extras()
    bench = Bench(site, found.problems)
    log(f"extras: making {users_needed()} users and their sessions")
    bench.log_in_users(users_needed())
    if LEVELS_ON:
        levels(bench, found)
        profile_if_missed(bench, found)
    if HISTORY_ON:
        log("(f) deleting the events so far: the history starts from an empty ledger")
        bench.clear_events()
        found.history = history.measure_history(bench)
    return {
        "stack": "extras",
        "markdown": extras_report.markdown(found),
        "json": found.as_json(),
        "problems": found.problems,
    }
