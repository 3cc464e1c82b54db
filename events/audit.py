"""What ``manage.py check_ledger`` finds wrong: reads only, every problem named by its event.

Two comparisons: SQL events against ledger documents (a document missing,
an orphan, damage inside one; see ``events.ledger.audit``), and each event's
SQL record of RSVPs against its ledger (``events.records.diff``). The
repairs are in ``events.services``; each problem says which one it needs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from events import records
from events.ledger import LedgerDamaged
from events.ledger import audit as ledger_audit
from events.ledger.audit import users
from events.models import Event

Status = records.Status
MISSING = "missing ledger document"
ORPHANED = "orphaned ledger document"
RECORD = "record disagrees with the ledger"
SHOWN = 10  # users named in a record line; the rest are counted


class Fix(StrEnum):
    """Which repair a problem needs."""

    REOPEN = "reopen"  # services.reopen_ledger, given a capacity
    REMOVE = "remove"  # services.remove_orphan_ledger
    MEND = "mend"  # services.mend_ledger
    RECORD = "record"  # services.repair_record
    PERSON = "person"  # nothing automatic: a person decides


@dataclass(frozen=True)
class Problem:
    event_id: object  # an int, unless someone stored a ledger document under another _id
    what: str
    detail: str
    fix: Fix

    def __str__(self) -> str:
        return f"event {self.event_id}: {self.what}: {self.detail}"


@dataclass
class Survey:
    """What ``document_problems`` looked at and found."""

    problems: list[Problem] = field(default_factory=list)
    with_ledger: list[int] = field(default_factory=list)  # SQL events that have a document
    checked: int = 0  # ids looked at: SQL events and ledger documents
    unknown: list[int] = field(default_factory=list)  # asked for, but in neither


def _order(event_id) -> tuple:
    return (0, event_id, "") if isinstance(event_id, int) else (1, 0, str(event_id))


def _candidates(event_ids: list[int] | None) -> tuple[list, set[int]]:
    """The ids to look at and which of them are SQL events."""
    if event_ids:
        asked = list(dict.fromkeys(event_ids))
        return asked, set(Event.objects.filter(pk__in=asked).values_list("pk", flat=True))
    # The ledger is listed before SQL: an event created meanwhile had its
    # document inserted before its SQL row was committed, so once SQL is read
    # every event it shows is there, and none of theirs looks like an orphan.
    in_ledger = ledger_audit.document_ids()
    in_sql = set(Event.objects.values_list("pk", flat=True))
    return sorted(in_ledger | in_sql, key=_order), in_sql


def document_problems(event_ids: list[int] | None = None) -> Survey:
    """Every SQL event against its ledger document, and every document against SQL."""
    survey = Survey()
    candidates, in_sql = _candidates(event_ids)
    for event_id in candidates:
        doc = ledger_audit.document(event_id)  # read after SQL: a document missing now is missing
        if doc is None and event_id not in in_sql:
            survey.unknown.append(event_id)
            continue
        survey.checked += 1
        if doc is None:
            survey.problems.append(_missing(event_id))
        elif event_id not in in_sql:
            detail = f"no SQL event; {ledger_audit.people(doc)}"
            survey.problems.append(Problem(event_id, ORPHANED, detail, Fix.REMOVE))
        else:
            survey.with_ledger.append(event_id)
            survey.problems += [_damage(event_id, f) for f in ledger_audit.findings(doc)]
    return survey


def _missing(event_id: int) -> Problem:
    held = records.holding(event_id)
    going, waiting = held[Status.GOING], held[Status.WAITING]
    detail = f"the SQL record has going: {users(going)}; waiting: {users(waiting)}"
    return Problem(event_id, MISSING, detail, Fix.REOPEN)


def _damage(event_id: int, finding: ledger_audit.Finding) -> Problem:
    fix = Fix.MEND if finding.mendable else Fix.PERSON
    return Problem(event_id, str(finding.damage), finding.detail, fix)


def record_problems(event_ids: list[int]) -> list[Problem]:
    """Each event's SQL record against its ledger: what ``records.reconcile`` would change."""
    problems = []
    for event_id in event_ids:
        try:
            found = records.diff(event_id)
        except LedgerDamaged:  # its document's damage is reported; the record waits for it
            continue
        if found is not None and found.changes:
            problems.append(Problem(event_id, RECORD, changes(found), Fix.RECORD))
    return problems


def changes(found: records.RecordDiff) -> str:
    """The rows a record diff changes, as "user 3: going -> cancelled"."""
    lines = [f"user {user_id}: {was or 'no row'} -> {now}" for user_id, was, now in found.changes]
    more = f", and {len(lines) - SHOWN} more" if len(lines) > SHOWN else ""
    return ", ".join(lines[:SHOWN]) + more
