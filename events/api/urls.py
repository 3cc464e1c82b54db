from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from events.api import views
from events.api.exceptions import not_found

app_name = "api"

urlpatterns = [
    path("events/", views.EventListView.as_view(), name="events"),
    path("events/<int:event_id>/", views.EventDetailView.as_view(), name="event"),
    # The reference note's scripts POST to .../rsvp; the slash form works alike.
    path("events/<int:event_id>/rsvp", views.RsvpView.as_view(), name="rsvp"),
    path("events/<int:event_id>/rsvp/", views.RsvpSlashView.as_view()),
    path("events/<int:event_id>/waitlist", views.WaitlistView.as_view(), name="waitlist"),
    path("events/<int:event_id>/waitlist/", views.WaitlistSlashView.as_view()),
    path("me/rsvps/", views.MyRsvpsView.as_view(), name="my_rsvps"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
    # Anything else under /api/, any characters (newlines too): JSON 404, never HTML.
    re_path(r"^[\s\S]*$", not_found),
]
