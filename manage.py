#!/usr/bin/env python
"""Django's command-line utility, which also brings up the embedded MongoDB.

With MONGODB_URI unset, a command uses the embedded server already running
for var/ (say, the one ``make run`` started; while its supervisor restarts
it, the command waits) or starts one for as long as the command runs, so
every command sees the same ledger as the site. ``serve`` (``make run``)
starts its own, under a supervisor that keeps it up.
"""

import os
import sys
from pathlib import Path


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "eventsite.settings")
    if not os.environ.get("MONGODB_URI") and sys.argv[1:2] != ["serve"]:
        from eventsite import embedded_mongo

        base = Path(__file__).resolve().parent
        var_dir = Path(os.environ.get("EVENTSITE_VAR_DIR", base / "var")).resolve()
        uri, _process = embedded_mongo.ensure(var_dir)
        os.environ["MONGODB_URI"] = uri
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
