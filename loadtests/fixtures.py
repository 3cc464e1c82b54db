"""Accounts and logged-in sessions made in bulk, for load tools.

Making a thousand users through the signup form, or logging each in through
the login form, would spend the run on password hashing. These helpers write
what the signup (with its confirmed email) and login views would have written,
straight into Django's database: one password hash for everyone, one bulk
insert of users, one of their addresses, one of sessions.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.sessions.backends.base import VALID_KEY_CHARS
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.utils import timezone
from django.utils.crypto import get_random_string

from accounts.services import record_verified_emails


def make_users(count: int, prefix: str, password: str | None = None) -> list:
    """``count`` users named ``{prefix}{i}``; no usable password unless one is given."""
    User = get_user_model()
    hashed = make_password(password)
    names = [f"{prefix}{i}" for i in range(count)]
    User.objects.bulk_create(
        (User(username=name, email=f"{name}@example.com", password=hashed) for name in names),
        batch_size=500,
    )
    users = list(User.objects.filter(username__in=names).order_by("pk"))
    record_verified_emails(users=users)  # they log in with a password
    return users


def login_sessions(users: list) -> list[str]:
    """A logged-in session key per user, as the login view would have stored it."""
    encoder = SessionStore()
    expires = timezone.now() + timedelta(seconds=settings.SESSION_COOKIE_AGE)
    backend = settings.AUTHENTICATION_BACKENDS[0]
    keys = [get_random_string(32, VALID_KEY_CHARS) for _ in users]
    Session.objects.bulk_create(
        (
            Session(
                session_key=key,
                expire_date=expires,
                session_data=encoder.encode(
                    {
                        SESSION_KEY: str(user.pk),
                        BACKEND_SESSION_KEY: backend,
                        HASH_SESSION_KEY: user.get_session_auth_hash(),
                    }
                ),
            )
            for key, user in zip(keys, users, strict=True)
        ),
        batch_size=500,
    )
    return keys
