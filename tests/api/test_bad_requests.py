"""Bad bodies get a 4xx with a message, never a 500: JSON where the answers are JSON
(/api/, allauth's headless /_allauth/), the site's error page on the forms.

A body over DATA_UPLOAD_MAX_MEMORY_SIZE is 413, JSON nested deeper than
Python's recursion limit 400, and a flood of garbage at every address the
URLconf has (the API schema's included) finds no 5xx.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Iterator

import pytest
from django.conf import settings
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from drf_spectacular.generators import SchemaGenerator

from tests.helpers import bearer, logged_in, make_event, make_organiser

pytestmark = pytest.mark.django_db

JSON = "application/json"
FORM = "application/x-www-form-urlencoded"
# Opened 60,000 and 15,000 levels deep (under the size limit): the JSON decoder
# gives up with a RecursionError long before it could see the end.
DEEP = b"[" * 60_000
DEEP_OBJECT = b'{"":' * 15_000


def huge(content_type: str) -> bytes:
    """A body just over the limit, in the given kind."""
    size = settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1
    if content_type == JSON:
        return json.dumps({"username": "x" * size, "password": "y"}).encode()
    return b"login=" + b"x" * size + b"&password=y"


@pytest.fixture
def event(django_user_model):
    return make_event(make_organiser("fuzz-organiser"), 3)


@pytest.fixture
def clients(event) -> dict[str, Client]:
    """Who sends: nobody, an organiser's session, a Bearer token; none re-raises a view's error."""
    organiser = event.organiser
    found = {"anonymous": Client(), "session": logged_in(organiser), "bearer": bearer(organiser)}
    for client in found.values():
        client.raise_request_exception = False
    return found


def assert_json_error(response, status: int, code: str) -> None:
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"] == JSON, response["Content-Type"]
    body = response.json()
    assert body["code"] == code and body["message"], body


# Every address that reads a JSON body: the API's writes and allauth's token API.
JSON_WRITES = [
    ("bearer", "/api/events/{id}/rsvp"),
    ("bearer", "/api/events/{id}/rsvp/"),
    ("bearer", "/api/events/{id}/waitlist"),
    ("session", "/api/events/{id}/waitlist/"),
    ("anonymous", "/_allauth/app/v1/auth/login"),
    ("anonymous", "/_allauth/app/v1/auth/signup"),
    ("anonymous", "/_allauth/app/v1/tokens/refresh"),
    ("anonymous", "/_allauth/app/v1/auth/password/request"),
    ("anonymous", "/_allauth/app/v1/auth/password/reset"),
]


@pytest.mark.parametrize("debug", [False, True], ids=["production", "debug"])
@pytest.mark.parametrize(("who", "path"), JSON_WRITES)
def test_json_bodies_too_deep_or_too_large_get_400_and_413(
    clients, event, settings, debug, who, path
):
    settings.DEBUG = debug
    client, url = clients[who], path.format(id=event.pk)
    for deep in (DEEP, DEEP_OBJECT):
        assert_json_error(client.post(url, deep, content_type=JSON), 400, "too_deep")
    assert_json_error(client.post(url, huge(JSON), content_type=JSON), 413, "too_large")


FORMS = ["/accounts/login/", "/accounts/signup/", "/events/{id}/rsvp/", "/admin/login/"]


@pytest.mark.parametrize("path", FORMS)
def test_a_form_body_too_large_gets_the_sites_page(clients, event, path):
    # The CSRF check reads the form first: enforced, as in production.
    client = Client(enforce_csrf_checks=True, raise_request_exception=False)
    client.get("/accounts/login/")  # the CSRF cookie, as a browser has it
    response = client.post(path.format(id=event.pk), huge(FORM), content_type=FORM)
    assert response.status_code == 413
    assert "text/html" in response["Content-Type"]
    page = response.content.decode()
    assert "The request body is too large" in page and "Nothing was changed" in page


@pytest.mark.parametrize("path", ["/api/events/", "/_allauth/app/v1/auth/login"])
def test_an_address_too_long_gets_the_json_414(clients, path):
    long_query = "?q=" + "x" * 8_100
    assert_json_error(clients["bearer"].get(path + long_query), 414, "uri_too_long")


def test_an_address_too_long_gets_the_sites_page(clients):
    page = clients["anonymous"].get("/?q=" + "x" * 8_100)
    assert page.status_code == 414
    assert "The address is too long" in page.content.decode()


def test_too_many_fields_are_refused_with_400(clients, event):
    fields = "&".join(f"f{n}=1" for n in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1))
    api = clients["bearer"].get(f"/api/events/?{fields}")
    assert_json_error(api, 400, "too_many_fields")
    page = clients["anonymous"].get(f"/?{fields}")
    assert page.status_code == 400 and "too many fields" in page.content.decode()


def test_a_file_is_refused_where_no_form_takes_one(clients, event):
    body = (
        b'--b\r\nContent-Disposition: form-data; name="f"; filename="a.txt"\r\n\r\n'
        + b"x" * 100
        + b"\r\n--b--\r\n"
    )
    response = clients["anonymous"].post(
        "/accounts/login/", body, content_type="multipart/form-data; boundary=b"
    )
    assert response.status_code == 400 and "too many fields or files" in response.content.decode()


def url_patterns(resolver: URLResolver, prefix: str = "") -> Iterator[str]:
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            yield from url_patterns(pattern, prefix + str(pattern.pattern))
        else:
            assert isinstance(pattern, URLPattern)
            yield prefix + str(pattern.pattern)


def concrete(pattern: str, event_id: int) -> str:
    """An address a pattern matches: ids are the event's (a real object), other parts words."""
    path = re.sub(r"<(?:int|path):\w+>|\{\w*id\}", str(event_id), pattern)
    path = re.sub(r"<(?:\w+:)?\w+>", "abc", path)
    path = re.sub(r"\(\?P<\w+>[^)]*\)", "events", path)  # the admin's app list, allauth's keys
    path = path.replace("[\\s\\S]*", "no/such/thing")
    return "/" + path.lstrip("/").replace("^", "").replace("$", "")


def every_address(event_id: int) -> list[str]:
    from_urlconf = {concrete(p, event_id) for p in url_patterns(get_resolver())}
    schema = SchemaGenerator().get_schema(request=None, public=True)
    from_schema = {concrete(p, event_id) for p in schema["paths"]}
    assert from_schema <= from_urlconf, "the schema's addresses are routed"
    return sorted(from_urlconf)


def garbage(rng: random.Random) -> tuple[str, str, bytes, str]:
    """One request no client should send: method, content type, body, query string."""
    kinds = [
        (JSON, DEEP),
        ("text/plain", DEEP_OBJECT),  # allauth parses any content type as JSON
        (JSON, b'{"a": [1, 2, '),
        (JSON, b"\xff\xfe\x00not json"),
        (JSON, b"[1, 2, 3]"),
        (JSON, b"NaN"),
        (FORM, huge(FORM)),
        (JSON, huge(JSON)),
        (FORM, b"&".join(b"f%d=%%ff%%00" % n for n in range(1_100))),
        ("multipart/form-data", b"no boundary at all"),
        ("multipart/form-data; boundary=zz", b"--zz\r\nbroken"),
        ("application/xml", b"<?xml version='1.0'?><!DOCTYPE a [<!ENTITY b 'c'>]><a>&b;</a>"),
        ("application/octet-stream", rng.randbytes(512)),
        (rng.choice(["", "a/b/c", "\x00", JSON + "; charset=nope"]), rng.randbytes(64)),
    ]
    content_type, body = rng.choice(kinds)
    method = rng.choice(["POST", "PUT", "PATCH", "DELETE", "GET", "OPTIONS", "HEAD", "BREW"])
    query = rng.choice(
        ["", "?page=abc", "?page=-1", "?page=99999999999999999999", "?format=xml",
         "?%ff%fe=%00", "?a=" + "x" * 5_000, "?" + "&".join(f"q{n}" for n in range(1_100)),
         "?next=//evil.example/&token=%E0%A4%A"]
    )  # fmt: skip
    return method, content_type, body, query


def test_a_flood_of_garbage_at_every_address_finds_no_5xx(clients, event, settings):
    settings.DEBUG = False
    rng = random.Random(19)  # the same flood every run
    addresses = every_address(event.pk)
    assert len(addresses) > 90, addresses
    sent, failures = 0, []
    for address in [*addresses, "/no/such/page", "/api/%ff", "/_allauth/nothing"]:
        for _ in range(3):
            method, content_type, body, query = garbage(rng)
            who = rng.choice(list(clients))
            response = clients[who].generic(method, address + query, body, content_type)
            sent += 1
            if response.status_code >= 500:
                failures.append((response.status_code, who, method, address, content_type, query))
            elif (
                address.startswith(("/api/", "/_allauth/"))
                and response.status_code >= 400
                and method != "HEAD"
                and "json" not in response["Content-Type"]
            ):
                failures.append(("not JSON", who, method, address, content_type, query))
    assert sent > 280
    assert not failures, failures
