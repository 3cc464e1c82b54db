"""The organisers' admin. ``events.admin.events`` is the event's admin; each
organiser's tool beside the form is a mixin of its own module:
``check_in`` (the door), ``mailings`` (messages and cancellation),
``copies`` (duplicate and repeat), ``rush`` (how it filled) and
``requests`` (approving requests at events that require approval)."""

from events.admin.events import EventAdmin as EventAdmin
