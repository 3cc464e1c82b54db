"""Two real browsers race for the last seat: the manual test of the API contract, automated.

Debian's Chromium (``make test`` installs it through apt when missing; nothing
is downloaded) is driven by Playwright against the live gunicorn. Two isolated
browser contexts log in as two users through the real login page, open an
event of capacity 1, and click RSVP at the same moment: one page must say
"You're going", the other "Full", and the ledger must hold exactly one seat.
Screenshots of both pages are kept under ``var/test-artifacts/``.

Its sibling hands a seat down the waiting list: on a full one-seat event, one
browser holds the seat, the other joins the waiting list (#1), the first
cancels (saying yes to the page's question: someone waits), and the second,
on reload, is going; the ledger agrees.

Playwright runs on its async API inside ``asyncio.run``, so both clicks are
sent together; the database is prepared before the event loop starts and read
after it stops, because Django's ORM refuses to run inside one.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import pytest
from django.conf import settings
from playwright.async_api import BrowserContext, Dialog, Page, expect

from events import ledger
from tests.browser import TIMEOUT_MS, chromium
from tests.helpers import PASSWORD, make_event, make_users

pytestmark = [
    pytest.mark.live,
    pytest.mark.django_db(transaction=True),
    pytest.mark.real_password_hashing,  # they log in through the login page
]

# Runs in every page before its own scripts. A listener on window hears a
# submit after static/js/rsvp.js (which listens on document) has handled it,
# and reports what the form looks like at that instant: while the POST is in
# flight, before any navigation.
REPORT_SUBMITS = """
window.addEventListener("submit", (event) => {
  const form = event.target;
  if (!form.classList.contains("rsvp-form")) return;
  const buttons = [...form.querySelectorAll("button")];
  window.reportSubmit({
    action: form.getAttribute("action"),
    prevented: event.defaultPrevented,
    allDisabled: buttons.length > 0 && buttons.every((b) => b.disabled),
    busy: buttons.every((b) => b.getAttribute("aria-busy") === "true"),
    at: performance.timeOrigin + performance.now(),
  });
});
"""


@dataclass
class Visitor:
    """One person in one isolated browser context."""

    username: str
    context: BrowserContext
    page: Page
    submits: list[dict] = field(default_factory=list)
    submitted: asyncio.Event = field(default_factory=asyncio.Event)
    dialogs: list[str] = field(default_factory=list)

    @classmethod
    async def open(cls, browser, username: str) -> Visitor:
        context = await browser.new_context(viewport={"width": 1000, "height": 700})
        context.set_default_timeout(TIMEOUT_MS)
        page = await context.new_page()
        visitor = cls(username, context, page)
        await context.expose_binding("reportSubmit", visitor._on_submit)
        await context.add_init_script(REPORT_SUBMITS)
        return visitor

    def _on_submit(self, _source, payload: dict) -> None:
        self.submits.append(payload)
        self.submitted.set()

    async def log_in(self, site_url: str) -> None:
        page = self.page
        await page.goto(f"{site_url}/accounts/login/")
        await page.fill('input[name="login"]', self.username)
        await page.fill('input[name="password"]', PASSWORD)
        async with page.expect_navigation(url=f"{site_url}/"):
            await page.get_by_role("button", name="Log in").click()
        await expect(page.locator("[data-outcome]")).to_have_text(
            f"You are logged in as {self.username}."
        )
        await expect(page.locator(".account-menu .username")).to_have_text(self.username)

    async def open_event(self, event_url: str, button: str = "#rsvp-button") -> None:
        """Open the event page and wait until ``button`` can be clicked."""
        await self.page.goto(event_url)
        await expect(self.page.locator(button)).to_be_enabled()

    async def click(self, selector: str, event_url: str) -> None:
        """Submit a seat form's button; wait until the redirect lands back on the event page."""
        self.submitted.clear()
        async with self.page.expect_navigation(url=event_url):
            await self.page.locator(selector).click()
        await asyncio.wait_for(self.submitted.wait(), TIMEOUT_MS / 1000)

    async def click_rsvp(self, event_url: str) -> None:
        await self.click("#rsvp-button", event_url)

    async def join_waitlist(self, event_url: str) -> None:
        await self.click("#waitlist-button", event_url)

    async def cancel(self, event_url: str) -> None:
        """Cancel RSVP; on a full event the page asks first, and this says yes."""

        async def accept(dialog: Dialog) -> None:
            self.dialogs.append(dialog.message)
            await dialog.accept()

        self.page.once("dialog", accept)
        await self.click("#cancel-button", event_url)

    async def reload(self) -> None:
        await self.page.reload()

    async def outcome(self) -> str:
        message = self.page.locator("[data-outcome]")
        await expect(message).to_have_count(1)
        return await message.get_attribute("data-outcome")

    async def screenshot(self, name: str) -> None:
        artifacts = settings.VAR_DIR / "test-artifacts"
        artifacts.mkdir(parents=True, exist_ok=True)
        await self.page.screenshot(path=artifacts / f"{name}.png", full_page=True)


@asynccontextmanager
async def two_visitors(usernames: list[str]) -> AsyncIterator[tuple[Visitor, Visitor]]:
    """Debian's Chromium with one isolated context per user; closed on the way out."""
    async with chromium() as browser:
        yield tuple([await Visitor.open(browser, name) for name in usernames])


async def race_for_last_seat(site_url: str, event_id: int, usernames: list[str]) -> dict:
    event_url = f"{site_url}/events/{event_id}/"
    async with two_visitors(usernames) as (a, b):
        await asyncio.gather(a.log_in(site_url), b.log_in(site_url))
        await asyncio.gather(a.open_event(event_url), b.open_event(event_url))

        # Both pages are ready: both clicks go out together.
        await asyncio.gather(a.click_rsvp(event_url), b.click_rsvp(event_url))

        outcomes = {a.username: await a.outcome(), b.username: await b.outcome()}
        for visitor in (a, b):
            page = visitor.page
            if outcomes[visitor.username] == "outcome-confirmed":
                # Said once, by the message: not again by the page's own status line.
                await expect(page.locator("[data-outcome]")).to_have_text("You're going!")
                await expect(page.get_by_text("You're going", exact=False)).to_have_count(1)
                # The last seat: giving it back asks first.
                await expect(page.get_by_role("link", name="Cancel RSVP…")).to_be_visible()
            elif outcomes[visitor.username] == "outcome-full":
                # The event's waiting list is open (the default), so it is offered.
                await expect(page.locator("[data-outcome]")).to_have_text("Event is full")
                await expect(page.locator("#seats .badge.full")).to_have_text("Full")
                await expect(page.locator("#waitlist-button")).to_be_enabled()
                await expect(page.locator("#rsvp-button")).to_have_count(0)
        await a.screenshot("browser-race-a")
        await b.screenshot("browser-race-b")
        return {
            "outcomes": outcomes,
            "submits": {a.username: a.submits, b.username: b.submits},
        }


def test_two_browsers_click_rsvp_at_once_for_the_last_seat(live_site, django_user_model):
    organiser = django_user_model.objects.create_user("browser-org", password="x", is_staff=True)
    event = make_event(organiser, 1, title="One seat left")
    users = make_users(2, prefix="browser")
    usernames = [u.username for u in users]

    result = asyncio.run(race_for_last_seat(live_site.url, event.pk, usernames))

    outcomes = result["outcomes"]
    assert sorted(outcomes.values()) == ["outcome-confirmed", "outcome-full"]
    (winner,) = [name for name, outcome in outcomes.items() if outcome == "outcome-confirmed"]
    going = [a.user_id for a in ledger.attendees(event.pk)]
    assert going == [next(u.pk for u in users if u.username == winner)]

    # rsvp.js disabled each page's RSVP button the moment its form was submitted.
    for name, submits in result["submits"].items():
        assert len(submits) == 1, f"{name}'s page should submit its RSVP form once"
        (submit,) = submits
        assert submit["action"] == f"/events/{event.pk}/rsvp/"
        assert not submit["prevented"], "the first submit must go through"
        assert submit["allDisabled"] and submit["busy"], f"{name}'s button stayed enabled"
    first, second = sorted(s[0]["at"] for s in result["submits"].values())
    print(f"two browsers submitted {second - first:.1f} ms apart")


async def seat_passes_down_the_waiting_list(
    site_url: str, event_id: int, usernames: list[str]
) -> dict:
    """A holds the only seat, B waits; A cancels and B, on reload, is going."""
    event_url = f"{site_url}/events/{event_id}/"
    async with two_visitors(usernames) as (a, b):
        await asyncio.gather(a.log_in(site_url), b.log_in(site_url))

        await a.open_event(event_url)
        await a.click_rsvp(event_url)
        assert await a.outcome() == "outcome-confirmed"

        # B finds the event full and joins the waiting list.
        await b.open_event(event_url, button="#waitlist-button")
        await expect(b.page.locator("#seats .badge.full")).to_have_text("Full")
        await expect(b.page.locator("#rsvp-button")).to_have_count(0)
        await b.join_waitlist(event_url)
        assert await b.outcome() == "outcome-waitlisted"
        await expect(b.page.locator("[data-outcome]")).to_contain_text(
            "You're #1 on the waiting list."
        )
        await expect(b.page.get_by_text("#1 on the waiting list")).to_have_count(1)
        await expect(b.page.locator("#leave-waitlist-button")).to_be_enabled()
        await b.screenshot("browser-waitlist-b-waiting")

        # A's open page learns by itself that someone now waits (live-seats.js).
        await expect(a.page.locator("#seats")).to_contain_text(
            "(1 of 1 taken, 1 on the waiting list)", timeout=15_000
        )
        # The swapped-in status line replaced the message of A's click: said once.
        await expect(a.page.get_by_text("You're going")).to_have_count(1)
        await expect(a.page.locator("#actions .going")).to_have_text("You're going.")
        # So A's cancel asks first, saying so, and A says yes. The
        # same write hands the seat to B, so the event stays full and A is
        # offered the waiting list, not a free seat.
        await a.cancel(event_url)
        cancelled = await a.outcome()
        assert a.dialogs == [
            "Cancel your RSVP? The event is full and 1 person is waiting: your seat goes to"
            " them at once. You may not get it back."
        ]
        await expect(a.page.locator("#seats .badge.full")).to_have_text("Full")
        await expect(a.page.locator("#seats")).to_contain_text("(1 of 1 taken)")
        await expect(a.page.locator("#waitlist-button")).to_be_enabled()
        await expect(a.page.locator("#rsvp-button")).to_have_count(0)
        await expect(a.page.locator("#actions .going")).to_have_count(0)
        await a.screenshot("browser-waitlist-a-cancelled")

        # B reloads (its open page would catch up by itself within seconds): B holds the seat.
        await b.reload()
        await expect(b.page.locator("#actions .going")).to_have_text("You're going.")
        await expect(b.page.locator("#seats")).to_contain_text("(1 of 1 taken)")
        await expect(b.page.locator("#cancel-button")).to_be_visible()
        await expect(b.page.locator("#leave-waitlist-button")).to_have_count(0)
        await expect(b.page.locator("#actions .waiting")).to_have_count(0)
        await expect(b.page.locator("[data-outcome]")).to_have_count(0)
        await b.screenshot("browser-waitlist-b-promoted")

        return {
            "cancelled": cancelled,
            "submits": {
                a.username: [s["action"] for s in a.submits],
                b.username: [s["action"] for s in b.submits],
            },
        }


def test_cancelling_in_one_browser_seats_the_waiting_one_in_the_other(live_site, django_user_model):
    organiser = django_user_model.objects.create_user("waitlist-org", password="x", is_staff=True)
    event = make_event(organiser, 1, title="One seat, a waiting list")
    holder, waiter = make_users(2, prefix="waitlist")

    result = asyncio.run(
        seat_passes_down_the_waiting_list(
            live_site.url, event.pk, [holder.username, waiter.username]
        )
    )

    assert result["cancelled"] == "outcome-cancelled"
    assert [a.user_id for a in ledger.attendees(event.pk)] == [waiter.pk]
    assert ledger.waitlist(event.pk) == []
    assert result["submits"] == {
        holder.username: [f"/events/{event.pk}/rsvp/", f"/events/{event.pk}/cancel/"],
        waiter.username: [f"/events/{event.pk}/waitlist/"],
    }
