"""The ledger's transitions, as MongoDB update pipelines (data only; no I/O).

Each transition is run by ``events.ledger`` as one ``find_one_and_update``
on ``{_id: event}``, so the server applies every stage to one document
atomically. Each has the same steps (``steps.guarded``):

1. normalise: documents written before the waiting list, the seat times or
   parties existed get an empty list, no limit, unknown times and no guests,
   so old data needs no migration;
2. the transition's own check, which stamps ``last_write.outcome``, then its
   change, applied only if that outcome allows it;
3. promote: waiting parties take the free seats in order, a party too big
   for what is free skipped (keeping its place) until it fits, and
   ``last_write.promoted`` says who. Because every transition ends with it,
   no write leaves a seat free that a waiting party fits in;
4. count: ``taken`` (attendees and their guests) and ``waiting`` (parties
   waiting), so that pages can read the counts by ``_id`` without loading
   the lists, and ``version``, one more than before.

``seated_at`` runs beside ``attendees``, index for index: when each got the
seat, in milliseconds since the epoch (the writer's clock), as doubles. The
embedded server re-encodes the whole document on every write, and per
element a double costs it almost nothing where a date or an int64
(milliseconds need 64 bits) costs ten times an int32: measured at 1,000
attendees, 17 ms per write with a list of doubles beside them, 100 ms with
int64s. ``guests`` (beside ``attendees``) and ``waiting_guests`` (beside
``waitlist``) are int32s: how many guests each party brings.

Only standard operators the embedded server also supports are used (it
refuses ``$not``, hence ``$eq: [..., false]``).

- ``steps``: what every transition shares;
- ``seats``: RSVPs (alone and combined), cancels, the list, parties, capacity;
- ``requests``: approval: requests for seats, approvals and refusals;
- ``draw``: a draw for the rush: entries, then the one write that seats the drawn;
- ``repairs``: ``check_ledger --repair``'s mending of the lists.
"""

from events.ledger.pipelines.draw import draw, enter_draw
from events.ledger.pipelines.repairs import repair_lists
from events.ledger.pipelines.requests import approve, decline, request_seat
from events.ledger.pipelines.seats import (
    KEEP,
    ROOM,
    cancel,
    change_party,
    give_up_seat,
    join_waitlist,
    leave_waitlist,
    set_seats,
    take_seat,
    take_seats,
    withdraw,
)
from events.ledger.pipelines.steps import (
    ATTENDEES,
    GUESTS,
    OUTCOME,
    SEATED_AT,
    UNCONFIRMED,
    guarded,
    has,
    if_outcome,
    kept_if_stored,
)

__all__ = [
    "ATTENDEES",
    "GUESTS",
    "KEEP",
    "OUTCOME",
    "ROOM",
    "SEATED_AT",
    "UNCONFIRMED",
    "approve",
    "cancel",
    "change_party",
    "decline",
    "draw",
    "enter_draw",
    "give_up_seat",
    "guarded",
    "has",
    "if_outcome",
    "join_waitlist",
    "kept_if_stored",
    "leave_waitlist",
    "repair_lists",
    "request_seat",
    "set_seats",
    "take_seat",
    "take_seats",
    "withdraw",
]
