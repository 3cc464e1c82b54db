"""An approval in Debian's Chromium: a member asks, the organiser approves in the admin.

The member's page, left open, then says they are going without a reload
(the live seats follow the ledger); gunicorn with two workers serves both.
"""

from __future__ import annotations

import asyncio

import pytest
from playwright.async_api import expect

from events import ledger
from tests.browser import SCREENSHOTS, chromium, new_context
from tests.helpers import make_event, make_organiser, make_users, session_cookie

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]

LIVE_MS = 15_000  # a poll every 3 s, then the fragment: well inside this


async def ask_and_approve(site_url: str, event_id: int, member: dict, boss: dict) -> None:
    async with chromium() as browser:
        page = await (await new_context(browser, site_url, member)).new_page()
        await page.goto(f"{site_url}/events/{event_id}/")
        await page.get_by_role("button", name="Request to join").click()
        actions = page.locator("#actions")
        await expect(actions).to_contain_text(
            "Your request is waiting for the organiser's approval"
        )
        await expect(page.get_by_role("button", name="Withdraw request")).to_be_visible()

        admin = await (await new_context(browser, site_url, boss)).new_page()
        await admin.goto(f"{site_url}/admin/events/event/{event_id}/requests/")
        await admin.locator("tr.request").get_by_role("button", name="Approve").click()
        await expect(admin.locator(".messagelist")).to_contain_text("is approved and has a seat")
        await expect(admin.locator("#content")).to_contain_text("No requests are waiting.")

        await expect(actions).to_contain_text("You're going.", timeout=LIVE_MS)
        await expect(page.get_by_role("button", name="Cancel RSVP")).to_be_visible()
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=SCREENSHOTS / "approval-going.png", full_page=True)


def test_an_organiser_approves_and_the_members_page_says_going(live_site):
    boss = make_organiser("browser-approver")
    event = make_event(boss, 3, title="By invitation", requires_approval=True)
    (member,) = make_users(1, prefix="browser-asker")

    asyncio.run(
        ask_and_approve(live_site.url, event.pk, session_cookie(member), session_cookie(boss))
    )

    assert [a.user_id for a in ledger.attendees(event.pk)] == [member.pk]
    assert ledger.roster(event.pk).requests == ()
