"""Compare settings of the embedded MongoDB server on the ledger's own write.

Each setting gets a fresh server process (``eventsite.embedded_mongo.serve``
with the given engine options) in a temporary directory, then:

- rush: 100 threads, each sending 2 RSVPs of its own users
  (``events.ledger.pipelines.take_seat`` on ``{_id}``) to one event with
  capacity 100, and one more thread reading the same ledger by ``_id`` all the
  while (how long a page's read waits behind the writes);
- latency: one client, one RSVP at a time on a full event of 10 and of 1,000
  attendees (every write still rewrites the document: ``last_write``).

Settings run in interleaved rounds so that drift on the machine hits each
alike. Usage::

    .venv/bin/python -m loadtests.probe_embedded --rounds 3
    .venv/bin/python -m loadtests.probe_embedded --only default workers=1
    .venv/bin/python -m loadtests.probe_embedded --only workers=1 workers=1,validator

A setting is a name and a JSON object of ``SQLiteEngine`` keyword arguments;
the keys ``gc_threshold`` (a list) and ``gc_freeze`` (true) are applied to the
server's interpreter instead.
"""

from __future__ import annotations

import argparse
import gc
import inspect
import json
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from pymongo import MongoClient, ReturnDocument

from events.ledger.pipelines import take_seat
from events.ledger.schema import VALIDATOR
from eventsite import embedded_mongo

SETTINGS: dict[str, dict] = {
    "default": {},
    "workers=1": {"executor_workers": 1},
    "workers=2": {"executor_workers": 2},
    "workers=1,outbox=16": {"executor_workers": 1, "change_outbox_max_entries": 16},
    "workers=1,gc": {"executor_workers": 1, "gc_threshold": [50_000, 50, 100], "gc_freeze": True},
    # The ledger collection made with the site's $jsonSchema validator.
    "workers=1,validator": {"executor_workers": 1, "validator": True},
}

WRITERS = 100
RSVPS_PER_WRITER = 2
RUSH_CAPACITY = 100


def _serve_child(var_dir: str, options_json: str) -> int:
    options = json.loads(options_json)
    if threshold := options.pop("gc_threshold", None):
        gc.set_threshold(*threshold)
    if options.pop("gc_freeze", False):
        gc.freeze()
    return embedded_mongo.serve(Path(var_dir), 0, True, options)


def start(var_dir: Path, options: dict) -> tuple[subprocess.Popen, str]:
    command = [sys.executable, "-m", "loadtests.probe_embedded", "--serve", str(var_dir)]
    process = subprocess.Popen(
        [*command, json.dumps(options)],
        stdin=subprocess.PIPE,
        cwd=Path(__file__).resolve().parent.parent,
    )
    return process, embedded_mongo.wait_until_up(var_dir, process)


def new_ledger(coll, event_id: int, capacity: int, attendees: list[int]) -> None:
    coll.replace_one(
        {"_id": event_id},
        {
            "capacity": capacity,
            "attendees": attendees,
            "seated_at": [1_700_000_000_000] * len(attendees),
            "waitlist": [],
            "waitlist_limit": None,
        },
        upsert=True,
    )


def seat_pipeline(user_id: int) -> list[dict]:
    """The site's RSVP pipeline (stamped with the time if it takes one)."""
    if "now_ms" in inspect.signature(take_seat).parameters:
        return take_seat(user_id, now_ms=int(time.time() * 1000))
    return take_seat(user_id)


def rsvp(coll, event_id: int, user_id: int) -> str:
    doc = coll.find_one_and_update(
        {"_id": event_id}, seat_pipeline(user_id), return_document=ReturnDocument.AFTER
    )
    return doc["last_write"]["outcome"]


def rush(coll) -> dict[str, float]:
    new_ledger(coll, 1, RUSH_CAPACITY, [])
    barrier = threading.Barrier(WRITERS + 2)  # the writers, the reader, this thread
    writers_done = threading.Event()
    read_ms: list[float] = []

    def write(n: int) -> None:
        barrier.wait()
        for k in range(RSVPS_PER_WRITER):
            rsvp(coll, 1, 1_000_000 + n * RSVPS_PER_WRITER + k)

    def read() -> None:
        barrier.wait()
        while not writers_done.is_set():
            t = time.perf_counter()
            coll.find_one({"_id": 1}, {"capacity": 1})
            read_ms.append((time.perf_counter() - t) * 1000)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(WRITERS)]
    reader = threading.Thread(target=read)
    for t in [*threads, reader]:
        t.start()
    t0 = time.perf_counter()
    barrier.wait()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t0
    writers_done.set()
    reader.join()
    going = len(coll.find_one({"_id": 1})["attendees"])
    assert going == RUSH_CAPACITY, going
    read_ms.sort()
    return {
        "rush_rsvp_per_s": WRITERS * RSVPS_PER_WRITER / elapsed,
        "read_p50_ms": statistics.median(read_ms),
        "read_max_ms": read_ms[-1],
    }


def latency(coll, attendees: int, ops: int) -> float:
    event_id = 100 + attendees
    new_ledger(coll, event_id, attendees, list(range(attendees)))
    times = []
    for k in range(ops):
        t = time.perf_counter()
        assert rsvp(coll, event_id, 2_000_000 + k) == "full"
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def measure(options: dict) -> dict[str, float]:
    options = dict(options)
    validated = options.pop("validator", False)
    with tempfile.TemporaryDirectory(prefix="probe-embedded-") as tmp:
        process, uri = start(Path(tmp), options)
        try:
            with MongoClient(uri, maxPoolSize=WRITERS + 10) as client:
                if validated:
                    client["probe"].create_collection("ledger", validator=VALIDATOR)
                coll = client["probe"]["ledger"]
                latency(coll, 10, 20)  # warm up
                result = rush(coll)
                result["rsvp_ms_10"] = latency(coll, 10, 200)
                result["rsvp_ms_1000"] = latency(coll, 1000, 60)
        finally:
            embedded_mongo.stop(process)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--serve", nargs=2, metavar=("VAR_DIR", "OPTIONS_JSON"))
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--only", nargs="*", choices=sorted(SETTINGS))
    args = parser.parse_args(argv)
    if args.serve:
        return _serve_child(*args.serve)
    names = args.only or list(SETTINGS)
    results: dict[str, list[dict[str, float]]] = {name: [] for name in names}
    for round_no in range(args.rounds):
        for name in names:
            result = measure(SETTINGS[name])
            results[name].append(result)
            print(f"round {round_no + 1} {name}: " + json.dumps(result), flush=True)
    keys = ["rush_rsvp_per_s", "read_p50_ms", "read_max_ms", "rsvp_ms_10", "rsvp_ms_1000"]
    print("\n| setting | " + " | ".join(keys) + " |")
    print("| --- |" + " ---: |" * len(keys))
    for name in names:
        cells = []
        for key in keys:
            values = [r[key] for r in results[name]]
            runs = "/".join(f"{v:.1f}" for v in values)
            cells.append(f"{statistics.median(values):.1f} ({runs})")
        print(f"| {name} | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
