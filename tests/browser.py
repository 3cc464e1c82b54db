"""Debian's Chromium driven by Playwright, for the browser tests.

``make test`` installs Chromium through apt when missing; nothing is
downloaded. Playwright runs on its async API inside ``asyncio.run``: Django's
ORM refuses to run inside an event loop, so tests prepare the database before
and read it after.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from django.conf import settings
from playwright.async_api import Browser, BrowserContext, async_playwright

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 30_000
SCREENSHOTS = settings.VAR_DIR / "screenshots"


@asynccontextmanager
async def chromium() -> AsyncIterator[Browser]:
    assert CHROMIUM.exists(), f"{CHROMIUM} is missing: `make test` installs Debian's chromium"
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, timeout=TIMEOUT_MS
        )
        try:
            yield browser
        finally:
            await browser.close()


async def new_context(
    browser: Browser, site_url: str, session: dict[str, str] | None = None, **options
) -> BrowserContext:
    """An isolated context, logged in when given a session cookie (tests.helpers.session_cookie)."""
    options.setdefault("viewport", {"width": 1000, "height": 700})
    context = await browser.new_context(**options)
    context.set_default_timeout(TIMEOUT_MS)
    if session:
        await context.add_cookies(
            [{"name": name, "value": value, "url": site_url} for name, value in session.items()]
        )
    return context
