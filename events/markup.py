"""Event descriptions: Markdown in, safe HTML (or plain text) out; venue map links.

Two layers, so a gap in one is not a hole: markdown-it-py renders with raw
HTML turned off (typed HTML shows as text) and refuses ``javascript:``-like
links; nh3 then keeps only the tags and attributes below, and only http(s)
and mailto links. Organisers are trusted staff, but a description is shown
to every visitor, so it is treated as untrusted all the same.
"""

from __future__ import annotations

import html
import re
from functools import lru_cache
from urllib.parse import urlencode

import nh3
from django.utils.text import Truncator
from markdown_it import MarkdownIt

MAP_SEARCH = "https://www.openstreetmap.org/search"
ALLOWED_TAGS = {
    *("p", "br", "em", "strong", "code", "pre", "blockquote"),
    *("ul", "ol", "li", "a", "h2", "h3", "h4"),
}
ALLOWED_ATTRIBUTES = {"a": {"href"}, "ol": {"start"}}
# Links open in the same tab (no target=_blank: the visitor decides); rel
# keeps the event page out of the referrer and spam links out of rankings.
LINK_REL = "noopener noreferrer nofollow"
# The page's own title is the <h1>: a description's headings start one below.
TOP_HEADING = 2
LAST_HEADING = 4
EXCERPT_CHARS = 200
# Venues no map can find: no "Map" link beside them.
NOWHERE = {"", "online", "tba", "tbc"}
SPACES = re.compile(r"\s+")

# "breaks": a single newline is a line break, as organisers typing an
# address or an agenda line by line expect (and as descriptions read before).
_markdown = MarkdownIt("commonmark", {"html": False, "breaks": True})
_cleaner = nh3.Cleaner(
    tags=ALLOWED_TAGS,
    attributes=ALLOWED_ATTRIBUTES,
    link_rel=LINK_REL,
    url_schemes={"http", "https", "mailto"},
    clean_content_tags={"script", "style"},
)
_text_only = nh3.Cleaner(tags=set(), clean_content_tags={"script", "style"})


@lru_cache(maxsize=128)  # the same few descriptions are shown over and over
def to_html(text: str) -> str:
    """The description as sanitised HTML, ready to be marked safe."""
    tokens = _markdown.parse(text)
    for token in tokens:
        if token.type in ("heading_open", "heading_close"):
            level = min(int(token.tag[1]) + TOP_HEADING - 1, LAST_HEADING)
            token.tag = f"h{level}"
        for child in token.children or []:
            # No images (the CSP would block other sites' anyway): their words stay.
            if child.type == "image":
                child.type, child.tag, child.children = "text", "", None
    return sanitise(_markdown.renderer.render(tokens, _markdown.options, {}))


def sanitise(html_text: str) -> str:
    """Only the allowed tags and attributes, links to http(s) and mailto: the second layer."""
    return _cleaner.clean(html_text)


def excerpt(text: str, chars: int = EXCERPT_CHARS) -> str:
    """The description's opening words as plain text (for link previews), unescaped."""
    plain = html.unescape(_text_only.clean(to_html(text)))
    return Truncator(SPACES.sub(" ", plain).strip()).chars(chars)


def map_url(venue: str) -> str | None:
    """An OpenStreetMap search for the venue (no API key, no tracking script), if it is a place."""
    if venue.strip().casefold() in NOWHERE:
        return None
    return f"{MAP_SEARCH}?{urlencode({'query': venue.strip()})}"
