"""A link from a delivered email, followed in Chromium: the page asks, the button does it.

The reminder is sent by a real worker to a real SMTP server; its give-up
link (on the site's address, ``SITE_URL``) is opened in Chromium against the
site served by gunicorn.
"""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta

import pytest
from playwright.async_api import expect

from events import ledger, services
from tests.browser import chromium, new_context
from tests.helpers import make_event, make_users, wait_for
from tests.mail import DATABASE_TASKS, mail_worker, smtp_sink

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]

AHEAD = timedelta(hours=2)
LINK = re.compile(r"https?://\S+/e/[^/\s]+/")


async def give_up_from_the_link(link: str) -> None:
    async with chromium() as browser:
        page = await (await new_context(browser, link)).new_page()
        await page.goto(link)
        await expect(page.get_by_role("heading", name="Give up your seat?")).to_be_visible()
        await page.get_by_role("button", name="Yes, give up my seat").click()
        await expect(
            page.get_by_role("heading", name=re.compile("RSVP is cancelled"))
        ).to_be_visible()


def test_a_reminders_link_gives_the_seat_up_in_chromium(tmp_path, settings, organiser, live_site):
    settings.TASKS = DATABASE_TASKS
    ann, bea = make_users(2, prefix="linked-")
    lead = int((AHEAD - timedelta(seconds=2)).total_seconds())
    event = make_event(organiser, 1, days=AHEAD / timedelta(days=1), reminders=[lead])
    services.rsvp(event_id=event.pk, user_id=ann.pk)
    services.join_waitlist(event_id=event.pk, user_id=bea.pk)

    with smtp_sink(tmp_path) as sink, mail_worker(tmp_path, sink, SITE_URL=live_site.url):
        reminded = lambda: [m for m in sink.messages() if "Reminder:" in m["Subject"]]  # noqa: E731
        assert wait_for(reminded, 30), sink.accepted()
    message = reminded()[0]
    assert message["To"] == ann.email
    link = LINK.search(message.get_body(preferencelist=("plain",)).get_content()).group(0)
    assert link.startswith(live_site.url)

    asyncio.run(give_up_from_the_link(link))

    assert [a.user_id for a in ledger.roster(event.pk).attendees] == [bea.pk]
