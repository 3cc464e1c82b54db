"""The locustfile's other modes headless against the live site: parties, approvals, a draw.

Each mode's run must hold up with its own end check (loadtests/modes.py);
apart from ``test_locust.py`` so the two test processes share the long runs.
"""

from __future__ import annotations

import pytest

from events import ledger
from tests.locust_runs import make_fixture, run_locust


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
    fixture = make_fixture(live_site, tmp_path / "fixture.json", users=30, capacity=8, lottery_in=8)
    result, report, output = run_locust(live_site, tmp_path, 30, mode="lottery")
    assert result.returncode == 0, output
    assert report["violations"] == [] and report["mode"] == "lottery"
    assert (report["entered"], report["seats_taken"]) == (30, 8)
    roster = ledger.roster(fixture["event_id"])
    assert len(roster.attendees) == 8 and len(roster.waitlist) == 22 and not roster.entries
