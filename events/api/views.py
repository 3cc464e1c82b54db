"""API views. Each reads the request, calls one service and answers JSON.

POST, PATCH and DELETE on ``/api/events/{id}/rsvp`` call ``events.services.rsvp``,
``change_party`` and ``cancel_rsvp``, and on ``/api/events/{id}/waitlist`` ``join_waitlist`` and
``leave_waitlist``: the functions behind the page's buttons, so scripts, load
tools and browsers all take the same code path to the ledger.
"""

from __future__ import annotations

from functools import partial

from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
)
from rest_framework import status
from rest_framework.generics import ListAPIView
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import BaseThrottle
from rest_framework.views import APIView

from events import limits, outcomes, selectors, services
from events.api import schema  # noqa: F401  (registers the Bearer scheme)
from events.api.exceptions import RateLimited, error_body
from events.api.serializers import (
    ErrorSerializer,
    EventDetailSerializer,
    EventSerializer,
    PartyChangeSerializer,
    PartySerializer,
    RequestedSerializer,
    SeatChangeSerializer,
    WaitlistedSerializer,
)
from events.ledger import Outcome, Result
from events.models import EventQuerySet

# A documentation example of a place on the list.
EXAMPLE_POSITION = 3


def _example(outcome: Outcome) -> Result:
    position = EXAMPLE_POSITION if outcome is Outcome.ALREADY_WAITING else None
    return Result(outcome, position=position)


def _error_body(result: Result) -> dict:
    extra = {"seats_left": result.seats.left} if result.seats is not None else {}
    if result.position is not None:
        extra["position"] = result.position
    return error_body(outcomes.sentence(result), str(result.outcome), **extra)


def _error(description: str, *examples: Outcome) -> OpenApiResponse:
    return OpenApiResponse(
        ErrorSerializer,
        description=description,
        examples=[
            OpenApiExample(str(o), value=_error_body(_example(o)), response_only=True)
            for o in examples
        ],
    )


UNAUTHORIZED = _error("No token, or a malformed, expired or forged one.")
NOT_FOUND = _error("No such event.", Outcome.UNKNOWN_EVENT)
OUTAGE = _error("MongoDB is unreachable; retry after the Retry-After seconds.")
URL_TOO_LONG = _error("The address (path and query) is longer than 8,000 characters.")
COMMON = {401: UNAUTHORIZED, 414: URL_TOO_LONG, 503: OUTAGE}
NO_CSRF = _error("Signed in by session cookie, but without the CSRF token.")
RATE_LIMITED = OpenApiResponse(
    ErrorSerializer,
    description="Too many seat actions a minute from this account or address; "
    "retry after the Retry-After seconds.",
    examples=[
        OpenApiExample(
            "rate_limited",
            value=error_body(limits.sentence(42), "rate_limited"),
            response_only=True,
        )
    ],
)
LIMITED = {**COMMON, 429: RATE_LIMITED}
BODY_ERRORS = {
    400: _error(
        "The body is not empty or a JSON object, a field has the wrong type (`invalid`), "
        "or more guests than the event allows (`too_many_guests`)."
    ),
    403: NO_CSRF,
    415: _error("A body that is not JSON."),
}
EVENT_STARTED = _error(
    "The event has started or was cancelled: the list is final.",
    Outcome.EVENT_PAST,
    Outcome.EVENT_CANCELLED,
)


def _refusal(result: Result) -> Response:
    return Response(_error_body(result), status=outcomes.api_status(result.outcome))


def _seat_answer(request: Request, result: services.SeatResult, done: int) -> Response:
    """The JSON for a service's result: the event and its seats, or why not.

    The event is the row the service read for its rules: not read again.
    """
    if outcomes.refused(result.outcome):
        return _refusal(result)
    if result.outcome in (Outcome.REQUESTED, Outcome.ENTERED):  # no seat yet
        code = str(result.outcome)
        body = {"message": outcomes.sentence(result), "code": code, "status": code}
        body["party"] = result.party
        return Response(RequestedSerializer(body).data, status=status.HTTP_202_ACCEPTED)
    if result.outcome is Outcome.WAITLISTED:
        body = {"message": outcomes.sentence(result), "code": str(result.outcome)}
        body |= {"position": result.position, "party": result.party}
        return Response(WaitlistedSerializer(body).data, status=status.HTTP_202_ACCEPTED)
    if result.event is None or result.seats is None:  # its ledger was deleted meanwhile
        return _refusal(Result(Outcome.UNKNOWN_EVENT))
    card = selectors.EventCard(
        result.event,
        result.seats,
        going=result.going,
        position=result.position,
        guests=result.guests,
    )
    body = {
        "message": outcomes.sentence(result),
        "event": card,
        "seats_left": result.seats.left,
    }
    if result.going or result.position is not None:
        body["party"] = result.party
    return Response(SeatChangeSerializer(body, context={"request": request}).data, status=done)


def _party_answer(request: Request, change, serializer, done: int) -> Response:
    """Read the party from the body, make the ``change`` and answer it."""
    party = serializer(data=request.data)
    party.is_valid(raise_exception=True)
    try:
        result = change(user_id=request.user.pk, **party.validated_data)
    except services.PartyError as exc:
        message = str(exc)
        return Response(
            error_body(message, "too_many_guests", errors={"guests": [message]}),
            status=status.HTTP_400_BAD_REQUEST,
        )
    return _seat_answer(request, result, done)


@extend_schema(
    summary="Upcoming events",
    responses={200: EventSerializer(many=True), 404: _error("No such page."), **COMMON},
)
class EventListView(ListAPIView):
    serializer_class = EventSerializer

    def get_queryset(self) -> EventQuerySet:
        return selectors.upcoming_events()

    def list(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        cards = selectors.event_cards(page)
        return self.get_paginated_response(self.get_serializer(cards, many=True).data)


@extend_schema(
    summary="One event",
    responses={200: EventDetailSerializer, 404: NOT_FOUND, **COMMON},
)
class EventDetailView(APIView):
    def get(self, request: Request, event_id: int) -> Response:
        event = selectors.visible_event_or_404(event_id, request.user)
        card = selectors.event_card(event, request.user)
        return Response(EventDetailSerializer(card, context={"request": request}).data)


class SeatActionThrottle(BaseThrottle):
    """The seat action limits (events.limits), counted after the caller is known."""

    def allow_request(self, request: Request, view: APIView) -> bool:
        self.wait_s = None
        if request.method not in ("POST", "PATCH", "DELETE"):  # OPTIONS changes no seat
            return True
        self.wait_s = limits.seat_action_wait(request, user_id=request.user.pk)
        return self.wait_s is None

    def wait(self) -> int | None:
        return self.wait_s


class SeatView(APIView):
    """A seat's POST and DELETE: for a caller with a token, within the limits."""

    permission_classes = [IsAuthenticated]
    throttle_classes = [SeatActionThrottle]

    def throttled(self, request: Request, wait: float | None) -> None:
        raise RateLimited(int(wait or 1))


class RsvpView(SeatView):
    @extend_schema(
        summary="RSVP: take a seat (for the caller and any guests), or ask for one",
        request=PartySerializer,
        responses={
            201: SeatChangeSerializer,
            202: OpenApiResponse(
                RequestedSerializer,
                description="The event requires approval (`requested`: no seat until "
                "approved), or opens with a draw (`entered`: no seat until drawn).",
            ),
            404: NOT_FOUND,
            409: _error(
                "Full, already going, already waiting, already requested, RSVPs have "
                "closed, the event has started, or it was cancelled.",
                Outcome.FULL,
                Outcome.ALREADY_GOING,
                Outcome.ALREADY_WAITING,
                Outcome.ALREADY_REQUESTED,
                Outcome.ALREADY_ENTERED,
                Outcome.RSVPS_CLOSED,
                Outcome.EVENT_PAST,
                Outcome.EVENT_CANCELLED,
            ),
            **BODY_ERRORS,
            **LIMITED,
        },
    )
    def post(self, request: Request, event_id: int) -> Response:
        rsvp = partial(services.rsvp, event_id=event_id)
        return _party_answer(request, rsvp, PartySerializer, status.HTTP_201_CREATED)

    @extend_schema(
        summary="Change the number of guests of the caller's RSVP or place on the list",
        request=PartyChangeSerializer,
        responses={
            200: SeatChangeSerializer,
            404: _error("No such event, or no RSVP or place to change.", Outcome.NOT_GOING),
            409: _error(
                "Not enough free seats for a larger party, RSVPs have closed (a party may "
                "still shrink), the event has started, or it was cancelled.",
                Outcome.FULL,
                Outcome.RSVPS_CLOSED,
                Outcome.EVENT_PAST,
                Outcome.EVENT_CANCELLED,
            ),
            **BODY_ERRORS,
            **LIMITED,
        },
    )
    def patch(self, request: Request, event_id: int) -> Response:
        change = partial(services.change_party, event_id=event_id)
        return _party_answer(request, change, PartyChangeSerializer, status.HTTP_200_OK)

    @extend_schema(
        summary="Cancel the RSVP: give the seat back",
        responses={
            200: SeatChangeSerializer,
            403: NO_CSRF,
            404: _error("No such event, or no RSVP to cancel.", Outcome.NOT_GOING),
            409: EVENT_STARTED,
            **LIMITED,
        },
    )
    def delete(self, request: Request, event_id: int) -> Response:
        result = services.cancel_rsvp(event_id=event_id, user_id=request.user.pk)
        return _seat_answer(request, result, status.HTTP_200_OK)


@extend_schema(exclude=True)
class RsvpSlashView(RsvpView):
    """``/rsvp/`` too: a POST must not be redirected, and the schema lists it once."""


class WaitlistView(SeatView):
    @extend_schema(
        summary="Join the waiting list (or take seats if the party fits and no waiting one does)",
        request=PartySerializer,
        responses={
            201: SeatChangeSerializer,
            202: OpenApiResponse(
                PolymorphicProxySerializer(
                    component_name="WaitlistedOrAsked",
                    serializers=[WaitlistedSerializer, RequestedSerializer],
                    resource_type_field_name=None,
                ),
                description="A place on the list (`waitlisted`); or, as an RSVP would be, a "
                "request (`requested`) or an entry in a draw (`entered`).",
            ),
            404: NOT_FOUND,
            409: _error(
                "Already going, already waiting, already asked or entered, the list is "
                "closed or full, RSVPs have closed, the event has started, or it was cancelled.",
                Outcome.ALREADY_GOING,
                Outcome.ALREADY_WAITING,
                Outcome.ALREADY_REQUESTED,
                Outcome.ALREADY_ENTERED,
                Outcome.WAITLIST_CLOSED,
                Outcome.RSVPS_CLOSED,
                Outcome.EVENT_PAST,
                Outcome.EVENT_CANCELLED,
            ),
            **BODY_ERRORS,
            **LIMITED,
        },
    )
    def post(self, request: Request, event_id: int) -> Response:
        join = partial(services.join_waitlist, event_id=event_id)
        return _party_answer(request, join, PartySerializer, status.HTTP_201_CREATED)

    @extend_schema(
        summary="Leave the waiting list",
        responses={
            200: SeatChangeSerializer,
            403: NO_CSRF,
            404: _error("No such event, or not on its waiting list.", Outcome.NOT_WAITING),
            409: EVENT_STARTED,
            **LIMITED,
        },
    )
    def delete(self, request: Request, event_id: int) -> Response:
        result = services.leave_waitlist(event_id=event_id, user_id=request.user.pk)
        return _seat_answer(request, result, status.HTTP_200_OK)


@extend_schema(exclude=True)
class WaitlistSlashView(WaitlistView):
    """``/waitlist/`` too, as for the RSVP."""


@extend_schema(
    summary="The caller's upcoming RSVPs, places on waiting lists, requests and entries",
    responses={200: EventDetailSerializer(many=True), **COMMON},
)
class MyRsvpsView(APIView):
    permission_classes = [IsAuthenticated]

    def get(self, request: Request) -> Response:
        cards = selectors.upcoming_rsvps(request.user)
        return Response(EventDetailSerializer(cards, many=True, context={"request": request}).data)
