"""Attendees and waiting lists as CSV, streamed: the organisers' export.

Rows come from the ledger (who is going, in the order they got their seats,
then who waits, first in line first), joined with accounts and check-ins a
thousand at a time (one query each), and are written to the response as
they are made, so an event of 10,000 attendees never sits in memory as a
page or a file.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from itertools import batched

from django.contrib.auth import get_user_model
from django.http import StreamingHttpResponse

from events import ledger, selectors
from events.models import Event
from events.services import check_ins

HEADER = [
    "event id",
    "event",
    "status",
    "position",
    "name",
    "username",
    "email",
    "RSVP time",
    "checked in",
    # Last, so a sheet or script that reads the columns before them by place still does.
    "guests",
    "guest names",
]
ACCOUNTS_PER_QUERY = 1_000
# A spreadsheet runs a cell that starts with one of these as a formula; a
# username like "=HYPERLINK(...)" must arrive as text.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


def _people(event: Event) -> Iterator[tuple[str, int, int, int, str]]:
    """(status, position, user id, guests, RSVP time) for everyone at the event, in order."""
    roster = ledger.roster(event.pk)
    if roster is None:
        return
    for position, entry in enumerate(roster.attendees, start=1):
        at = entry.at.isoformat() if entry.at else ""
        yield "going", position, entry.user_id, entry.guests, at
    waiting = zip(roster.waitlist, roster.waiting_guests, strict=True)
    for position, (user_id, guests) in enumerate(waiting, start=1):
        yield "waiting", position, user_id, guests, ""


def rows(events: Iterable[Event]) -> Iterator[list[str]]:
    """The header, then one row per person per event (their guests in its columns)."""
    yield HEADER
    accounts = get_user_model().objects
    for event in events:
        for chunk in batched(_people(event), ACCOUNTS_PER_QUERY, strict=False):
            user_ids = [user_id for _, _, user_id, _, _ in chunk]
            users = accounts.in_bulk(user_ids)
            arrived = check_ins.checked_in_at(event.pk, user_ids)  # one query a chunk
            names = selectors.guest_names_by_user(event.pk, user_ids)  # one query a chunk
            for status, position, user_id, guests, at in chunk:
                user = users.get(user_id)
                name = user.get_full_name() if user else "a former member"
                username = user.get_username() if user else f"deleted user #{user_id}"
                email = user.email if user else ""
                came = arrived.get(user_id) if status == "going" else None
                checked_in = came.isoformat() if came else ""
                guest_names = "; ".join(names.get(user_id, [])[:guests])
                cells = [
                    *(event.pk, event.title, status, position),
                    *(name, username, email, at, checked_in, guests, guest_names),
                ]
                yield [_cell(value) for value in cells]


class _Echo:
    """csv.writer writes to this, and gets back the line to stream."""

    def write(self, value: str) -> str:
        return value


def csv_response(filename: str, events: Iterable[Event]) -> StreamingHttpResponse:
    writer = csv.writer(_Echo())
    response = StreamingHttpResponse(
        (writer.writerow(row) for row in rows(events)), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
