"""Repairs ``check_ledger`` makes: a lost ledger reopened, lists mended, orphans and records.

None of them takes anyone's seat or place: the ledger alone decides seats,
and SQL is rewritten from it, never the other way round.
"""

from __future__ import annotations

from events import ledger, records, seat_cache
from events.ledger import audit as ledger_audit
from events.models import Event
from events.services.seats import CapacityError, after_write


def reopen_ledger(*, event_id: int, capacity: int, waitlist_limit: int | None = None) -> bool:
    """Open an empty ledger for a saved event that has none; False if it has one by now.

    Insert-only, so a ledger opened meanwhile keeps its seats. Nobody is seated
    from the SQL record (the ledger alone decides seats), and the record is not
    rewritten here: ``repair_record`` (check_ledger --repair) or the event's
    next write does it, the former saying whose rows changed.
    """
    if capacity < 0:
        raise CapacityError("Capacity cannot be negative.")
    if not Event.objects.filter(pk=event_id).exists():
        return False
    # The count of writes goes on from the record's copies of the lost ledger:
    # a row only yields to a newer version, so they must be older than this one.
    version = records.newest_version(event_id) + 1
    opened = ledger.open_missing(event_id, capacity, waitlist_limit, version)
    seat_cache.forget(event_id)
    return opened


def mend_ledger(*, event_id: int) -> ledger_audit.ListRepair | None:
    """One atomic write: repeats out of both lists, free seats to the first waiting.

    Nobody loses a seat or a place; whoever is promoted is recorded and
    emailed as any write's promoted are. The rest of the record is left to
    ``repair_record``, run next by check_ledger --repair, so that every row
    it changes is reported. None if it could not mend (no document,
    or one the server refuses to write).
    """
    try:
        repair = ledger_audit.repair_lists(event_id)
    except ledger.LedgerDamaged:  # the server refused it: the document needs a person
        return None
    if repair is not None and repair.repaired:
        after_write(event_id, repair.result)  # whoever it seated: their row and email
    return repair


def remove_orphan_ledger(*, event_id) -> ledger_audit.Orphan | None:
    """Delete the ledger document of an event SQL does not have; who it held.

    None if the event is in SQL after all (its creation committed since the
    audit read SQL) or the document is gone.
    """
    if isinstance(event_id, int) and Event.objects.filter(pk=event_id).exists():
        return None
    orphan = ledger_audit.remove_orphan(event_id)
    seat_cache.forget(event_id)
    return orphan


def repair_record(*, event_id: int) -> tuple[records.RecordDiff, records.Repair] | None:
    """Rewrite the event's SQL record from its ledger; what it found and what it did.

    Whoever it records as going without having been told gets their
    confirmation (``records.apply``). None if there is no readable ledger to
    copy from (missing, or damaged: then the record waits for a person to
    mend the document).
    """
    try:
        found = records.diff(event_id)
    except ledger.LedgerDamaged:
        return None
    if found is None:
        return None
    return found, records.apply(found) if found.changes else records.Repair(event_id)
