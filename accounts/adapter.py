"""allauth's account adapter, with a clear answer for a client address it cannot tell."""

from __future__ import annotations

from allauth.account.adapter import DefaultAccountAdapter
from django.conf import settings
from django.core.exceptions import BadRequest, ImproperlyConfigured
from django.http import HttpRequest
from django.utils.encoding import force_str

from events.services import notifications


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

    def format_email_subject(self, subject: str) -> str:
        """``[SITE_NAME] subject``, as the seat emails, not the Site row's host and port."""
        return notifications.subject_line(force_str(subject))

    def get_from_email(self) -> str:
        """The seat emails' sender: DEFAULT_FROM_EMAIL under the site's name."""
        return notifications.sender()

    def send_mail(self, template_prefix: str, email: str, context: dict) -> None:
        """Give the templates the site's name (templates/account/email/base_message.txt)."""
        super().send_mail(template_prefix, email, {"site_name": settings.SITE_NAME, **context})
