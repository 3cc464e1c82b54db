from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.urls import include, path

from events.views import healthz

admin.site.site_header = admin.site.site_title = "Eventsite organisers"
# Organisers log in through the site's login page (allauth's), with its
# throttles; the admin's own login form has none and is never shown.
admin.site.login = secure_admin_login(admin.site.login)

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("_allauth/", include("allauth.headless.urls")),  # API tokens: login, refresh
    path("api/", include("events.api.urls")),
    path("healthz", healthz, name="healthz"),
    path("", include("events.urls")),
]

handler400 = "events.api.exceptions.bad_request"
handler500 = "events.middleware.server_error"
