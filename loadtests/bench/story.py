"""Items 1 to 5 (and 6) of ``make bench`` on one stack: the story of a rush, told in order.

Run by ``loadtests.bench.stack_run`` on a stack it has started, with Django
set up on that stack's databases (this module and the steps it runs use
Django's models and the ledger).
"""

from __future__ import annotations

import os
import platform
from importlib.metadata import version

from django.conf import settings

from loadtests import stack
from loadtests.bench import rush, scaling, writes
from loadtests.bench.context import (
    ALONE_S,
    CAPACITY,
    CLIENTS,
    OTHER_EVENTS,
    READERS,
    USERS,
    WORKERS,
)
from loadtests.bench.supplies import Bench


def run_settings(site: stack.Stack) -> dict:
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


def run(site: stack.Stack, name: str) -> dict:
    """The stack's figures and problems (``$BENCH_OUT/<stack>.json``, less its cleanup)."""
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
    return result
