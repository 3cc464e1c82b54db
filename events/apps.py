from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _ensure_ledger_indexes(sender, **kwargs) -> None:
    from events import ledger

    ledger.ensure_indexes()


class EventsConfig(AppConfig):
    name = "events"
    verbose_name = "Events"

    def ready(self) -> None:
        # Every deploy migrates, so the ledger's indexes are made then.
        post_migrate.connect(_ensure_ledger_indexes, sender=self)
