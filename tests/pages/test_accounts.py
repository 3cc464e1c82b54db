"""Sign up, log in with email or username, log out, reset a password (allauth)."""

from __future__ import annotations

import re
from html import unescape

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client
from django.urls import reverse

from tests.helpers import PASSWORD, make_users

pytestmark = pytest.mark.django_db

API_SIGNUP = "/_allauth/app/v1/auth/signup"


SIGNUP = {"password1": "a-very-long-passphrase", "password2": "a-very-long-passphrase"}
CONFIRM_LINK = re.compile(r"http://[^/\s]+(/accounts/confirm-email/[^/\s]+/)")


def sign_up(client: Client, email: str, username: str):
    data = {"email": email, "username": username, **SIGNUP}
    return client.post(reverse("account_signup"), data, follow=True)


def test_signup_mails_a_link_that_logs_in_and_shows_my_rsvps():
    client = Client()
    response = sign_up(client, "new@example.com", "newcomer")
    assert response.status_code == 200
    assert "Verify your email address" in response.content.decode()
    assert not response.wsgi_request.user.is_authenticated
    (message,) = mail.outbox
    assert message.to == ["new@example.com"]
    confirmed = client.post(CONFIRM_LINK.search(message.body)[1], follow=True)
    assert confirmed.wsgi_request.user.username == "newcomer"
    assert "My RSVPs" in client.get(reverse("events:my_rsvps")).content.decode()


def test_signup_with_a_taken_email_answers_as_with_a_new_one():
    """Nobody learns from sign-up whether an address has an account; its owner is told."""
    (member,) = make_users(1, prefix="taken")
    fresh = sign_up(Client(), "fresh@example.com", "fresh")
    taken = sign_up(Client(), member.email.upper(), "impostor")
    assert taken.status_code == fresh.status_code == 200
    assert [url for url, _ in taken.redirect_chain] == [url for url, _ in fresh.redirect_chain]
    assert "Verify your email address" in taken.content.decode()
    assert "already" not in taken.content.decode()
    assert not get_user_model().objects.filter(username="impostor").exists()
    assert [m.to for m in mail.outbox] == [["fresh@example.com"], [member.email]]
    assert "already" in mail.outbox[1].body  # the owner learns someone tried


def test_api_signup_with_a_taken_email_answers_as_with_a_new_one():
    (member,) = make_users(1, prefix="apitaken")

    def sign_up_by_api(email: str, username: str):
        body = {"email": email, "username": username, "password": SIGNUP["password1"]}
        return Client().post(API_SIGNUP, body, content_type="application/json")

    fresh, taken = (
        sign_up_by_api("apifresh@example.com", "apifresh"),
        sign_up_by_api(member.email, "apiimpostor"),
    )
    assert taken.status_code == fresh.status_code == 401, taken.content  # verify your email
    assert taken.json()["data"]["flows"] == fresh.json()["data"]["flows"]
    assert "email_taken" not in taken.content.decode()
    assert not get_user_model().objects.filter(username="apiimpostor").exists()


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


def test_account_emails_carry_the_sites_name_and_sender():
    """Sign-up and password-reset mail: the seat emails' subject prefix, sender and sign-off."""
    (member,) = make_users(1, prefix="branded")
    sign_up(Client(), "branded-new@example.com", "brandednew")
    Client().post(reverse("account_reset_password"), {"email": member.email})
    assert len(mail.outbox) == 2
    site = settings.SITE_NAME
    for message in mail.outbox:
        assert message.subject.startswith(f"[{site}] "), message.subject
        assert message.from_email == f"{site} <{settings.DEFAULT_FROM_EMAIL}>"
        assert message.body.startswith(f"Hello from {site}!")
        assert f"Thank you for using {site}!" in message.body
        words = [
            message.subject,
            *(line for line in message.body.splitlines() if "://" not in line),
        ]
        assert not [line for line in words if "127.0.0.1" in line or "example.com" in line]
