"""``make bench`` itself: each stack's run in a child process, then one report of them all.

The stacks run one after the other, never side by side (2 cores): first
``default``, then ``postgres`` on a PostgreSQL database and a Redis
database of the run's own (``loadtests.bench.scratch``), unless one of them
does not answer, in which case that stack is reported as not run, with the
reason. ``BENCH_STACKS`` picks some (``default``, ``postgres``). Then the
opt-in extras, on a fresh default stack of their own. Each child has
``CHILD_TIMEOUT_S``; one that overruns, or an interrupt, is stopped with its
whole process group (``stack.stop_group``), and the databases made for it
are removed either way.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from contextlib import ExitStack
from datetime import UTC, datetime

from loadtests import stack
from loadtests.bench import report, scratch
from loadtests.bench.context import HISTORY_ON, LEVELS_ON, OUT, log

STACKS = {
    "default": "SQLite, per-process cache",
    "postgres": "PostgreSQL + Redis",
}
POSTGRES_URL = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379")
CHILD_TIMEOUT_S = float(os.environ.get("BENCH_CHILD_TIMEOUT_S", "600"))
OUTPUTS = ("results.md", "results.json", "bench.png", *(f"{s}.json" for s in (*STACKS, "extras")))


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def chosen_stacks() -> list[str]:
    names = [s.strip() for s in os.environ.get("BENCH_STACKS", "").split(",") if s.strip()]
    if unknown := set(names) - set(STACKS):
        raise SystemExit(f"BENCH_STACKS: no such stack {sorted(unknown)}; {', '.join(STACKS)}")
    return names or list(STACKS)


def child(module: str, name: str, env: dict[str, str], notes: list[dict]) -> dict:
    """Run ``python -m module`` for one part; its JSON, or why there is none.

    In a session of its own, so that whatever it started is its process
    group: once it has exited, the group must be empty (``notes`` says so).
    """
    env = {**env, "BENCH_STACK": name, "BENCH_OUT": str(OUT)}
    process, code = stack.run_in_group([sys.executable, "-m", module], env, CHILD_TIMEOUT_S)
    if code is None:
        why = f"did not finish within {CHILD_TIMEOUT_S:.0f} s"
        return {"stack": name, "not_run": why, "failed": True}
    notes.append(_group_left(process))
    result_file = OUT / f"{name}.json"
    if code != 0 or not result_file.exists():
        why = f"its process exited with {code} (see its output above)"
        return {"stack": name, "not_run": why, "failed": True}
    return json.loads(result_file.read_text())


def _group_left(process: subprocess.Popen) -> dict:
    """Whether anything the child started outlived it; if so, it is stopped now."""
    try:
        os.killpg(process.pid, 0)
    except ProcessLookupError:
        return {
            "note": "processes: the child, its gunicorn and MongoDB servers stopped",
            "clean": True,
        }
    stack.stop_group(process)
    return {"note": "processes: some outlived the child (stopped by the parent)", "clean": False}


def run_stack(name: str) -> dict:
    """One stack's child, with the outside databases it needs made and removed around it."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "CACHE_URL")}
    notes: list[dict] = []
    if name == "postgres":
        why = scratch.postgres_unreachable(POSTGRES_URL) or scratch.redis_unreachable(REDIS_URL)
        if why:
            log(f"[{name}] not run: {why}")
            return {"stack": name, "label": STACKS[name], "not_run": why}
    with ExitStack() as made:
        if name == "postgres":
            env["DATABASE_URL"] = made.enter_context(scratch.postgres_database(POSTGRES_URL, notes))
            env["CACHE_URL"] = made.enter_context(scratch.redis_database(REDIS_URL, notes))
        result = child("loadtests.bench.stack_run", name, env, notes)
    return {**result, "label": STACKS[name], "cleanup": result.get("cleanup", []) + notes}


def run_extras() -> dict | None:
    if not (LEVELS_ON or HISTORY_ON):
        return None
    log("extras (opt-in): on a default stack of their own")
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "CACHE_URL")}
    return child("loadtests.bench.stack_run", "extras", env, [])


def main() -> int:
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _interrupt)
    OUT.mkdir(parents=True, exist_ok=True)
    for old in OUTPUTS:  # only this run's files: anything else kept there stays
        (OUT / old).unlink(missing_ok=True)
    started = datetime.now(UTC).isoformat(timespec="seconds")
    began = time.monotonic()
    stacks = [run_stack(name) for name in chosen_stacks()]
    extras = run_extras()
    elapsed = time.monotonic() - began
    text, problems = report.write(OUT, started, elapsed, stacks, extras)
    print(text)
    log(f"wrote {OUT / 'results.md'}, results.json and bench.png in {elapsed:.0f} s")
    if problems:
        log("a ledger does not match what its users were told, or a step failed: see Correctness")
        return 1
    return 0
