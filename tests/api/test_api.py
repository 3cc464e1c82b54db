"""The JSON API in-process: every answer of the API's table, tokens, sessions.

Tokens here are real allauth access tokens: issued by accounts.tokens (as the
load-test fixture does) or obtained over HTTP from allauth's login endpoint.
"""

from __future__ import annotations

import json

import jwt
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.core.cache import cache
from django.core.management import call_command
from django.test import Client, RequestFactory, override_settings
from rest_framework.test import APIClient

from accounts.tokens import issue_access_token
from events import ledger, outcomes, selectors, services
from tests.helpers import PASSWORD, bearer, live_gunicorn, make_event, make_users, wait_for

pytestmark = pytest.mark.django_db

LOGIN_URL = "/_allauth/app/v1/auth/login"
REFRESH_URL = "/_allauth/app/v1/tokens/refresh"


@pytest.fixture
def members():
    return make_users(3, prefix="apiuser")


def rsvp_url(event_id: int | str) -> str:
    return f"/api/events/{event_id}/rsvp"


def assert_json_error(response, status: int) -> dict:
    """An error the way every /api/ error looks: JSON with a message string."""
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert isinstance(body["message"], str) and body["message"]
    return body


def going(event) -> list[int]:
    return [a.user_id for a in ledger.attendees(event.pk)]


# --- The table: RSVP confirmed ----------------------------------------------------


def test_rsvp_confirmed_is_201_with_message_event_and_seats(organiser, members):
    event = make_event(organiser, 3, title="API night", venue="Hall 1")
    response = bearer(members[0]).post(rsvp_url(event.pk), {}, format="json")
    assert response.status_code == 201
    body = response.json()
    assert body["message"] == outcomes.ANSWERS[ledger.Outcome.CONFIRMED].sentence
    assert body["seats_left"] == 2
    assert body["event"]["id"] == event.pk
    assert body["event"]["title"] == "API night" and body["event"]["venue"] == "Hall 1"
    assert body["event"]["capacity"] == 3 and body["event"]["seats_left"] == 2
    assert body["event"]["going"] is True
    assert going(event) == [members[0].pk]


@pytest.mark.parametrize("suffix", ["", "/"])
@pytest.mark.parametrize("body", [None, {}])
def test_rsvp_with_or_without_slash_or_body_is_not_redirected(organiser, members, suffix, body):
    event = make_event(organiser, 3)
    response = bearer(members[0]).post(rsvp_url(event.pk) + suffix, body, format="json")
    assert response.status_code == 201
    assert going(event) == [members[0].pk]


# --- event full, already going ----------------------------------------------------


def test_full_event_is_409_event_is_full(organiser, members):
    event = make_event(organiser, 1)
    assert bearer(members[0]).post(rsvp_url(event.pk)).status_code == 201
    body = assert_json_error(bearer(members[1]).post(rsvp_url(event.pk)), 409)
    assert body == {"message": "Event is full", "code": "full", "seats_left": 0}
    assert going(event) == [members[0].pk]


def test_already_going_is_409_with_its_own_message(organiser, members):
    event = make_event(organiser, 5)
    client = bearer(members[0])
    assert client.post(rsvp_url(event.pk)).status_code == 201
    body = assert_json_error(client.post(rsvp_url(event.pk)), 409)
    assert body["code"] == "already_going"
    assert (
        body["message"]
        == outcomes.ANSWERS[ledger.Outcome.ALREADY_GOING].sentence
        != "Event is full"
    )
    assert going(event) == [members[0].pk]


# --- cancel -------------------------------------------------------------------------


def test_cancel_gives_the_seat_back(organiser, members):
    event = make_event(organiser, 1)
    client = bearer(members[0])
    client.post(rsvp_url(event.pk))
    response = client.delete(rsvp_url(event.pk))
    assert response.status_code == 200
    assert response.json()["seats_left"] == 1 and response.json()["event"]["going"] is False
    assert going(event) == []
    assert bearer(members[1]).post(rsvp_url(event.pk) + "/").status_code == 201


def test_cancel_without_an_rsvp_is_404_with_message(organiser, members):
    event = make_event(organiser, 5)
    body = assert_json_error(bearer(members[0]).delete(rsvp_url(event.pk)), 404)
    assert body["code"] == "not_going"
    assert body["message"] == "You have no RSVP for this event."


# --- 401: no token, malformed, expired, forged ---------------------------------------


def _other_key_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def _bad_authorization(kind: str, user, other) -> str | None:
    if kind == "none":
        return None
    if kind == "scheme only":
        return "Bearer"
    if kind == "two parts":
        return "Bearer abc def"
    if kind == "garbage":
        return "Bearer not-a-jwt"
    if kind == "expired":
        with override_settings(HEADLESS_JWT_ACCESS_TOKEN_EXPIRES_IN=-60):
            return f"Bearer {issue_access_token(user)}"
    if kind == "signed by another key":
        with override_settings(HEADLESS_JWT_PRIVATE_KEY=_other_key_pem()):
            return f"Bearer {issue_access_token(user)}"
    if kind == "HS256 with the secret key":
        with override_settings(HEADLESS_JWT_ALGORITHM="HS256", HEADLESS_JWT_PRIVATE_KEY=""):
            return f"Bearer {issue_access_token(user)}"
    if kind == "alg none":
        claims = jwt.decode(issue_access_token(user), options={"verify_signature": False})
        return f"Bearer {jwt.encode(claims, None, algorithm='none')}"
    if kind == "someone else's claims under my signature":
        mine, theirs = issue_access_token(user).split("."), issue_access_token(other).split(".")
        return f"Bearer {mine[0]}.{theirs[1]}.{mine[2]}"
    raise AssertionError(kind)


BAD_TOKENS = [
    "none",
    "scheme only",
    "two parts",
    "garbage",
    "expired",
    "signed by another key",
    "HS256 with the secret key",
    "alg none",
    "someone else's claims under my signature",
]


@pytest.mark.parametrize("kind", BAD_TOKENS)
def test_missing_malformed_expired_or_forged_token_is_401(organiser, members, kind):
    event = make_event(organiser, 5)
    authorization = _bad_authorization(kind, members[0], members[1])
    client = APIClient()
    if authorization is not None:
        client.credentials(HTTP_AUTHORIZATION=authorization)
    for response in (client.post(rsvp_url(event.pk)), client.get("/api/me/rsvps/")):
        assert_json_error(response, 401)
        assert response["WWW-Authenticate"].startswith("Bearer")
    assert going(event) == []


def test_a_bad_token_is_401_even_where_no_login_is_needed(organiser, members):
    make_event(organiser, 5)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer not-a-jwt")
    assert_json_error(client.get("/api/events/"), 401)


@pytest.mark.parametrize("change", ["deactivated", "deleted"])
def test_token_of_a_deactivated_or_deleted_account_is_401(organiser, members, change):
    event = make_event(organiser, 5)
    user = members[0]
    client = bearer(user)
    if change == "deleted":
        user.delete()
    else:
        user.is_active = False
        user.save()
    assert_json_error(client.post(rsvp_url(event.pk)), 401)
    assert going(event) == []


# --- 404: unknown or malformed ids, unknown URLs --------------------------------------


@pytest.mark.parametrize("method", ["get_detail", "post", "delete"])
def test_unknown_event_is_404_json(members, method):
    client = bearer(members[0])
    if method == "get_detail":
        response = client.get("/api/events/999999/")
    else:
        response = getattr(client, method)(rsvp_url(999999))
    body = assert_json_error(response, 404)
    assert body["message"] == "Event not found"


def test_an_id_beyond_any_database_integer_is_404(members):
    client, huge = bearer(members[0]), 10**30
    assert_json_error(client.get(f"/api/events/{huge}/"), 404)
    assert_json_error(client.post(rsvp_url(huge)), 404)
    assert_json_error(client.delete(rsvp_url(huge)), 404)


@pytest.mark.parametrize(
    "path",
    [
        "/api/events/abc/",
        "/api/events/abc/rsvp",
        "/api/events/1e3/rsvp/",
        "/api/events/-1/rsvp",
        "/api/events/%00/rsvp",
        "/api/events/%0A/rsvp",
        "/api/events/1%0A/",
        "/api/events/1/rsvp/extra",
        "/api/events",
        "/api/nowhere",
        "/api/",
    ],
)
@pytest.mark.parametrize("method", ["get", "post", "delete"])
def test_malformed_id_or_unknown_url_is_404_json_never_html(members, path, method):
    body = assert_json_error(getattr(bearer(members[0]), method)(path), 404)
    assert body["code"] == "not_found"


def test_a_disallowed_host_is_400_json_under_api_and_a_page_elsewhere():
    assert_json_error(Client().get("/api/events/", HTTP_HOST="evil.example"), 400)
    page = Client().get("/", HTTP_HOST="evil.example")
    assert page.status_code == 400 and not page["Content-Type"].startswith("application/json")


def test_unknown_api_url_takes_no_csrf_and_gives_no_html():
    client = Client(enforce_csrf_checks=True)
    assert_json_error(client.post("/api/nowhere/", data="x", content_type="text/plain"), 404)


# --- 405, 400, 415 ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/events/{id}/rsvp"),
        ("put", "/api/events/{id}/rsvp"),
        ("patch", "/api/events/{id}/waitlist"),
        ("post", "/api/events/{id}/"),
        ("post", "/api/events/"),
        ("delete", "/api/me/rsvps/"),
    ],
)
def test_wrong_method_is_405(organiser, members, method, path):
    event = make_event(organiser, 5)
    url = path.format(id=event.pk)
    body = assert_json_error(getattr(bearer(members[0]), method)(url), 405)
    assert body["code"] == "method_not_allowed"
    assert going(event) == []


@pytest.mark.parametrize(
    "body", ["{not json", '{"a": ', "[1, 2]", '"a string"', "42", "null"], ids=repr
)
def test_malformed_or_non_object_json_is_400(organiser, members, body):
    event = make_event(organiser, 5)
    response = bearer(members[0]).post(rsvp_url(event.pk), body, content_type="application/json")
    assert_json_error(response, 400)
    assert going(event) == []


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "application/xml"]
)
def test_body_of_another_content_type_is_415(organiser, members, content_type):
    event = make_event(organiser, 5)
    response = bearer(members[0]).post(rsvp_url(event.pk), "a=1", content_type=content_type)
    body = assert_json_error(response, 415)
    assert body["code"] == "unsupported_media_type"
    assert going(event) == []


# --- past event ---------------------------------------------------------------------


def test_rsvp_or_cancel_on_a_past_event_is_409_with_message(organiser, members):
    event = make_event(organiser, 5, days=-1)
    client = bearer(members[0])
    for response in (client.post(rsvp_url(event.pk)), client.delete(rsvp_url(event.pk))):
        body = assert_json_error(response, 409)
        assert body["code"] == "event_past" and "RSVPs are closed" in body["message"]
    assert going(event) == []


# --- MongoDB unreachable --------------------------------------------------------------


def test_mongodb_unreachable_is_503_json_then_recovers(spare_mongo, settings, organiser, members):
    settings.MONGODB_URI = spare_mongo.uri
    settings.MONGODB_TIMEOUT_MS = 500
    event = make_event(organiser, 5)
    client = bearer(members[0])
    assert bearer(members[1]).post(rsvp_url(event.pk)).status_code == 201  # for My RSVPs below

    spare_mongo.stop()
    cache.clear()  # counts cached by that RSVP would answer the list for a second
    for response in (
        client.post(rsvp_url(event.pk)),
        client.delete(rsvp_url(event.pk)),
        client.get("/api/events/"),
        client.get(f"/api/events/{event.pk}/"),
        bearer(members[1]).get("/api/me/rsvps/"),
    ):
        body = assert_json_error(response, 503)
        assert "briefly unavailable" in body["message"]
        assert response["Retry-After"]

    spare_mongo.start()
    # The process remembers the outage for up to half a second, then probes.
    assert wait_for(lambda: client.get("/healthz").status_code == 200, seconds=10)
    assert client.post(rsvp_url(event.pk)).status_code == 201


@pytest.mark.live
def test_sql_database_unreachable_is_503_json(members):
    """gunicorn on a SQLite file that cannot be opened: JSON 503, even for token checks."""
    token = issue_access_token(members[0])  # valid: signed with the same key
    with live_gunicorn(
        "sqlite:////nonexistent/eventsite/db.sqlite3", workers=1, healthy=False
    ) as site:
        for response in (
            requests.get(f"{site.url}/api/events/", timeout=30),
            requests.post(
                f"{site.url}/api/events/1/rsvp",
                headers={"Authorization": f"Bearer {token}"},
                timeout=30,
            ),
        ):
            assert response.status_code == 503
            assert "briefly unavailable" in response.json()["message"]


def test_ledger_outage_in_a_view_is_mapped_by_the_api_exception_handler(organiser, members):
    """Not left to the middleware: DRF's handler itself answers 503 JSON."""
    from events.api.exceptions import exception_handler

    request = RequestFactory().get("/api/events/")
    response = exception_handler(ledger.LedgerUnavailable("down"), {"request": request})
    assert response.status_code == 503
    assert json.loads(response.content)["message"]


def test_a_bug_in_a_view_is_a_json_500_not_an_html_page(organiser, monkeypatch):
    make_event(organiser, 5)

    def broken(*args):
        raise RuntimeError("a bug")

    monkeypatch.setattr(selectors, "event_cards", broken)
    body = assert_json_error(APIClient().get("/api/events/"), 500)
    assert body["code"] == "server_error" and "bug" not in body["message"]


# --- Reading events -------------------------------------------------------------------


def test_event_list_is_paginated_upcoming_events_with_seats(organiser, members):
    make_event(organiser, 5, days=-1, title="Past")
    soon = make_event(organiser, 2, days=1, title="Soon")
    later = make_event(organiser, 4, days=2, title="Later")
    bearer(members[0]).post(rsvp_url(soon.pk))

    body = APIClient().get("/api/events/").json()
    assert body["count"] == 2 and body["next"] is None
    assert [e["title"] for e in body["results"]] == ["Soon", "Later"]
    first = body["results"][0]
    assert set(first) == {
        "id", "title", "start", "venue", "status", "capacity", "seats_left", "seats_taken",
        "waiting", "guests_allowed",
    }  # fmt: skip
    assert first["status"] == "published"
    assert (first["id"], first["capacity"], first["seats_left"]) == (soon.pk, 2, 1)
    assert (first["seats_taken"], first["waiting"]) == (1, 0)
    assert body["results"][1]["id"] == later.pk
    assert_json_error(APIClient().get("/api/events/?page=9"), 404)


def test_event_list_pages_hold_twenty(organiser):
    for i in range(21):
        make_event(organiser, 1, days=1 + i, title=f"E{i}")
    first = APIClient().get("/api/events/").json()
    assert len(first["results"]) == 20 and first["next"].endswith("?page=2")
    assert [e["title"] for e in APIClient().get(first["next"]).json()["results"]] == ["E20"]


def test_event_detail_says_going_only_to_a_signed_in_caller(organiser, members):
    event = make_event(organiser, 3, description="Bring snacks")
    bearer(members[0]).post(rsvp_url(event.pk))
    url = f"/api/events/{event.pk}/"

    anonymous = APIClient().get(url).json()
    assert "going" not in anonymous and "waitlist_position" not in anonymous
    assert anonymous["description"] == "Bring snacks" and anonymous["seats_left"] == 2
    assert bearer(members[0]).get(url).json()["going"] is True
    assert bearer(members[1]).get(url).json()["going"] is False
    assert bearer(members[1]).get(url).json()["waitlist_position"] is None


def test_my_rsvps_lists_the_callers_upcoming_rsvps(organiser, members):
    mine = make_event(organiser, 3, title="Mine")
    make_event(organiser, 3, title="Not mine")
    client = bearer(members[0])
    client.post(rsvp_url(mine.pk))
    assert [e["title"] for e in client.get("/api/me/rsvps/").json()] == ["Mine"]
    assert bearer(members[1]).get("/api/me/rsvps/").json() == []


# --- One code path with the pages ---------------------------------------------------


def test_api_and_rsvp_button_share_the_service_and_the_ledger(organiser, members, monkeypatch):
    event = make_event(organiser, 2)
    page = Client()
    page.force_login(members[0])
    page.post(f"/events/{event.pk}/rsvp/")

    calls = []
    real_rsvp = services.rsvp
    monkeypatch.setattr(services, "rsvp", lambda **kw: calls.append(kw) or real_rsvp(**kw))
    same_user = bearer(members[0]).post(rsvp_url(event.pk))
    assert assert_json_error(same_user, 409)["code"] == "already_going"
    assert bearer(members[1]).post(rsvp_url(event.pk)).status_code == 201
    assert calls == [
        {"event_id": event.pk, "user_id": members[0].pk, "guests": 0},
        {"event_id": event.pk, "user_id": members[1].pk, "guests": 0},
    ]
    assert "(2 of 2 taken)" in page.get(f"/events/{event.pk}/").content.decode()


# --- Browser sessions -------------------------------------------------------------------


def test_session_cookie_authenticates_with_csrf_token(organiser, members):
    event = make_event(organiser, 5)
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(members[0])

    refused = client.post(rsvp_url(event.pk))
    assert "CSRF" in assert_json_error(refused, 403)["message"]
    assert going(event) == []

    client.get(f"/events/{event.pk}/")  # the page sets the CSRF cookie
    token = client.cookies["csrftoken"].value
    assert client.post(rsvp_url(event.pk), HTTP_X_CSRFTOKEN=token).status_code == 201
    assert client.get("/api/me/rsvps/").json()[0]["id"] == event.pk


# --- Tokens over HTTP: allauth's headless login and refresh -------------------------


@pytest.mark.parametrize("login_field", ["username", "email"])
def test_login_gives_tokens_that_work_and_refresh(organiser, members, login_field):
    event = make_event(organiser, 5)
    user = members[0]
    credentials = {login_field: getattr(user, login_field), "password": PASSWORD}
    login = Client().post(LOGIN_URL, credentials, content_type="application/json")
    assert login.status_code == 200, login.content
    meta = login.json()["meta"]
    assert meta["is_authenticated"] is True

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {meta['access_token']}")
    assert client.post(rsvp_url(event.pk)).status_code == 201

    refreshed = Client().post(
        REFRESH_URL, {"refresh_token": meta["refresh_token"]}, content_type="application/json"
    )
    assert refreshed.status_code == 200, refreshed.content
    new_access = refreshed.json()["data"]["access_token"]
    assert new_access != meta["access_token"]
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {new_access}")
    assert client.get("/api/me/rsvps/").json()[0]["id"] == event.pk
    reused = Client().post(
        REFRESH_URL, {"refresh_token": meta["refresh_token"]}, content_type="application/json"
    )
    assert reused.status_code == 400  # rotated: the old refresh token is spent


def test_login_with_a_wrong_password_gives_no_token(members):
    credentials = {"username": members[0].username, "password": "wrong"}
    response = Client().post(LOGIN_URL, credentials, content_type="application/json")
    assert response.status_code == 400
    assert "access_token" not in response.json().get("meta", {})


@pytest.mark.parametrize("stateful", [False, True])
def test_logout_ends_an_issued_tokens_session_as_after_a_login(members, settings, stateful):
    """Issued tokens name a real logged-in session: allauth's logout ends it.

    By default access tokens are checked by signature and expiry alone, so
    one lives out its lifetime; with stateful checks it dies with its session.
    """
    settings.HEADLESS_JWT_STATEFUL_VALIDATION_ENABLED = stateful
    authorization = f"Bearer {issue_access_token(members[0])}"
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=authorization)
    assert client.get("/api/me/rsvps/").status_code == 200
    logout = Client().delete("/_allauth/app/v1/auth/session", HTTP_AUTHORIZATION=authorization)
    assert logout.status_code == 401  # allauth's "no longer signed in"
    assert client.get("/api/me/rsvps/").status_code == (401 if stateful else 200)


# --- The load-test fixture command ---------------------------------------------------


def test_make_loadtest_fixture_creates_then_reuses_users(tmp_path, django_user_model):
    out = tmp_path / "fixture.json"
    call_command("make_loadtest_fixture", users=3, capacity=2, out=out, api_url="http://x/api/")
    first = json.loads(out.read_text())
    assert first["api_url"] == "http://x/api"
    assert [u["username"] for u in first["users"]] == ["loadtest-0", "loadtest-1", "loadtest-2"]
    assert ledger.seats([first["event_id"]])[first["event_id"]].capacity == 2

    call_command("make_loadtest_fixture", users=4, capacity=1, out=out)
    second = json.loads(out.read_text())
    assert second["event_id"] != first["event_id"]
    assert django_user_model.objects.filter(username__startswith="loadtest-").count() == 5
    user = second["users"][3]
    assert Client().login(username=user["username"], password=user["password"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {user['token']}")
    assert client.post(rsvp_url(second["event_id"])).status_code == 201
    claims = jwt.decode(user["token"], options={"verify_signature": False})
    assert claims["exp"] - claims["iat"] >= 3600
