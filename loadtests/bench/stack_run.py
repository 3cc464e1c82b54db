"""One stack's part of ``make bench``, in a process of its own: items 1 to 5 (and 6).

``loadtests.bench`` starts this once per stack (``BENCH_STACK``: ``default``
or ``postgres``), because Django's settings are read once per process: each
stack gets its own Django, on its own SQL database and cache, as its
gunicorn does. The environment says which: ``DATABASE_URL`` (an empty
database made by the parent, which drops it; unset: a scratch SQLite file)
and ``CACHE_URL`` (unset: per-process memory). Writes
``$BENCH_OUT/<stack>.json``; everything it started (the stack, the scratch
server of item 1) is stopped on the way out, on SIGTERM too.
"""

from __future__ import annotations

import json
import os
import platform
import signal
import time
from importlib.metadata import version

from loadtests import stack
from loadtests.bench import rush, scaling, writes
from loadtests.bench.context import (
    ALONE_S,
    CAPACITY,
    CLIENTS,
    OTHER_EVENTS,
    OUT,
    READERS,
    USERS,
    WORKERS,
    Bench,
    log,
)
from loadtests.measure import interrupted


def run_settings(site: stack.Stack) -> dict:
    from django.conf import settings

    return {
        "clients": CLIENTS,
        "users": USERS,
        "capacity": CAPACITY,
        "readers": READERS,
        "alone_s": ALONE_S,
        "gunicorn_workers": WORKERS,
        "gunicorn_threads": int(os.environ.get("GUNICORN_THREADS", "8")),
        "sql": settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1],
        "cache": settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1],
        "mongodb": "MONGODB_URI" if site.mongo is None else "embedded",
        "mongoeco": version("mongoeco"),
        "pymongo": version("pymongo"),
        "django": version("django"),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
    }


def run(name: str) -> dict:
    began = time.monotonic()
    database_url = os.environ.get("DATABASE_URL") or None
    log(f"[{name}] starting the stack (gunicorn {WORKERS} workers)")
    with stack.running(
        WORKERS, OUT / f"gunicorn-{name}.log", database_url=database_url, mail=True
    ) as site:
        bench = Bench(site, [])
        result: dict = {"stack": name, "settings": run_settings(site)}
        plain, problems = writes.plain_ceiling()
        bench.problems.extend(problems)
        site_write, problems = writes.site_write(bench)
        bench.problems.extend(problems)
        result["writes"] = {"plain": plain, "site": site_write}
        result.update(rush.measure(bench))
        # Item 6 is the default stack's alone, and last: it deletes the events
        # above and leaves 5,000 past ones behind (in the stack's scratch dir).
        if name == "default" and OTHER_EVENTS:
            result["scaling"] = scaling.measure(bench)
        result["problems"] = bench.problems
    gone = not site.var_dir.exists()
    note = f"the stack's scratch directory {site.var_dir}: {'removed' if gone else 'STILL THERE'}"
    result["cleanup"] = [{"note": note, "clean": gone}]
    result["elapsed_s"] = round(time.monotonic() - began, 1)
    return result


def main() -> int:
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, interrupted)
    name = os.environ["BENCH_STACK"]
    result = run(name)
    (OUT / f"{name}.json").write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    stack.exit_with(main)
