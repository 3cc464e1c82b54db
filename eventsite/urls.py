from django.contrib import admin
from django.urls import include, path

from events.views import healthz

admin.site.site_header = admin.site.site_title = "Eventsite organisers"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("healthz", healthz, name="healthz"),
    path("", include("events.urls")),
]

handler500 = "events.middleware.server_error"
