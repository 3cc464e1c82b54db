"""axe-core finds no accessibility violation on any page of the site.

axe-core comes from npm (package.json pins it; ``make test`` runs ``npm ci``)
and runs in Debian's Chromium against the live gunicorn, page by page, as an
anonymous visitor and as a member with a seat, a place in line, a past event
and the account menu open. It is injected with ``page.evaluate`` of its
source: the pages keep their real Content Security Policy (no bypass_csp),
which would refuse it as an inline <script>, while evaluate runs it through
the DevTools protocol, outside the page's policy.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from events import services
from events.models import Event
from events.services import draws
from tests.browser import chromium, new_context
from tests.helpers import (
    ROOT,
    draw_time_comes,
    make_event,
    make_users,
    opening_with_a_draw,
    session_cookie,
)

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]

AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
RUN_AXE = """async () => {
  const results = await axe.run(document, { resultTypes: ["violations"] });
  return results.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => n.target.join(" ")),
  }));
}"""


async def violations(page, source: str) -> list[dict]:
    await page.evaluate(source)
    return await page.evaluate(RUN_AXE)


async def audit(site_url: str, anonymous: list[str], member: list[str], session: dict) -> dict:
    """Each page's violations; then the account menu open, the 403 page and the message banner."""
    source = AXE.read_text()
    found: dict[str, list[dict]] = {}
    async with chromium() as browser:
        for who, cookie, paths in (("anonymous", None, anonymous), ("member", session, member)):
            context = await new_context(browser, site_url, cookie)
            page = await context.new_page()
            for path in paths:
                await page.goto(site_url + path)
                found[f"{who} {path}"] = await violations(page, source)
            await context.close()

        context = await new_context(browser, site_url, session)
        page = await context.new_page()
        await page.goto(site_url + member[0])
        await page.locator(".account-menu summary").click()
        found["account menu, open"] = await violations(page, source)
        # A stale form: its CSRF cookie gone, the RSVP click gets the site's 403 page.
        await page.goto(site_url + anonymous[1])
        await context.clear_cookies(name="csrftoken")
        await page.locator("#rsvp-button").click()
        await page.get_by_role("heading", name="This page was out of date").wait_for()
        found["403 (CSRF)"] = await violations(page, source)
        # The message banner, after an RSVP.
        await page.goto(site_url + anonymous[1])
        await page.locator("#rsvp-button").click()
        await page.locator("[data-outcome]").wait_for()
        found["message banner"] = await violations(page, source)
        await context.close()
    return found


def test_no_axe_violations_on_any_page(live_site, django_user_model):
    assert AXE.exists(), f"{AXE} is missing: `make test` installs it (npm ci)"
    organiser = django_user_model.objects.create_user("axe-org", password="x", is_staff=True)
    member, holder = make_users(2, prefix="axe")
    # Guests allowed: the party form, and (where the member goes with a guest) its change.
    open_event = make_event(organiser, 5, title="Open", attendees_public=True, guests_allowed=2)
    full = make_event(organiser, 1, title="Full, member waits")
    full_other = make_event(organiser, 1, title="Full, member may join")
    going = make_event(organiser, 3, title="Going", guests_allowed=2)
    last_seat = make_event(organiser, 1, title="Member holds the last seat")
    started = make_event(organiser, 3, title="Happening now")
    for event, user in ((full, holder), (full_other, holder), (started, member)):
        services.rsvp(event_id=event.pk, user_id=user.pk)
    services.rsvp(event_id=going.pk, user_id=member.pk, guests=1, guest_names=["Ann"])
    services.rsvp(event_id=last_seat.pk, user_id=member.pk)
    services.join_waitlist(event_id=full.pk, user_id=member.pk)
    Event.objects.filter(pk=started.pk).update(starts_at=timezone.now() - timedelta(hours=1))
    # A draw the member entered (its entry on My RSVPs too), and one drawn (its seed shown).
    drawing = opening_with_a_draw(organiser, 2, title="Draw, member entered")
    drawn = opening_with_a_draw(organiser, 2, title="Drawn")
    services.rsvp(event_id=drawing.pk, user_id=member.pk)
    services.rsvp(event_id=drawn.pk, user_id=holder.pk)
    draw_time_comes(drawn)
    draws.hold_draw(event_id=drawn.pk)

    anonymous = [
        reverse("events:list"),
        open_event.get_absolute_url(),
        full.get_absolute_url(),
        drawing.get_absolute_url(),
        drawn.get_absolute_url(),
        reverse("account_login"),
        reverse("account_signup"),
        reverse("account_reset_password"),
        "/no-such-page/",
    ]
    member_pages = [
        reverse("events:list"),
        open_event.get_absolute_url(),
        full.get_absolute_url(),
        full_other.get_absolute_url(),
        going.get_absolute_url(),
        last_seat.get_absolute_url(),
        drawing.get_absolute_url(),
        reverse("events:cancel", args=[last_seat.pk]),
        reverse("events:my_rsvps"),
        reverse("events:my_past_rsvps"),
        reverse("account_email"),
        reverse("account_change_password"),
        "/no-such-page/",
    ]

    found = asyncio.run(audit(live_site.url, anonymous, member_pages, session_cookie(member)))

    assert len(found) == len(anonymous) + len(member_pages) + 3, "every page was audited"
    failing = {page: problems for page, problems in found.items() if problems}
    assert not failing, "\n".join(
        f"{page}: {p['impact']} {p['id']} ({p['help']}) at {p['nodes']}"
        for page, problems in failing.items()
        for p in problems
    )
