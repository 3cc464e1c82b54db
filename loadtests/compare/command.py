"""``make compare``: every seat strategy against the same crowd, side by side.

For each strategy of ``events.ledger.strategies`` in turn (``COMPARE_STRATEGIES``
to pick some, comma-separated), ``loadtests.compare.turn`` runs in a process
of its own with ``STRATEGY`` set: a fresh embedded MongoDB and gunicorn
(``WORKERS``, default 3, as ``make loadtest``), ``USERS`` users (500) released
together on one event of ``CAPACITY`` seats (50) over HTTP, the same race
without HTTP, and the cost of one RSVP at 1,000 attendees. A fresh server per
strategy means a transaction left open (the embedded server then refuses
every other session) never reaches the next strategy's run; a turn that
overruns ``TURN_TIMEOUT_S`` is stopped, its process group with it.

Redis, for ``redis_lock``: the one on 127.0.0.1:6379 if it answers (its db
15), else a ``redis-server`` started here on a free port and stopped at the
end; the report says which.

Writes ``var/compare/results.md``, ``results.json`` and ``results.png``
(``loadtests.compare.report``). Exits non-zero if a turn failed to run, or if
``combined`` or ``atomic`` (the strategies that may serve the site)
overbooked or erred; the controls overbooking is the expected finding, not a
failure.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import redis

from eventsite.env import SEAT_STRATEGIES, SERVING_STRATEGIES
from loadtests import stack
from loadtests.compare import report

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "var" / "compare"
LOOPBACK_REDIS = "redis://127.0.0.1:6379/15"
TURN_TIMEOUT_S = 900.0


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def _answers(url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


@contextmanager
def redis_server() -> Iterator[tuple[str, str]]:
    """A Redis URL and where it came from: the machine's on loopback, else one of our own."""
    if _answers(LOOPBACK_REDIS):
        yield LOOPBACK_REDIS, "the machine's Redis on 127.0.0.1:6379 (db 15)"
        return
    port = stack.free_port()
    server = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"redis://127.0.0.1:{port}/0"
    try:
        if not stack.wait_for(lambda: _answers(url), 10):
            raise RuntimeError(f"redis-server did not answer on port {port}")
        yield url, f"a redis-server started for this run on 127.0.0.1:{port}"
    finally:
        server.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            server.wait(10)
        if server.poll() is None:
            server.kill()
            server.wait()


def turn(name: str, redis_url: str) -> dict:
    """One strategy's run in its own process (group); its results, or why it has none."""
    env = {**os.environ, "STRATEGY": name, "REDIS_URL": redis_url, "COMPARE_OUT": str(OUT)}
    env.pop("MONGODB_URI", None)  # always a fresh embedded server
    print(f"compare: {name} ...", file=sys.stderr, flush=True)
    args = [sys.executable, "-m", "loadtests.compare.turn"]
    _, code = stack.run_in_group(args, env, TURN_TIMEOUT_S, stdout=subprocess.DEVNULL)
    if code is None:
        return {"strategy": name, "failed": f"did not finish within {TURN_TIMEOUT_S:.0f}s"}
    result_file = OUT / f"{name}.json"
    if code != 0 or not result_file.exists():
        return {"strategy": name, "failed": f"exited with {code}; see gunicorn-{name}.log"}
    return json.loads(result_file.read_text())


def strategies() -> list[str]:
    chosen = [s.strip() for s in os.environ.get("COMPARE_STRATEGIES", "").split(",") if s.strip()]
    if unknown := set(chosen) - set(SEAT_STRATEGIES):
        raise SystemExit(f"COMPARE_STRATEGIES: no such strategy {sorted(unknown)}")
    return chosen or list(SEAT_STRATEGIES)


def _unsound_serving(result: dict) -> bool:
    """A strategy that may serve the site overbooked or erred: unlike a control's, a failure."""
    if result["strategy"] not in SERVING_STRATEGIES or "failed" in result:
        return False
    http, raw = result["http"], result["raw"]
    return bool(http["overbooked"] or http["errors"] or raw["overbooked"] or raw["errors"])


def main() -> int:
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _interrupt)
    names = strategies()
    OUT.mkdir(parents=True, exist_ok=True)
    for old in OUT.glob("*"):
        old.unlink()
    with redis_server() as (redis_url, redis_said):
        results = [turn(name, redis_url) for name in names]
    summary = report.write(OUT, results, redis_said)
    print(summary)
    broken = [r["strategy"] for r in results if "failed" in r]
    broken += [f"{r['strategy']} (overbooked or erred)" for r in results if _unsound_serving(r)]
    if broken:
        print(f"FAIL: {', '.join(broken)}", file=sys.stderr)
        return 1
    return 0
