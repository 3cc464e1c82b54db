"""An event's life: created with its ledger, updated, published, deleted, as one each."""

from __future__ import annotations

from functools import partial

from django.db import transaction

from events import ledger
from events.models import Event
from events.services import mailings, timed
from events.services.seats import KEEP, CapacityError, set_seats


def create_event(*, capacity: int, waitlist_limit: int | None = None, **fields) -> Event:
    """Save a new event and open its ledger; if MongoDB refuses, nothing is saved."""
    return save_new_event(event=Event(**fields), capacity=capacity, waitlist_limit=waitlist_limit)


@transaction.atomic
def save_new_event(*, event: Event, capacity: int, waitlist_limit: int | None = None) -> Event:
    """Save an unsaved event (the admin's form builds one) and open its ledger, as one.

    The SQL row is written first, inside a transaction: if MongoDB then
    refuses, the row is rolled back and nothing is left half-made.
    """
    if capacity < 0:
        raise CapacityError("Capacity cannot be negative.")
    event.save()
    ledger.create_event(event.pk, capacity, waitlist_limit)
    return event


@transaction.atomic
def update_event(
    *, event: Event, capacity: int | str = KEEP, waitlist_limit: int | str | None = KEEP
) -> Event:
    """Save an event's fields and its seats' numbers, as one.

    The SQL row is saved first inside a transaction, then the ledger's one
    guarded write (``set_seats``) decides; if it refuses (``CapacityError``)
    or MongoDB is down, the row is rolled back, so both stores stay as they
    were. Nothing needs undoing in MongoDB: its write is the last step.
    """
    event.save()
    if capacity != KEEP or waitlist_limit != KEEP:
        set_seats(event_id=event.pk, capacity=capacity, waitlist_limit=waitlist_limit)
    return event


def publish_events(*, event_ids: list[int]) -> int:
    """Drafts become public; how many did (published and cancelled ones stay as they are).

    Each published one has its reminders queued, as a save that publishes does.
    """
    published = 0
    for event_id in event_ids:
        draft = Event.objects.filter(pk=event_id, status=Event.Status.DRAFT)
        if draft.update(status=Event.Status.PUBLISHED):  # guarded: only a draft
            published += 1
            transaction.on_commit(partial(timed.schedule_after_commit, event_id))
    return published


@transaction.atomic
def delete_events(*, event_ids: list[int], deleted_by=None) -> None:
    """Delete events and their ledgers; everyone going or waiting is told, after the commit.

    The deletion mailings are written first, while the lists and the events'
    details are there to read; their emails are sent once this commits, from
    what each mailing keeps. If MongoDB refuses, all of it rolls back.
    """
    mailings.notify_deletion(event_ids=event_ids, deleted_by=deleted_by)
    Event.objects.filter(pk__in=event_ids).delete()
    ledger.delete_events(event_ids)
