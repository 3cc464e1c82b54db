"""Serving stored pictures when they live on this site's own disk.

Whitenoise serves the static files it found at start-up, never uploads; a
picture stored by ``eventsite/pictures.py`` in the local default storage is
served here instead. Only names of the shape that module writes are served
(a folder, a random key, a size, ``.jpg``): nothing else under ``var/media/``
can be reached, and no name can climb out of it. A name never changes its
content (a new picture is a new key), so browsers may keep it for a year.
With a remote storage (``MEDIA_URL`` an absolute address) this is not mounted.
"""

from __future__ import annotations

import re

from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpRequest
from django.views.decorators.http import require_GET

RENDITION_NAME = re.compile(r"[a-z]+/[A-Za-z0-9_-]{12}-[a-z0-9]+\.jpg")
A_YEAR = 365 * 24 * 3600


@require_GET
def picture(request: HttpRequest, name: str) -> FileResponse:
    if not RENDITION_NAME.fullmatch(name) or not default_storage.exists(name):
        raise Http404("No such picture.")
    response = FileResponse(default_storage.open(name), content_type="image/jpeg")
    response["Cache-Control"] = f"public, max-age={A_YEAR}, immutable"
    return response
