"""How many seat actions one account and one client address may take (django-ratelimit).

RSVP, cancel, joining and leaving a waiting list, from the event page, the API
or an email's one-click link, count together against two limits
(settings/limits.py): one per account, which stops a script hogging the
button, and a higher one per address, which stops one client spreading its
clicks over many accounts without refusing an office behind one NAT.

A cache that cannot count (Redis down) lets the action through, logged: the
limits keep the button fair, they do not guard capacity (the ledger does,
whatever the cache says), and refusing every seat change during a cache
outage would turn a fairness feature into an outage of the site's one job.
"""

from __future__ import annotations

import ipaddress
import logging

from allauth.account.adapter import get_adapter
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django_ratelimit.core import get_usage
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

ACCOUNT_GROUP = "seat-actions:account"
ADDRESS_GROUP = "seat-actions:address"


def client_address(request: HttpRequest) -> str:
    """The client's address exactly as allauth's login throttles find it (RATELIMIT_IP_META_KEY).

    Where allauth finds none it refuses with PermissionDenied, which would
    turn a seat action into a 403: the action is then counted under the
    socket's peer (or, with none, one shared address: the limits' keys are
    networks), and the per-account limit still applies. A request that went
    around the proxy stays a 400.
    """
    try:
        return get_adapter(request).get_client_ip(request)
    except PermissionDenied:
        logger.warning("no client address found for %s; counted as its peer", request.path)
        peer = request.META.get("REMOTE_ADDR") or ""
        try:
            return str(ipaddress.ip_address(peer))
        except ValueError:
            return "0.0.0.0"


def sentence(wait: int) -> str:
    """What a client over a limit is told, on a page or in the API's ``message``."""
    unit = "second" if wait == 1 else "seconds"
    return f"You're changing seats too quickly. Please try again in {wait} {unit}."


def seat_action_wait(request: HttpRequest, *, user_id: int) -> int | None:
    """Count one seat action by ``user_id`` from the request's address.

    None: go ahead. Otherwise the seconds until the client may try again
    (the later of the two limits it is over). Every attempt counts, refused
    or not: hammering the button is what the limits are for.
    """
    try:
        usages = [
            get_usage(
                request,
                group=ACCOUNT_GROUP,
                key=lambda group, request: str(user_id),
                rate=settings.SEAT_ACCOUNT_RATE_LIMIT,
                increment=True,
            ),
            get_usage(
                request,
                group=ADDRESS_GROUP,
                key="ip",
                rate=settings.SEAT_ADDRESS_RATE_LIMIT,
                increment=True,
            ),
        ]
    except (RedisConnectionError, RedisTimeoutError) as exc:
        logger.warning("seat action limits not counted, the cache is unavailable: %s", exc)
        return None
    waits = [max(u["time_left"], 1) for u in usages if u is not None and u["should_limit"]]
    return max(waits) if waits else None
