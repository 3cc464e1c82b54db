"""The business rules of events, RSVPs and waiting lists: every write.

Pages, the admin, the API and the load tests all call these functions, so
each behaviour has one code path; reads live in ``events.selectors``. One
module per family of rules:

- ``seats``: RSVPs, cancels, the waiting list, parties, capacity (each one guarded ledger write);
- ``approval``: an organiser's approval or refusal of requests for seats;
- ``lifecycle``: an event created, updated, published, deleted;
- ``repairs``: what ``check_ledger --repair`` does;
- ``feeds``: a user's calendar feed;
- ``mailings``: messages to an event's people, its cancellation, deletion notices;
- ``notifications``: the emails that tell a person of their seat;
- ``timed``: reminders and reconfirm-or-release, queued for their times;
- ``change_notices``: the email when a published event's time or place changes;
- ``check_ins``: check-in codes and the door's check-ins;
- ``copies``: an event duplicated or repeated.

Callers use the face: ``services.rsvp(event_id=..., user_id=...)``.
"""

from events.services.approval import approve_requests, decline_requests
from events.services.feeds import calendar_feed, reset_calendar_feed
from events.services.lifecycle import (
    create_event,
    delete_events,
    publish_events,
    save_new_event,
    update_event,
)
from events.services.repairs import mend_ledger, remove_orphan_ledger, reopen_ledger, repair_record
from events.services.seats import (
    KEEP,
    CapacityError,
    PartyError,
    SeatResult,
    add_attendee,
    cancel_rsvp,
    carry_out_email_action,
    change_party,
    join_waitlist,
    keep_seat,
    leave_waitlist,
    remove_attendee,
    rsvp,
    set_capacity,
    set_seats,
    set_waitlist_limit,
)

__all__ = [
    "KEEP",
    "CapacityError",
    "PartyError",
    "SeatResult",
    "add_attendee",
    "approve_requests",
    "calendar_feed",
    "cancel_rsvp",
    "carry_out_email_action",
    "change_party",
    "create_event",
    "decline_requests",
    "delete_events",
    "join_waitlist",
    "keep_seat",
    "leave_waitlist",
    "mend_ledger",
    "publish_events",
    "remove_attendee",
    "remove_orphan_ledger",
    "reopen_ledger",
    "repair_record",
    "reset_calendar_feed",
    "rsvp",
    "save_new_event",
    "set_capacity",
    "set_seats",
    "set_waitlist_limit",
    "update_event",
]
