"""Clicks on the event page's forms, as a browser sends them, for ``make bench``.

``Browserish`` loads the event page once for its CSRF token; any number of
logged-in users then click through it (``/events/<id>/rsvp/``, ``waitlist/``,
``cancel/``), each POST carrying the session cookie of the user clicking.
``outcome`` reads what the site said back: the page's flash message is a
signed cookie tagged ``outcome-<name>`` (see ``events.views``), decoded here
with the same secret key, as the next page view would.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import requests
from django.conf import settings
from django.contrib.messages.storage.cookie import CookieStorage, MessageSerializer
from django.core import signing

from loadtests.forms import csrf_token

ACTIONS = ("rsvp", "waitlist", "cancel")  # the page's forms: /events/<id>/<action>/
IDLE_S = 1.0  # a connection idle this long is not reused: gunicorn drops them at 2 s


class Browserish:
    """An HTTP client primed like a browser: event page loaded, CSRF token in hand.

    Any number of logged-in users can click through it: each POST carries the
    session cookie of the user clicking and the CSRF cookie this client got.
    """

    def __init__(self, site_url: str, event_id: int, session_key: str) -> None:
        self.session_cookie = settings.SESSION_COOKIE_NAME
        self.csrf_cookie_name = settings.CSRF_COOKIE_NAME
        self.http = requests.Session()
        self.page_url = f"{site_url}/events/{event_id}/"
        self.urls = {action: f"{self.page_url}{action}/" for action in ACTIONS}
        self.landing = f"/events/{event_id}/"
        page = self.http.get(self.page_url, cookies={self.session_cookie: session_key}, timeout=60)
        page.raise_for_status()
        token = csrf_token(page.text)
        if not token or self.csrf_cookie_name not in self.http.cookies:
            raise RuntimeError(f"no form for a logged-in user on {self.page_url}")
        self.csrf_cookie = self.http.cookies[self.csrf_cookie_name]
        self.token = token
        self.http.cookies.clear()
        # Clicks start on a fresh connection: gunicorn closes keep-alive ones
        # left idle for 2 s, which those primed first would be by the start.
        self.http.close()
        self.last_click = 0.0

    def click(self, action: str, session_key: str) -> requests.Response:
        """One click on the page's form that posts to ``/events/<id>/<action>/``."""
        if time.monotonic() - self.last_click > IDLE_S:
            self.http.close()  # a fresh connection rather than one the server may be closing
        response = self.http.post(
            self.urls[action],
            data={"csrfmiddlewaretoken": self.token},
            cookies={self.session_cookie: session_key, self.csrf_cookie_name: self.csrf_cookie},
            headers={"Referer": self.page_url},
            allow_redirects=False,
            timeout=120,
        )
        self.http.cookies.clear()  # no message cookies carried from one user to the next
        self.last_click = time.monotonic()
        return response

    def rsvp(self, session_key: str) -> bool:
        """One RSVP click: True when the site answers with its redirect to the event page."""
        response = self.click("rsvp", session_key)
        return response.status_code == 302 and response.headers["Location"] == self.landing

    def outcome(self, response: requests.Response) -> str | None:
        """What the site told the clicker (an ``events.ledger.Outcome`` value).

        None unless it redirected back to the event page with one outcome message.
        """
        if response.status_code != 302 or response.headers.get("Location") != self.landing:
            return None
        cookie = response.cookies.get(CookieStorage.cookie_name)
        signer = signing.get_cookie_signer(salt=CookieStorage.key_salt)
        try:
            messages = signer.unsign_object(cookie or "", serializer=MessageSerializer)
        except (signing.BadSignature, ValueError):
            return None
        tags = [t for m in messages for t in m.extra_tags.split() if t.startswith("outcome-")]
        return tags[0].removeprefix("outcome-") if len(tags) == 1 else None


def primed(site_url: str, event_id: int, session_keys: list[str]) -> list[Browserish]:
    with ThreadPoolExecutor(max_workers=16) as pool:
        return list(pool.map(lambda key: Browserish(site_url, event_id, key), session_keys))
