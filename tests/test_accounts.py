"""Sign up, log in with email or username, log out, reset a password (allauth)."""

from __future__ import annotations

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
