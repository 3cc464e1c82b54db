"""One-click actions from an email: signed links that give up a seat or a place without a login.

A link names one action, one event and one person, signed with the site's
key (Django's signing, salted for this use alone), so nobody can make one
for someone else or change what it says. It needs no expiry of its own: it
works until the event starts, after which the rules refuse every change and
the page says so. A GET only shows what the link would do (mail scanners and
link previews fetch links); the POST does it, through the same services as
the event page (``services.carry_out_email_action``).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from django.conf import settings
from django.core import signing
from django.urls import reverse

SALT = "events.email-action"


class Action(StrEnum):
    CANCEL_RSVP = "cancel"  # give up my seat
    LEAVE_WAITLIST = "leave"  # leave the waiting list
    KEEP_SEAT = "keep"  # "still coming?": yes, keep my seat


@dataclass(frozen=True)
class Link:
    action: Action
    event_id: int
    user_id: int


class BadLink(ValueError):
    """A token that was not made here, or was changed since."""


def link_url(*, action: Action, event_id: int, user_id: int) -> str:
    """The address, on ``SITE_URL``, of the action for that person and event."""
    token = signing.dumps([str(action), event_id, user_id], salt=SALT)
    return settings.SITE_URL + reverse("events:email_action", args=[token])


def read_link(token: str) -> Link:
    try:
        action, event_id, user_id = signing.loads(token, salt=SALT)
        return Link(Action(action), int(event_id), int(user_id))
    except (signing.BadSignature, ValueError, TypeError) as exc:
        raise BadLink("not a link this site made") from exc
