"""Emails an organiser sends to an event's people: messages, cancellation, deletion.

Each is a ``Mailing`` row written by a service here, then sent by the
``send_mailing`` task once the transaction that wrote it has committed. The
row holds everything the email needs (recipients fixed when it was written,
subject, text, any calendar file), so a mailing survives its event's deletion
and a crash: the task, run again, resumes after the recipients counted
(``sent`` and ``failed``) and skips everyone its ``SentEmail`` rows say has
the email. A recipient the mail server refuses is counted as failed; a
mailing the task gives up on (the server down through every retry) is
finished with everyone not reached counted as failed.

Cancelling an event is one of these services because its email and its
state change are one act: ``cancel_event`` closes the SQL row and the ledger
and writes the mailing in one transaction.
"""

from __future__ import annotations

import logging
import re
import smtplib
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

# Recipients per update of the progress (``sent`` and ``failed``). A run after
# a crash or a failed send starts at the chunk that was under way and skips
# whoever has their copy already (``SentEmail``): nobody gets it twice.
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
    """Send what is left of the mailing; how many of its recipients are done (sent or failed).

    Resumes after ``sent`` + ``failed``, skipping whoever has their copy: a
    run after a crash sends each person the email once. A recipient the mail
    server refuses counts as failed and the others go on.
    A failed send (the mail server) queues the task again, as the seat emails
    do; the recipients not yet reached are never dropped while it retries.
    Once it gives up, the mailing is finished with them counted as failed.
    """
    mailing = Mailing.objects.select_related("event").filter(pk=mailing_id).first()
    if mailing is None or mailing.finished_at is not None:
        return 0
    done_before = _done(mailing)
    try:
        _send_rest(mailing)
    except Exception:
        # A chunk that got through shows the server works: count afresh.
        attempt = 1 if _done(mailing) > done_before else attempt
        if not _retry(mailing, attempt):
            _give_up(mailing)
            raise
    return _done(mailing)


def _done(mailing: Mailing) -> int:
    """How many recipients, from the first, are dealt with: where a run resumes."""
    return mailing.sent + mailing.failed


def _name(mailing: Mailing) -> str:
    return f"mailing {mailing.pk}"  # its SentEmail rows: who has it already


def _send_rest(mailing: Mailing) -> None:
    skipped = 0
    with mailers.default as connection:  # one SMTP connection for every chunk
        while _done(mailing) < len(mailing.recipients):
            start = _done(mailing)
            chunk = mailing.recipients[start : start + CHUNK]
            users = get_user_model().objects.in_bulk(chunk)
            people = [users[pk] for pk in chunk if pk in users and users[pk].email]
            skipped += len(chunk) - len(people)  # account deleted, or no address
            refused = _send_chunk(mailing, connection, people)
            # Both counts in one write: the next chunk starts at their sum.
            mailing.sent += len(chunk) - refused
            mailing.failed += refused
            Mailing.objects.filter(pk=mailing.pk).update(sent=mailing.sent, failed=mailing.failed)
    mailing.finished_at = timezone.now()
    Mailing.objects.filter(pk=mailing.pk).update(finished_at=mailing.finished_at)
    if skipped:
        logger.info("Mailing %s: %s without an email address, skipped", mailing.pk, skipped)


def _send_chunk(mailing: Mailing, connection, people: list) -> int:
    """Send the copies not sent yet; how many the mail server refused."""
    refused = 0
    done = notifications.already_sent(_name(mailing), [user.pk for user in people])
    for user in (user for user in people if user.pk not in done):
        try:
            connection.send_messages([_email(mailing, user)])
        except smtplib.SMTPRecipientsRefused:
            # This address, not the server: the others still get theirs (smtplib
            # has reset the session, so the connection goes on).
            logger.warning("Mailing %s: the mail server refused user %s", mailing.pk, user.pk)
            refused += 1
            continue
        # One message, then its row: a crash repeats nobody who has it.
        notifications.mark_sent(_name(mailing), user.pk)
    return refused


def _retry(mailing: Mailing, attempt: int) -> bool:
    """Queue the rest again after a delay; False (and an error logged) when giving up."""
    left = len(mailing.recipients) - _done(mailing)
    what = f"mailing {mailing.pk} ({left} left, attempt {attempt})"
    return retry_later(send_mailing, what=what, attempt=attempt, mailing_id=mailing.pk)


def _give_up(mailing: Mailing) -> None:
    """Finish a mailing nothing will send again: whoever has no copy counts as failed.

    The chunk under way when the server failed is not counted yet (progress
    is written per chunk, so no later one was begun): who in it got their
    copy, its ``SentEmail`` rows say.
    """
    under_way = mailing.recipients[_done(mailing) : _done(mailing) + CHUNK]
    mailing.sent += len(notifications.already_sent(_name(mailing), under_way))
    mailing.failed = len(mailing.recipients) - mailing.sent
    mailing.finished_at = timezone.now()
    Mailing.objects.filter(pk=mailing.pk, finished_at__isnull=True).update(
        sent=mailing.sent, failed=mailing.failed, finished_at=mailing.finished_at
    )


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
