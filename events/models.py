"""An event's descriptive fields. Its capacity and attendees live in the ledger."""

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone


class EventQuerySet(models.QuerySet):
    def upcoming(self) -> "EventQuerySet":
        return self.filter(starts_at__gte=timezone.now())


class Event(models.Model):
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    starts_at = models.DateTimeField("starts")
    ends_at = models.DateTimeField("ends", null=True, blank=True)
    venue = models.CharField(max_length=200)
    organiser = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="organised_events"
    )
    attendees_public = models.BooleanField(
        "show who is going", default=False, help_text="List attendees on the event page."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = EventQuerySet.as_manager()

    class Meta:
        ordering = ["starts_at", "pk"]
        indexes = [models.Index(fields=["starts_at"])]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("events:detail", args=[self.pk])

    @property
    def is_past(self) -> bool:
        return self.starts_at < timezone.now()
