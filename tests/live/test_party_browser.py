"""An RSVP with two guests in Debian's Chromium, against the site served by gunicorn.

While the member fills in the party form, someone else takes a seat through
the API: the page's live seats swap in the new seat line and buttons, and
what the member chose and typed is still there. The RSVP then seats the
party of three and the page says so.
"""

from __future__ import annotations

import asyncio

import pytest
from playwright.async_api import expect

from accounts.tokens import issue_access_token
from events import ledger
from events.models import Rsvp
from tests.browser import chromium, new_context
from tests.helpers import make_event, make_users, session_cookie

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]

# A poll every 3 s, counts up to 1 s old, then the fragment: well inside this.
LIVE_MS = 15_000


async def rsvp_with_guests(site_url: str, event_id: int, member: dict, other_token: str) -> None:
    async with chromium() as browser:
        context = await new_context(browser, site_url, member)
        page = await context.new_page()
        await page.goto(f"{site_url}/events/{event_id}/")
        await expect(page.locator("#seats")).to_contain_text("5 seats left")
        await page.get_by_label("Guests", exact=True).select_option("2")
        await page.get_by_text("Guests' names (optional)").click()
        await page.get_by_label("Guest 1").fill("Ann")

        taken = await context.request.post(
            f"{site_url}/api/events/{event_id}/rsvp",
            headers={"Authorization": f"Bearer {other_token}"},
        )
        assert taken.status == 201, await taken.text()
        await expect(page.locator("#seats")).to_contain_text("4 seats left", timeout=LIVE_MS)
        # The swap kept the party as the member left it.
        await expect(page.get_by_label("Guests", exact=True)).to_have_value("2")
        await expect(page.get_by_label("Guest 1")).to_have_value("Ann")

        await page.locator("#rsvp-button").click()
        await expect(page.locator("#actions")).to_contain_text("You're going: you + 2 guests.")
        await expect(page.locator("#seats")).to_contain_text("(4 of 5 taken)")


def test_a_member_rsvps_with_two_guests_in_chromium(live_site, organiser):
    event = make_event(organiser, 5, guests_allowed=2)
    member, other = make_users(2, prefix="browser-party-")

    asyncio.run(
        rsvp_with_guests(live_site.url, event.pk, session_cookie(member), issue_access_token(other))
    )

    assert {a.user_id: a.guests for a in ledger.attendees(event.pk)} == {other.pk: 0, member.pk: 2}
    assert Rsvp.objects.get(event=event, user=member).guest_names == ["Ann"]
