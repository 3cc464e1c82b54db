"""What the load tools and the tests read from the site's HTML forms, in one place."""

from __future__ import annotations

import re

# The hidden input Django's {% csrf_token %} renders in every form.
CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def csrf_token(html: str) -> str:
    """The page's CSRF token, or "" if it has no form carrying one."""
    match = CSRF_INPUT.search(html)
    return match.group(1) if match else ""
