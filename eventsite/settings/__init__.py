"""Settings for the event site, one module per concern.

Every deploy-specific value comes from an environment variable, read through
eventsite/env.py and nowhere else. Development needs none: DEBUG off, SQLite
and the embedded MongoDB under ``var/``, keys generated on first use, mail to
the console. ``DJANGO_ENV=production`` requires what a deployment needs and
serves HTTPS only (production.py, security.py).

``DJANGO_SETTINGS_MODULE`` stays ``eventsite.settings``: this package.
"""

# production first: it refuses an incomplete production environment before a
# module below could generate a key into var/. The others define no setting
# twice, so their order does not matter.
from eventsite.settings import production  # noqa: F401
from eventsite.settings.api import *  # noqa: F403
from eventsite.settings.auth import *  # noqa: F403
from eventsite.settings.databases import *  # noqa: F403
from eventsite.settings.django import *  # noqa: F403
from eventsite.settings.limits import *  # noqa: F403
from eventsite.settings.logging import *  # noqa: F403
from eventsite.settings.mail import *  # noqa: F403
from eventsite.settings.security import *  # noqa: F403
