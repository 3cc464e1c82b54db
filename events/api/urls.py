from django.conf import settings
from django.urls import path, re_path
from django.views.decorators.csp import csp_override
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from events.api import organisers, views
from events.api.exceptions import not_found
from events.errors import allow

app_name = "api"

urlpatterns = [
    path("events/", views.EventListView.as_view(), name="events"),
    path("events/<int:event_id>/", views.EventDetailView.as_view(), name="event"),
    # The API contract's scripts POST to .../rsvp; the slash form works alike.
    path("events/<int:event_id>/rsvp", views.RsvpView.as_view(), name="rsvp"),
    path("events/<int:event_id>/rsvp/", views.RsvpSlashView.as_view()),
    path("events/<int:event_id>/waitlist", views.WaitlistView.as_view(), name="waitlist"),
    path("events/<int:event_id>/waitlist/", views.WaitlistSlashView.as_view()),
    path(
        "events/<int:event_id>/requests/approve",
        organisers.ApproveView.as_view(),
        name="approve_requests",
    ),
    path(
        "events/<int:event_id>/requests/decline",
        organisers.DeclineView.as_view(),
        name="decline_requests",
    ),
    path("me/rsvps/", views.MyRsvpsView.as_view(), name="my_rsvps"),
    # Read-only, and their renderers (the OpenAPI document, Swagger UI's page)
    # cannot render an error or OPTIONS' answer: any other method is a JSON 405.
    path("schema/", allow("GET")(SpectacularAPIView.as_view()), name="schema"),
    # Swagger UI: its start-up script from /api/docs/?script (the split view),
    # not inline; the page's policy adds the CDN that serves the rest.
    path(
        "docs/",
        csp_override(settings.API_DOCS_CSP)(
            allow("GET")(
                SpectacularSwaggerSplitView.as_view(
                    url_name="api:schema", template_name="api/swagger_ui.html"
                )
            )
        ),
        name="docs",
    ),
    # Anything else under /api/, any characters (newlines too): JSON 404, never HTML.
    re_path(r"^[\s\S]*$", not_found),
]
