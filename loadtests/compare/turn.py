"""One strategy's turn of ``make compare``, in a process of its own: ``STRATEGY=x python -m ...``.

``loadtests.compare`` starts this once per strategy, so that each gets a
fresh site: its own embedded MongoDB (a transaction left open on it can never
poison the next strategy's run) and gunicorn started with that ``STRATEGY``
(``loadtests.stack``, which also stops both on the way out, on SIGTERM too).
Then, in order:

1. ``http_crowd``: ``USERS`` users, each holding a Bearer token, ready on a
   thread of their own, released together (a rendezvous), each POSTing one
   RSVP; a "busy, try again" answer is asked again, up to ``RETRIES`` times.
   The ledger is then read back and judged by ``loadtests.endcheck`` (the
   rules of ``make loadtest`` and ``make chaos``) in ``in_process.judged``.
2. ``in_process.raw_crowd``: the same race on a fresh event without HTTP, each client
   calling the strategy in this process (``RAW_CLIENTS`` threads).
3. ``in_process.raw_cost``: one seat taken at a time on an event already holding 1,000
   attendees, the median of ``COST_OPS`` (the control without its delay).

Writes ``$COMPARE_OUT/<strategy>.json``.
"""

from __future__ import annotations

import json
import os
import random
import signal
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import requests

from loadtests import stack
from loadtests.endcheck import EXPECTED, Click
from loadtests.measure import hammer, percentile

USERS = int(os.environ.get("USERS", "500"))
CAPACITY = int(os.environ.get("CAPACITY", "50"))
WORKERS = int(os.environ.get("WORKERS", "3"))
RETRIES = 5  # asks after a "busy, try again", per user
RAW_CLIENTS = 50


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def _click(url: str, user: dict, answers: list, lock: threading.Lock) -> bool:
    """One user's RSVP, asked again after each "busy"; what they were told at last."""
    headers = {"Authorization": f"Bearer {user['token']}", "Connection": "close"}
    sent, began, retries = time.time(), time.perf_counter(), 0
    while True:
        try:
            answer = requests.post(url, json={}, headers=headers, timeout=60)
            status, code = answer.status_code, _code(answer)
        except requests.RequestException as exc:
            status, code = 0, type(exc).__name__
        if code != "busy" or retries >= RETRIES:
            break
        retries += 1
        time.sleep(random.uniform(0.005, 0.05))  # a client's jittered back-off
    outcome = code if code in EXPECTED else "error"
    click = Click(user["username"], 1, "rsvp", outcome, sent, status, time.time())
    with lock:
        answers.append(Answer(click, code, (time.perf_counter() - began) * 1000, retries))
    return True


def _code(answer: requests.Response) -> str:
    if answer.status_code == 201:
        return "confirmed"
    try:
        return str(answer.json().get("code", ""))
    except ValueError:
        return ""


@dataclass
class Answer:
    click: Click  # what the user was told at last, for the end check
    code: str  # the API's code: confirmed, full, busy, ... (or why there was none)
    ms: float  # from the first ask to the last answer
    retries: int


def warm_up(site: stack.Stack, fixture: dict) -> None:
    """Every thread of every worker answers once first (Django, token checks, a MongoDB
    connection each): cold first requests would trickle in and spread the rush."""
    url = f"{site.url}/api/events/{fixture['event_id']}/"
    threads = WORKERS * int(os.environ.get("GUNICORN_THREADS", "8"))
    tokens = [u["token"] for u in fixture["users"][: threads * 2]]
    headers = [{"Authorization": f"Bearer {t}", "Connection": "close"} for t in tokens]
    _, _, failures = hammer(
        [[lambda h=h: requests.get(url, headers=h, timeout=60).ok] for h in headers]
    )
    if failures:
        raise RuntimeError(f"the site did not answer its warm-up: {failures[:3]}")


def http_crowd(site: stack.Stack, fixture: dict) -> tuple[dict, list[Answer]]:
    """Every user RSVPs once at the same instant; counts, latencies, and the answers."""
    warm_up(site, fixture)
    url = f"{site.url}/api/events/{fixture['event_id']}/rsvp"
    answers: list[Answer] = []
    lock = threading.Lock()
    work = [[lambda u=u: _click(url, u, answers, lock)] for u in fixture["users"]]
    _, wall, failures = hammer(work)
    latencies = [a.ms for a in answers]
    codes = Counter(a.code for a in answers)
    result = {
        "confirmed": codes["confirmed"],
        "full": codes["full"],
        "busy": codes["busy"],
        "errors": len(answers) - codes["confirmed"] - codes["full"] - codes["busy"] + len(failures),
        "retries": sum(a.retries for a in answers),
        "server_errors": sum(a.click.status >= 500 for a in answers),
        "throughput": round(len(answers) / wall, 1) if wall else 0.0,
        "wall_s": round(wall, 2),
        **{f"p{q}_ms": round(percentile(latencies, q), 1) for q in (50, 95, 99)},
    }
    return result, answers


def run(name: str, out: Path) -> dict:
    with stack.running(WORKERS, log_file=out / f"gunicorn-{name}.log", static=False) as site:
        # Django's models, the ledger and the strategies: importable only now that
        # the stack has set the environment and set Django up on its databases.
        from loadtests.compare import in_process  # needs Django set up: only here

        fixture_file = out / f"fixture-{name}.json"
        fixture = in_process.make_fixture(site.url, fixture_file, USERS, CAPACITY)
        http, answers = http_crowd(site, fixture)
        http.update(in_process.judged(fixture["event_id"], [a.click for a in answers], CAPACITY))
        raw = in_process.raw_crowd(name, USERS, CAPACITY, RAW_CLIENTS)
        raw["cost_at_1000_ms"] = in_process.raw_cost(name)
    fixture_file.unlink(missing_ok=True)
    return {"strategy": name, "users": USERS, "capacity": CAPACITY, "workers": WORKERS,
            "http": http, "raw": raw}  # fmt: skip


def main() -> int:
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _interrupt)
    name = os.environ["STRATEGY"]
    out = Path(os.environ["COMPARE_OUT"])
    result = run(name, out)
    (out / f"{name}.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    stack.exit_with(main)
