"""Emails to attendees, sent as tasks (``django.tasks``) after the ledger decided.

Each email says what just happened to the person's seat (going, cancelled,
waiting, a seat freed up for them, removed by the organiser), gives the
event's time in its zone, its venue and link, and carries the event as an
.ics attachment so a calendar app can add it (or, for a cancel, remove it).

The default task backend (``django_tasks_db``) runs the tasks in a worker
process (``manage.py db_worker``, started by ``make run``): an RSVP never waits
for a mail server. A send that fails is logged and queued again later, a few
times with growing delays; the last failure is logged as an error. Nothing
here can touch a seat.

Each email is sent once per person however often its task runs (a worker
killed mid-task has it run again: ``events.task_worker``): a ``SentEmail``
row is written as soon as the mail server has accepted the message, and a
run that finds it skips that person. Sent first, recorded second: a crash
while the server is being talked to (where a mail worker spends its time)
loses nothing and sends nothing twice; only one that lands after the
server's acceptance and before the row's commit sends that one message twice.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from email.message import EmailMessage as MimeMessage
from email.utils import formataddr, make_msgid, parseaddr
from enum import StrEnum
from functools import partial

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.tasks import task
from django.template.loader import render_to_string
from django.utils import timezone

from events import calendar, ledger, outcomes, times
from events.ledger import Outcome, Result
from events.models import Event, SentEmail
from events.services import check_ins, email_actions

logger = logging.getLogger(__name__)

# Attempts in all, and the wait before each retry: a mail server that is down
# for a minute or restarting loses nothing, a dead one is given up on within
# the hour and said so in the log.
MAX_ATTEMPTS = 4
RETRY_DELAYS = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=30))


class Kind(StrEnum):
    CONFIRMED = "confirmed"
    CANCELLED = "cancelled"
    WAITLISTED = "waitlisted"
    PROMOTED = "promoted"
    REMOVED = "removed"
    # Sent by the timed mailings (events.services.timed), one copy per person.
    REMINDER = "reminder"
    RECONFIRM = "reconfirm"
    RELEASED = "released"
    # An organiser's answer to a request for seats (events that require approval).
    APPROVED = "approved"
    DECLINED = "declined"
    # A draw's result (events.services.draws).
    DRAWN = "drawn"
    NOT_DRAWN = "not_drawn"


SUBJECTS = {
    Kind.CONFIRMED: "You're going: {title}",
    Kind.CANCELLED: "RSVP cancelled: {title}",
    Kind.WAITLISTED: "You're on the waiting list: {title}",
    Kind.PROMOTED: "You're in: a seat freed up for {title}",
    Kind.REMOVED: "Your seat was cancelled by the organiser: {title}",
    Kind.REMINDER: "Reminder: {title}, {when}",
    Kind.RECONFIRM: "Still coming to {title}? Please keep your seat",
    Kind.RELEASED: "Your seat was given to the waiting list: {title}",
    Kind.APPROVED: "Approved: you're going to {title}",
    Kind.DECLINED: "Your request for {title} was declined",
    Kind.DRAWN: "You're in: you were drawn for a seat at {title}",
    Kind.NOT_DRAWN: "Not this time: the draw for {title}",
}
# The calendar file tells the app to drop the event when the seat is gone.
METHODS = {
    Kind.CONFIRMED: calendar.PUBLISH,
    Kind.CANCELLED: calendar.CANCEL,
    Kind.WAITLISTED: calendar.PUBLISH,
    Kind.PROMOTED: calendar.PUBLISH,
    Kind.REMOVED: calendar.CANCEL,
    Kind.REMINDER: calendar.PUBLISH,
    Kind.RECONFIRM: calendar.PUBLISH,
    Kind.RELEASED: calendar.CANCEL,
    Kind.APPROVED: calendar.PUBLISH,
    Kind.DECLINED: calendar.CANCEL,
    Kind.DRAWN: calendar.PUBLISH,
    Kind.NOT_DRAWN: calendar.CANCEL,
}


# What a write did to the user who asked for it, and the email that says so.
# Refusals and "already going" change nothing, so they send nothing.
ASKER_KINDS = {
    Outcome.CONFIRMED: Kind.CONFIRMED,
    Outcome.CANCELLED: Kind.CANCELLED,
    Outcome.WAITLISTED: Kind.WAITLISTED,
    Outcome.APPROVED: Kind.APPROVED,
    Outcome.DECLINED: Kind.DECLINED,
    Outcome.DRAWN: Kind.DRAWN,
    Outcome.NOT_DRAWN: Kind.NOT_DRAWN,
}


def seat_emails(
    result: Result, user_id: int | None = None, *, removed: bool = False
) -> list[tuple[Kind, int]]:
    """The emails a ledger write sends, (kind, user): the asker's, then each it seated.

    ``removed``: the asker's seat was taken away by an organiser, not given back.
    """
    emails = []
    kind = ASKER_KINDS.get(result.outcome)
    if kind is not None and user_id is not None:
        emails.append((Kind.REMOVED if kind is Kind.CANCELLED and removed else kind, user_id))
    return emails + [(Kind.PROMOTED, promoted) for promoted in result.promoted]


# The emails that give a seat carry the attendee's check-in code (and its QR).
WITH_CHECK_IN = {Kind.CONFIRMED, Kind.PROMOTED, Kind.APPROVED, Kind.DRAWN, Kind.REMINDER}
# The one-click links each email carries: who holds a seat may give it up,
# who waits may leave the list, who is asked may keep the seat, without logging in.
Action = email_actions.Action
EMAIL_ACTIONS = {
    Kind.CONFIRMED: (Action.CANCEL_RSVP,),
    Kind.PROMOTED: (Action.CANCEL_RSVP,),
    Kind.APPROVED: (Action.CANCEL_RSVP,),
    Kind.DRAWN: (Action.CANCEL_RSVP,),
    Kind.REMINDER: (Action.CANCEL_RSVP,),
    Kind.RECONFIRM: (Action.KEEP_SEAT, Action.CANCEL_RSVP),
    Kind.WAITLISTED: (Action.LEAVE_WAITLIST,),
}
# The emails to people holding a seat: they show the online link too.
TO_SEAT_HOLDERS = {
    *(Kind.CONFIRMED, Kind.PROMOTED, Kind.APPROVED, Kind.DRAWN),
    *(Kind.REMINDER, Kind.RECONFIRM),
}


class SeatEmail(EmailMultiAlternatives):
    """An email whose HTML part may show images carried inside it (``cid:`` links).

    Mail clients block data: URIs and remote images, so the QR code travels
    as a part of its own: the HTML part becomes multipart/related with the
    image beside it, as RFC 2387 has it.
    """

    def __init__(self, *args, related: list[tuple[str, bytes, str]] = (), **kwargs):
        super().__init__(*args, **kwargs)
        self.related = list(related)  # (content id without <>, bytes, image subtype)

    def message(self, **kwargs) -> MimeMessage:
        msg = super().message(**kwargs)
        html = msg.get_body(preferencelist=("html",))
        if html is None:
            return msg
        for cid, data, subtype in self.related:
            html.add_related(
                data,
                "image",
                subtype,
                cid=f"<{cid}>",
                disposition="inline",  # shown in the HTML, not listed as a file
                filename=f"check-in-code.{subtype}",
            )
        return msg


def sender() -> str:
    """DEFAULT_FROM_EMAIL under the site's name, unless it already carries a name."""
    name, address = parseaddr(settings.DEFAULT_FROM_EMAIL)
    return settings.DEFAULT_FROM_EMAIL if name else formataddr((settings.SITE_NAME, address))


def subject_line(subject: str) -> str:
    """The site's name and the subject, on one line whatever the subject holds.

    The forms refuse line breaks in titles and subjects; this catches what
    came in another way (an older row, the shell): Python's mail code refuses
    a header with a line break, and the send would fail at every retry.
    """
    return f"[{settings.SITE_NAME}] {' '.join(subject.split())}"


# The emails that say the person's party when they bring guests, read from the ledger:
# every one sent to someone holding seats or a place, so the door sees no surprise.
WITH_PARTY = {
    *(Kind.CONFIRMED, Kind.PROMOTED, Kind.WAITLISTED, Kind.APPROVED, Kind.DRAWN),
    *(Kind.REMINDER, Kind.RECONFIRM),
}


def party_guests(event_id: int, user_id: int) -> int:
    """The guests the user's party brings now, seated or waiting, as the ledger holds them.

    Read when the email is built, so it says the party the seat is held for
    (a change made after the write that queued it included). A ledger that
    cannot be read leaves the sentence out: the email still tells the seat.
    """
    try:
        found = ledger.standing(event_id, user_id)
    except (ledger.LedgerUnavailable, ledger.LedgerDamaged):
        logger.warning("Party of user %s at event %s not read for its email", user_id, event_id)
        return 0
    return found[1].guests if found is not None else 0


def build_email(kind: Kind, event: Event, user) -> EmailMultiAlternatives:
    """The message with its text and HTML parts and the event's .ics attached."""
    guests = party_guests(event.pk, user.pk) if kind in WITH_PARTY else 0
    context = {
        "kind": kind,
        "event": event,
        "user": user,
        "party": outcomes.party_text(guests) if guests else "",
        "event_url": calendar.event_url(event),
        "google_url": calendar.google_url(event),
        "site_name": settings.SITE_NAME,
    }
    context["links"] = {
        str(action): email_actions.link_url(action=action, event_id=event.pk, user_id=user.pk)
        for action in EMAIL_ACTIONS.get(kind, ())
    }
    context["holds_seat"] = kind in TO_SEAT_HOLDERS
    if kind is Kind.RECONFIRM and event.asks_to_reconfirm:
        context["release_at"] = times.moment(
            event.starts_at - event.reconfirm_release_before, event.zone
        )
    related = []
    code = None
    if kind in WITH_CHECK_IN:
        code = check_ins.code_for(event.pk, user.pk)
        cid = make_msgid("check-in", domain=calendar.site_host())[1:-1]
        context.update(check_in_code=code, check_in_cid=cid)
        related.append((cid, check_ins.qr_png(code), "png"))
    subject = SUBJECTS[kind].format(
        title=event.title, when=times.moment(event.starts_at, event.zone)
    )
    message = SeatEmail(
        subject=subject_line(subject),
        body=render_to_string("events/email/seat.txt", context),
        from_email=sender(),
        to=[user.email],
        related=related,
    )
    message.attach_alternative(render_to_string("events/email/seat.html", context), "text/html")
    method = METHODS[kind]
    message.attach(
        calendar.filename(event),
        calendar.event_ics(event, method=method, check_in_code=code),
        f"text/calendar; method={method}; charset=utf-8",
    )
    return message


# --- Each email once per person -------------------------------------------------


def already_sent(email: str, user_ids) -> set[int]:
    """Which of the users the email named ``email`` has reached already."""
    rows = SentEmail.objects.filter(email=email, user_id__in=list(user_ids))
    return set(rows.values_list("user_id", flat=True))


def mark_sent(email: str, user_id: int) -> None:
    """Note that the mail server accepted ``email`` for the user (its own commit)."""
    try:
        with transaction.atomic():
            SentEmail.objects.create(email=email, user_id=user_id)
    except IntegrityError:  # two runs raced to the same person: the row is there
        pass


def seat_email_name(kind: str, event_id: int, version: int) -> str:
    """One seat email's name: what it says, of which event, after which ledger write."""
    return f"{kind} {event_id} v{version}"


@task
def send_seat_email(
    *, kind: str, event_id: int, user_id: int, version: int = 0, attempt: int = 1
) -> bool:
    """Email the user about their seat: True once sent (or queued to try again).

    ``version``: the ledger write that changed the seat, which tells two
    emails of one kind apart (an RSVP, a cancel, an RSVP again). Sent
    already (the task runs again after its worker died): nothing is sent.
    A failed send is queued again for later; the last one raises, so the task
    backend records it as failed (with its traceback) rather than as done.
    """
    event = Event.objects.filter(pk=event_id).first()
    user = get_user_model().objects.filter(pk=user_id).first()
    if event is None or user is None or not user.email:
        return False
    name = seat_email_name(kind, event_id, version)
    if already_sent(name, [user_id]):
        return True
    try:
        build_email(Kind(kind), event, user).send()
    except Exception:
        arguments = {"kind": kind, "event_id": event_id, "user_id": user_id, "version": version}
        if not _retry(arguments, attempt=attempt):
            raise
        return True
    mark_sent(name, user_id)
    return True


def _retry(arguments: dict, *, attempt: int) -> bool:
    what = (
        f"the {arguments['kind']} email of user {arguments['user_id']} "
        f"for event {arguments['event_id']} (attempt {attempt})"
    )
    return retry_later(send_seat_email, what=what, attempt=attempt, **arguments)


def retry_later(mail_task, *, what: str, attempt: int, **arguments) -> bool:
    """Queue ``mail_task`` again after a delay; False (and an error logged) when giving up.

    For a task that sends mail and failed on its ``attempt``-th try: it runs
    again with ``arguments`` and ``attempt + 1`` after ``RETRY_DELAYS``.
    """
    # A backend that runs tasks at once (ImmediateBackend) cannot wait: a retry
    # there would hold up the request that queued the email.
    if attempt >= MAX_ATTEMPTS or not mail_task.get_backend().supports_defer:
        logger.error("Could not send %s; giving up", what, exc_info=True)
        return False
    delay = RETRY_DELAYS[min(attempt, len(RETRY_DELAYS)) - 1]
    logger.warning("Could not send %s; retrying in %s", what, delay, exc_info=True)
    try:
        mail_task.using(run_after=timezone.now() + delay).enqueue(**arguments, attempt=attempt + 1)
    except Exception:
        logger.exception("Could not queue a retry of %s; giving up", what)
        return False
    return True


def sends_at_once() -> bool:
    """Whether the task backend sends where a task is queued (ImmediateBackend), not later."""
    return not send_seat_email.get_backend().supports_defer


def enqueue_seat_email(kind: Kind, *, event_id: int, user_id: int, version: int) -> None:
    """Queue an email as part of the caller's transaction: a failure raises, to roll it back."""
    send_seat_email.enqueue(kind=str(kind), event_id=event_id, user_id=user_id, version=version)


def queue_seat_email(kind: Kind, *, event_id: int, user_id: int, version: int) -> None:
    """Queue an email after a ledger write; a queue that fails is logged, the write stands."""
    try:
        # A savepoint: inside the admin's transaction, a queue that fails (the
        # database backend's insert) must not break the rest of that transaction.
        with transaction.atomic():
            enqueue_seat_email(kind, event_id=event_id, user_id=user_id, version=version)
    except Exception:
        logger.exception("Could not queue the %s email of user %s", kind, user_id)


def queue_with_record(kind: Kind, *, event_id: int, user_id: int, version: int) -> None:
    """Queue an email in the transaction that writes the record saying it is due.

    The record's row and the queued task commit together, so a seat whose row
    exists has its email queued, and one without a row is told by the repair
    that writes it. A backend that sends where it queues sends after the
    commit instead: no mail server is waited for inside the write lock.
    """
    if sends_at_once():
        arguments = {"event_id": event_id, "user_id": user_id, "version": version}
        transaction.on_commit(partial(queue_seat_email, kind, **arguments))
    else:
        enqueue_seat_email(kind, event_id=event_id, user_id=user_id, version=version)
