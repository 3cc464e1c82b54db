from django.apps import AppConfig
from django.db.models.signals import post_migrate

ORGANISERS_GROUP = "Organisers"


def _after_migrate(sender, **kwargs) -> None:
    """Every deploy migrates: the ledger's validator, old ledgers brought up to date,
    and the organisers' group."""
    from django.contrib.auth.models import Group, Permission

    from events import ledger

    ledger.ensure_schema()
    ledger.upgrade_documents()
    group, _ = Group.objects.get_or_create(name=ORGANISERS_GROUP)
    group.permissions.add(*Permission.objects.filter(content_type__app_label="events"))


class EventsConfig(AppConfig):
    name = "events"
    verbose_name = "Events"

    def ready(self) -> None:
        post_migrate.connect(_after_migrate, sender=self)
        from events.services import change_notices, timed  # the models are loaded only now

        timed.connect()
        change_notices.connect()
