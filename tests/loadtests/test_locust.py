"""The locustfile itself, headless against the live site, and its end check.

The live runs must hold up (no violation, exact counts); a ledger broken on
purpose must make the end check fail. The end check's rules are also tested
alone, on made-up answers, where each broken invariant is cheap to stage.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from events import ledger
from loadtests import ledger_benchmark
from loadtests.endcheck import Click, Ledger, check_draw, judge
from tests.helpers import ROOT


def make_fixture(site, path: Path, users: int, capacity: int, **options) -> dict:
    call_command(
        "make_loadtest_fixture",
        users=users,
        capacity=capacity,
        out=path,
        api_url=f"{site.url}/api",
        **options,
    )
    return json.loads(path.read_text())


def run_locust(
    site, tmp_path: Path, users: int, *, waitlist: bool = False, waves: int = 1, mode: str = ""
):
    """Run the locustfile headless on ``tmp_path/fixture.json``; its process and summary."""
    summary = tmp_path / "summary.json"
    result = subprocess.run(
        [
            sys.executable, "-m", "locust", "-f", "loadtests/locustfile.py", "--headless",
            "--users", str(users), "--spawn-rate", str(users), "--host", site.url,
            "--run-time", "2m", "--only-summary", "--loglevel", "WARNING",
        ],
        cwd=ROOT,
        env={
            **os.environ,
            "LOADTEST_FIXTURE": str(tmp_path / "fixture.json"),
            "LOADTEST_SUMMARY": str(summary),
            "LOADTEST_WAITLIST": "1" if waitlist else "0",
            "LOADTEST_WAVES": str(waves),
            "LOADTEST_MODE": mode,
        },
        capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    output = result.stdout[-3000:] + result.stderr[-3000:]
    return result, (json.loads(summary.read_text()) if summary.exists() else {}), output


def user_ids(fixture: dict) -> list[int]:
    names = [u["username"] for u in fixture["users"]]
    found = dict(get_user_model().objects.filter(username__in=names).values_list("username", "pk"))
    return [found[name] for name in names]


@pytest.mark.live
@pytest.mark.django_db(transaction=True)
@pytest.mark.real_password_hashing  # its page clients log in through the login page
def test_locust_fires_together_and_finds_no_overbooking(live_site, tmp_path):
    fixture = make_fixture(live_site, tmp_path / "fixture.json", users=30, capacity=5)
    result, report, output = run_locust(live_site, tmp_path, 30)
    assert result.returncode == 0, output
    assert report["violations"] == []
    assert (report["confirmed"], report["full"], report["errors"]) == (5, 25, 0)
    assert report["attendees"] == 5 and report["overbooked"] == 0
    assert len({a.user_id for a in ledger.attendees(fixture["event_id"])}) == 5


@pytest.mark.live
@pytest.mark.django_db(transaction=True)
@pytest.mark.real_password_hashing  # its page clients log in through the login page
def test_locust_waitlist_waves_promote_the_first_waiting(live_site, tmp_path):
    """30 join 5 seats: 5 seated, 25 waiting; the 5 cancel, the first 5 waiting are seated."""
    fixture = make_fixture(live_site, tmp_path / "fixture.json", users=30, capacity=5)
    result, report, output = run_locust(live_site, tmp_path, 30, waitlist=True, waves=2)
    assert result.returncode == 0, output
    assert report["violations"] == [] and report["mode"] == "waitlist"
    # Wave 2: the promoted are already going, the cancelled rejoin at the end (#21..#25).
    last_wave = ("confirmed", "already_going", "waitlisted", "already_waiting", "full")
    assert [report[k] for k in last_wave] == [0, 5, 5, 20, 0]
    assert (report["cancelled"], report["promoted"], report["errors"]) == (5, 5, 0)
    assert (report["attendees"], report["going"], report["waiting"]) == (5, 5, 25)
    assert report["overbooked"] == 0 and report["idle_seats_while_waiting"] == 0
    going = [a.user_id for a in ledger.attendees(fixture["event_id"])]
    waiting = ledger.waitlist(fixture["event_id"])
    assert len(set(going)) == 5 and len(set(waiting)) == 25
    assert sorted(going + waiting) == sorted(user_ids(fixture))


@pytest.mark.live
@pytest.mark.django_db(transaction=True)
@pytest.mark.real_password_hashing  # its page clients log in through the login page
def test_end_check_fails_on_an_overbooked_ledger(live_site, tmp_path):
    """5 attendees forced into 3 seats: counted from the ledger, not from seats_left (0)."""
    fixture = make_fixture(live_site, tmp_path / "fixture.json", users=8, capacity=3)
    ledger_benchmark.fill_for_benchmark(
        fixture["event_id"], user_ids(fixture)[:5]
    )  # bypasses the guard
    result, report, output = run_locust(live_site, tmp_path, 8)
    assert result.returncode != 0, output
    assert (report["attendees"], report["overbooked"]) == (5, 2)
    assert "overbooked: 5 attendees for 3 seats" in report["violations"]
    assert "wave 1: 5 users told they hold one of 3 seats" in report["violations"]


@pytest.mark.live
@pytest.mark.django_db(transaction=True)
@pytest.mark.real_password_hashing  # its page clients log in through the login page
def test_locust_parties_fill_the_event_without_passing_it(live_site, tmp_path):
    """30 parties of 1 to 4 (about 75 seats) for 20 seats: the parties' end check holds."""
    fixture = make_fixture(live_site, tmp_path / "fixture.json", users=30, capacity=20, guests=3)
    result, report, output = run_locust(live_site, tmp_path, 30, mode="guests")
    assert result.returncode == 0, output
    assert report["violations"] == [] and report["mode"] == "guests"
    seated = ledger.attendees(fixture["event_id"])
    assert report["seats_taken"] == sum(1 + a.guests for a in seated) <= 20
    assert any(a.guests for a in seated), "parties with guests were seated"


@pytest.mark.live
@pytest.mark.django_db(transaction=True)
@pytest.mark.real_password_hashing  # its page clients log in through the login page
def test_locust_requests_then_racing_approvals_seat_exactly_the_capacity(live_site, tmp_path):
    fixture = make_fixture(
        live_site, tmp_path / "fixture.json", users=30, capacity=12, approval=True
    )
    result, report, output = run_locust(live_site, tmp_path, 30, mode="approval")
    assert result.returncode == 0, output
    assert report["violations"] == [] and report["mode"] == "approval"
    assert (report["requested"], report["approved"], report["seats_taken"]) == (30, 12, 12)
    roster = ledger.roster(fixture["event_id"])
    assert len(roster.attendees) == 12 and len(roster.requests) == 18


@pytest.mark.live
@pytest.mark.django_db(transaction=True)
@pytest.mark.real_password_hashing  # its page clients log in through the login page
def test_locust_entries_then_the_draw_seat_exactly_the_capacity(live_site, tmp_path):
    """30 enter a draw for 8 seats; the first request after the draw time draws them."""
    fixture = make_fixture(
        live_site, tmp_path / "fixture.json", users=30, capacity=8, lottery_in=12
    )
    result, report, output = run_locust(live_site, tmp_path, 30, mode="lottery")
    assert result.returncode == 0, output
    assert report["violations"] == [] and report["mode"] == "lottery"
    assert (report["entered"], report["seats_taken"]) == (30, 8)
    roster = ledger.roster(fixture["event_id"])
    assert len(roster.attendees) == 8 and len(roster.waitlist) == 22 and not roster.entries


# The end check's rules alone, on made-up answers and ledgers.


def click(user: str, outcome: str, wave: int = 1, position: int | None = None, action="join"):
    return Click(user, wave, action, outcome, at=0.0, status=200, done=0.1, position=position)


def clean_run() -> tuple[list[Click], Ledger]:
    """2 seats, 4 users join: a, b seated; c, d wait; a, b cancel; c, d seated; a, b wait."""
    clicks = [
        click("a", "confirmed"), click("b", "confirmed"),
        click("c", "waitlisted", position=1), click("d", "waitlisted", position=2),
        click("a", "cancelled", action="cancel"), click("b", "cancelled", action="cancel"),
        click("a", "waitlisted", 2, 2), click("b", "waitlisted", 2, 1),
        click("c", "already_going", 2), click("d", "already_going", 2),
    ]  # fmt: skip
    return clicks, Ledger(2, 2, 2, going={"c", "d"}, positions={"a": 2, "b": 1})


def test_end_check_passes_a_clean_run():
    clicks, ledger_now = clean_run()
    report = judge(clicks, ledger_now, waves=2)
    assert report["violations"] == []
    assert (report["promoted"], report["cancelled"], report["going"]) == (2, 2, 2)


def test_end_check_catches_idle_seats_and_a_user_both_going_and_waiting():
    clicks, _ = clean_run()
    idle = Ledger(2, 1, 3, going={"c"}, positions={"a": 2, "b": 1, "d": 3})
    assert judge(clicks, idle, waves=2)["idle_seats_while_waiting"] == 1
    both = Ledger(2, 2, 2, going={"c", "d"}, positions={"a": 2, "d": 1})
    violations = judge(clicks, both, waves=2)["violations"]
    assert "both going and waiting: ['d']" in violations
    assert any(v.startswith("told a place on the list but not going") for v in violations)


def test_end_check_catches_places_told_twice():
    clicks, ledger_now = clean_run()
    clicks[2].position = 2  # c and d both told #2
    violations = judge(clicks, ledger_now, waves=2)["violations"]
    assert "wave 1: places told on the list are not 1..2 each once" in violations


def test_end_check_catches_a_promotion_out_of_order():
    """c was first in line, yet d and e got the two freed seats."""
    clicks = [
        click("a", "confirmed"), click("b", "confirmed"), click("c", "waitlisted", position=1),
        click("d", "waitlisted", position=2), click("e", "waitlisted", position=3),
        click("a", "cancelled", action="cancel"), click("b", "cancelled", action="cancel"),
        click("c", "already_waiting", 2, 1), click("a", "waitlisted", 2, 2),
        click("b", "waitlisted", 2, 3), click("d", "already_going", 2),
        click("e", "already_going", 2),
    ]  # fmt: skip
    ledger_now = Ledger(2, 2, 3, going={"d", "e"}, positions={"c": 1, "a": 2, "b": 3})
    report = judge(clicks, ledger_now, waves=2)
    assert report["violations"] == [
        "after wave 1: 2 cancels should have seated the first 2 waiting; "
        "2 were seated, 1 of those first were not"
    ]


def test_end_check_catches_a_draw_that_seated_too_many_or_lost_an_entrant():
    entrants = {"a", "b", "c", "d"}
    drawn_twice = Ledger(2, 3, 1, going={"a", "b", "c"}, positions={"c": 1})
    found = check_draw(drawn_twice, entrants)
    assert "3 seated after the draw; 2 expected" in found
    assert "both seated and waiting after the draw: ['c']" in found
    assert "entered, then neither seated nor waiting: ['d']" in found
    assert check_draw(Ledger(2, 2, 2, going={"a", "b"}, positions={"c": 1, "d": 2}), entrants) == []
