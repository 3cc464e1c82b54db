"""What an event page says beside its times: the description (Markdown, sanitised),
the venue's map link, the join link (for people going only) and link previews."""

from __future__ import annotations

import re
from html import unescape

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from events import markup, services
from events.models import Event
from events.templatetags.event_display import when_text
from tests.helpers import bearer, logged_in, make_event, make_users

pytestmark = pytest.mark.django_db

JOIN = "https://meet.example.org/room-42?pwd=s3cret"
DESCRIPTION = re.compile(r'<div class="description">(.*?)</div>', re.S)
META = re.compile(r'<meta (?:name|property)="([^"]+)" content="([^"]*)">')
TAG = re.compile(r"<([a-zA-Z][a-zA-Z0-9]*)([^>]*)>")
ATTRIBUTE = re.compile(r"([^\s=]+)\s*=")
# What a description may contain, written out here so a looser sanitiser fails.
SAFE_TAGS = {"p", "br", "em", "strong", "code", "pre", "blockquote", "ul", "ol", "li", "a"}
SAFE_TAGS |= {"h2", "h3", "h4"}

# Each of these must come out without anything a browser would run.
HOSTILE = {
    "script tag": "Hi <script>alert(1)</script>",
    "script in markdown html block": "<div>\n<script>alert(1)</script>\n</div>",
    "javascript link": "[click](javascript:alert(1))",
    "javascript link, mixed case": "[click](JaVaScRiPt:alert(1))",
    "javascript in raw html": '<a href="javascript:alert(1)">click</a>',
    "onerror attribute": "<img src=x onerror=alert(1)>",
    "onclick on an allowed tag": "<em onclick=alert(1)>hi</em>",
    "data url link": "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "data url image": "![x](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
    "iframe": '<iframe src="https://evil.example"></iframe>',
    "style": "<style>body{display:none}</style>",
    "vbscript autolink": "<vbscript:msgbox(1)>",
}


@pytest.fixture
def members():
    return make_users(3, prefix="desc")


def description_html(client: Client, event) -> str:
    (found,) = DESCRIPTION.findall(client.get(event.get_absolute_url()).content.decode())
    return found


# --- Markdown, sanitised --------------------------------------------------------------


def test_markdown_renders_the_usual_things():
    html = markup.to_html(
        "# Agenda\n\nBring *snacks* and **friends**.\nSecond line.\n\n"
        "- one\n- two\n\n> quoted\n\n`code` and [site](https://example.org/a?b=1&c=2)"
    )
    assert "<h2>Agenda</h2>" in html  # the page's title is the h1
    assert "<em>snacks</em>" in html and "<strong>friends</strong>" in html
    assert "friends</strong>.<br>" in html  # one newline is a line break
    assert "<ul>\n<li>one</li>" in html and "<blockquote>" in html and "<code>code</code>" in html
    assert (
        '<a href="https://example.org/a?b=1&amp;c=2" rel="noopener noreferrer nofollow">site</a>'
        in html
    )
    assert "target=" not in html


@pytest.mark.parametrize("text", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_descriptions_come_out_inert(text):
    html = markup.to_html(text)  # what is escaped (&lt;...) is text: only real tags count
    for tag, attributes in TAG.findall(html):
        assert tag.lower() in SAFE_TAGS, html
        assert set(ATTRIBUTE.findall(attributes)) <= {"href", "rel", "start"}, html
        assert not re.search(r"(javascript|vbscript|data):", attributes, re.I), html


def test_the_sanitiser_alone_stops_html_that_markdown_let_through():
    """The second layer, should the Markdown options ever let raw HTML in."""
    html = markup.sanitise(
        '<script>alert(1)</script><p onclick="x()">hi <img src=x onerror=alert(1)>'
        '<a href="javascript:alert(1)">a</a> <a href="data:text/html,x">b</a>'
        '<a href="https://ok.example" target="_blank">c</a></p><iframe src=x></iframe>'
    )
    assert html == (
        '<p>hi <a rel="noopener noreferrer nofollow">a</a> <a rel="noopener noreferrer nofollow">'
        'b</a><a href="https://ok.example" rel="noopener noreferrer nofollow">c</a></p>'
    )


def test_raw_html_is_shown_as_text_not_run():
    assert markup.to_html("<b>bold?</b>") == "<p>&lt;b&gt;bold?&lt;/b&gt;</p>\n"


def test_the_event_page_renders_the_description_sanitised(organiser):
    event = make_event(
        organiser, 3, description="**Welcome** <script>alert(1)</script> [x](javascript:alert(1))"
    )
    html = description_html(Client(), event)
    assert "<strong>Welcome</strong>" in html
    assert "<script" not in html and 'href="javascript' not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html  # shown as typed


def test_a_plain_text_excerpt_for_previews():
    text = "## Big *night*\n\nFish & chips <script>x</script> " + "word " * 100
    plain = markup.excerpt(text)
    assert plain.startswith("Big night Fish & chips")
    assert "*" not in plain and "<h" not in plain and len(plain) <= markup.EXCERPT_CHARS


# --- The venue on a map ---------------------------------------------------------------


def test_the_venue_links_to_an_openstreetmap_search(organiser):
    event = make_event(organiser, 3, venue="Town Hall, Main St. & 5th")
    page = Client().get(event.get_absolute_url()).content.decode()
    url = "https://www.openstreetmap.org/search?query=Town+Hall%2C+Main+St.+%26+5th"
    assert f'<a href="{url.replace("&", "&amp;")}" rel="noopener noreferrer"' in page
    online = make_event(organiser, 3, venue="Online")
    assert "openstreetmap" not in Client().get(online.get_absolute_url()).content.decode()


# --- The join link: for people going, nobody else -------------------------------------


def test_the_join_link_is_shown_only_to_people_going(organiser, members):
    event = make_event(organiser, 1, online_url=JOIN)
    alice, bob, carol = members
    assert services.rsvp(event_id=event.pk, user_id=alice.pk).outcome == "confirmed"
    assert services.join_waitlist(event_id=event.pk, user_id=bob.pk).outcome == "waitlisted"
    shown = "room-42"
    assert shown in logged_in(alice).get(event.get_absolute_url()).content.decode()
    for client in (Client(), logged_in(bob), logged_in(carol)):
        assert shown not in client.get(event.get_absolute_url()).content.decode()
    services.cancel_rsvp(event_id=event.pk, user_id=alice.pk)  # bob takes the seat
    assert shown not in logged_in(alice).get(event.get_absolute_url()).content.decode()
    assert shown in logged_in(bob).get(event.get_absolute_url()).content.decode()


def test_the_api_gives_the_join_link_to_the_caller_going_only(organiser, members):
    event = make_event(organiser, 1, online_url=JOIN)
    alice, bob, _ = members
    rsvp = bearer(alice).post(f"/api/events/{event.pk}/rsvp")
    assert rsvp.status_code == 201 and rsvp.json()["event"]["join_url"] == JOIN
    detail = f"/api/events/{event.pk}/"
    assert bearer(alice).get(detail).json()["join_url"] == JOIN
    assert [e["join_url"] for e in bearer(alice).get("/api/me/rsvps/").json()] == [JOIN]
    assert "join_url" not in APIClient().get(detail).json()
    assert "join_url" not in bearer(bob).get(detail).json()
    assert all("join_url" not in e for e in bearer(alice).get("/api/events/").json()["results"])
    assert "room-42" not in APIClient().get("/api/events/").content.decode()


def test_without_a_join_link_the_api_says_nothing_of_one(organiser, members):
    event = make_event(organiser, 2)
    bearer(members[0]).post(f"/api/events/{event.pk}/rsvp")
    assert "join_url" not in bearer(members[0]).get(f"/api/events/{event.pk}/").json()


# --- Link previews and the canonical URL ----------------------------------------------


def test_event_pages_carry_open_graph_and_canonical_tags(organiser, settings):
    settings.SITE_URL = "https://events.example.org"
    event = make_event(
        organiser, 3, venue="Pier 7", description="## Come *along*\n\nFree <b>food</b> & music."
    )
    page = Client().get(event.get_absolute_url()).content.decode()
    url = f"https://events.example.org/events/{event.pk}/"
    assert f'<link rel="canonical" href="{url}">' in page
    meta = {name: unescape(value) for name, value in META.findall(page)}
    assert meta["og:url"] == url and meta["og:title"] == event.title
    assert meta["og:type"] == "website" and meta["twitter:card"] == "summary"
    when = when_text(Event.objects.get(pk=event.pk))
    assert meta["og:description"].startswith(f"{when} · Pier 7. Come along")
    assert meta["og:description"].endswith("Free <b>food</b> & music.")  # text, escaped once
    assert meta["description"] == meta["og:description"]
    assert "<b>" not in page.split("</head>")[0]


def test_other_pages_have_no_event_preview(organiser):
    make_event(organiser, 3)
    page = Client().get(reverse("events:list")).content.decode()
    assert "og:title" not in page and 'rel="canonical"' not in page
