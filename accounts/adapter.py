"""allauth's account adapter, with a clear answer for a client address it cannot tell."""

from __future__ import annotations

from allauth.account.adapter import DefaultAccountAdapter
from django.core.exceptions import BadRequest, ImproperlyConfigured
from django.http import HttpRequest


class AccountAdapter(DefaultAccountAdapter):
    def get_client_ip(self, request: HttpRequest) -> str:
        """The client's address, as the throttles count it (settings/auth.py).

        allauth raises ImproperlyConfigured (a 500) when X-Forwarded-For holds
        fewer addresses than TRUSTED_PROXY_COUNT proxies would have written:
        the request went around one of them, and who sent it cannot be told.
        """
        try:
            return super().get_client_ip(request)
        except ImproperlyConfigured:
            # Django's 400 page; the reason goes to the log (django.request).
            raise BadRequest(
                "X-Forwarded-For holds fewer addresses than TRUSTED_PROXY_COUNT: the request "
                "did not come through the site's proxies."
            ) from None
