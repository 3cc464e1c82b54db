"""The organiser's API: decide requests for seats at an event that requires approval.

The same services as the admin's buttons (``events.services.approve_requests``
and ``decline_requests``): one guarded ledger write decides every request of
the call, so organisers and scripts deciding at once never seat more than
the capacity. Only the event's organiser (or a superuser) may call them.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from events import outcomes, selectors, services
from events.api.exceptions import error_body
from events.api.serializers import ErrorSerializer
from events.ledger import Decision, Outcome
from events.services.approval import MAX_DECIDED, MAX_ID


class DecisionRequestSerializer(serializers.Serializer):
    user_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID),
        min_length=1,
        max_length=MAX_DECIDED,
    )
    or_wait = serializers.BooleanField(
        default=False,
        help_text="Approving: put the requests that do not fit on the waiting list "
        "instead of leaving them requested.",
    )


class DecisionSerializer(serializers.Serializer):
    code = serializers.CharField(
        help_text="`approved`, `declined`, `full` (none of them fit) or `not_requested`."
    )
    approved = serializers.ListField(child=serializers.IntegerField())
    queued = serializers.ListField(
        child=serializers.IntegerField(), help_text="Put on the waiting list."
    )
    declined = serializers.ListField(child=serializers.IntegerField())
    seats_left = serializers.IntegerField()
    requested = serializers.IntegerField(help_text="Requests still waiting for a decision.")


ANSWERS = {
    200: DecisionSerializer,
    400: OpenApiResponse(ErrorSerializer, description="No list of user ids, or a bad one."),
    404: OpenApiResponse(ErrorSerializer, description="No such event, or not yours."),
    409: OpenApiResponse(ErrorSerializer, description="The event was cancelled or has started."),
}


def _answer(decision: Decision) -> Response:
    result = decision.result
    if result.seats is None or result.outcome is Outcome.EVENT_CANCELLED:
        return Response(
            error_body(outcomes.sentence(result), str(result.outcome)),
            status=outcomes.api_status(result.outcome),
        )
    body = {
        "code": str(result.outcome),
        "approved": decision.approved,
        "queued": decision.queued,
        "declined": decision.declined,
        "seats_left": result.seats.left,
        "requested": result.seats.requested,
    }
    return Response(DecisionSerializer(body).data)


class _DecisionView(APIView):
    permission_classes = [IsAuthenticated]

    def _decide(self, request: Request, event_id: int, decide) -> Response:
        event = selectors.organised_event_or_404(event_id, request.user)
        asked = DecisionRequestSerializer(data=request.data)
        asked.is_valid(raise_exception=True)
        if event.is_past:
            result = services.SeatResult(Outcome.EVENT_PAST)
            body = error_body(outcomes.sentence(result), str(Outcome.EVENT_PAST))
            return Response(body, status=outcomes.api_status(Outcome.EVENT_PAST))
        return _answer(decide(event_id=event.pk, **asked.validated_data))


class ApproveView(_DecisionView):
    @extend_schema(
        summary="Organisers: approve requests, first asked first, while their parties fit",
        request=DecisionRequestSerializer,
        responses=ANSWERS,
    )
    def post(self, request: Request, event_id: int) -> Response:
        return self._decide(request, event_id, services.approve_requests)


class DeclineView(_DecisionView):
    @extend_schema(
        summary="Organisers: decline requests",
        request=DecisionRequestSerializer,
        responses=ANSWERS,
    )
    def post(self, request: Request, event_id: int) -> Response:
        def decline(*, event_id: int, user_ids: list[int], or_wait: bool) -> Decision:
            return services.decline_requests(event_id=event_id, user_ids=user_ids)

        return self._decide(request, event_id, decline)
