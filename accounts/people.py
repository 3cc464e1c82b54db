"""How the site names and pictures a person: one place, read by pages, emails, admin and exports.

A username is how someone logs in, not what others call them: every place
that shows a person to someone shows ``display_name``; the username stays
where it is the login (the account pages, the admin's user list) and beside
the name in organisers' exports.
"""

from __future__ import annotations

import zlib

from django.contrib.auth.models import AbstractBaseUser

FORMER_MEMBER = "a former member"  # an attendee whose account was deleted
AVATAR_COLOURS = 8  # the palette of initials avatars (site.css .avatar-0 … .avatar-7)


def display_name(user: AbstractBaseUser | None) -> str:
    """The name people see: the one the person gave, else their username."""
    if user is None:
        return FORMER_MEMBER
    return user.get_full_name().strip() or user.get_username()


def initials(user: AbstractBaseUser | None) -> str:
    """Up to two letters for an avatar: "Alice Baker" → "AB", "qa_bob" → "Q"."""
    words = [w for w in display_name(user).replace("_", " ").split() if w[0].isalnum()]
    return "".join(w[0] for w in words[:2]).upper() or "?"


def avatar_colour(user: AbstractBaseUser | None) -> int:
    """A colour of the palette fixed by the account (stable across pages and renames)."""
    key = str(user.pk if user is not None else "").encode()
    return zlib.crc32(key) % AVATAR_COLOURS
