"""Simultaneous clicks against a live gunicorn with two worker processes.

Every client gets ready first (logged in, event page loaded, CSRF token in
hand), then all wait at a barrier and POST at the same moment.
"""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from events import ledger
from tests.helpers import (
    csrf_token,
    fire_together,
    make_event,
    make_users,
    outcomes,
    session_cookie,
)

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]


class Clicker:
    """One browser-like client, primed to click RSVP on an event page."""

    def __init__(self, site_url: str, event_id: int, cookies: dict[str, str]) -> None:
        self.http = requests.Session()
        self.http.cookies.update(cookies)
        self.page_url = f"{site_url}/events/{event_id}/"
        self.rsvp_url = f"{site_url}/events/{event_id}/rsvp/"
        page = self.http.get(self.page_url, timeout=30)
        page.raise_for_status()
        self.token = csrf_token(page.text)
        # The click goes on a fresh connection: an idle keep-alive one may have
        # been closed by gunicorn while the other clients got ready.
        self.http.close()

    def click(self) -> tuple[int, list[str]]:
        response = self.http.post(
            self.rsvp_url,
            data={"csrfmiddlewaretoken": self.token},
            headers={"Referer": self.page_url},
            timeout=60,
        )
        return response.status_code, outcomes(response.text)


def primed(site_url: str, event_id: int, cookie_sets: list[dict[str, str]]) -> list[Clicker]:
    with ThreadPoolExecutor(max_workers=16) as pool:
        return list(pool.map(lambda c: Clicker(site_url, event_id, c), cookie_sets))


def test_two_hundred_users_race_for_five_seats(live_site, django_user_model):
    organiser = django_user_model.objects.create_user("racer-org", password="x", is_staff=True)
    event = make_event(organiser, 5)
    users = make_users(200, prefix="racer")
    clickers = primed(live_site.url, event.pk, [session_cookie(u) for u in users])

    results = fire_together([c.click for c in clickers])

    assert {status for status, _ in results} == {200}
    tally = Counter(o for _, found in results for o in found)
    assert tally == {"confirmed": 5, "full": 195}
    going = [a.user_id for a in ledger.attendees(event.pk)]
    assert len(going) == len(set(going)) == 5
    confirmed_users = {
        u.pk for u, (_, found) in zip(users, results, strict=True) if found == ["confirmed"]
    }
    assert confirmed_users == set(going)


def test_one_user_firing_twenty_clicks_gets_one_seat(live_site, django_user_model):
    organiser = django_user_model.objects.create_user("click-org", password="x", is_staff=True)
    event = make_event(organiser, 5)
    (user,) = make_users(1, prefix="clicker")
    cookies = session_cookie(user)
    clickers = primed(live_site.url, event.pk, [cookies] * 20)

    results = fire_together([c.click for c in clickers])

    assert {status for status, _ in results} == {200}
    tally = Counter(o for _, found in results for o in found)
    assert tally == {"confirmed": 1, "already_going": 19}
    assert [a.user_id for a in ledger.attendees(event.pk)] == [user.pk]
