"""Repair the SQL record of RSVPs from the ledger, which always wins."""

from django.core.management.base import BaseCommand

from events import records
from events.models import Event


class Command(BaseCommand):
    help = (
        "Compare every event's SQL record of RSVPs with its ledger and rewrite what "
        "disagrees (after a crash between the two writes, say). Safe while the site runs."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--event", type=int, action="append", help="only this event id")

    def handle(self, *args, event: list[int] | None = None, **options) -> None:
        event_ids = event or list(Event.objects.values_list("pk", flat=True))
        repaired = [r for r in map(records.reconcile, event_ids) if r.needed]
        for repair in repaired:
            self.stdout.write(
                f"event {repair.event_id}: {repair.added} added, {repair.changed} changed"
            )
        self.stdout.write(f"{len(event_ids)} events checked, {len(repaired)} repaired.")
