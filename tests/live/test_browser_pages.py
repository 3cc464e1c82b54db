"""The event page's live seats, and the pages on a phone, in Debian's Chromium.

Live seats: one member watches a three-seat event while others take its
seats through the API; without a reload, the watcher's page counts down and
ends on "Full" with the waiting-list button (and a page without JavaScript
stays as it was served). On a phone (360 x 740) the header takes two rows at
most, nothing scrolls sideways, every header link and seat button is a 44 px
tap target, and keyboard focus shows a clear ring. Screenshots go to
``var/screenshots/``.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.async_api import expect

from accounts.tokens import issue_access_token
from events import services
from events.models import Event
from tests.browser import SCREENSHOTS, chromium, new_context
from tests.helpers import make_event, make_users, session_cookie

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]

# A poll every 3 s, counts up to 1 s old, then the fragment: well inside this.
LIVE_MS = 15_000
PHONE = {"width": 360, "height": 740}
TAP_PX = 44
MEASURE = """(tap) => {
  const small = [...document.querySelectorAll(
    "header a, header summary, #actions button, #actions a, .tabs a, form button")]
    .filter((el) => el.offsetParent !== null)
    .map((el) => [el.textContent.trim(), el.getBoundingClientRect()])
    .filter(([, box]) => box.height < tap || box.width < tap)
    .map(([text, box]) => `${text}: ${box.width}x${box.height}`);
  return {
    header: document.querySelector("header").getBoundingClientRect().height,
    overflow: document.documentElement.scrollWidth - window.innerWidth,
    small,
  };
}"""


async def watch_seats_go(site_url: str, event_id: int, watcher: dict, tokens: list[str]) -> None:
    event_url = f"{site_url}/events/{event_id}/"
    api = f"{site_url}/api/events/{event_id}/rsvp"
    async with chromium() as browser:
        context = await new_context(browser, site_url, watcher)
        page = await context.new_page()
        static = await (await new_context(browser, site_url, java_script_enabled=False)).new_page()
        await page.goto(event_url)
        await static.goto(event_url)
        await expect(page.locator("#seats")).to_contain_text("3 seats left")
        await expect(page.locator("#rsvp-button")).to_be_enabled()
        await page.evaluate("window.notReloaded = true")

        async def take_seat(token: str) -> None:
            answer = await context.request.post(api, headers={"Authorization": f"Bearer {token}"})
            assert answer.status == 201, await answer.text()

        for token in tokens[:2]:
            await take_seat(token)
        await expect(page.locator("#seats")).to_contain_text("1 seat left", timeout=LIVE_MS)
        await take_seat(tokens[2])
        await expect(page.locator("#seats .badge.full")).to_have_text("Full", timeout=LIVE_MS)
        await expect(page.locator("#waitlist-button")).to_be_enabled()
        await expect(page.locator("#rsvp-button")).to_have_count(0)
        await expect(page.locator("#seats")).to_contain_text("(3 of 3 taken)")
        assert await page.evaluate("window.notReloaded"), "the page must update, not reload"
        # Without JavaScript the page is as it was served, and still works.
        await expect(static.locator("#seats")).to_contain_text("3 seats left")
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=SCREENSHOTS / "live-seats-full.png", full_page=True)


def test_event_page_follows_its_seats_while_open(live_site, django_user_model):
    organiser = django_user_model.objects.create_user("live-org", password="x")
    event = make_event(organiser, 3, title="Filling up")
    watcher, *takers = make_users(4, prefix="live")
    tokens = [issue_access_token(user) for user in takers]

    asyncio.run(watch_seats_go(live_site.url, event.pk, session_cookie(watcher), tokens))

    assert services.rsvp(event_id=event.pk, user_id=watcher.pk).outcome == "full"


async def phone_pages(site_url: str, session: dict, paths: dict[str, str]) -> dict:
    """Per page: header height, sideways overflow, and controls smaller than a fingertip."""
    measured = {}
    async with chromium() as browser:
        context = await new_context(browser, site_url, session, viewport=PHONE)
        page = await context.new_page()
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        for name, path in paths.items():
            await page.goto(site_url + path)
            measured[name] = await page.evaluate(MEASURE, TAP_PX)
            await page.screenshot(path=SCREENSHOTS / f"phone-{name}.png", full_page=True)
        await page.locator(".account-menu summary").click()
        await page.screenshot(path=SCREENSHOTS / "phone-account-menu.png")

        # Sign-up errors, each under its field, as a newcomer on a phone sees them.
        newcomer = await (await new_context(browser, site_url, viewport=PHONE)).new_page()
        await newcomer.goto(site_url + reverse("account_signup"))
        for field, value in [("email", "new@example.com"), ("username", "newcomer")]:
            await newcomer.fill(f'input[name="{field}"]', value)
        await newcomer.fill('input[name="password1"]', "abc")
        await newcomer.fill('input[name="password2"]', "abd")
        await newcomer.get_by_role("button", name="Sign up").click()
        await expect(newcomer.locator("#id_password2_error")).to_be_visible()
        measured["signup-errors"] = await newcomer.evaluate(MEASURE, TAP_PX)
        await newcomer.screenshot(path=SCREENSHOTS / "phone-signup-errors.png", full_page=True)

        # Keyboard focus: the first Tab lands on the brand link, with a ring to see.
        await page.goto(site_url + paths["home"])
        await page.keyboard.press("Tab")
        measured["focus"] = await page.evaluate(
            """() => {
              const style = getComputedStyle(document.activeElement);
              return {text: document.activeElement.textContent.trim(),
                      style: style.outlineStyle, width: parseFloat(style.outlineWidth)};
            }"""
        )
        await page.screenshot(path=SCREENSHOTS / "phone-focus.png")
    return measured


def test_pages_fit_a_phone_with_fingertip_targets_and_visible_focus(live_site, django_user_model):
    organiser = django_user_model.objects.create_user("phone-org", password="x", is_staff=True)
    (member,) = make_users(1, prefix="phone-member-with-a-long-name")
    event = make_event(organiser, 1, title="A one-seat evening with a rather long title")
    started = make_event(organiser, 5, title="On right now")
    party = make_event(organiser, 5, title="Bring your friends", guests_allowed=3)
    services.rsvp(event_id=event.pk, user_id=member.pk)
    services.rsvp(event_id=party.pk, user_id=member.pk, guests=2)
    Event.objects.filter(pk=started.pk).update(starts_at=timezone.now() - timedelta(minutes=30))
    paths = {
        "home": reverse("events:list"),
        "event-going": event.get_absolute_url(),
        "event-party": party.get_absolute_url(),  # the party's change form
        "cancel-confirm": reverse("events:cancel", args=[event.pk]),
        "my-rsvps": reverse("events:my_rsvps"),
        "account-email": reverse("account_email"),
    }

    measured = asyncio.run(phone_pages(live_site.url, session_cookie(member), paths))

    focus = measured.pop("focus")
    assert focus["text"] == "Eventsite" and focus["style"] != "none" and focus["width"] >= 2
    for name, page in measured.items():
        assert page["overflow"] <= 0, f"{name} scrolls sideways by {page['overflow']} px"
        assert page["header"] <= 2 * TAP_PX + 16, f"{name}: header {page['header']} px high"
        assert not page["small"], f"{name}: tap targets under {TAP_PX} px: {page['small']}"
