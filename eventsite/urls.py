from django.contrib import admin
from django.urls import include, path

from events.views import healthz

admin.site.site_header = admin.site.site_title = "Eventsite organisers"

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
