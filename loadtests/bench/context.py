"""``make bench``'s settings, from the environment, and what every part of it shares.

Django-free: ``loadtests.bench.command`` (the parent, which never sets Django
up) reads these too. The run's supplies and problems, which need Django, are
``loadtests.bench.supplies.Bench``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
OUT = Path(os.environ.get("BENCH_OUT", ROOT / "var" / "bench"))
WORKERS = int(os.environ.get("WEB_CONCURRENCY", "2"))

# The rush, the same shape on every path (loadtests.bench.crowds).
CLIENTS = int(os.environ.get("BENCH_CLIENTS", "150"))
USERS = int(os.environ.get("BENCH_USERS", "600"))  # distinct users, dealt to the clients
CAPACITY = int(os.environ.get("BENCH_CAPACITY", "500"))
READERS = int(os.environ.get("BENCH_READERS", "20"))
ALONE_S = float(os.environ.get("BENCH_ALONE_S", "10"))  # the readers' phase before the rush
OTHER_EVENTS = int(os.environ.get("BENCH_OTHER_EVENTS", "5000"))  # 0: no scaling step
SCALING_SAMPLES = int(os.environ.get("BENCH_SCALING_SAMPLES", "9"))
PAGES = {"event": "event page", "home": "home page"}  # the readers' pages (loadtests.bench.rush)
SETTLE_S = 1.0  # the readers' first second is not counted: connections, caches

# The old parts, opt-in (loadtests.bench.extras).
LEVELS_ON = os.environ.get("BENCH_LEVELS", "0") == "1"  # (c)-(e), and the profile
HISTORY_ON = os.environ.get("BENCH_HISTORY", "0") == "1"  # (f)
LEVELS = (10, 1_000, 10_000)
LEVEL_SAMPLES = int(os.environ.get("BENCH_LEVEL_SAMPLES", "10"))
PROFILE = os.environ.get("BENCH_PROFILE", "1") != "0"

HUGE = 10_000_000  # capacity: nobody is ever turned away
LEDGER_ONLY_IDS = 1_000_000_000  # user ids for raw ops and fills, far from real accounts

# The story's targets (loadtests.bench.report): reported, never asserted.
TARGET_HTTP_VS_PLAIN = 1.0  # HTTP seats/s over the engine's plain write
TARGET_PAGE_SLOWDOWN = 2.0  # a page's p99 during the rush over its p99 with readers alone
TARGET_RSVP_P99_MS = 1000.0  # RSVP p99 at CLIENTS clients
TARGET_SCALING = 1.5  # one RSVP / one home page with OTHER_EVENTS other events over with none
# The extras' (loadtests.bench.extras_report, history_report).
TARGET_GROWTH = 2.0  # cost at 10,000 attendees / cost at 10
TARGET_HISTORY_GROWTH = 1.5  # (f): the largest cost over the history levels / the smallest


def log(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


def target(name: str, goal: str, value: float, met: bool, shown: str, miss: str) -> dict:
    """One row of the targets table (reported, never asserted)."""
    return {
        "target": name,
        "goal": goal,
        "value": round(value, 3),
        "measured": shown,
        "met": met,
        "miss": "" if met else miss,
    }
