"""HTTPS, cookies and the Content Security Policy.

Development serves plain HTTP on localhost, so everything HTTPS-only is off
there. Production turns on the redirect, secure cookies and HSTS by default
(``manage.py check --deploy`` then has nothing to report); each can still be
set either way by its variable. Trusting a proxy's X-Forwarded-Proto stays an
explicit BEHIND_HTTPS_PROXY=1: only the deployment knows there is one.
"""

from urllib.parse import urlsplit

from django.utils.csp import CSP

from eventsite.env import IS_PRODUCTION, env_bool, env_int, env_str

# gunicorn speaks plain HTTP; a proxy or load balancer in front ends TLS and
# says so in X-Forwarded-Proto. Trust that header only when such a proxy
# exists (and strips the header from clients), or anyone could claim HTTPS.
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("BEHIND_HTTPS_PROXY") else None
)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", IS_PRODUCTION)
# Load balancers probe /healthz over plain HTTP from inside the network: a
# redirect there would read as "down".
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]

# HSTS: browsers that have seen the header refuse plain HTTP for max-age
# seconds. Production defaults to what check --deploy asks for: a year (the
# least the preload list accepts), subdomains included, preload consented to.
# Hard to take back, as every browser remembers it: a first deployment may
# start with SECURE_HSTS_SECONDS=300.
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31_536_000 if IS_PRODUCTION else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", IS_PRODUCTION)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", IS_PRODUCTION)

SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = env_bool("SECURE_COOKIES", IS_PRODUCTION)
# A stale tab (logged out and in elsewhere rotates the token) gets the site's
# page saying so, with a way back, instead of Django's bare one.
CSRF_FAILURE_VIEW = "events.errors.csrf_failure"


# Content Security Policy (Django's ContentSecurityPolicyMiddleware), in every
# environment so that development and the tests see what production serves.
# Scripts and styles come from the site's own static files; an inline <script>
# or <style> applies only with the response's nonce (the 500 and 503 pages,
# the API docs, and Django's admin where it has any; the site's pages have
# none). No inline event handlers or style attributes anywhere: no nonce can
# allow those. tests/pages/test_csp.py checks every kind of page against it.
def _media_origin() -> list[str]:
    parts = urlsplit(env_str("MEDIA_URL"))
    return [f"{parts.scheme}://{parts.netloc}"] if parts.scheme and parts.netloc else []


SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF, CSP.NONCE],
    # data: images (Swagger UI's icons on /api/docs/) can show, not run script.
    # Pictures stored on another host (MEDIA_URL, settings/django.py) show too.
    "img-src": [CSP.SELF, "data:", *_media_origin()],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}
