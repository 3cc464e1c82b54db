"""Run the site as deployed: migrate, collect static files, seed the demo, gunicorn.

``make run`` calls this. manage.py has already brought up the embedded MongoDB
(unless MONGODB_URI is set); gunicorn's workers inherit its address. Ctrl-C
stops gunicorn and, with this process, the embedded server it started.
"""

import os
import signal
import subprocess
import sys

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from eventsite.env import env_str


class Command(BaseCommand):
    help = "Serve the site with gunicorn on http://127.0.0.1:$PORT (default 8000)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--no-demo", action="store_true", help="Do not create demo data.")

    def handle(self, *args, no_demo: bool = False, **options) -> None:
        call_command("migrate", interactive=False, verbosity=0)
        call_command("collectstatic", interactive=False, verbosity=0)
        if not no_demo:
            call_command("seed_demo")
        port = env_str("PORT", "8000")
        self.stdout.write(f"Serving on http://127.0.0.1:{port}/ (Ctrl-C stops everything)")
        config = settings.BASE_DIR / "eventsite" / "gunicorn.conf.py"
        gunicorn = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", str(config), "eventsite.wsgi"],
            env={**os.environ, "MONGODB_URI": settings.MONGODB_URI},
        )
        # A polite kill or a closed terminal stops everything just as Ctrl-C does,
        # also when this process was started with SIGINT ignored (in the background).
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, signal.default_int_handler)
        try:
            sys.exit(gunicorn.wait())
        except KeyboardInterrupt:
            gunicorn.terminate()
            gunicorn.wait(timeout=15)
            self.stdout.write("Stopped.")
