"""Organisers export who is going and who waits as CSV, streamed, their own events only."""

from __future__ import annotations

import csv
import io
import tracemalloc

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from events import exports, services
from events.models import CheckIn
from events.services import check_ins
from loadtests.ledger_benchmark import fill_for_benchmark
from tests.helpers import logged_in, make_event, make_organiser, make_users

pytestmark = pytest.mark.django_db


def read_csv(response) -> list[list[str]]:
    assert response.status_code == 200 and response.streaming
    assert response["Content-Type"].startswith("text/csv")
    body = b"".join(response.streaming_content).decode()
    return list(csv.reader(io.StringIO(body)))


@pytest.fixture
def full_event():
    """Two seats taken, then two people waiting; one username looks like a formula."""
    alice = make_organiser("export-alice")
    event = make_event(alice, 2, title="Packed")
    first, second, third = make_users(3, prefix="exp")
    sly = get_user_model().objects.create_user("=HYPERLINK(1)", "sly@example.com", "pw")
    services.rsvp(event_id=event.pk, user_id=first.pk)
    services.rsvp(event_id=event.pk, user_id=sly.pk)
    services.join_waitlist(event_id=event.pk, user_id=second.pk)
    services.join_waitlist(event_id=event.pk, user_id=third.pk)
    return alice, event, [first, sly, second, third]


def test_one_events_export_lists_going_then_waiting_in_order(full_event):
    alice, event, (first, sly, second, third) = full_event

    rows = read_csv(logged_in(alice).get(reverse("admin:events_event_export", args=[event.pk])))

    assert rows[0] == [
        "event id", "event", "status", "position", "name", "username", "email", "RSVP time",
        "checked in", "guests", "guest names",
    ]  # fmt: skip
    people = [(r[2], r[3], r[5], r[6]) for r in rows[1:]]
    assert people == [
        ("going", "1", first.username, first.email),
        ("going", "2", "'" + sly.username, sly.email),  # text, not a formula
        ("waiting", "1", second.username, second.email),
        ("waiting", "2", third.username, third.email),
    ]
    assert rows[1][7] and not rows[3][7]  # a seat has its time; a place in line has none


def test_the_bulk_action_exports_several_events_but_only_the_organisers_own(full_event):
    alice, event, _ = full_event
    other = make_event(alice, 3, title="Roomy")
    (carol,) = make_users(1, prefix="exp-other")
    services.rsvp(event_id=other.pk, user_id=carol.pk)
    bob = make_organiser("export-bob")
    bobs = make_event(bob, 3, title="Bob's")
    services.rsvp(event_id=bobs.pk, user_id=carol.pk)
    changelist = reverse("admin:events_event_changelist")
    chosen = {"action": "export_attendees", "_selected_action": [event.pk, other.pk, bobs.pk]}

    rows = read_csv(logged_in(alice).post(changelist, chosen))

    assert {r[1] for r in rows[1:]} == {"Packed", "Roomy"}
    assert len(rows) == 1 + 4 + 1
    answer = logged_in(bob).get(reverse("admin:events_event_export", args=[event.pk]))
    assert answer.status_code in (302, 404)  # someone else's event, as Django's admin answers


def test_the_checked_in_column_has_the_time_of_those_checked_in_only(full_event):
    alice, event, (first, sly, second, third) = full_event
    check_ins.check_in(event_id=event.pk, user_id=first.pk, by=alice, checked_in=True)
    came = CheckIn.objects.get(event=event, user=first).at

    rows = read_csv(logged_in(alice).get(reverse("admin:events_event_export", args=[event.pk])))

    checked_in = {r[5]: r[8] for r in rows[1:]}
    assert checked_in == {
        first.username: came.isoformat(),
        "'" + sly.username: "",  # going, not here yet
        second.username: "",  # waiting: never checked in
        third.username: "",
    }


def _peak_streaming(event) -> tuple[int, int]:
    """(rows, peak bytes allocated) while the export of ``event`` is read to its end."""
    tracemalloc.start()
    try:
        response = exports.csv_response("big.csv", [event])
        lines = sum(chunk.count(b"\n") for chunk in response.streaming_content)
        return lines, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_ten_thousand_person_export_does_not_hold_its_rows_in_memory():
    """Memory grows by the ledger's list alone (a few ints per person), not by the rows.

    An export that built its rows (or all accounts) first would cost hundreds
    of bytes to kilobytes more per person; streamed, only the one document
    read from the ledger grows with the event.
    """
    host = make_organiser("export-big")
    people = [u.pk for u in make_users(10_000, prefix="bulk")]
    small, big = make_event(host, 1_000), make_event(host, 10_000)
    fill_for_benchmark(small.pk, people[:1_000])
    fill_for_benchmark(big.pk, people)

    small_rows, small_peak = _peak_streaming(small)
    big_rows, big_peak = _peak_streaming(big)

    assert (small_rows, big_rows) == (1_001, 10_001)  # with the header
    per_extra_person = (big_peak - small_peak) / 9_000
    # Streamed it measures 100-270 bytes (tracemalloc also counts what other
    # threads of the process allocate meanwhile); holding a User object per
    # person adds about 400 more (the object alone), which crosses the bound.
    assert per_extra_person < 500, f"{per_extra_person:.0f} bytes more per person"
