"""Work at times set by the event: reminders, reconfirm-or-release, and the draw.

When an event is published, or its start or these settings change, a task
is queued for each moment (``django.tasks`` with ``run_after``): each
reminder's lead time before the start, the "still coming?" question, and the
release of the seats nobody kept. Nothing is ever unqueued: a task checks
the event as it is when it runs (published, not cancelled, not started, the
same start, the same setting), so a moved or cancelled event never sends a
stale one. What a task sends is a ``Mailing`` with a ``key`` naming the
moment; the key is unique per event, so a task queued twice (a save, then
another) sends once. Recipients are fixed when the mailing is written:
whoever takes a seat after a reminder went out is not reminded.

The release is the ledger's one write (``ledger.release_unconfirmed``): it
frees every seat not kept and promotes the waiting list in the same step.
The promoted are told by the copy of that write, like any promotion; the
released by a mailing made from the document's ``released`` list, which a
run of the task after a crash reads again, so they are told once.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from functools import partial

from django.db import transaction
from django.db.models.signals import post_save
from django.tasks import task
from django.utils import timezone

from events import ledger, records, times
from events.ledger import Outcome
from events.models import SCHEDULE_FIELDS, Event, Mailing
from events.services import draws, mailings
from events.services.seats import after_write

logger = logging.getLogger(__name__)
Kind = Mailing.Kind

# --- Scheduling ---------------------------------------------------------------


def schedule(event: Event) -> int:
    """Queue the event's timed mail for each moment still ahead; how many tasks."""
    if event.status != Event.Status.PUBLISHED or event.is_past:
        return 0
    if not send_reminder.get_backend().supports_defer:  # ImmediateBackend: it cannot wait
        logger.info("Tasks run at once here: the timed mail of event %s is not queued", event.pk)
        return 0
    start = event.starts_at.isoformat()
    moments = [
        (send_reminder, {"lead_s": lead}, event.starts_at - timedelta(seconds=lead))
        for lead in event.reminders or ()
    ]
    if event.draw_at is not None and event.drawn_at is None:
        moments.append((hold_draw, {"draw_at": event.draw_at.isoformat()}, event.draw_at))
    if event.asks_to_reconfirm:
        moments += [
            (ask_to_reconfirm, {}, event.starts_at - event.reconfirm_ask_before),
            (release_unconfirmed, {}, event.starts_at - event.reconfirm_release_before),
        ]
    queued = 0
    for timed_task, arguments, at in moments:
        # Its moment has passed: too late to be of use (a draw still runs: the
        # first request after its time runs it).
        if at <= timezone.now():
            continue
        timed_task.using(run_after=at).enqueue(event_id=event.pk, starts_at=start, **arguments)
        queued += 1
    return queued


def schedule_after_commit(event_id: int) -> None:
    """``schedule`` the event as it is now (after the commit that changed it)."""
    event = Event.objects.filter(pk=event_id).first()
    if event is None:
        return
    try:
        schedule(event)
    except Exception:  # the event is saved; its reminders are a courtesy
        logger.exception("Could not schedule the timed mail of event %s", event_id)


def _reschedule(sender, instance: Event, created: bool, raw=False, **kwargs) -> None:
    if raw:  # loaddata
        return
    before = instance.saved_before  # the row as Event.save() found it (None: new)
    if (
        created
        or before is None
        or any(before[name] != getattr(instance, name) for name in SCHEDULE_FIELDS)
    ):
        transaction.on_commit(partial(schedule_after_commit, instance.pk))


def connect() -> None:
    """Every save of an event, from any path, reschedules what it changed (apps.ready)."""
    post_save.connect(_reschedule, sender=Event, dispatch_uid="timed-after")


# --- The tasks ----------------------------------------------------------------


def _still_due(event_id: int, starts_at: str) -> Event | None:
    """The event if what was scheduled for it still holds: published, ahead, same start."""
    event = Event.objects.filter(pk=event_id, status=Event.Status.PUBLISHED).first()
    if event is None or event.is_past or event.starts_at != datetime.fromisoformat(starts_at):
        return None
    return event


def _key(what: str, event: Event) -> str:
    return f"{what} {int(event.starts_at.timestamp())}"


def _mailing(event: Event, kind: str, key: str, people, subject: str) -> Mailing | None:
    mailing = Mailing(
        event=event,
        event_title=event.title,
        kind=kind,
        audience=Mailing.Audience.GOING,
        subject=subject,
        body=f"{subject}\n\n{times.span(event.starts_at, event.ends_at, event.zone)}",
        recipients=list(people),
        key=key,
    )
    return mailings.write_once(mailing)


@task
def send_reminder(*, event_id: int, starts_at: str, lead_s: int) -> int:
    """Remind everyone going now; how many (0: not due any more, or sent before)."""
    event = _still_due(event_id, starts_at)
    if event is None or lead_s not in (event.reminders or ()):
        return 0
    roster = ledger.roster(event_id)
    people = [a.user_id for a in roster.attendees] if roster else []
    subject = f"Reminder: {event.title}"
    mailing = _mailing(event, Kind.REMINDER, _key(f"reminder {lead_s}", event), people, subject)
    return len(mailing.recipients) if mailing and people else 0


@task
def ask_to_reconfirm(*, event_id: int, starts_at: str) -> int:
    """Ask everyone going "still coming?" (the ledger notes who); how many were asked."""
    event = _still_due(event_id, starts_at)
    if event is None or not event.asks_to_reconfirm:
        return 0
    asked = ledger.ask_to_reconfirm(event_id)
    if asked is None or not asked.asked:
        return 0
    subject = f"Still coming to {event.title}?"
    mailing = _mailing(event, Kind.RECONFIRM, _key("reconfirm", event), asked.unconfirmed, subject)
    return len(mailing.recipients) if mailing else 0


@task
def release_unconfirmed(*, event_id: int, starts_at: str) -> int:
    """Free the seats nobody kept, for the waiting list; how many were released."""
    event = _still_due(event_id, starts_at)
    if event is None or not event.asks_to_reconfirm:
        return 0
    release = ledger.release_unconfirmed(event_id)
    if release.result.outcome is not Outcome.RELEASED:
        return 0
    after_write(event_id, release.result)  # the promoted: recorded and told
    records.reconcile(event_id)  # the released: their rows no longer say going
    if release.released:
        subject = f"Your seat at {event.title} was released"
        _mailing(event, Kind.RELEASED, _key("released", event), release.released, subject)
    return len(release.released)


@task
def hold_draw(*, event_id: int, starts_at: str, draw_at: str) -> int:
    """The event's draw at its time, unless the draw time moved since (then its own task runs).

    How many were drawn in (0 if it had run already: the ledger runs it once).
    """
    event = Event.objects.filter(pk=event_id).first()
    if event is None or event.draw_at is None or event.draw_at.isoformat() != draw_at:
        return 0
    draw = draws.hold_draw(event_id=event_id)
    return len(draw.drawn_in) if draw is not None else 0
