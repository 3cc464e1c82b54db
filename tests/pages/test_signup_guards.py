"""Sign-up against bots: a honeypot field refused quietly, and a limit per address."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.exceptions import ImproperlyConfigured
from django.test import Client

from eventsite import env
from tests.helpers import PASSWORD

pytestmark = pytest.mark.django_db

SIGNUP = "/accounts/signup/"
HONEYPOT = 'class="field honeypot" aria-hidden="true"'


def signup_form(name: str, **extra: str) -> dict[str, str]:
    """The sign-up form as a browser (or a bot) posts it."""
    return {
        "email": f"{name}@example.com",
        "username": name,
        "password1": PASSWORD,
        "password2": PASSWORD,
        **extra,
    }


def test_the_honeypot_is_on_the_form_and_hidden_by_the_stylesheet():
    html = Client().get(SIGNUP).content.decode()
    assert HONEYPOT in html and 'name="website"' in html
    assert 'tabindex="-1"' in html and "style=" not in html  # the CSP ignores style attributes


def test_a_filled_honeypot_is_answered_as_a_sign_up_but_makes_no_account():
    person = Client().post(SIGNUP, signup_form("person"))
    bot = Client().post(SIGNUP, signup_form("bot", website="https://spam.example"))
    assert (
        (bot.status_code, bot["Location"])
        == (person.status_code, person["Location"])
        == (
            302,
            "/accounts/confirm-email/",
        )
    )
    names = set(get_user_model().objects.values_list("username", flat=True))
    assert "person" in names and "bot" not in names
    assert [m.to for m in mail.outbox] == [["person@example.com"]]


def test_sign_ups_are_limited_per_address_with_the_sites_429_page(settings):
    settings.ACCOUNT_RATE_LIMITS = {"signup": "2/m/ip"}
    client = Client()
    answers = [client.post(SIGNUP, signup_form(f"new{i}")) for i in range(3)]
    assert [a.status_code for a in answers] == [302, 302, 429]
    assert "Too many tries" in answers[2].content.decode()
    assert not get_user_model().objects.filter(username="new2").exists()


def test_the_limits_come_from_the_environment_and_a_malformed_one_stops_the_start(monkeypatch):
    monkeypatch.setenv("SEAT_ACCOUNT_RATE_LIMIT", "5/10s")
    assert env.env_rate("SEAT_ACCOUNT_RATE_LIMIT", "10/m") == "5/10s"
    monkeypatch.setenv("SEAT_ACCOUNT_RATE_LIMIT", "ten a minute")
    with pytest.raises(ImproperlyConfigured, match="SEAT_ACCOUNT_RATE_LIMIT must be a rate"):
        env.env_rate("SEAT_ACCOUNT_RATE_LIMIT", "10/m")
