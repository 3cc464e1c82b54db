from django.urls import path

from events import calendar_views, views

app_name = "events"

urlpatterns = [
    path("", views.event_list, name="list"),
    path("events/<int:pk>/", views.event_detail, name="detail"),
    path("events/<int:pk>/seats/", views.event_seats, name="seats"),
    path("events/<int:pk>/rsvp/", views.rsvp, name="rsvp"),
    path("events/<int:pk>/cancel/", views.cancel_rsvp, name="cancel"),
    path("events/<int:pk>/party/", views.change_party, name="change_party"),
    path("events/<int:pk>/waitlist/", views.join_waitlist, name="join_waitlist"),
    path("events/<int:pk>/waitlist/leave/", views.leave_waitlist, name="leave_waitlist"),
    path("events/<int:pk>/calendar.ics", calendar_views.event_ics, name="event_ics"),
    path("calendar/<str:token>.ics", calendar_views.feed, name="calendar_feed"),
    path("me/calendar/", calendar_views.feed_settings, name="calendar_feed_settings"),
    path("me/rsvps/", views.my_rsvps, name="my_rsvps"),
    path("me/rsvps/past/", views.my_past_rsvps, name="my_past_rsvps"),
    path("e/<str:token>/", views.email_action, name="email_action"),
]
