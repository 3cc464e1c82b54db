"""The Content Security Policy on every kind of page, the admin's included.

Each page must carry the policy, and its HTML must hold nothing the policy
would block: no inline <script> or <style> without the response's nonce, no
style attribute or inline event handler (no nonce can allow those), no
javascript: URL, no script, stylesheet or image from another origin. Only
/api/docs/ adds one origin: the CDN serving Swagger UI.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from events import services
from tests.helpers import logged_in, make_event, make_users

pytestmark = pytest.mark.django_db

SITE_POLICY = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "object-src": ["'none'"],
    "base-uri": ["'self'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
}
SWAGGER_UI = "https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/"
RESOURCE_DIRECTIVES = {"script-src", "style-src", "img-src"}  # what /api/docs/ widens
# What browsers run as script; other types (application/json) are inert data.
SCRIPT_TYPES = {"", "text/javascript", "application/javascript", "module"}
NONCE = re.compile(r"'nonce-([^']+)'")


class PageCode(HTMLParser):
    """What in a page the policy governs: inline code and where resources come from."""

    def __init__(self) -> None:
        super().__init__()
        self.inline: list[tuple[str, str | None]] = []  # (tag, its nonce)
        self.style_attributes: list[str] = []
        self.handlers: list[str] = []
        self.javascript_urls: list[str] = []
        self.resources: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        if "style" in attributes:
            self.style_attributes.append(tag)
        self.handlers += [f"<{tag} {name}>" for name in attributes if name.startswith("on")]
        self.javascript_urls += [
            value
            for name in ("href", "src", "action", "formaction")
            if (value := attributes.get(name, "")).strip().lower().startswith("javascript:")
        ]
        if tag == "script" and "src" in attributes:
            self.resources.append(attributes["src"])
        elif tag == "style" or (
            tag == "script" and attributes.get("type", "").lower() in SCRIPT_TYPES
        ):
            self.inline.append((tag, attributes.get("nonce")))
        elif tag == "link" and {"stylesheet", "icon"} & set(attributes.get("rel", "").split()):
            self.resources.append(attributes["href"])
        elif tag == "img":
            self.resources.append(attributes["src"])


def policy_of(response) -> dict[str, list[str]]:
    header = response.headers.get("Content-Security-Policy")
    assert header, f"{response.request['PATH_INFO']} has no Content-Security-Policy"
    directives = (part.split() for part in header.split(";"))
    return {name: values for name, *values in directives}


def assert_obeys_policy(response, allowed_origin: str = "") -> PageCode:
    """The page's HTML runs under its policy as it is, and the policy is the site's."""
    path = response.request["PATH_INFO"]
    policy = policy_of(response)
    nonces = {NONCE.fullmatch(value)[1] for value in policy["script-src"] if NONCE.match(value)}
    assert nonces == {
        NONCE.fullmatch(value)[1] for value in policy["style-src"] if NONCE.match(value)
    }
    without_nonce = {
        name: [value for value in values if not NONCE.match(value)]
        for name, values in policy.items()
    }
    expected = {
        name: [*values, allowed_origin]
        if allowed_origin and name in RESOURCE_DIRECTIVES
        else values
        for name, values in SITE_POLICY.items()
    }
    assert without_nonce == expected, path

    page = PageCode()
    page.feed(response.content.decode())
    for tag, nonce in page.inline:
        assert nonce is not None, f"{path}: an inline <{tag}> without the nonce"
        assert nonces == {nonce}, f"{path}: an inline <{tag}> with another nonce"
    assert not page.style_attributes, f"{path}: style attributes on {page.style_attributes}"
    assert not page.handlers, f"{path}: inline event handlers {page.handlers}"
    assert not page.javascript_urls, f"{path}: javascript: URLs {page.javascript_urls}"
    for url in page.resources:
        own = url.startswith("/") and not url.startswith("//")
        assert own or (allowed_origin and url.startswith(allowed_origin)), f"{path}: {url}"
    return page


@pytest.fixture
def organiser():
    return get_user_model().objects.create_superuser("boss", "boss@example.com", "pw")


@pytest.fixture
def full_event(organiser):
    """A one-seat event with someone going and someone waiting: every admin table shows."""
    event = make_event(organiser, 1, title="Tiny", attendees_public=True)
    going, waiting = make_users(2, prefix="csp")
    services.rsvp(event_id=event.pk, user_id=going.pk)
    services.join_waitlist(event_id=event.pk, user_id=waiting.pk)
    return event, going, waiting


@pytest.mark.parametrize(
    "url_name",
    ["events:list", "account_login", "account_signup", "account_reset_password"],
)
def test_anonymous_pages_obey_the_policy(full_event, url_name):
    response = Client().get(reverse(url_name))
    assert response.status_code == 200
    assert_obeys_policy(response)


def test_event_page_and_my_rsvps_obey_the_policy(full_event):
    event, going, _ = full_event
    for client in (Client(), logged_in(going)):
        response = client.get(event.get_absolute_url())
        assert response.status_code == 200
        assert "Tiny" in response.content.decode()
        assert_obeys_policy(response)
    response = logged_in(going).get(reverse("events:my_rsvps"))
    assert response.status_code == 200 and "Tiny" in response.content.decode()
    page = assert_obeys_policy(response)
    assert any(url.startswith("/static/js/rsvp.") for url in page.resources)


def test_attendee_pages_obey_the_policy(full_event):
    """The attendee pages: cancel confirmation, past RSVPs, the live fragment, account pages."""
    event, going, _ = full_event
    client = logged_in(going)
    pages = [
        reverse("events:cancel", args=[event.pk]),
        reverse("events:my_past_rsvps"),
        reverse("events:seats", args=[event.pk]),
        reverse("account_email"),
        reverse("account_change_password"),
    ]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        assert_obeys_policy(response)
    page = assert_obeys_policy(client.get(event.get_absolute_url()))
    assert any(url.startswith("/static/js/live-seats.") for url in page.resources)
    wrong_method = client.put(event.get_absolute_url())
    assert wrong_method.status_code == 405
    assert_obeys_policy(wrong_method)
    stale = Client(enforce_csrf_checks=True)
    stale.force_login(going)
    refused = stale.post(reverse("events:rsvp", args=[event.pk]))
    assert refused.status_code == 403 and b"out of date" in refused.content
    assert_obeys_policy(refused)


def test_admin_pages_obey_the_policy(full_event, organiser):
    event, going, _ = full_event
    client = logged_in(organiser)
    pages = [
        reverse("admin:index"),
        reverse("admin:events_event_changelist"),
        reverse("admin:events_event_change", args=[event.pk]),
        reverse("admin:events_event_add"),
        reverse("admin:events_event_remove_attendee", args=[event.pk, going.pk]),
        reverse("admin:events_event_add_attendee", args=[event.pk]),
        reverse("admin:events_event_check_in", args=[event.pk]),
        reverse("admin:events_event_message", args=[event.pk]),
        reverse("admin:events_event_cancel", args=[event.pk]),
        reverse("admin:events_event_duplicate", args=[event.pk]),
        reverse("admin:events_event_repeat", args=[event.pk]) + "?every=week&count=3",
        reverse("admin:events_event_delete", args=[event.pk]),
        reverse("admin:auth_user_changelist"),
        reverse("admin:auth_user_change", args=[going.pk]),
    ]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        assert_obeys_policy(response)
    change_form = client.get(reverse("admin:events_event_change", args=[event.pk]))
    html = change_form.content.decode()
    assert "Remove…" in html and "admin/js/" in html


def test_admin_login_obeys_the_policy():
    response = Client().get(reverse("admin:login"), follow=True)  # the site's login page
    assert response.status_code == 200 and response.redirect_chain
    assert_obeys_policy(response)


def test_error_pages_obey_the_policy(full_event, settings, monkeypatch):
    event, _, _ = full_event
    not_found = Client().get("/no-such-page/")
    assert not_found.status_code == 404
    assert_obeys_policy(not_found)

    # 503 and 500 are rendered without the request's context processors; their
    # inline style must still carry the nonce.
    settings.MONGODB_URI, settings.MONGODB_TIMEOUT_MS = "mongodb://127.0.0.1:1", 300
    unavailable = Client().get(event.get_absolute_url())
    assert unavailable.status_code == 503
    assert assert_obeys_policy(unavailable).inline == [("style", policy_nonce(unavailable))]

    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr("events.selectors.event_cards", broken)
    failed = Client(raise_request_exception=False).get(reverse("events:list"))
    assert failed.status_code == 500
    assert assert_obeys_policy(failed).inline == [("style", policy_nonce(failed))]


def policy_nonce(response) -> str:
    return NONCE.search(response.headers["Content-Security-Policy"])[1]


def test_api_docs_allow_swagger_ui_from_its_cdn_alone():
    docs = Client().get(reverse("api:docs"))
    assert docs.status_code == 200
    page = assert_obeys_policy(docs, allowed_origin=SWAGGER_UI)
    assert "/api/docs/?script=" in page.resources, "start-up script from the site, not inline"
    # Everywhere else the CDN is not allowed.
    assert SWAGGER_UI not in Client().get(reverse("events:list"))["Content-Security-Policy"]
