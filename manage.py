#!/usr/bin/env python
"""Django's command-line utility, which also brings up the embedded MongoDB.

With MONGODB_URI unset, a command uses the embedded server already running
for var/ (say, the one ``make run`` started; while its supervisor restarts
it, the command waits) or starts one for as long as the command runs, so
every command sees the same ledger as the site. ``serve`` (``make run``)
starts its own, under a supervisor that keeps it up. Production
(DJANGO_ENV=production) always sets MONGODB_URI.
"""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "eventsite.settings")
    from eventsite.env import IS_PRODUCTION, VAR_DIR, env_str

    # Production names its MongoDB (the settings refuse to start without it);
    # a command there never starts a ledger of its own. ``serve`` starts a
    # supervised one itself.
    if not env_str("MONGODB_URI") and not IS_PRODUCTION and sys.argv[1:2] != ["serve"]:
        from eventsite import embedded_mongo

        uri, _process = embedded_mongo.ensure(VAR_DIR)
        os.environ["MONGODB_URI"] = uri
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
