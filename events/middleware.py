"""Answer 503 with a plain message while MongoDB, the SQL database or Redis is down.

The site recovers by itself as soon as the dependency is back: the SQL
database is tried again on the next request, MongoDB by the next probe
(``events.ledger.connection``). A damaged ledger document (``LedgerDamaged``)
also answers 503, with its own message, for that event only.
"""

from __future__ import annotations

import logging
import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.context_processors import csp
from django.template.loader import render_to_string
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from events.ledger import LedgerDamaged, LedgerUnavailable

logger = logging.getLogger(__name__)

# Redis (CACHE_URL): the seat cache gets by without it, but allauth keeps its
# login and sign-up throttles there and cannot count without it.
UNAVAILABLE = (
    LedgerUnavailable,
    OperationalError,
    InterfaceError,
    RedisConnectionError,
    RedisTimeoutError,
)
MESSAGE = "The site is briefly unavailable. Please try again in a moment."
DAMAGED = (
    "This event's seats cannot be read right now. The site's team has been told;"
    " please try again later."
)


def unavailable_response(request: HttpRequest, exc: BaseException) -> HttpResponse:
    if isinstance(exc, LedgerDamaged):
        # Not an outage: one event's data needs a person (manage.py check_ledger).
        logger.error("event %s on %s: %s", exc.event_id, request.path, exc)
        message = DAMAGED
    else:
        logger.warning("dependency unavailable on %s: %s", request.path, exc)
        message = MESSAGE
    if request.path.startswith("/api/"):
        response: HttpResponse = JsonResponse({"message": message}, status=503)
    else:
        # Rendered without the request: context processors would touch the
        # session and the database, which may be the thing that is down. The
        # CSP nonce touches neither, and lets the page's inline style apply.
        context = {"message": message, **csp(request)}
        response = HttpResponse(render_to_string("503.html", context), status=503)
    response["Retry-After"] = "5"
    return response


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: also catches an outage raised outside a view (say, a session save)."""
    exc = sys.exc_info()[1]
    if isinstance(exc, UNAVAILABLE):
        return unavailable_response(request, exc)
    if request.path.startswith("/api/"):
        return JsonResponse({"message": "Something went wrong on our side."}, status=500)
    return HttpResponse(render_to_string("500.html", csp(request)), status=500)


class DependencyUnavailableMiddleware:
    """Catches an outage raised in a view, also when DEBUG shows tracebacks."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exc: Exception) -> HttpResponse | None:
        if isinstance(exc, UNAVAILABLE):
            return unavailable_response(request, exc)
        return None
