"""Login throttles: the admin's login is the site's, counted per client and across processes."""

from __future__ import annotations

import time

import pytest
import requests
from django.test import Client
from django.urls import reverse

from eventsite import env
from loadtests.bench import scratch
from tests.helpers import (
    csrf_token,
    down_redis_url,
    live_gunicorn,
    make_organiser,
    redis_caches,
    session_database_url,
)

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"


def test_the_admin_login_is_the_sites_throttled_login(settings):
    settings.ACCOUNT_RATE_LIMITS = {"login": "3/m/ip"}
    make_organiser("throttled")
    client = Client()
    admin_login = reverse("admin:login")
    shown = client.get(admin_login + "?next=/admin/")
    assert shown.status_code == 302
    assert shown["Location"] == reverse("account_login") + "?next=%2Fadmin%2F"
    # The admin's own form checks no password any more, right or wrong.
    posted = client.post(admin_login, {"username": "throttled", "password": "pw"})
    assert posted.status_code == 302 and "_auth_user_id" not in client.session

    wrong = {"login": "throttled", "password": "wrong"}
    assert [client.post(LOGIN, wrong).status_code for _ in range(4)] == [200, 200, 200, 429]


def test_the_trusted_proxy_count_follows_the_proxy(monkeypatch):
    monkeypatch.delenv("TRUSTED_PROXY_COUNT", raising=False)
    monkeypatch.delenv("BEHIND_HTTPS_PROXY", raising=False)
    assert env.trusted_proxy_count() == 0  # no proxy: X-Forwarded-For is anyone's say
    monkeypatch.setenv("BEHIND_HTTPS_PROXY", "1")
    assert env.trusted_proxy_count() == 1
    monkeypatch.setenv("TRUSTED_PROXY_COUNT", "2")  # a CDN in front of the load balancer
    assert env.trusted_proxy_count() == 2


# A login without a password: counted like any, refused before the (slow) hasher runs.
ATTEMPT = {"login": "nobody", "password": ""}


def test_a_request_that_went_around_a_proxy_is_a_clear_400(settings):
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 2  # a CDN, then the load balancer
    around = Client(HTTP_X_FORWARDED_FOR="198.51.100.7", raise_request_exception=False)
    response = around.post(LOGIN, ATTEMPT)
    assert response.status_code == 400, response.content  # Django's Bad Request page
    through = Client(HTTP_X_FORWARDED_FOR="198.51.100.7, 192.0.2.1")
    assert through.post(LOGIN, ATTEMPT).status_code == 200


def login_attempt(site_url: str, client_address: str) -> int:
    """One failed login through the proxy from ``client_address``: the status code."""
    http = requests.Session()
    # What the proxy writes: the client's own claim first, the address it saw last.
    http.headers["X-Forwarded-For"] = f"10.9.9.9, {client_address}"
    page = http.get(site_url + LOGIN, timeout=30)
    form = {"csrfmiddlewaretoken": csrf_token(page.text), **ATTEMPT}
    return http.post(site_url + LOGIN, form, timeout=30).status_code


def test_behind_the_proxy_each_client_is_counted_alone_by_every_process(settings):
    """The site served as deployed and this test's process, behind one proxy, sharing Redis.

    One client's failures at the server count here too (another process, or
    host); another client behind the same proxy is not held back by them.
    """
    notes: list[dict] = []
    with scratch.redis_database("redis://127.0.0.1:6379", notes) as cache_url:
        options = {"CACHE_URL": cache_url, "BEHIND_HTTPS_PROXY": "1", "LOGIN_RATE_LIMIT": "2/m/ip"}
        with live_gunicorn(session_database_url(), workers=1, **options) as site:
            settings.CACHES = redis_caches(cache_url)
            settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1
            settings.ACCOUNT_RATE_LIMITS = {"login": "2/m/ip"}
            attacker, someone = "203.0.113.6", "198.51.100.7"
            assert [login_attempt(site.url, attacker) for _ in range(2)] == [200, 200]
            here = Client(HTTP_X_FORWARDED_FOR=f"10.9.9.9, {attacker}")
            assert here.post(LOGIN, ATTEMPT).status_code == 429
            assert login_attempt(site.url, someone) == 200
    assert notes[-1]["clean"], notes


def test_a_redis_that_is_down_makes_logins_a_fast_503(settings):
    """The throttles cannot count without their cache: a clear 503, not a 500."""
    settings.CACHES = redis_caches(down_redis_url())
    started = time.monotonic()
    response = Client(raise_request_exception=False).post(LOGIN, ATTEMPT)
    assert response.status_code == 503 and "briefly unavailable" in response.content.decode()
    assert time.monotonic() - started < 3
