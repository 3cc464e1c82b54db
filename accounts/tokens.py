"""API access tokens issued without an HTTP login, for load-test fixtures and tests.

A token made here is exactly what ``POST /_allauth/app/v1/auth/login`` hands
out: the configured allauth token strategy signs it, and it names a real
logged-in session, so refreshing and stateful checks work as after a login.
"""

from __future__ import annotations

from collections.abc import Iterable
from importlib import import_module

from allauth.headless import app_settings as headless_settings
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.http import HttpRequest


def issue_access_tokens(users: Iterable[AbstractBaseUser]) -> dict[int, str]:
    """An access token per user (by pk), each over a new logged-in session.

    The strategy only needs what a login leaves on the request: the user and a
    saved session holding them, the same keys django.contrib.auth.login writes.
    """
    strategy = headless_settings.TOKEN_STRATEGY
    store = import_module(settings.SESSION_ENGINE).SessionStore
    backend = settings.AUTHENTICATION_BACKENDS[0]
    tokens: dict[int, str] = {}
    with transaction.atomic():
        for user in users:
            request = HttpRequest()
            request.user = user
            request.session = store()
            request.session[SESSION_KEY] = user._meta.pk.value_to_string(user)
            request.session[BACKEND_SESSION_KEY] = backend
            request.session[HASH_SESSION_KEY] = user.get_session_auth_hash()
            request.session.create()
            token = strategy.create_access_token(request)
            if token is None:
                raise RuntimeError("HEADLESS_TOKEN_STRATEGY issues no access tokens")
            tokens[user.pk] = token
    return tokens


def issue_access_token(user: AbstractBaseUser) -> str:
    return issue_access_tokens([user])[user.pk]
