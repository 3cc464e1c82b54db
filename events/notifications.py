"""Emails to attendees, sent as tasks (``django.tasks``) after the ledger decided.

By default the tasks run at once in the process that enqueued them (Django's
ImmediateBackend, see ``TASKS`` in settings); a failure is logged by
``django.tasks`` with its traceback and changes nothing in the ledger.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.tasks import task
from django.template.loader import render_to_string

from events.models import Event


@task
def send_promotion_email(*, event_id: int, user_id: int) -> bool:
    """Tell someone that a seat freed up and is now theirs. False if nobody to tell."""
    event = Event.objects.filter(pk=event_id).first()
    user = get_user_model().objects.filter(pk=user_id).first()
    if event is None or user is None or not user.email:
        return False
    context = {
        "event": event,
        "user": user,
        "event_url": settings.SITE_URL + event.get_absolute_url(),
        "site_name": settings.SITE_NAME,
    }
    send_mail(
        subject=f"You're in: a seat freed up for {event.title}",
        message=render_to_string("events/email/promoted.txt", context),
        from_email=None,
        recipient_list=[user.email],
    )
    return True
