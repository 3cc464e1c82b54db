"""Migrate-time work on the ledger's documents (run by ``events.apps``): part of the ledger."""

from __future__ import annotations

import logging

from events.ledger.connection import collection as _collection
from events.ledger.connection import translate_errors as _translate_errors
from events.ledger.schema import LedgerDamaged, checked, ensure_validator

logger = logging.getLogger(__name__)

# Where seat times lived before they moved into the ledger; read once, by
# ``upgrade_documents`` at migrate time.
LEGACY_TIMES = "rsvp_times"


@_translate_errors
def ensure_schema() -> str:
    """The ledger collection's validator (at migrate time); what was done."""
    return ensure_validator(_collection().database)


@_translate_errors
def upgrade_documents() -> int:
    """Bring ledgers written by earlier versions to today's shape; how many changed.

    Run at migrate time (every deploy migrates before it serves). Seat times
    move in from ``rsvp_times`` and the counts are added. Each document is
    rewritten only if its lists are still those read (compare-and-set in the
    filter), so a write of the running site in between is never undone: that
    document keeps unknown times instead. No seat changes hands here.

    The ledger's ``attendees`` gets no multikey index: on the embedded server it
    made every RSVP rewrite the index entries of the whole list.
    """
    changed = 0
    for doc in _collection().find({"seated_at": {"$exists": False}}):
        try:
            checked(doc, "capacity", "attendees")
        except LedgerDamaged as exc:  # left for manage.py check_ledger; never guessed at
            logger.error("not upgraded: %s", exc)
            continue
        going, waiting = doc.get("attendees", []), doc.get("waitlist") or []
        times = {t["user"]: t["at"] for t in _collection(LEGACY_TIMES).find({"event": doc["_id"]})}
        seated_at = [float(int(times[u].timestamp() * 1000)) if u in times else None for u in going]
        update = {"seated_at": seated_at, "waitlist": waiting, "taken": len(going)}
        update |= {"waiting": len(waiting), "waitlist_limit": doc.get("waitlist_limit")}
        unchanged = {"_id": doc["_id"], "attendees": going, "seated_at": {"$exists": False}}
        changed += _collection().update_one(unchanged, {"$set": update}).modified_count
    return changed
