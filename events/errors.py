"""Friendly answers to requests the site refuses before a view can help: CSRF, wrong method.

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

from events.api.exceptions import error_body

CSRF_MESSAGE = "The page you sent this from was out of date. Reload it and try again."


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
    """Like ``require_http_methods``, but the refusal is the site's 405 page.

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
    response = render(request, "405.html", status=405)
    response["Allow"] = ", ".join(allowed)
    return response
