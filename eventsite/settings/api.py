"""The JSON API under /api/: Django REST framework and its OpenAPI schema (drf-spectacular).

Its Bearer tokens are allauth's (settings/auth.py).
"""

from eventsite.settings.security import SECURE_CSP

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # First, so an anonymous caller is told 401 with "WWW-Authenticate: Bearer".
        "accounts.authentication.JWTAuthentication",
        "rest_framework.authentication.SessionAuthentication",  # page JS, with CSRF
    ],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_PAGINATION_CLASS": "events.api.pagination.StrictPageNumberPagination",
    "PAGE_SIZE": 20,
    "EXCEPTION_HANDLER": "events.api.exceptions.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}

# /api/docs/ loads Swagger UI from a CDN: bundling it (drf-spectacular-sidecar)
# made every collectstatic 20 s slower for one page.
_SWAGGER_UI_DIST = "https://cdn.jsdelivr.net/npm/swagger-ui-dist@5"
SPECTACULAR_SETTINGS = {
    "TITLE": "Eventsite API",
    "DESCRIPTION": (
        "RSVP to events with a hard capacity; never overbooked. Every error body "
        "is JSON with a human-readable `message`.\n\n"
        "Get a Bearer token: `POST /_allauth/app/v1/auth/login` with JSON "
        '`{"username": ..., "password": ...}` (or `"email"`) and read '
        "`meta.access_token`; renew it with `POST /_allauth/app/v1/tokens/refresh` "
        'and `{"refresh_token": ...}`. Browser sessions work too (with the CSRF token).'
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # The one PATCH (a party's guests) requires its field: not a partial update.
    "COMPONENT_SPLIT_PATCH": False,
    "SWAGGER_UI_DIST": _SWAGGER_UI_DIST,
    "SWAGGER_UI_FAVICON_HREF": f"{_SWAGGER_UI_DIST}/favicon-32x32.png",
}

# The site's policy, plus Swagger UI's script, stylesheet and icon from exactly
# that package on the CDN, for /api/docs/ alone (events/api/urls.py). Its
# start-up script comes from the site itself (drf-spectacular's split view).
API_DOCS_CSP = {
    **SECURE_CSP,
    "script-src": [*SECURE_CSP["script-src"], f"{_SWAGGER_UI_DIST}/"],
    "style-src": [*SECURE_CSP["style-src"], f"{_SWAGGER_UI_DIST}/"],
    "img-src": [*SECURE_CSP["img-src"], f"{_SWAGGER_UI_DIST}/"],
}
