"""The RSVP ledger in MongoDB: this package is the only code that talks to MongoDB.

One document per event is the single source of truth for seats, who holds
them and who waits for one (the API contract's shape, plus the list)::

    {_id: <event pk>, capacity: int, attendees: [<user pk>, ...],
     seated_at: [<ms since the epoch, a double>, ...],  # beside attendees, index for index
     guests: [int, ...],  # beside attendees: the guests each one brings
     waitlist: [<user pk>, ...], waitlist_limit: int | null,
     waiting_guests: [int, ...],  # beside waitlist: each waiting party's guests
     requests: [<user pk>, ...], request_guests: [int, ...],  # awaiting approval, if any
     entries: [<user pk>, ...], entry_guests: [int, ...], tickets: [double, ...],
     drawn: bool,  # a draw for the rush: its entries until it is drawn
     taken: int, waiting: int, requested: int,  # seats taken (guests too), parties waiting,
                                               # requests: the counts, for reads by _id
     version: int,  # one more on every write, for the SQL record's copies
     last_write: {outcome: str, promoted: [<user pk>, ...]},
     reconfirm_asked: bool, unconfirmed: [<user pk>], released: [<user pk>]}  # if asked

Every change is **one** ``find_one_and_update`` addressed by ``_id`` alone,
its update an aggregation pipeline (see ``events.ledger.pipelines``) that
checks and changes the document in one atomic step and, in the same step,
moves the head of the waiting list into any free seat. The pipeline also
stamps ``last_write``: what this write did. The document the write returns is
the one it produced, so the writer reads its own outcome from it; nothing is
decided from an earlier read.

Why ``_id`` alone: the embedded server only uses the key for a bare
``{_id: x}`` filter; any richer filter, an ``$in`` on ``_id`` or an
aggregation's ``$match`` makes it decode every document of the collection
(154 ms per RSVP with 10,000 events against 3.6 ms). So every write and
every read addresses one ``_id`` at a time, and the time of each seat is
written by the same update that gives it (no insert into an ever-growing
collection). Questions across events ("what is this user going to?") go to
the SQL record (``events.records``), never here.

What other layers use is imported from here, the package's face; its
modules are its parts:

- ``types``: the values every layer speaks (``Outcome``, ``Seats``, ``Result``...);
- ``writes``: every change to seats, each one guarded write;
- ``reads``: seats, standings and lists, each by one key lookup;
- ``documents``: how a document reads as those values, and the one write;
- ``pipelines``: the transitions as update pipelines;
- ``combining``: concurrent requests for one document decided by one write;
- ``connection``: the client, failing fast in an outage;
- ``schema``: the validator and the type checks; ``upgrade``: migrate-time work;
- ``approval``: requests at events that require approval, approvals, refusals;
- ``draws``: entries in a draw for the rush, and the draw;
- ``reconfirmation``: "still coming?", a yes, and the release of the seats not confirmed;
- ``audit``: what ``check_ledger`` looks for in documents, and its repairs;
- ``strategies``: the seat-taking strategies ``make compare`` sets side by side.
"""

from events.ledger.approval import Decision, approve, decline, request_seat
from events.ledger.connection import COLLECTION, LedgerUnavailable, disconnect, ping
from events.ledger.draws import Draw, draw, enter_draw
from events.ledger.reads import attendees, exists, roster, seats, standing, waitlist
from events.ledger.reconfirmation import (
    Reconfirmation,
    Release,
    ask_to_reconfirm,
    keep_seat,
    reconfirmation,
    release_unconfirmed,
)
from events.ledger.schema import LedgerDamaged
from events.ledger.types import Attendee, Outcome, Result, Roster, Seats, Standing
from events.ledger.upgrade import LEGACY_TIMES, ensure_schema, upgrade_documents
from events.ledger.writes import (
    KEEP,
    MAX_BATCH,
    cancel,
    change_party,
    create_event,
    delete_events,
    give_up_seat,
    join_waitlist,
    leave_waitlist,
    open_missing,
    set_seats,
    take_seat,
    withdraw,
)

__all__ = [
    "COLLECTION",
    "KEEP",
    "LEGACY_TIMES",
    "MAX_BATCH",
    "Attendee",
    "Decision",
    "Draw",
    "LedgerDamaged",
    "LedgerUnavailable",
    "Outcome",
    "Reconfirmation",
    "Release",
    "Result",
    "Roster",
    "Seats",
    "Standing",
    "approve",
    "ask_to_reconfirm",
    "attendees",
    "cancel",
    "change_party",
    "create_event",
    "decline",
    "delete_events",
    "disconnect",
    "draw",
    "ensure_schema",
    "enter_draw",
    "exists",
    "give_up_seat",
    "join_waitlist",
    "keep_seat",
    "leave_waitlist",
    "open_missing",
    "ping",
    "reconfirmation",
    "release_unconfirmed",
    "request_seat",
    "roster",
    "seats",
    "set_seats",
    "standing",
    "take_seat",
    "upgrade_documents",
    "waitlist",
    "withdraw",
]
