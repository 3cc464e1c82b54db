"""Requests refused for what they carry: a body too large, too many fields, JSON too deep.

Django raises these while a view, DRF or the CSRF check reads the request.
Left alone, the JSON decoder's RecursionError (and anything raised inside a
DRF view) becomes a 500, and the rest Django's bare 400. ``refusal_for`` says
which 4xx each one gets instead; ``events.errors`` answers it (JSON under
/api/ and /_allauth/, the site's error page elsewhere) and the API's
exception handler does for DRF. The limits are Django's ``DATA_UPLOAD_MAX_*``
settings (eventsite/settings/django.py).
"""

from __future__ import annotations

import json.decoder
import json.scanner
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent


@dataclass(frozen=True)
class Refusal:
    status: int
    message: str
    code: str


# The longest address (path and query) the site reads. gunicorn reads request
# lines up to 8,190 bytes (eventsite/gunicorn.conf.py) and answers a longer one
# with a bare HTML 414 of its own; below that, the site answers its own 414,
# JSON under /api/ as every API answer is, the error page elsewhere.
MAX_URL_CHARS = 8_000
URL_TOO_LONG = Refusal(
    414, f"The address is too long (at most {MAX_URL_CHARS:,} characters).", "uri_too_long"
)


def refusal_for(exc: BaseException) -> Refusal | None:
    """The answer to a request whose reading raised ``exc``; None: not the request's fault."""
    if isinstance(exc, RequestDataTooBig):
        kib = settings.DATA_UPLOAD_MAX_MEMORY_SIZE // 1024
        return Refusal(413, f"The request body is too large (at most {kib} KiB).", "too_large")
    if isinstance(exc, (TooManyFieldsSent, TooManyFilesSent)):
        return Refusal(400, "The request has too many fields or files.", "too_many_fields")
    if isinstance(exc, RecursionError) and _raised_decoding_json(exc):
        return Refusal(400, "The request body is nested too deeply.", "too_deep")
    return None


# Where the decoder recurses: its C scanner is called from json.decoder; the
# pure-Python one (where the C one is missing) recurses through both.
_JSON_DECODER_FILES = {json.decoder.__file__, json.scanner.__file__}


def _raised_decoding_json(exc: RecursionError) -> bool:
    """Raised by the JSON decoder itself; any other RecursionError is a bug of ours (a 500)."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    return tb is not None and tb.tb_frame.f_code.co_filename in _JSON_DECODER_FILES
