"""One stack's part of ``make bench``, in a process of its own: the story, or the extras.

``loadtests.bench`` starts this once per stack (``BENCH_STACK``: ``default``
or ``postgres``, items 1 to 5 and 6: ``story``), and once more for the opt-in
extras on a default stack of their own (``BENCH_STACK=extras``: ``extras``),
because Django's settings are read once per process: each stack gets its own
Django, on its own SQL database and cache, as its gunicorn does. The
environment says which: ``DATABASE_URL`` (an empty database made by the
parent, which drops it; unset: a scratch SQLite file) and ``CACHE_URL``
(unset: per-process memory). Writes ``$BENCH_OUT/<stack>.json``; everything it
started (the stack, the scratch server of item 1) is stopped on the way out,
on SIGTERM too.

This module, like the parent's (``command``, ``report``, ``scratch``,
``context``), is Django-free. The steps use Django's models and the ledger
(``story``, ``extras`` and what they take a ``supplies.Bench`` to: ``writes``,
``rush``, ``scaling``, ``levels``, ``history``, ...), so ``run`` imports them
in one place, once ``stack.running`` has set the environment and Django up.
"""

from __future__ import annotations

import json
import os
import signal
import time

from loadtests import stack
from loadtests.bench.context import OUT, WORKERS, log
from loadtests.measure import interrupted

EXTRAS = "extras"  # the BENCH_STACK of the opt-in extras' run


def run(name: str) -> dict:
    began = time.monotonic()
    database_url = os.environ.get("DATABASE_URL") or None
    log(f"[{name}] starting the stack (gunicorn {WORKERS} workers)")
    with stack.running(
        WORKERS, OUT / f"gunicorn-{name}.log", database_url=database_url, mail=True
    ) as site:
        # The steps use Django's models and the ledger: importable only now that
        # the stack has set the environment and set Django up on its databases.
        from loadtests.bench import extras, story  # needs Django set up: only here

        if name == EXTRAS:
            return extras.run(site)
        result = story.run(site, name)
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
