"""DRF authentication with allauth's JWT access tokens."""

from __future__ import annotations

from typing import Any

from allauth.headless.contrib.rest_framework.authentication import JWTTokenAuthentication
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ObjectDoesNotExist
from rest_framework.exceptions import AuthenticationFailed

from accounts.token_strategy import has_expiry


class JWTAuthentication(JWTTokenAuthentication):
    """allauth's Bearer token check, plus the account check DRF's own classes make.

    allauth hands back a lazy user that is loaded when first touched, so a valid
    token of a deleted account would blow up later as a server error, and it
    does not look at ``is_active``. Both are a plain 401 here, and so is a
    token without an expiry (see ``accounts.token_strategy``).
    """

    def authenticate_credentials(self, key: str) -> tuple[AbstractBaseUser, dict[str, Any]]:
        user, payload = super().authenticate_credentials(key)
        if not has_expiry(payload):
            raise AuthenticationFailed("Invalid token.")
        try:
            active = user.is_active  # loads the lazy user: one query
        except ObjectDoesNotExist:
            active = False
        if not active:
            raise AuthenticationFailed("User inactive or deleted.")
        return user, payload
