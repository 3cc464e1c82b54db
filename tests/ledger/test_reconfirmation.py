"""Reconfirm-or-release in the ledger: the question, a yes, a cancel, and the one release write."""

from __future__ import annotations

import pytest

from events import ledger, services
from events.ledger import Outcome, audit
from events.ledger.connection import collection as ledger_collection
from tests.helpers import fire_together, make_event, make_users, wait_for

pytestmark = pytest.mark.django_db


def document(event) -> dict:
    return ledger_collection().find_one({"_id": event.pk})


def seated(event, *users) -> None:
    for user in users:
        assert services.rsvp(event_id=event.pk, user_id=user.pk).outcome is Outcome.CONFIRMED


def test_the_release_frees_every_unconfirmed_seat_for_the_waiting_list_in_one_write(organiser):
    event = make_event(organiser, 3)
    ann, bea, cal, dee = make_users(4, prefix="reconfirm")
    seated(event, ann, bea, cal)
    services.join_waitlist(event_id=event.pk, user_id=dee.pk)

    asked = ledger.ask_to_reconfirm(event.pk)
    assert asked.unconfirmed == (ann.pk, bea.pk, cal.pk)
    assert ledger.keep_seat(event.pk, ann.pk).outcome is Outcome.SEAT_KEPT
    services.cancel_rsvp(event_id=event.pk, user_id=bea.pk)  # dee takes bea's seat
    assert ledger.reconfirmation(event.pk).unconfirmed == (cal.pk,), "a cancel leaves the list"

    release = ledger.release_unconfirmed(event.pk)

    assert release.result.outcome is Outcome.RELEASED and release.released == (cal.pk,)
    doc = document(event)
    assert doc["attendees"] == [ann.pk, dee.pk] and len(doc["seated_at"]) == 2
    assert doc["unconfirmed"] == [] and doc["taken"] == 2


def test_a_release_promotes_the_head_of_the_list_and_a_second_run_releases_nobody(organiser):
    event = make_event(organiser, 2)
    ann, bea, cal, dee = make_users(4, prefix="promote-release")
    seated(event, ann, bea)
    for user in (cal, dee):
        services.join_waitlist(event_id=event.pk, user_id=user.pk)
    ledger.ask_to_reconfirm(event.pk)
    ledger.keep_seat(event.pk, bea.pk)

    first = ledger.release_unconfirmed(event.pk)
    again = ledger.release_unconfirmed(event.pk)

    assert first.released == (ann.pk,) and first.result.promoted == (cal.pk,)
    assert again.released == (ann.pk,), "who was released stays known, to tell them once"
    assert again.result.promoted == () and document(event)["attendees"] == [bea.pk, cal.pk]
    assert document(event)["waitlist"] == [dee.pk]


def test_nobody_is_released_when_nobody_was_asked_nor_who_took_a_seat_after_the_question(
    organiser,
):
    event = make_event(organiser, 3)
    ann, bea = make_users(2, prefix="not-asked")
    seated(event, ann)
    assert ledger.release_unconfirmed(event.pk).result.outcome is Outcome.NOT_ASKED
    assert ledger.ask_to_reconfirm(event.pk).unconfirmed == (ann.pk,)
    seated(event, bea)  # after the question: not asked, not released
    assert ledger.ask_to_reconfirm(event.pk).unconfirmed == (ann.pk,), "asked once"

    release = ledger.release_unconfirmed(event.pk)

    assert release.released == (ann.pk,) and document(event)["attendees"] == [bea.pk]


def test_a_yes_needs_a_seat_and_a_cancelled_event_releases_nobody(organiser):
    event = make_event(organiser, 2)
    ann, bea = make_users(2, prefix="kept")
    seated(event, ann)
    assert ledger.keep_seat(event.pk, bea.pk).outcome is Outcome.NOT_GOING
    ledger.ask_to_reconfirm(event.pk)
    ledger.cancel(event.pk)

    release = ledger.release_unconfirmed(event.pk)

    assert release.result.outcome is Outcome.EVENT_CANCELLED and release.released == ()
    assert document(event)["attendees"] == [ann.pk]


def test_documents_of_events_that_never_ask_get_none_of_the_fields(organiser):
    event = make_event(organiser, 2)
    ann, bea = make_users(2, prefix="plain")
    seated(event, ann, bea)
    services.cancel_rsvp(event_id=event.pk, user_id=ann.pk)
    assert not {"unconfirmed", "reconfirm_asked", "released"} & set(document(event))


ROUNDS = 3


@pytest.mark.django_db(transaction=True)
def test_the_release_raced_by_rsvps_cancels_and_yeses_keeps_every_invariant(organiser):
    """Release, cancels, yeses and new RSVPs fired together: exact counts, each round."""
    for round_ in range(ROUNDS):
        race_once(organiser, round_)


def race_once(organiser, round_: int) -> None:
    event = make_event(organiser, 12, title=f"Race {round_}")
    seated_users = make_users(12, prefix=f"race{round_}-seat")
    waiting = make_users(6, prefix=f"race{round_}-wait")
    newcomers = make_users(6, prefix=f"race{round_}-new")
    seated(event, *seated_users)
    for user in waiting:
        services.join_waitlist(event_id=event.pk, user_id=user.pk)
    ledger.ask_to_reconfirm(event.pk)
    kept_before = seated_users[:4]
    for user in kept_before:
        ledger.keep_seat(event.pk, user.pk)
    cancelling, saying_yes = seated_users[4:7], seated_users[7:10]

    calls = [lambda: ledger.release_unconfirmed(event.pk)]
    calls += [lambda u=u: services.cancel_rsvp(event_id=event.pk, user_id=u.pk) for u in cancelling]
    calls += [lambda u=u: services.keep_seat(event_id=event.pk, user_id=u.pk) for u in saying_yes]
    calls += [lambda u=u: services.rsvp(event_id=event.pk, user_id=u.pk) for u in newcomers]
    release, *answers = fire_together(calls)

    doc = document(event)
    going, line = doc["attendees"], doc["waitlist"]
    assert len(going) <= 12 and len(set(going)) == len(going)
    assert not set(going) & set(line), "nobody in both lists"
    assert len(going) == 12 or not line, "no free seat while someone waits"
    assert len(doc["seated_at"]) == len(going) == doc["taken"]
    released = set(release.released)
    # A cancel or a yes that came after the release finds no seat: its person was released.
    late = [
        u.pk
        for u, a in zip(cancelling + saying_yes, answers[:6], strict=True)
        if a.outcome is Outcome.NOT_GOING
    ]
    silent = {u.pk for u in seated_users[10:]}
    assert released == silent | set(late), "exactly those who never said yes in time"
    assert not released & set(going)
    assert {u.pk for u in kept_before} <= set(going), "a yes before the release keeps the seat"
    confirmed = [
        u.pk for u, a in zip(newcomers, answers[6:], strict=True) if a.outcome is Outcome.CONFIRMED
    ]
    assert set(confirmed) <= set(going), "every seat granted is held"
    assert doc["unconfirmed"] == []


def test_check_ledger_finds_and_mends_someone_asked_who_holds_no_seat(organiser):
    event = make_event(organiser, 3)
    ann, bea = make_users(2, prefix="stray-")
    seated(event, ann)
    ledger_collection().update_one({"_id": event.pk}, {"$set": {"unconfirmed": [ann.pk, bea.pk]}})

    found = audit.findings(document(event))
    assert [(f.damage, f.mendable) for f in found] == [(audit.Damage.UNCONFIRMED, True)]
    assert audit.repair_lists(event.pk).repaired
    assert document(event)["unconfirmed"] == [ann.pk] and audit.findings(document(event)) == []

    plain = make_event(organiser, 3)
    audit.repair_lists(plain.pk)
    assert "unconfirmed" not in document(plain), "a document that never asked stays without it"


# --- The release while the server is SIGKILLed -----------------------------------------

KILLED_EVENT = 800_000_021
SEATS, WAITING, KEPT = 30, 15, 10  # seats 1..30; 1..10 kept theirs; 101..115 wait
KILL_AFTER_WRITES = 8


def test_a_release_raced_by_cancels_and_rsvps_and_a_sigkill_keeps_every_invariant(
    spare_mongo, settings
):
    """Cancels and RSVPs keep coming while the server dies; the release, tried until it lands."""
    settings.MONGODB_URI = spare_mongo.uri
    settings.MONGODB_TIMEOUT_MS = 500
    ledger.create_event(KILLED_EVENT, SEATS)
    for user_id in range(1, SEATS + 1):
        ledger.take_seat(KILLED_EVENT, user_id, combined=False)
    for user_id in range(101, 101 + WAITING):
        ledger.join_waitlist(KILLED_EVENT, user_id)
    ledger.ask_to_reconfirm(KILLED_EVENT)
    for user_id in range(1, KEPT + 1):
        ledger.keep_seat(KILLED_EVENT, user_id)
    writes, answers = [0], {}

    def attempt(name: str, call) -> None:
        try:
            answers[name] = call()
            writes[0] += 1
        except ledger.LedgerUnavailable:
            answers[name] = None  # cut off by the kill: landed or not, unknown

    def cancels() -> None:  # the kept 1..5 and the unconfirmed 11..15 give up their seats
        for user_id in [*range(1, 6), *range(11, 16)]:
            attempt(f"cancel {user_id}", lambda u=user_id: ledger.give_up_seat(KILLED_EVENT, u))

    def rsvps() -> None:
        for user_id in range(201, 261):  # outlasts the kill
            attempt(f"rsvp {user_id}", lambda u=user_id: ledger.take_seat(KILLED_EVENT, u))

    def kill() -> None:
        assert wait_for(lambda: writes[0] >= KILL_AFTER_WRITES, 30), "no write before the kill"
        spare_mongo.process.kill()  # SIGKILL: no flush, no close
        spare_mongo.process.wait()

    fire_together([cancels, rsvps, kill, lambda: attempt("release", release_once)])
    spare_mongo.process = None
    spare_mongo.start()
    release = wait_for(release_once, 15)  # run again after the restart, as the task would be
    assert release is not None, "the restarted server never answered"

    doc = ledger_collection().find_one({"_id": KILLED_EVENT})
    going, line = doc["attendees"], doc["waitlist"]
    assert len(going) == len(set(going)) <= SEATS and not set(going) & set(line)
    assert len(going) == SEATS or not line, "no free seat while someone waits"
    assert len(doc["seated_at"]) == len(going) == doc["taken"] and doc["unconfirmed"] == []
    silent = set(range(16, SEATS + 1))  # asked, never said yes, never cancelled
    assert silent == set(release.released) - set(range(11, 16)), "released: exactly the silent"
    assert not silent & set(going)
    assert set(range(6, KEPT + 1)) <= set(going), "a yes keeps the seat through the kill"
    rsvps_answered = {n: r for n, r in answers.items() if n.startswith("rsvp") and r}
    confirmed = {int(n.split()[1]) for n, r in rsvps_answered.items() if r.going}
    assert confirmed <= set(going), "every seat answered as taken is held"
    assert None in answers.values(), "the kill cut off no write: it came after the race"


def release_once() -> ledger.Release | None:
    try:
        release = ledger.release_unconfirmed(KILLED_EVENT)
    except ledger.LedgerUnavailable:
        return None
    return release if release.result.outcome is Outcome.RELEASED else None
