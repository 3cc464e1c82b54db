from allauth.account.decorators import secure_admin_login
from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from events.api.exceptions import not_found
from events.views import healthz
from eventsite import media

PHONE_PATHS = ("account/phone", "auth/phone/verify", "auth/phone/verify/resend")

admin.site.site_header = admin.site.site_title = "Eventsite organisers"
# Organisers log in through the site's login page (allauth's), with its
# throttles; the admin's own login form has none and is never shown.
admin.site.login = secure_admin_login(admin.site.login)

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    # Accounts have no phone numbers here (ACCOUNT_LOGIN_METHODS), and allauth's
    # phone view fails on an anonymous PUT or DELETE: its addresses are unknown.
    *(path(f"_allauth/app/v1/{phone}", not_found) for phone in PHONE_PATHS),
    path("_allauth/", include("allauth.headless.urls")),  # API tokens: login, refresh
    path("api/", include("events.api.urls")),
    path("healthz", healthz, name="healthz"),
    # Pictures on this site's own disk; a remote storage serves its own (eventsite/media.py).
    *(
        [path(f"{settings.MEDIA_URL.strip('/')}/<path:name>", media.picture, name="picture")]
        if settings.MEDIA_URL.startswith("/")
        else []
    ),
    path("", include("events.urls")),
]

handler400 = "events.errors.bad_request"
handler500 = "events.middleware.server_error"
