"""``manage.py check_ledger [--repair]``: the audit of SQL against the ledger, and its repairs.

Damage is written straight into MongoDB, as a person with a shell (or an old
bug) would, past the collection's validator where it would refuse it.
"""

from __future__ import annotations

import io
import subprocess
import sys
from dataclasses import dataclass

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.urls import reverse

from events import ledger, services
from events.ledger.connection import collection as ledger_collection
from events.models import Event, Rsvp
from tests.helpers import ROOT, change_form, make_event, make_users, session_database_url, site_env

T1, T2, T3 = 1_700_000_000_000.0, 1_700_000_001_000.0, 1_700_000_002_000.0


@pytest.fixture(autouse=True)
def only_this_tests_ledger():
    """The ledger collection outlives each test's SQL rollback: start from an empty one."""
    ledger_collection().delete_many({})


@pytest.fixture
def boss(django_user_model):
    return django_user_model.objects.create_superuser("audit-boss", "boss@example.com", "pw")


def run(*args: str, **options) -> tuple[int, str]:
    """The command's exit code and what it printed."""
    out = io.StringIO()
    try:
        call_command("check_ledger", *args, stdout=out, **options)
    except CommandError:
        return 1, out.getvalue()
    return 0, out.getvalue()


def document(event_id) -> dict | None:
    return ledger_collection().find_one({"_id": event_id})


def set_fields(event_id, **fields) -> None:
    """Overwrite fields of a ledger document, past the validator."""
    ledger_collection().update_one(
        {"_id": event_id}, {"$set": fields}, bypass_document_validation=True
    )


def lists(event_id, capacity, attendees, times, waitlist) -> None:
    """A document's lists as given; its counts agree with them, as our writes leave them."""
    set_fields(
        event_id,
        capacity=capacity,
        attendees=attendees,
        seated_at=times,
        waitlist=waitlist,
        taken=len(attendees),
        waiting=len(waitlist),
    )


def everyone(event_id) -> set[int]:
    doc = document(event_id)
    return set(doc["attendees"]) | set(doc["waitlist"])


def lists_of(event_id) -> tuple[list, list, list]:
    doc = document(event_id)
    return doc["attendees"], doc["seated_at"], doc["waitlist"]


def snapshot() -> tuple[list, list]:
    docs = sorted(ledger_collection().find(), key=lambda d: d["_id"])
    return docs, list(Rsvp.objects.order_by("pk").values())


def statuses(event_id) -> dict[int, str]:
    return dict(Rsvp.objects.filter(event_id=event_id).values_list("user_id", "status"))


@dataclass
class Site:
    """One event per kind of damage, and the users in them."""

    missing: Event
    orphan_id: int
    wrong_types: Event
    above: Event
    duplicates: Event
    in_both: Event
    out_of_step: Event
    free_seat: Event
    record: Event
    users: list


@pytest.fixture
def damaged(boss) -> Site:
    u = make_users(6, prefix="audit")
    ids = [x.pk for x in u]
    missing = make_event(boss, 3, title="Missing")
    services.rsvp(event_id=missing.pk, user_id=u[0].pk)
    ledger_collection().delete_one({"_id": missing.pk})

    gone = make_event(boss, 3, title="Deleted in SQL only")
    services.rsvp(event_id=gone.pk, user_id=u[1].pk)
    Event.objects.filter(pk=gone.pk).delete()  # its ledger document stays: an orphan

    wrong_types = make_event(boss, 2, title="Wrong types")
    set_fields(wrong_types.pk, capacity="2")
    above = make_event(boss, 1, title="Above")
    lists(above.pk, 1, ids[:2], [T1, T2], [])
    duplicates = make_event(boss, 2, title="Duplicates")
    lists(duplicates.pk, 2, [ids[0], ids[0], ids[1]], [T1, T2, T3], [ids[2], ids[3], ids[2]])
    in_both = make_event(boss, 2, title="Both")
    lists(in_both.pk, 2, ids[:2], [T1, T2], [ids[0], ids[2]])
    out_of_step = make_event(boss, 3, title="Out of step")
    lists(out_of_step.pk, 3, [ids[0], ids[0]], [T1], [])
    free_seat = make_event(boss, 2, title="Free seat")
    lists(free_seat.pk, 2, ids[:1], [T1], ids[1:3])

    record = make_event(boss, 3, title="Record")
    services.rsvp(event_id=record.pk, user_id=u[0].pk)
    Rsvp.objects.filter(event=record, user=u[0]).update(status=Rsvp.Status.CANCELLED)
    Rsvp.objects.create(event=record, user=u[1], status=Rsvp.Status.GOING)
    return Site(
        missing, gone.pk, wrong_types, above, duplicates, in_both, out_of_step, free_seat, record, u
    )


def expected_lines(site: Site) -> list[str]:
    a, b, c = (x.pk for x in site.users[:3])
    return [
        f"event {site.missing.pk}: missing ledger document: the SQL record has going: {a}",
        f"event {site.orphan_id}: orphaned ledger document: no SQL event; attendees: {b};",
        f"event {site.wrong_types.pk}: wrong types: capacity wrong",
        f"event {site.above.pk}: attendees above capacity: 2 hold seats, capacity 1",
        f"event {site.duplicates.pk}: duplicates: attendees {a} x2; waiting list {c} x2",
        f"event {site.in_both.pk}: people in both lists: user {a} holds a seat and waits",
        f"event {site.out_of_step.pk}: seat times out of step: 1 seat times for 2 attendees",
        f"event {site.free_seat.pk}: a free seat while someone waits: 1 free, 2 waiting "
        f"(first in line: user {b})",
        f"event {site.record.pk}: record disagrees with the ledger: "
        f"user {a}: cancelled -> going, user {b}: going -> cancelled",
    ]


@pytest.mark.django_db
def test_a_clean_database_passes(boss):
    event, other = make_event(boss, 1), make_event(boss, 2)
    alice, bob = make_users(2, prefix="clean")
    services.rsvp(event_id=event.pk, user_id=alice.pk)
    services.join_waitlist(event_id=event.pk, user_id=bob.pk)

    assert run() == (0, "2 events checked: no problems.\n")
    assert run("--repair") == (0, "2 events checked: no problems.\n")
    assert run(event=[other.pk]) == (0, "1 event checked: no problems.\n")


@pytest.mark.django_db
def test_the_audit_names_each_problem_with_its_event_and_fails(damaged):
    code, out = run()

    assert code == 1
    for line in expected_lines(damaged):
        assert line in out, f"{line!r} not in:\n{out}"
    assert out.endswith("9 events checked: 14 problems (10 for --repair, 4 for a person).\n"), out


@pytest.mark.django_db
def test_the_audit_alone_changes_nothing(damaged):
    before = snapshot()

    assert run()[0] == 1
    assert run(event=[damaged.record.pk, damaged.orphan_id])[0] == 1

    assert snapshot() == before


@pytest.mark.django_db
def test_repair_mends_what_is_safe_and_drops_nobody(damaged, mailoutbox):
    site, (a, b, c, d, *_) = damaged, [x.pk for x in damaged.users]
    people = {e.pk: everyone(e.pk) for e in (site.duplicates, site.in_both, site.free_seat)}
    mailoutbox.clear()  # the setup's RSVPs were emailed: only the repair's mail counts

    code, out = run("--repair", capacity=5)

    assert code == 1, "what needs a person is still there"
    assert f"event {site.missing.pk}: repaired: ledger reopened, capacity 5, empty" in out
    reopened = document(site.missing.pk)
    assert (reopened["capacity"], reopened["attendees"], reopened["waitlist"]) == (5, [], [])
    assert f"event {site.orphan_id}: repaired: orphan removed; it held attendees: {b}" in out
    assert document(site.orphan_id) is None
    assert {e: everyone(e) for e in people} == people, "nobody is dropped"
    assert lists_of(site.duplicates.pk) == ([a, b], [T1, T3], [c, d]), "first seats kept"
    assert lists_of(site.in_both.pk)[::2] == ([a, b], [c]), "the seat kept, the wait dropped"
    assert lists_of(site.free_seat.pk)[::2] == ([a, b], [c]), "the first waiting is seated"
    assert [m.to for m in mailoutbox] == [[site.users[1].email]]
    assert statuses(site.record.pk) == {a: "going", b: "cancelled"}
    assert statuses(site.free_seat.pk) == {a: "going", b: "going", c: "waiting"}
    assert (
        f"event {site.missing.pk}: repaired: record rewritten: user {a}: going -> cancelled" in out
    )
    assert out.endswith("14 problems, 10 repaired, 4 left for a person.\n"), out

    code, out = run()

    assert code == 1
    assert out.splitlines()[:-1] == [
        f"event {site.wrong_types.pk}: wrong types: capacity wrong",
        f"event {site.above.pk}: attendees above capacity: 2 hold seats, capacity 1",
        f"event {site.out_of_step.pk}: duplicates: attendees {a} x2",
        f"event {site.out_of_step.pk}: seat times out of step: 1 seat times for 2 attendees",
    ]


@pytest.mark.django_db
def test_the_mending_write_leaves_alone_a_document_it_cannot_mend_without_guessing(boss):
    event = make_event(boss, 3)
    a, b = (u.pk for u in make_users(2, prefix="unsound"))
    lists(event.pk, 3, [a, a, b], [T1, T2], [b])  # whose is T2?
    before = lists_of(event.pk)

    repair = services.mend_ledger(event_id=event.pk)

    assert repair.result.outcome == "left_as_is" and not repair.repaired
    assert lists_of(event.pk) == before


@pytest.mark.django_db
def test_a_missing_ledger_waits_for_a_capacity_or_asks_on_a_terminal(boss, monkeypatch):
    event = make_event(boss, 3)
    ledger_collection().delete_one({"_id": event.pk})

    code, out = run("--repair")  # pytest's stdin is no terminal: nobody to ask

    assert code == 1 and f"event {event.pk}: not reopened: needs --capacity N" in out
    assert document(event.pk) is None

    monkeypatch.setattr(sys.stdin, "isatty", lambda: True, raising=False)
    monkeypatch.setattr("builtins.input", lambda prompt: "7")
    assert run("--repair")[0] == 0
    assert document(event.pk)["capacity"] == 7


@pytest.mark.django_db
def test_reopening_never_replaces_a_ledger_that_appeared_meanwhile(boss):
    event = make_event(boss, 2)
    (alice,) = make_users(1, prefix="meanwhile")
    services.rsvp(event_id=event.pk, user_id=alice.pk)

    assert services.reopen_ledger(event_id=event.pk, capacity=9) is False

    assert (document(event.pk)["capacity"], document(event.pk)["attendees"]) == (2, [alice.pk])


@pytest.mark.django_db(transaction=True)
def test_the_command_exits_non_zero_from_the_shell(boss):
    fine, hurt = make_event(boss, 2), make_event(boss, 2)
    set_fields(hurt.pk, capacity="2")

    def shell(event_id: int) -> subprocess.CompletedProcess:
        command = [sys.executable, "manage.py", "check_ledger", "--event", str(event_id)]
        env = site_env(session_database_url())
        return subprocess.run(
            command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
        )

    clean, damaged = shell(fine.pk), shell(hurt.pk)

    assert (clean.returncode, clean.stdout) == (0, "1 event checked: no problems.\n")
    assert damaged.returncode == 1 and f"event {hurt.pk}: wrong types" in damaged.stdout
    assert "1 problem left" in damaged.stderr


@pytest.mark.django_db
def test_the_admin_reopens_a_missing_ledger_from_the_change_page(boss):
    event = make_event(boss, 3)
    ledger_collection().delete_one({"_id": event.pk})
    client = Client()
    client.force_login(boss)
    url = reverse("admin:events_event_change", args=[event.pk])

    page = client.get(url)

    assert page.status_code == 200
    assert "This event has no ledger document, so nobody can RSVP to it." in page.content.decode()
    saved = client.post(url, change_form(event, boss, 4), follow=True)
    assert "Ledger reopened: capacity 4" in saved.content.decode()
    assert ledger.seats([event.pk])[event.pk].capacity == 4
    (guest,) = make_users(1, prefix="reopened")
    assert services.rsvp(event_id=event.pk, user_id=guest.pk).outcome == "confirmed"


@pytest.mark.django_db
def test_the_change_page_of_a_damaged_ledger_points_to_the_audit_and_touches_no_seats(boss):
    event = make_event(boss, 3)
    set_fields(event.pk, capacity="2")
    client = Client()
    client.force_login(boss)
    url = reverse("admin:events_event_change", args=[event.pk])

    assert "run manage.py check_ledger" in client.get(url).content.decode()
    form = {**change_form(event, boss, 9), "title": "Renamed"}
    assert client.post(url, form).status_code == 302

    assert Event.objects.get(pk=event.pk).title == "Renamed"
    assert document(event.pk)["capacity"] == "2", "left for a person"


@pytest.mark.django_db
def test_an_event_without_a_ledger_says_rsvps_are_not_open(boss):
    event = make_event(boss, 3, title="Unopened")
    ledger_collection().delete_one({"_id": event.pk})
    (member,) = make_users(1, prefix="unopened")
    signed_in = Client()
    signed_in.force_login(member)

    for client in (Client(), signed_in):
        page = client.get(event.get_absolute_url())
        html = page.content.decode()
        assert page.status_code == 200
        assert "RSVPs are not open for this event." in html and "Full" not in html
        assert "RSVPs not open" in client.get(reverse("events:list")).content.decode()
