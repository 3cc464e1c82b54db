"""Emails an organiser sends to an event's people: messages, cancellation, deletion.

Each is a ``Mailing`` row written by a service here, then sent by the
``send_mailing`` task once the transaction that wrote it has committed. The
row holds everything the email needs (recipients fixed when it was written,
subject, text, any calendar file), so a mailing survives its event's deletion
and a crash: the task, run again, resumes from ``sent`` and skips everyone
its ``SentEmail`` rows say has the email.

Cancelling an event is one of these services because its email and its
state change are one act: ``cancel_event`` closes the SQL row and the ledger
and writes the mailing in one transaction.
"""

from __future__ import annotations

import logging
import re
from functools import partial

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMultiAlternatives, mailers
from django.db import IntegrityError, transaction
from django.db.models import F
from django.tasks import task
from django.utils import timezone
from django.utils.html import format_html, linebreaks
from django.utils.safestring import mark_safe

from events import calendar, ledger, seat_cache, times
from events.models import Event, Mailing, Rsvp
from events.services import check_ins, notifications
from events.services.notifications import retry_later, sender, subject_line

logger = logging.getLogger(__name__)
Audience = Mailing.Audience
Kind = Mailing.Kind

# Recipients per update of the progress (``sent``). A run after a crash or a
# failed send starts at the chunk that was under way and skips whoever has
# their copy already (``SentEmail``): nobody gets it twice.
CHUNK = 100
# A failed chunk is tried again as a seat email is (notifications.retry_later);
# the count of attempts starts over whenever a chunk gets through.
_METHOD = re.compile(r"^METHOD:(\w+)", re.MULTILINE)


class NoRecipients(ValueError):
    """Nobody is in the chosen audience: a message to nobody is refused."""


# --- Who receives a mailing -------------------------------------------------


def recipients(roster: ledger.Roster | None, audience: str) -> list[int]:
    """User pks: going in seat order, then waiting in line order, nobody twice."""
    if roster is None:
        return []
    going = [a.user_id for a in roster.attendees] if audience != Audience.WAITING else []
    waiting = roster.waitlist if audience != Audience.GOING else []
    return list(dict.fromkeys([*going, *waiting]))


def write_once(mailing: Mailing) -> Mailing | None:
    """Save a mailing that has a ``key`` and queue its task with it; None if one exists.

    The row and its task commit together where the backend keeps tasks in
    this database (a worker killed in between leaves neither or both); a
    backend that sends where it queues sends after the commit.
    """
    try:
        with transaction.atomic():
            mailing.save()  # the constraint one_mailing_per_key refuses a second
            if notifications.sends_at_once():
                transaction.on_commit(partial(_enqueue, mailing.pk))
            else:
                send_mailing.enqueue(mailing_id=mailing.pk)
    except IntegrityError:
        return None
    return mailing


def _queue(mailing: Mailing) -> Mailing:
    """Save the mailing; its task is queued only if (and once) the save commits."""
    mailing.save()
    transaction.on_commit(partial(_enqueue, mailing.pk))
    return mailing


def _enqueue(mailing_id: int) -> None:
    try:
        send_mailing.enqueue(mailing_id=mailing_id)
    except Exception:  # the row stays, unfinished, in the organiser's log
        logger.exception("Could not queue mailing %s", mailing_id)


# --- Services ----------------------------------------------------------------


def send_message(*, event_id: int, audience: str, subject: str, body: str, sent_by) -> Mailing:
    """An organiser's message to everyone going, waiting, or both, as the ledger lists them now."""
    event = Event.objects.get(pk=event_id)
    # One read of both lists (a service may ask the ledger): a person moved
    # from the list to a seat meanwhile is in exactly one of them.
    people = recipients(ledger.roster(event_id), audience)
    if not people:
        raise NoRecipients(f"Nobody is in “{Audience(audience).label}”.")
    mailing = Mailing(
        event=event,
        event_title=event.title,
        kind=Kind.MESSAGE,
        audience=audience,
        subject=subject,
        body=body,
        recipients=people,
        sent_by=sent_by,
    )
    return _queue(mailing)


def cancel_event(*, event_id: int, cancelled_by) -> Mailing | None:
    """Cancel the event, close its ledger and email everyone going or waiting.

    None if it was already cancelled (or is gone): nobody is emailed twice.
    The lists are kept as they were, for the record.

    The SQL row changes first, inside the transaction; then the ledger is
    closed. If MongoDB refuses (``ledger.LedgerUnavailable``), the update
    rolls back and nothing is half-done. If instead the SQL commit fails
    after the ledger closed, the ledger refuses every RSVP while the row
    still says published (the pages answer "cancelled" from the ledger's
    refusal); cancelling again completes it, since ``ledger.cancel`` is
    idempotent and returns the same lists.
    """
    with transaction.atomic():
        closed = (
            Event.objects.filter(pk=event_id)
            .exclude(status=Event.Status.CANCELLED)
            .update(
                status=Event.Status.CANCELLED,
                cancelled_at=timezone.now(),
                sequence=F("sequence") + 1,  # calendar apps replace their copy
            )
        )
        if not closed:
            return None
        roster = ledger.cancel(event_id)
        event = Event.objects.get(pk=event_id)  # the new SEQUENCE, for the .ics
        mailing = _queue(
            _notice(event, Kind.CANCELLATION, recipients(roster, Audience.BOTH), cancelled_by)
        )
    seat_cache.forget(event_id)
    return mailing


def notify_deletion(*, event_ids: list[int], deleted_by=None) -> list[Mailing]:
    """Before events are deleted: a mailing to everyone going to or waiting for each.

    Call it inside the deleting transaction (``services.delete_events``): a
    deletion that fails leaves no mailing, and one that commits sends them,
    from what the rows keep, after the events are gone. Each event's ledger
    is closed here first, so nobody takes a seat between this list and the
    deletion without being told; should the deletion then roll back, that
    event refuses RSVPs until it is deleted again (or cancelled).
    A cancelled event's people were told already: they are not emailed again.
    """
    mailings = []
    for event in Event.objects.filter(pk__in=event_ids).exclude(status=Event.Status.CANCELLED):
        try:
            people = recipients(ledger.cancel(event.pk), Audience.BOTH)
        except ledger.LedgerDamaged:  # still deletable: who was there, as the record has it
            logger.warning("Ledger of event %s damaged: telling its record's people", event.pk)
            people = _recorded(event)
        if people:
            mailings.append(_queue(_notice(event, Kind.DELETION, people, deleted_by)))
    return mailings


def _recorded(event: Event) -> list[int]:
    """Going then waiting, from the SQL record (when the ledger cannot be read)."""
    people = []
    for status in (Rsvp.Status.GOING, Rsvp.Status.WAITING):
        rows = event.rsvps.filter(status=status).order_by("updated_at", "pk")
        people += rows.values_list("user_id", flat=True)
    return list(dict.fromkeys(people))


_NOTICES = {
    Kind.CANCELLATION: (
        "Cancelled: {title}",
        "{title} ({when}, {venue}) has been cancelled by the organiser.\n\n"
        "You don't need to do anything: your RSVP or your place on the waiting list "
        "ends with it. The attached calendar file removes the event from your calendar.",
    ),
    Kind.DELETION: (
        "Called off: {title}",
        "{title} ({when}, {venue}) has been called off by the organiser and removed "
        "from the site.\n\n"
        "You don't need to do anything: your RSVP or your place on the waiting list "
        "ends with it. The attached calendar file removes the event from your calendar.",
    ),
}


def _notice(event: Event, kind: str, people: list[int], by) -> Mailing:
    """The cancellation or deletion email, with a METHOD:CANCEL calendar file."""
    subject, body = _NOTICES[kind]
    words = {
        "title": event.title,
        "when": times.span(event.starts_at, event.ends_at, event.zone),
        "venue": event.venue,
    }
    return Mailing(
        event=event,
        event_title=event.title,
        kind=kind,
        audience=Audience.BOTH,
        subject=subject.format(**words),
        body=body.format(**words),
        calendar=calendar.event_ics(event, method=calendar.CANCEL).decode(),
        recipients=people,
        sent_by=by,
    )


# --- Sending -----------------------------------------------------------------


@task
def send_mailing(*, mailing_id: int, attempt: int = 1) -> int:
    """Send what is left of the mailing; how many of its recipients are done.

    Resumes at ``sent``, skipping whoever has their copy: a run after a crash
    sends each person the email once.
    A failed send (the mail server) queues the task again, as the seat emails
    do; the recipients not yet reached are never dropped while it retries.
    """
    mailing = Mailing.objects.select_related("event").filter(pk=mailing_id).first()
    if mailing is None or mailing.finished_at is not None:
        return 0
    started_at = mailing.sent
    try:
        _send_rest(mailing)
    except Exception:
        # A chunk that got through shows the server works: count afresh.
        attempt = 1 if mailing.sent > started_at else attempt
        if not _retry(mailing, attempt):
            raise
    return mailing.sent


def _send_rest(mailing: Mailing) -> None:
    skipped = 0
    name = f"mailing {mailing.pk}"  # its SentEmail rows: who has it already
    with mailers.default as connection:  # one SMTP connection for every chunk
        while mailing.sent < len(mailing.recipients):
            chunk = mailing.recipients[mailing.sent : mailing.sent + CHUNK]
            users = get_user_model().objects.in_bulk(chunk)
            people = [users[pk] for pk in chunk if pk in users and users[pk].email]
            skipped += len(chunk) - len(people)  # account deleted, or no address
            done = notifications.already_sent(name, [user.pk for user in people])
            for user in (user for user in people if user.pk not in done):
                # One message, then its row: a crash repeats nobody who has it.
                connection.send_messages([_email(mailing, user)])
                notifications.mark_sent(name, user.pk)
            mailing.sent += len(chunk)
            Mailing.objects.filter(pk=mailing.pk).update(sent=mailing.sent)
    mailing.finished_at = timezone.now()
    Mailing.objects.filter(pk=mailing.pk).update(finished_at=mailing.finished_at)
    if skipped:
        logger.info("Mailing %s: %s without an email address, skipped", mailing.pk, skipped)


def _retry(mailing: Mailing, attempt: int) -> bool:
    """Queue the rest again after a delay; False (and an error logged) when giving up."""
    left = len(mailing.recipients) - mailing.sent
    what = f"mailing {mailing.pk} ({left} left, attempt {attempt})"
    return retry_later(send_mailing, what=what, attempt=attempt, mailing_id=mailing.pk)


# The timed mailings' copies are each person's own (their check-in code, their
# signed links), built as the seat emails are; the row's text is the log's.
PERSONAL = {
    Kind.REMINDER: notifications.Kind.REMINDER,
    Kind.RECONFIRM: notifications.Kind.RECONFIRM,
    Kind.RELEASED: notifications.Kind.RELEASED,
}


def _email(mailing: Mailing, user) -> EmailMultiAlternatives:
    """One person's copy: their name, the text, and (as HTML) the same text escaped."""
    if mailing.kind in PERSONAL and mailing.event is not None:
        return notifications.build_email(PERSONAL[mailing.kind], mailing.event, user)
    name = user.get_full_name() or user.get_username()
    were = "you're" if mailing.kind in (Kind.MESSAGE, Kind.CHANGE) else "you were"
    why = f"You're receiving this because {were} going to or waiting for {mailing.event_title}."
    link = calendar.event_url(mailing.event) if mailing.event else ""
    site = settings.SITE_NAME
    text = f"Hello {name},\n\n{mailing.body.strip()}\n\n-- \n{why}\n{link}\n{site}\n"
    html = format_html(
        "<p>Hello {},</p>{}<hr><p>{}</p>{}<p>{}</p>",
        name,
        mark_safe(linebreaks(mailing.body.strip(), autoescape=True)),  # escaped by linebreaks
        why,
        format_html('<p><a href="{}">{}</a></p>', link, link) if link else "",
        site,
    )
    message = EmailMultiAlternatives(
        subject=subject_line(mailing.subject), body=text, from_email=sender(), to=[user.email]
    )
    message.attach_alternative(html, "text/html")
    if mailing.calendar:
        found = _METHOD.search(mailing.calendar)
        method = found.group(1) if found else calendar.PUBLISH
        message.attach(
            "event.ics",
            _calendar_for(mailing, user),
            f"text/calendar; method={method}; charset=utf-8",
        )
    return message


def _calendar_for(mailing: Mailing, user) -> str:
    """The mailing's .ics; a change notice's to people going keeps each one's check-in code.

    Calendar apps replace the event they hold with the new file, description
    and all: without the code, the notice would take it out of their calendar.
    """
    if mailing.kind != Kind.CHANGE or mailing.audience != Audience.GOING or not mailing.event:
        return mailing.calendar
    code = check_ins.code_for(mailing.event_id, user.pk)
    return calendar.event_ics(mailing.event, check_in_code=code).decode()
