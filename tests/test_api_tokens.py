"""API tokens: each must carry an expiry, and a reused refresh token ends its chain."""

from __future__ import annotations

import jwt
import pytest
from django.conf import settings
from django.test import Client
from rest_framework.test import APIClient

from accounts.tokens import issue_access_token
from tests.helpers import PASSWORD, make_users
from tests.test_api import LOGIN_URL, REFRESH_URL

pytestmark = pytest.mark.django_db

SESSION_URL = "/_allauth/app/v1/auth/session"


def without_expiry(token: str) -> str:
    """The token's own claims but ``exp``, signed again with the site's real key."""
    claims = jwt.decode(token, options={"verify_signature": False})
    del claims["exp"]
    return jwt.encode(claims, settings.HEADLESS_JWT_PRIVATE_KEY, algorithm="RS256")


def log_in(user) -> dict:
    credentials = {"username": user.username, "password": PASSWORD}
    response = Client().post(LOGIN_URL, credentials, content_type="application/json")
    assert response.status_code == 200, response.content
    return response.json()["meta"]


def refresh(refresh_token: str):
    body = {"refresh_token": refresh_token}
    return Client().post(REFRESH_URL, body, content_type="application/json")


def test_an_access_token_without_expiry_is_refused_by_the_api_and_by_allauth():
    (user,) = make_users(1, prefix="noexp")
    token = without_expiry(issue_access_token(user))
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert api.get("/api/me/rsvps/").status_code == 401
    session = Client().get(SESSION_URL, HTTP_AUTHORIZATION=f"Bearer {token}")
    assert session.status_code == 401, session.content  # allauth: not signed in


def test_a_refresh_token_without_expiry_is_refused():
    (user,) = make_users(1, prefix="noexprefresh")
    meta = log_in(user)
    assert refresh(without_expiry(meta["refresh_token"])).status_code == 400
    assert refresh(meta["refresh_token"]).status_code == 200  # the real one is untouched


def test_a_reused_refresh_token_ends_its_chain(settings):
    settings.HEADLESS_JWT_STATEFUL_VALIDATION_ENABLED = True  # access tokens die with it
    (user,) = make_users(1, prefix="reuse")
    first = log_in(user)
    second = refresh(first["refresh_token"])
    assert second.status_code == 200, second.content
    newest = second.json()["data"]
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {newest['access_token']}")
    assert api.get("/api/me/rsvps/").status_code == 200

    assert refresh(first["refresh_token"]).status_code == 400  # spent, presented again
    assert refresh(newest["refresh_token"]).status_code == 400, "the chain has ended"
    assert api.get("/api/me/rsvps/").status_code == 401
    # Another login of the same person is another chain, unharmed.
    assert refresh(log_in(user)["refresh_token"]).status_code == 200
