"""What was emailed: the organisers' mailings and every email the mail server accepted."""

from django.conf import settings
from django.db import models

from events.models.event import Event


class Mailing(models.Model):
    """One email to an event's people, sent in the background, kept as the organiser's log.

    The recipients are fixed when it is written (from the ledger's lists), and
    the subject, text and any calendar file are stored whole, so it can be sent
    (and resumed after a crash) even once the event itself is deleted.
    """

    class Kind(models.TextChoices):
        MESSAGE = "message", "message from the organiser"
        CANCELLATION = "cancellation", "event cancelled"
        DELETION = "deletion", "event deleted"
        REMINDER = "reminder"
        RECONFIRM = "reconfirm", "still coming?"
        RELEASED = "released", "seat released"
        CHANGE = "change", "event changed"

    class Audience(models.TextChoices):
        GOING = "going", "everyone going"
        WAITING = "waiting", "everyone waiting"
        BOTH = "both", "everyone going or waiting"

    event = models.ForeignKey(
        Event, null=True, blank=True, on_delete=models.SET_NULL, related_name="mailings"
    )
    event_title = models.CharField(max_length=200)
    kind = models.CharField(max_length=12, choices=Kind, default=Kind.MESSAGE)
    audience = models.CharField(max_length=7, choices=Audience, default=Audience.BOTH)
    subject = models.CharField(max_length=200)
    body = models.TextField()
    # An .ics attached to every copy (a cancellation's METHOD:CANCEL), if any.
    calendar = models.TextField(blank=True)
    recipients = models.JSONField(default=list)  # user pks, in the order they are sent
    sent = models.PositiveIntegerField(default=0)  # how many of recipients have been sent
    failed = models.PositiveIntegerField(default=0)  # given up on: the mail server refused
    # What a scheduled mailing is (a reminder's lead and the start it was for):
    # a task run twice finds its mailing by it and sends nobody twice.
    key = models.CharField(max_length=64, blank=True, default="")
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["event", "key"], condition=~models.Q(key=""), name="one_mailing_per_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.subject} ({self.event_title})"


class SentEmail(models.Model):
    """One email the mail server accepted: a task run again after a crash skips its person.

    ``email`` names what was sent (a mailing, or one seat email: its kind,
    event and ledger version), so each person gets each email once however
    often its task runs. Written right after the server accepts the message:
    only a crash in between sends it twice.
    """

    email = models.CharField(max_length=64)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["email", "user"], name="each_email_once_per_person")
        ]

    def __str__(self) -> str:
        return f"{self.email} to user {self.user_id}"
