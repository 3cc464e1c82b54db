"""The ledger document's types: a validator in MongoDB and the same checks on every read.

Part of ``events.ledger``. A ledger document damaged by hand or by an old
bug (``capacity`` missing or a string, ``attendees`` null) must cost its own
event only, and must never defeat a guard. Three layers:

1. the collection's ``$jsonSchema`` validator, made at migrate time: the
   server refuses any write (ours or anyone's) that would leave a document
   of the wrong types. It checks each field's type and that the lists are
   lists, not each item of them: the embedded server walks every item of
   every list on every write to check it (12 % of its time in a rush at 500
   attendees, a fifth of one RSVP's cost), and the items only ever come from
   our writes, which add ints they were given as ints (``events.ledger``
   refuses anything else before it writes). An item damaged by hand is found
   by the reads (3) and by ``check_ledger``. The embedded server applies a
   validator given when the collection is created but has no ``collMod`` to
   replace it later, so a ledger collection made before keeps the one it was
   made with there (a real MongoDB gets this one on the next migrate);
2. the guards in ``events.ledger.pipelines`` fail closed on wrong types, and a
   write the server refuses on a damaged document is ``LedgerDamaged``;
3. every read checks the fields it loaded (``checked``), so a page shows a
   clear error for that event instead of crashing on it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from pymongo.database import Database
from pymongo.errors import CollectionInvalid, OperationFailure

from events.ledger.connection import COLLECTION, LedgerUnavailable

logger = logging.getLogger(__name__)

_INT = ["int", "long"]

VALIDATOR = {
    "$jsonSchema": {
        "bsonType": "object",
        "required": ["capacity", "attendees"],
        "properties": {
            "capacity": {"bsonType": _INT, "minimum": 0},
            "attendees": {"bsonType": "array"},
            "seated_at": {"bsonType": "array"},
            "guests": {"bsonType": "array"},
            "waitlist": {"bsonType": ["array", "null"]},
            "waiting_guests": {"bsonType": "array"},
            "requests": {"bsonType": "array"},
            "request_guests": {"bsonType": "array"},
            "requested": {"bsonType": _INT, "minimum": 0},
            "entries": {"bsonType": "array"},
            "entry_guests": {"bsonType": "array"},
            "tickets": {"bsonType": "array"},
            "entered": {"bsonType": _INT, "minimum": 0},
            "drawn": {"bsonType": "bool"},
            "waitlist_limit": {"bsonType": [*_INT, "null"], "minimum": 0},
            "taken": {"bsonType": _INT, "minimum": 0},
            "waiting": {"bsonType": _INT, "minimum": 0},
            "version": {"bsonType": _INT},
            "cancelled": {"bsonType": "bool"},
            "last_write": {"bsonType": "object"},
            "reconfirm_asked": {"bsonType": "bool"},
            "unconfirmed": {"bsonType": "array"},
            "released": {"bsonType": "array"},
        },
    }
}


class LedgerDamaged(LedgerUnavailable):
    """One event's ledger document has the wrong shape; other events are unaffected."""

    def __init__(self, event_id, problem: str) -> None:
        super().__init__(f"ledger document of event {event_id} is damaged: {problem}")
        self.event_id = event_id


def _is_int(value, minimum: int | None = None) -> bool:
    return (
        isinstance(value, int)
        and not isinstance(value, bool)
        and (minimum is None or value >= minimum)
    )


def user_id(value) -> int:
    """``value`` if it may enter a list as a user id: the validator leaves the items to us."""
    if not _is_int(value):
        raise TypeError(f"a user id is an int, not {value!r}")
    return value


def guests(value) -> int:
    """``value`` if it may enter a list as a party's guests: an int, not below 0."""
    if not _is_int(value, 0):
        raise TypeError(f"a party's guests are an int of 0 or more, not {value!r}")
    return value


def _ints(value, minimum: int | None = None) -> bool:
    return isinstance(value, list) and all(_is_int(item, minimum) for item in value)


_CHECKS: dict[str, Callable[[object], bool]] = {
    "capacity": lambda v: _is_int(v, 0),
    "attendees": _ints,
    "seated_at": lambda v: (
        isinstance(v, list)
        and all(x is None or (isinstance(x, int | float) and not isinstance(x, bool)) for x in v)
    ),
    "guests": lambda v: _ints(v, 0),
    "waitlist": lambda v: v is None or _ints(v),
    "waiting_guests": lambda v: _ints(v, 0),
    "requests": _ints,
    "request_guests": lambda v: _ints(v, 0),
    "requested": lambda v: _is_int(v, 0),
    "entries": _ints,
    "entry_guests": lambda v: _ints(v, 0),
    "tickets": lambda v: isinstance(v, list) and all(isinstance(x, float) for x in v),
    "entered": lambda v: _is_int(v, 0),
    "waitlist_limit": lambda v: v is None or _is_int(v, 0),
    "taken": lambda v: _is_int(v, 0),
    "waiting": lambda v: _is_int(v, 0),
    "version": _is_int,
    "unconfirmed": _ints,
    "released": _ints,
}


def type_problems(doc: dict, *required: str) -> list[str]:
    """What is wrong with the types of ``doc``: each of ``required`` missing, each field wrong."""
    missing = [f"{name} missing" for name in required if name not in doc]
    wrong = [f"{name} wrong" for name, ok in _CHECKS.items() if name in doc and not ok(doc[name])]
    return [*missing, *wrong]


def checked(doc: dict, *required: str) -> dict:
    """``doc`` if ``required`` are there and every field it has is of its type."""
    if problems := type_problems(doc, *required):
        raise LedgerDamaged(doc.get("_id"), ", ".join(problems))
    return doc


def refused(event_id: int, exc: OperationFailure) -> LedgerDamaged:
    """A transition the server refused: our pipelines are valid, so the document is not."""
    return LedgerDamaged(event_id, f"the server refused the write ({exc.code}): {exc}")


def ensure_validator(db: Database) -> str:
    """Give the ledger collection its validator (run at migrate); say what was done."""
    found = list(db.list_collections(filter={"name": COLLECTION}))
    if not found:
        try:
            db.create_collection(COLLECTION, validator=VALIDATOR)
            return "created with its validator"
        except CollectionInvalid:  # another process made it just now
            found = list(db.list_collections(filter={"name": COLLECTION}))
    if found and found[0].get("options", {}).get("validator") == VALIDATOR:
        return "validator in place"
    try:
        db.command("collMod", COLLECTION, validator=VALIDATOR)
        return "validator set"
    except OperationFailure as exc:
        logger.warning("the ledger collection keeps no validator (%s); reads check types", exc)
        return "no validator (this server has no collMod); guards and reads check types"
