"""The seats after each ledger write, kept for the organiser's chart of the rush."""

from django.db import models

from events.models.event import Event


class SeatSample(models.Model):
    """The seats after one ledger write, for the organiser's chart of the rush.

    Copied from the document the write returned; ``version`` orders them (two
    writes' clocks may disagree, their versions never do).
    """

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="seat_samples")
    version = models.PositiveBigIntegerField()
    at = models.DateTimeField()
    capacity = models.PositiveIntegerField()
    taken = models.PositiveIntegerField()
    waiting = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["event", "version"], name="one_sample_per_version")
        ]

    def __str__(self) -> str:
        return f"{self.event_id} v{self.version}: {self.taken}/{self.capacity}"
