"""The locustfile itself, headless against the live site, and its end check.

The live runs must hold up (no violation, exact counts); a ledger broken on
purpose must make the end check fail. The end check's rules are also tested
alone, on made-up answers, where each broken invariant is cheap to stage.
"""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from events import ledger
from loadtests import ledger_benchmark
from loadtests.endcheck import Click, Ledger, check_draw, judge
from tests.locust_runs import make_fixture, run_locust


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
