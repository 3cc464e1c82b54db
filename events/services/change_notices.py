"""Change notices: a published event moved (start, end, time zone, venue, join link).

``Event.save()`` keeps what people were last told in ``calendar_before``, set
by the first such change after a notice and left alone by the next ones. Each
save that raises the event's ``sequence`` then queues ``send_change_notice``
for ``CHANGE_NOTICE_DELAY`` later, naming that sequence: a task whose event
was saved again since finds the sequence moved on and leaves the notice to
the later task, so several edits in a row send one notice, old → new. The
task clears the baseline with one write guarded by the sequence, and writes
the mailings in the same transaction: run twice, the second run finds no
baseline and sends nothing; an event changed back finds nothing to say.

Two mailings, because only people going see the join link: everyone going
gets the change with the link, everyone waiting is told the link changed
without it. Both carry the event's ``.ics`` (METHOD:PUBLISH, the same UID, a
higher SEQUENCE), so calendar apps move the event they hold. Drafts owe
nobody a notice; a cancellation sends its own email (``cancel_event``).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from functools import partial

from django.conf import settings
from django.db import transaction
from django.db.models.signals import post_save
from django.tasks import task
from django.utils import timezone

from events import calendar, ledger, times
from events.models import NOTICE_FIELDS, Event, Mailing
from events.services import mailings

logger = logging.getLogger(__name__)
Audience = Mailing.Audience

SUBJECT = "Changed: {title}"
BODY = (
    "{title} has changed:\n\n{changes}\n\n"
    "Your RSVP or your place on the waiting list stays as it is. The attached "
    "calendar file updates the event in your calendar."
)
LINK_HIDDEN = (
    "Join online: the link has changed. It is shown to people going, "
    "so you'll see it once you have a seat."
)


# --- Queueing -----------------------------------------------------------------


def queue_notice(event_id: int, sequence: int) -> None:
    """Queue the notice for after the delay; where tasks run at once, send it now."""
    try:
        if send_change_notice.get_backend().supports_defer:
            delay = timedelta(seconds=settings.CHANGE_NOTICE_DELAY)
            run_after = timezone.now() + delay
            notice = send_change_notice.using(run_after=run_after)
            notice.enqueue(event_id=event_id, sequence=sequence)
        else:  # ImmediateBackend: it cannot wait, and a notice unsent would be lost
            send_change_notice.enqueue(event_id=event_id, sequence=sequence)
    except Exception:  # the event is saved; its baseline stays for the next save's task
        logger.exception("Could not queue the change notice of event %s", event_id)


def _after_save(sender, instance: Event, created: bool, raw=False, **kwargs) -> None:
    if raw or created or not getattr(instance, "_sequence_raised", False):
        return
    if instance.calendar_before is None:  # a title or description: calendars only
        return
    transaction.on_commit(partial(queue_notice, instance.pk, instance.sequence))


def connect() -> None:
    """Every save of an event, from any path, may owe a change notice (apps.ready)."""
    post_save.connect(_after_save, sender=Event, dispatch_uid="change-notice")


# --- What changed ---------------------------------------------------------------


def _when(starts_at, ends_at, zone_name: str) -> str:
    return times.span(starts_at, ends_at, times.zone(zone_name))


def _changes(before: dict, event: Event, *, with_link: bool) -> list[str]:
    """One line per thing that changed, old → new; times each in their own zone."""
    old_start = datetime.fromisoformat(before["starts_at"])
    old_end = datetime.fromisoformat(before["ends_at"]) if before["ends_at"] else None
    lines = []
    old_when = _when(old_start, old_end, before["time_zone"])
    new_when = _when(event.starts_at, event.ends_at, event.time_zone)
    if old_when != new_when:
        lines.append(f"When: {old_when} → {new_when}")
    if before["time_zone"] != event.time_zone:
        lines.append(f"Time zone: {before['time_zone']} → {event.time_zone}")
    if before["venue"] != event.venue:
        lines.append(f"Where: {before['venue']} → {event.venue}")
    if before["online_url"] != event.online_url:
        if with_link:
            lines.append(
                f"Join online: {before['online_url'] or 'none'} → {event.online_url or 'none'}"
            )
        else:
            lines.append(LINK_HIDDEN)
    return lines


def unchanged(before: dict, event: Event) -> bool:
    """Whether everything people were told still holds (an edit undone before the notice)."""
    return all(_same(before[name], getattr(event, name)) for name in NOTICE_FIELDS)


def _same(old, new) -> bool:
    if isinstance(new, datetime):
        return old is not None and datetime.fromisoformat(old) == new
    return old == new


# --- The task -----------------------------------------------------------------


@task
def send_change_notice(*, event_id: int, sequence: int) -> int:
    """Tell everyone going and waiting what changed; how many mailings (0: nothing due)."""
    event = Event.objects.filter(pk=event_id).first()
    if event is None or event.status != Event.Status.PUBLISHED or event.sequence != sequence:
        return 0  # gone, unpublished or cancelled, or saved again (a later task tells)
    if event.calendar_before is None:
        return 0
    with transaction.atomic():
        # The guard: only this sequence's run clears the baseline, and only once.
        cleared = (
            Event.objects.filter(pk=event_id, sequence=sequence, status=Event.Status.PUBLISHED)
            .exclude(calendar_before__isnull=True)
            .update(calendar_before=None)
        )
        if not cleared or unchanged(event.calendar_before, event):
            return 0
        return len(_write_mailings(event, event.calendar_before, sequence))


def _write_mailings(event: Event, before: dict, sequence: int) -> list[Mailing]:
    roster = ledger.roster(event.pk)
    if roster is None:
        return []
    ics = calendar.event_ics(event, method=calendar.PUBLISH).decode()
    audiences = (
        (Audience.GOING, [a.user_id for a in roster.attendees], True),
        (Audience.WAITING, list(roster.waitlist), False),
    )
    written = []
    for audience, people, with_link in audiences:
        if not people:
            continue
        changes = "\n".join(_changes(before, event, with_link=with_link))
        mailing = Mailing(
            event=event,
            event_title=event.title,
            kind=Mailing.Kind.CHANGE,
            audience=audience,
            subject=SUBJECT.format(title=event.title),
            body=BODY.format(title=event.title, changes=changes),
            calendar=ics,
            recipients=people,
            key=f"change {sequence} {audience}",
        )
        if mailings.write_once(mailing) is not None:
            written.append(mailing)
    return written
