"""Friendly answers to requests the site refuses before a view can help: CSRF, wrong
method, a body too large or nested too deeply (``events.refusals``), a bad Host.

Django's own answers are an unstyled "CSRF verification failed" page and an
empty 405, which browsers show as "This page isn't working". People meet
both from ordinary use (a tab left open while they logged in elsewhere, a
reload of a page that was a POST's answer), so they get the site's pages,
and a way on. Under /api/ the answers stay JSON, as every API answer is.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.middleware.csrf import REASON_NO_CSRF_COOKIE
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views import defaults

from events.api.exceptions import error_body
from events.refusals import MAX_URL_CHARS, URL_TOO_LONG, Refusal, refusal_for

CSRF_MESSAGE = "The page you sent this from was out of date. Reload it and try again."
BAD_REQUEST = "Bad request."
# Where every answer is JSON: the site's API, and allauth's headless API (tokens).
JSON_PATHS = ("/api/", "/_allauth/")


def _page_to_reload(request: HttpRequest) -> str:
    """The page the stale form was on (its Referer, if it is this site's), else this URL.

    A GET of a seat action's URL leads back to its event page, and a GET of a
    login or sign-up URL shows a fresh form, so this URL is a safe fallback.
    """
    referer = request.headers.get("Referer", "")
    if referer and url_has_allowed_host_and_scheme(
        referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return referer
    return request.get_full_path()


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """CSRF_FAILURE_VIEW: every CSRF refusal (Django logs its reason as a warning)."""
    if request.path.startswith("/api/"):
        return JsonResponse(error_body(CSRF_MESSAGE, "csrf_failed"), status=403)
    context = {
        "reload_url": _page_to_reload(request),
        # Without the cookie every form fails, however fresh the page: say why.
        "no_cookie": reason == REASON_NO_CSRF_COOKIE,
    }
    return render(request, "403_csrf.html", context, status=403)


def allow(*methods: str) -> Callable:
    """Like ``require_http_methods``, but the refusal is the site's 405 page (JSON under /api/).

    HEAD is allowed wherever GET is, as Django's decorators do.
    """
    allowed = {*methods, "HEAD"} if "GET" in methods else set(methods)

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def inner(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if request.method not in allowed:
                return method_not_allowed(request, sorted(allowed))
            return view(request, *args, **kwargs)

        return inner

    return decorator


def method_not_allowed(request: HttpRequest, allowed: list[str]) -> HttpResponse:
    if request.path.startswith(JSON_PATHS):
        message = f'Method "{request.method}" not allowed.'  # as DRF says it
        response: HttpResponse = JsonResponse(error_body(message, "method_not_allowed"), status=405)
    else:
        response = render(request, "405.html", status=405)
    response["Allow"] = ", ".join(allowed)
    return response


def refusal_response(request: HttpRequest, refusal: Refusal) -> HttpResponse:
    if request.path.startswith(JSON_PATHS):
        return JsonResponse(error_body(refusal.message, refusal.code), status=refusal.status)
    return render(request, "400.html", {"message": refusal.message}, status=refusal.status)


class RefusedRequestMiddleware:
    """Answers a request refused while a view read it (allauth's headless views, say).

    An address longer than ``MAX_URL_CHARS`` is refused before anything reads it.

        Here rather than in handler400/handler500: Django would log a client's bad
        body as the site's own error, and a RecursionError as a 500. It also gives
        allauth's headless refusals that are empty HTML pages (a body that is not
        a JSON object, a wrong method) the JSON error body.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if len(request.get_full_path()) > MAX_URL_CHARS:
            return refusal_response(request, URL_TOO_LONG)
        response = self.get_response(request)
        if (
            request.path.startswith("/_allauth/")
            and response.status_code >= 400
            and not response.get("Content-Type", "").startswith("application/json")
        ):
            return _as_json_error(response)
        return response

    def process_exception(self, request: HttpRequest, exc: Exception) -> HttpResponse | None:
        if refusal := refusal_for(exc):
            return refusal_response(request, refusal)
        return None


def _as_json_error(response: HttpResponse) -> HttpResponse:
    reason = response.reason_phrase  # "Bad Request", "Method Not Allowed"
    code = reason.lower().replace(" ", "_")
    answer = JsonResponse(error_body(f"{reason}.", code), status=response.status_code)
    if allowed := response.get("Allow"):
        answer["Allow"] = allowed
    return answer


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """handler400: a body refused before the view (the CSRF check reads forms), a bad Host.

    JSON where every answer is JSON.
    """
    if refusal := refusal_for(exception):
        return refusal_response(request, refusal)
    if request.path.startswith(JSON_PATHS):
        return JsonResponse(error_body(BAD_REQUEST, "bad_request"), status=400)
    return defaults.bad_request(request, exception)
