"""Every error from /api/ is JSON with a human-readable ``message``.

Clients of the API contract (docs/api.md) read ``error.response.data.message``,
so DRF's ``{"detail": ...}`` is reshaped, and anything else a view raises is
answered in JSON too instead of reaching Django's HTML error pages.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework.views import set_rollback

from events import limits
from events.middleware import UNAVAILABLE, unavailable_response
from events.refusals import refusal_for

logger = logging.getLogger("django.request")

INVALID_INPUT = "The request body is not valid."
SERVER_ERROR = "Something went wrong on our side. Please try again."
NOT_FOUND = "Not found."


def error_body(message: str, code: str, **extra: Any) -> dict[str, Any]:
    return {"message": message, "code": code, **extra}


class RateLimited(exceptions.APIException):
    """Too many seat actions from one account or address (events.limits): a 429.

    DRF's handler sends ``wait`` as the Retry-After header.
    """

    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_code = "rate_limited"

    def __init__(self, wait: int) -> None:
        super().__init__(limits.sentence(wait))
        self.wait = wait


def exception_handler(exc: Exception, context: dict[str, Any]) -> HttpResponse:
    if isinstance(exc, UNAVAILABLE):
        return unavailable_response(context["request"], exc)
    if refusal := refusal_for(exc):  # a body too large or too deep, too many fields
        return Response(error_body(refusal.message, refusal.code), status=refusal.status)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(*exc.args)
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied(*exc.args)
    response = drf_exception_handler(exc, context)
    if response is None:
        # A bug, not the client's doing: logged with its traceback as Django's
        # own handler would, but still answered in JSON.
        logger.error("Unhandled error in the API", exc_info=exc)
        set_rollback()
        return Response(error_body(SERVER_ERROR, "server_error"), status=500)
    if isinstance(exc, exceptions.ValidationError):
        errors = response.data if isinstance(response.data, dict) else {"body": response.data}
        response.data = error_body(INVALID_INPUT, "invalid", errors=errors)
    else:
        assert isinstance(exc, exceptions.APIException)
        code = exc.get_codes()
        response.data = error_body(
            str(exc.detail), code if isinstance(code, str) else exc.default_code
        )
    return response


@csrf_exempt
def not_found(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
    """Unknown URLs under /api/ (and ids that are not numbers) answer JSON, any method."""
    return JsonResponse(error_body(NOT_FOUND, "not_found"), status=404)
