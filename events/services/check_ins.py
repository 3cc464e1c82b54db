"""Check-in at the door: who is let in, the personal codes, and what the door's page shows.

A check-in is a ``CheckIn`` row in SQL, not a seat: it changes nothing the
ledger decides, so a plain SQL write is the right tool (the unique
(event, user) constraint makes it safe). Every request says the state it
wants (in or not in), never "toggle": two phones tapping the same person
both end with exactly one row, and an undo tapped twice removes it once.

A personal code is ``<user id>-<8 characters>``, the characters an HMAC of
the event and user under the site's SECRET_KEY (``salted_hmac``): the
organiser's phone can check it without a lookup table, and nobody can make
one up for someone else. It goes on the attendee's emails, their .ics and
My RSVPs, as text and as a QR code (``segno``).
"""

from __future__ import annotations

import base64
import functools
import io
import re
from dataclasses import dataclass
from datetime import datetime

import segno
from django.contrib.auth import get_user_model
from django.utils.crypto import constant_time_compare, salted_hmac

from events import selectors
from events.models import CheckIn, Event

CODE_SALT = "events.check-in"
CODE_LENGTH = 8
# Base32 has no 0, 1, 8 or 9: one typed where the letter was meant is read as it.
LOOKALIKES = str.maketrans({"0": "O", "1": "I", "8": "B"})
CODE_SHAPE = re.compile(rf"^(\d+)([A-Z2-7]{{{CODE_LENGTH}}})$")
# Rows the page lists at once; a search narrows a bigger list (the counts stay whole).
PAGE_ROWS = 300


# --- The personal code ----------------------------------------------------------


def _tail(event_id: int, user_id: int) -> str:
    digest = salted_hmac(CODE_SALT, f"{event_id}:{user_id}", algorithm="sha256").digest()
    return base64.b32encode(digest).decode()[:CODE_LENGTH]


def code_for(event_id: int, user_id: int) -> str:
    """The user's code for this event, e.g. "42-AB3CD7EF": upper case, easy to read out."""
    return f"{user_id}-{_tail(event_id, user_id)}"


def user_for_code(event_id: int, code: str) -> int | None:
    """The user id a code was made for at this event, or None if it is not genuine.

    Tolerant of what typing does: case, spaces, dashes, and 0/1/8 for O/I/B.
    """
    compact = re.sub(r"[\s\-]+", "", code or "").upper()
    match = CODE_SHAPE.match(compact[:-CODE_LENGTH] + compact[-CODE_LENGTH:].translate(LOOKALIKES))
    if match is None:
        return None
    user_id = int(match.group(1))
    if not constant_time_compare(match.group(2), _tail(event_id, user_id)):
        return None
    return user_id


def qr_svg(code: str) -> str:
    """The code as an inline SVG (no style attribute: the CSP allows none)."""
    return segno.make_qr(code, error="m").svg_inline(
        scale=6, border=2, svgclass="qr", title=f"Check-in code {code}"
    )


@functools.lru_cache(maxsize=4096)
def qr_png(code: str) -> bytes:
    """The code as a PNG, for emails (mail clients block data: URIs and often SVG).

    Built once per code (one person at one event) in a process, then kept:
    the image depends on the code alone, and building it (2–3 ms here) is a
    fifth or so of building an email. A retried send, a seat given back and
    taken again reuse it. At most 4,096 codes of ~250 bytes each are kept.
    """
    out = io.BytesIO()
    segno.make_qr(code, error="m").save(out, kind="png", scale=6, border=2)
    return out.getvalue()


# --- Services (writes) -------------------------------------------------------


@dataclass(frozen=True)
class Counts:
    """People checked in of those going, and the same in seats (each with their guests).

    A check-in is per attendee: their party arrives with them, so their
    guests' seats count as checked in with theirs.
    """

    checked_in: int
    going: int
    seats_checked_in: int = 0
    seats: int = 0


@dataclass(frozen=True)
class CheckInResult:
    """What a tap or a code did: ``ok`` False means refused, and ``message`` says why."""

    ok: bool
    message: str
    user_id: int | None = None
    checked_in: bool = False


def _name(user) -> str:
    return user.get_full_name() or user.get_username()


def check_in(*, event_id: int, user_id: int, by, checked_in: bool) -> CheckInResult:
    """Set whether the user is checked in; the same request twice changes nothing more."""
    event = Event.objects.filter(pk=event_id).first()
    user = get_user_model().objects.filter(pk=user_id).first()
    if event is None or user is None:
        return CheckInResult(False, "No such person.", user_id)
    name = _name(user)
    if not checked_in:
        CheckIn.objects.filter(event=event, user=user).delete()
        return CheckInResult(True, f"{name} is no longer checked in.", user.pk, False)
    if event.is_cancelled:
        return CheckInResult(False, "This event is cancelled.", user.pk)
    # Exact, from the ledger: someone who cancelled a minute ago is not let in.
    if not selectors.event_card(event, user).going:
        return CheckInResult(False, f"{name} is not going to this event.", user.pk)
    # SQL, not the ledger: a check-in is not a seat change. Inserting against
    # the unique constraint and ignoring a conflict is idempotent under any
    # race, where "read, then create" would fail or double up.
    CheckIn.objects.bulk_create(
        [CheckIn(event=event, user=user, by=_by(by))], ignore_conflicts=True
    )
    return CheckInResult(True, f"{name} is checked in.", user.pk, True)


def check_in_by_code(*, event_id: int, code: str, by) -> CheckInResult:
    """Check in whoever a typed or scanned code belongs to; a made-up code is refused."""
    user_id = user_for_code(event_id, code)
    if user_id is None:
        return CheckInResult(False, "That code is not valid for this event.")
    return check_in(event_id=event_id, user_id=user_id, by=by, checked_in=True)


def _by(user):
    return user if user is not None and user.is_authenticated else None


# --- Selectors (reads) ---------------------------------------------------------


@dataclass(frozen=True)
class DoorRow:
    user_id: int
    name: str
    username: str
    email: str
    checked_in_at: datetime | None
    guests: int = 0
    guest_names: tuple[str, ...] = ()

    @property
    def party(self) -> int:
        return 1 + self.guests

    @property
    def checked_in(self) -> bool:
        return self.checked_in_at is not None

    @property
    def search_text(self) -> str:
        return f"{self.name} {self.username} {self.email} {' '.join(self.guest_names)}".lower()


@dataclass(frozen=True)
class Door:
    """The check-in page: the people it lists (searched, capped) and the whole event's counts."""

    rows: list[DoorRow]
    matching: int  # how many match the search, of which ``rows`` lists up to PAGE_ROWS
    counts: Counts


def _check_ins(event_id: int) -> dict[int, datetime]:
    return dict(CheckIn.objects.filter(event_id=event_id).values_list("user_id", "at"))


def _door_row(row: selectors.AttendeeRow, at: datetime | None) -> DoorRow:
    user = row.user
    if user is None:
        name, username, email = "a former member", f"deleted user #{row.user_id}", ""
    else:
        name, username, email = _name(user), user.get_username(), user.email
    return DoorRow(row.user_id, name, username, email, at, row.guests, row.guest_names)


def _counts(rows: list[DoorRow]) -> Counts:
    return Counts(
        checked_in=sum(row.checked_in for row in rows),
        going=len(rows),
        seats_checked_in=sum(row.party for row in rows if row.checked_in),
        seats=sum(row.party for row in rows),
    )


def door(event_id: int, q: str = "") -> Door:
    """Who is going (exact, from the ledger), with who is in, by name; ``q`` searches.

    A guest's name finds the person who brings them.
    """
    done = _check_ins(event_id)
    attendees = selectors.attendee_rows(event_id, names=True)
    rows = [_door_row(row, done.get(row.user_id)) for row in attendees]
    words = q.lower().split()
    found = [row for row in rows if all(word in row.search_text for word in words)]
    found.sort(key=lambda row: (row.name.lower(), row.username.lower()))
    return Door(found[:PAGE_ROWS], len(found), _counts(rows))


def counts(event_id: int) -> Counts:
    """Checked in / going, in people and in seats: only people still going count as in."""
    done = _check_ins(event_id)
    rows = [_door_row(row, done.get(row.user_id)) for row in selectors.attendee_rows(event_id)]
    return _counts(rows)


def checked_in_at(event_id: int, user_ids: list[int]) -> dict[int, datetime]:
    """When each of these users was checked in (if they were): one query, for the export."""
    found = CheckIn.objects.filter(event_id=event_id, user_id__in=user_ids)
    return dict(found.values_list("user_id", "at"))
