"""How a load run's users click, by ``LOADTEST_MODE``: plain RSVP, the list, parties, requests.

- ``rsvp`` (the default): every user RSVPs;
- ``waitlist`` (or ``LOADTEST_WAITLIST=1``): every user joins the waiting list;
- ``guests``: every API user RSVPs with a party: user number i brings
  ``i % (guests_allowed + 1)`` guests (a fixture made with ``--guests N``);
- ``approval``: every user asks for a seat (a fixture made with
  ``--approval``); once every request is in, ``APPROVERS`` organiser calls
  approve them all at once, in overlapping batches, so approvals race;
- ``lottery``: every user enters the draw (a fixture made with
  ``--lottery-in S``, S long enough for every user to click before it); once
  the draw time has passed, one more request runs the draw, as the first
  request after its time does.

Each mode's end check is in ``loadtests.endcheck`` (``check_parties``,
``check_approvals``).
"""

from __future__ import annotations

import os
import re
import time
from datetime import datetime

import requests
from gevent.pool import Pool

WAITLIST = os.environ.get("LOADTEST_WAITLIST", "0").lower() not in {"", "0", "false", "no"}
MODE = os.environ.get("LOADTEST_MODE") or ("waitlist" if WAITLIST else "rsvp")
MODES = ("rsvp", "waitlist", "guests", "approval", "lottery")
if MODE not in MODES:
    raise SystemExit(f"LOADTEST_MODE must be one of {', '.join(MODES)}, not {MODE!r}")
APPROVERS = 8  # organiser calls fired together
APPROVAL_BATCH = 25  # requests per call; each request is in two calls' batches
_NUMBER = re.compile(r"(\d+)$")


def guests_of(username: str, guests_allowed: int) -> int:
    """The guests user number i brings in ``guests`` mode (none in the other modes)."""
    if MODE != "guests" or not guests_allowed:
        return 0
    found = _NUMBER.search(username)
    return int(found.group(1)) % (guests_allowed + 1) if found else 0


def rsvp_body(username: str, fixture: dict) -> dict:
    guests = guests_of(username, fixture.get("guests_allowed", 0))
    return {"guests": guests} if guests else {}


def approve_all(host: str, fixture: dict, usernames: list[str]) -> list[dict]:
    """The organiser approves every requester, ``APPROVERS`` calls at once; their answers.

    The batches overlap (each request is in two of them), so two calls race
    for every request and the ledger's guard decides.
    """
    ids = [u["id"] for u in fixture["users"] if u["username"] in set(usernames)]
    step = max(APPROVAL_BATCH // 2, 1)
    batches = [ids[i : i + APPROVAL_BATCH] for i in range(0, len(ids), step)]
    url = f"{host}/api/events/{fixture['event_id']}/requests/approve"
    headers = {"Authorization": f"Bearer {fixture['organiser_token']}"}

    def approve(batch: list[int]) -> dict:
        answer = requests.post(url, json={"user_ids": batch}, headers=headers, timeout=60)
        answer.raise_for_status()
        return answer.json()

    return list(Pool(APPROVERS).imap_unordered(approve, batches))


def run_draw_after_its_time(host: str, fixture: dict, token: str) -> None:
    """Wait for the fixture's draw time (its own moment), then one request runs the draw."""
    draw_at = datetime.fromisoformat(fixture["draw_at"]).timestamp()
    time.sleep(max(draw_at - time.time(), 0) + 0.1)  # the draw time is the condition
    url = f"{host}/api/events/{fixture['event_id']}/rsvp"
    answer = requests.post(url, json={}, headers={"Authorization": f"Bearer {token}"}, timeout=60)
    if answer.status_code not in (201, 409):
        answer.raise_for_status()
