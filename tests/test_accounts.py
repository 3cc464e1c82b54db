"""Sign up, log in with email or username, log out, reset a password (allauth)."""

from __future__ import annotations

import re
from html import unescape

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from tests.helpers import PASSWORD, make_users

pytestmark = pytest.mark.django_db


def test_signup_logs_in_and_shows_my_rsvps():
    client = Client()
    response = client.post(
        reverse("account_signup"),
        {
            "email": "new@example.com",
            "username": "newcomer",
            "password1": "a-very-long-passphrase",
            "password2": "a-very-long-passphrase",
        },
        follow=True,
    )
    assert response.status_code == 200
    assert response.wsgi_request.user.username == "newcomer"
    assert "My RSVPs" in response.content.decode()


@pytest.mark.parametrize("login", ["login0", "login0@example.com"])
def test_login_with_username_or_email_then_logout(login):
    make_users(1, prefix="login")
    client = Client()
    response = client.post(reverse("account_login"), {"login": login, "password": PASSWORD})
    assert response.status_code == 302
    assert client.get(reverse("events:my_rsvps")).status_code == 200
    client.post(reverse("account_logout"))
    assert client.get(reverse("events:my_rsvps")).status_code == 302


def test_wrong_password_is_a_form_error_not_a_crash():
    make_users(1, prefix="wrong")
    response = Client().post(reverse("account_login"), {"login": "wrong0", "password": "nope"})
    assert response.status_code == 200
    assert "not correct" in response.content.decode()


def test_password_reset_sends_an_email():
    make_users(1, prefix="forgetful")
    response = Client().post(reverse("account_reset_password"), {"email": "forgetful0@example.com"})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    assert "password" in mail.outbox[0].subject.lower()


FIELD = re.compile(
    r'<div class="field[^"]*">(.*?)</div>\s*(?=<div class="field|<div class="form-actions)', re.S
)


def fields_of(html: str) -> dict[str, str]:
    """Each form field's block (label, input, its errors and help), by the input's name."""
    return {re.search(r'name="([^"]+)"', block)[1]: block for block in FIELD.findall(html)}


def test_signup_shows_every_error_beside_its_field_on_the_first_try():
    response = Client().post(
        reverse("account_signup"),
        {"email": "short@example.com", "username": "short", "password1": "abc", "password2": "abd"},
    )
    assert response.status_code == 200
    fields = fields_of(unescape(response.content.decode()))
    assert list(fields) == ["email", "username", "password1", "password2"]
    first, second = fields["password1"], fields["password2"]
    # The validators' complaint and the mismatch, both at once, each under its own input.
    assert "This password is too short." in first and "same password" not in first
    assert "You must type the same password each time." in second
    assert first.index('name="password1"') < first.index("too short")
    assert 'aria-invalid="true"' in second
    assert re.search(r'aria-describedby="id_password2_error"', second)
    assert 'id="id_password2_error"' in second
    assert "errorlist" not in fields["email"] + fields["username"]


def test_login_and_signup_speak_the_sites_words():
    login = Client().get(reverse("account_login")).content.decode()
    assert '<label for="id_login">Username or email</label>' in login
    assert re.search(r"<button[^>]*>Log in</button>", login)
    signup = Client().get(reverse("account_signup")).content.decode()
    assert re.search(r"<button[^>]*>Sign up</button>", signup)
    (member,) = make_users(1, prefix="words")
    client = Client()
    client.force_login(member)
    logout = client.get(reverse("account_logout")).content.decode()
    assert re.search(r"<button[^>]*>Log out</button>", logout)
    for page in (login, signup, logout):
        text = re.sub(r"<[^>]+>", " ", page)  # what people read, not the URLs
        assert not re.search(r"sign ?in|sign ?out|signup", text, re.I), "one vocabulary"


def test_a_wrong_password_is_said_above_the_form():
    make_users(1, prefix="above")
    response = Client().post(reverse("account_login"), {"login": "above0", "password": "nope"})
    html = response.content.decode()
    alert = html[html.index('class="form-errors" role="alert"') : html.index('name="login"')]
    assert "not correct" in alert
