"""Writes of accounts the sign-up form did not make."""

from __future__ import annotations

from collections.abc import Iterable

from allauth.account.models import EmailAddress
from django.contrib.auth.models import AbstractBaseUser


def record_verified_emails(*, users: Iterable[AbstractBaseUser]) -> None:
    """Each user's email as their verified primary address, as a confirmed sign-up leaves it.

    A password login needs a verified address (settings/auth.py): for
    accounts made in bulk by the load tools and tests, and the demo organiser.
    An address already recorded is left as it is.
    """
    EmailAddress.objects.bulk_create(
        (
            EmailAddress(user=user, email=user.email.lower(), verified=True, primary=True)
            for user in users
            if user.email
        ),
        batch_size=500,
        ignore_conflicts=True,
    )
