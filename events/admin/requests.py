"""Requests at an event that requires approval: the organiser approves or declines them.

One page per event lists the requests in the order they were made (the
order an approval seats them in), each with Approve and Decline, and
checkboxes for the same on many at once. Every decision is one call to the
services (one guarded ledger write, however many people): organisers
approving at the same time never seat more than the capacity, and a party
that does not fit stays requested or, if asked, joins the waiting list.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.http import HttpRequest, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.text import get_text_list

from events import outcomes, selectors, services
from events.admin.base import EventToolMixin
from events.ledger import Decision, Outcome
from events.models import Event
from events.services.approval import MAX_DECIDED, MAX_ID

# The bulk buttons' values, and the per-row buttons' names.
APPROVE, APPROVE_OR_WAIT, DECLINE = "approve", "approve_or_wait", "decline"
NOTHING_SELECTED = "Select at least one request first."
BAD_CHOICE = "That is not a request at this event: reload the page and try again."
TOO_MANY = f"Decide at most {MAX_DECIDED} requests at once."


def pending_requests(event: Event) -> str:
    """The Requests view's link with its count, for the changelist and the change form."""
    seats = getattr(event, "ledger_seats", None)
    if seats is None and event.pk:
        seats = selectors.seats_of([event.pk]).get(event.pk)
    if seats is None or not (event.requires_approval or seats.requested):
        return "-"
    url = reverse("admin:events_event_requests", args=[event.pk])
    return format_html('<a href="{}">{} waiting</a>', url, seats.requested)


def _names(user_ids) -> str:
    users = get_user_model().objects.in_bulk(list(user_ids))
    names = [users[u].get_username() if u in users else f"user #{u}" for u in user_ids]
    return get_text_list(names, "and")


def _user_id(text: str) -> int:
    user_id = int(text)
    if not 1 <= user_id <= MAX_ID:  # beyond it the ledger could not even look it up
        raise ValueError(text)
    return user_id


def _chosen(request: HttpRequest) -> tuple[str, list[int]]:
    """What the form asks: a row's button (its name, the user) or a bulk one (the checkboxes).

    Raises ``ValueError`` with what to tell the organiser when it asks nothing sensible.
    """
    post = request.POST
    try:
        for verb in (APPROVE, DECLINE):
            if verb in post:
                return verb, [_user_id(post[verb])]
        if post.get("bulk") in (APPROVE, APPROVE_OR_WAIT, DECLINE):
            chosen = post["bulk"], [_user_id(u) for u in post.getlist("selected")]
        else:
            chosen = None
    except ValueError:
        chosen = None
    if chosen is None:
        raise ValueError(BAD_CHOICE)
    if not chosen[1]:
        raise ValueError(NOTHING_SELECTED)
    if len(chosen[1]) > MAX_DECIDED:
        raise ValueError(TOO_MANY)
    return chosen


def approval_answer(decision: Decision, asked: list[int], still_requested: set[int]):
    """What an organiser is told after approving ``asked``: level and text.

    ``still_requested``: who of them is still waiting for approval after the
    write (their parties did not fit).
    """
    if decision.result.outcome is not Outcome.APPROVED:
        if decision.result.outcome is Outcome.FULL:
            left = decision.result.seats.left if decision.result.seats else 0
            return messages.ERROR, (
                f"Nobody was approved: {_names(asked)} did not fit ({left} seats free). "
                "Approve them onto the waiting list, or raise the capacity."
            )
        return outcomes.organiser_answer(decision.result, _names(asked))
    parts = []
    if decision.approved:
        parts.append(f"Approved {len(decision.approved)}: {_names(decision.approved)}.")
    if decision.queued:
        parts.append(
            f"{len(decision.queued)} did not fit, so on the waiting list: "
            f"{_names(decision.queued)}."
        )
    did_not_fit = [u for u in asked if u in still_requested]
    if did_not_fit:
        parts.append(
            f"{len(did_not_fit)} did not fit (no seats left): {_names(did_not_fit)}. Put them "
            "on the waiting list or raise the capacity."
        )
    level = messages.WARNING if did_not_fit or decision.queued else messages.SUCCESS
    return level, " ".join(parts) + " Everyone is emailed."


def decline_answer(decision: Decision, asked: list[int]):
    if decision.result.outcome is Outcome.DECLINED and len(decision.declined) > 1:
        return messages.SUCCESS, (
            f"Declined {len(decision.declined)}: {_names(decision.declined)}; emailed."
        )
    who = _names(decision.declined or asked)
    return outcomes.organiser_answer(decision.result, who)


class RequestAdmin(EventToolMixin):
    def get_urls(self):
        view = self.admin_site.admin_view(self.requests_view)
        return [
            path("<int:event_id>/requests/", view, name="events_event_requests"),
            *super().get_urls(),
        ]

    @admin.display(description="requests")
    def requests(self, event: Event) -> str:
        return pending_requests(event)

    @admin.display(description="requests waiting")
    def request_summary(self, event: Event) -> str:
        return pending_requests(event) if event.pk else "-"

    def requests_view(self, request: HttpRequest, event_id: int):
        """The requests, first asked first; POST decides one or the selected ones."""
        event = self.tool_event(request, event_id, change=request.method == "POST")
        context = self.tool_context(request, event, f"Requests: {event}")
        status = 200
        if request.method == "POST":
            try:
                chosen = _chosen(request)
            except ValueError as refusal:
                self.message_user(request, str(refusal), messages.ERROR)
                status = 400
            else:
                self._decide(request, event, *chosen)
                return HttpResponseRedirect(request.path)
        context |= {
            "rows": selectors.request_rows(event.pk),
            "seats": selectors.seats_of([event.pk]).get(event.pk),
            "APPROVE": APPROVE,
            "APPROVE_OR_WAIT": APPROVE_OR_WAIT,
            "DECLINE": DECLINE,
        }
        return TemplateResponse(request, "admin/events/event/requests.html", context, status=status)

    def _decide(self, request: HttpRequest, event: Event, verb: str, user_ids: list[int]):
        if verb == DECLINE:
            decision = services.decline_requests(event_id=event.pk, user_ids=user_ids)
            level, text = decline_answer(decision, user_ids)
        else:
            decision = services.approve_requests(
                event_id=event.pk, user_ids=user_ids, or_wait=verb == APPROVE_OR_WAIT
            )
            if decision.approved == tuple(user_ids) and len(user_ids) == 1:
                level, text = outcomes.organiser_answer(decision.result, _names(user_ids))
            else:
                # Read after the write, only to say who is still waiting.
                still = {row.user_id for row in selectors.request_rows(event.pk)}
                level, text = approval_answer(decision, user_ids, still)
        self.message_user(request, text, level)
