"""Run the site as deployed: migrate, collect static files, seed the demo (never in
production), gunicorn behind its front (HAProxy) and the task worker that sends emails.

``make run`` calls this. With MONGODB_URI unset it starts the embedded MongoDB
under its supervisor (``eventsite.mongo_supervisor``), which restarts a server
that dies on the same address and data file; gunicorn's workers inherit that
address and reconnect by themselves. Ctrl-C (or SIGTERM, SIGHUP) stops
gunicorn and the worker, then the supervisor and its server. If the supervisor
gives up (the server crashes as soon as it starts), the site stops too. A
worker that dies is started again: queued emails wait in the database for it.
Where it runs a worker it also prunes the finished tasks' rows, at the start
and every ``PRUNE_EVERY`` (``task_worker.prune_finished``).

Clients connect to the front on $HOST:$PORT (``eventsite/front.py``), which
hands gunicorn only requests it has read whole: a client that trickles its
request never holds one of gunicorn's threads. If the front stops, so does the site.
"""

import os
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connections

from events.task_worker import TaskWorker, prune_finished
from eventsite import embedded_mongo, front, mongo_supervisor
from eventsite.env import env_str

WORKER_RESTART_PAUSE = 5  # seconds
# How much lower than this command's the task worker's CPU priority is (its
# nice value, added): during a rush every RSVP queues an email, and a worker
# building them at full priority takes a core from gunicorn and the ledger.
# At nice 10 the kernel gives it about a tenth of a normal process's share
# while they want the CPU, and all of it when they don't: mail waits, RSVPs don't.
WORKER_NICENESS = 10
# Finished tasks' rows are pruned from this loop, the one process that
# already lives as long as the site and owns the worker: nothing more to run
# or install (no cron), and exactly one pruner per site. A task that queued
# itself again would need seeding once, and a chain broken by one failed run
# would stop for good. Rows are kept for days (TASK_RESULTS_KEEP_DAYS), so a
# few runs a day are plenty.
PRUNE_EVERY = 6 * 60 * 60  # seconds


class Command(BaseCommand):
    help = "Serve the site with gunicorn on http://127.0.0.1:$PORT (default 8000)."
    _workers: TaskWorker | None = None

    def add_arguments(self, parser) -> None:
        parser.add_argument("--no-demo", action="store_true", help="Do not create demo data.")

    def handle(self, *args, no_demo: bool = False, **options) -> None:
        mongo = self._start_embedded_mongo() if not settings.MONGODB_URI else None
        try:
            call_command("migrate", interactive=False, verbosity=0)
            call_command("collectstatic", interactive=False, verbosity=0)
            if not (no_demo or settings.IS_PRODUCTION):
                call_command("seed_demo")
            code = self._serve(mongo)
        finally:
            if mongo is not None:
                embedded_mongo.stop(mongo)
        if code:
            sys.exit(code)

    def _start_embedded_mongo(self) -> subprocess.Popen:
        """The supervised embedded server for var/; its address goes to settings and gunicorn."""
        var_dir = settings.VAR_DIR
        if pid := mongo_supervisor.supervisor_pid(var_dir):
            raise CommandError(
                f"Another `make run` (pid {pid}) already serves {var_dir}: stop it first, "
                "or give this one another EVENTSITE_VAR_DIR."
            )
        supervisor = mongo_supervisor.spawn(var_dir)
        try:
            uri = embedded_mongo.wait_until_up(var_dir, supervisor)
        except embedded_mongo.EmbeddedMongoError as exc:
            embedded_mongo.stop(supervisor)
            raise CommandError(str(exc)) from exc
        settings.MONGODB_URI = os.environ["MONGODB_URI"] = uri
        return supervisor

    def _start_worker(self) -> subprocess.Popen | None:
        """The worker that runs queued tasks (emails), when the tasks wait in the database."""
        if not settings.TASKS["default"]["BACKEND"].startswith("django_tasks_db"):
            return None  # an immediate backend runs each task where it is queued
        if self._workers is None:
            self._workers = TaskWorker(env={**os.environ, "MONGODB_URI": settings.MONGODB_URI})
        # A task its dead predecessor was running is requeued first (task_worker).
        worker = self._workers.start()
        self._lower_priority(worker.pid)
        return worker

    def _lower_priority(self, pid: int) -> None:
        """Give the worker a nice value ``WORKER_NICENESS`` above this command's.

        Set from here as soon as it started, not with ``preexec_fn`` (unsafe
        in a process with threads, as this one has once migrate or seed_demo
        reached the ledger: pymongo's monitors). Popen returns
        once the worker has exec'd, before its Python has started a thread,
        and Linux keeps a nice value per thread: the threads it starts later
        inherit this one.
        """
        nice = min(os.getpriority(os.PRIO_PROCESS, 0) + WORKER_NICENESS, 19)
        try:
            os.setpriority(os.PRIO_PROCESS, pid, nice)
        except OSError as exc:  # it already died: the restart loop sees to it
            self.stderr.write(f"Could not lower the task worker's priority: {exc}")

    def _restart_worker(self, worker: subprocess.Popen) -> subprocess.Popen | None:
        """A new worker for one that stopped; queued emails wait in the database meanwhile."""
        self.stderr.write(
            f"The task worker stopped (exit code {worker.returncode}): restarting it."
        )
        # A worker that dies at once (a broken database, say) is not restarted in a tight loop.
        time.sleep(WORKER_RESTART_PAUSE)
        return self._start_worker()

    def _prune_task_results(self) -> None:
        """Old finished tasks' rows go; a failure is reported and waits for the next run."""
        try:
            prune_finished()
        except Exception as exc:  # the site keeps serving: the rows are only history
            self.stderr.write(f"Could not prune old task results: {exc}")
        finally:
            # Hours until the next run: no connection held open meanwhile.
            connections.close_all()

    def _serve(self, mongo: subprocess.Popen | None) -> int:
        """gunicorn behind its front until it exits, a stop signal, or the front or the
        embedded MongoDB's supervisor stops."""
        port = env_str("PORT", "8000")
        self.stdout.write(f"Serving on http://127.0.0.1:{port}/ (Ctrl-C stops everything)")
        config = settings.BASE_DIR / "eventsite" / "gunicorn.conf.py"
        haproxy = self._start_front(port)
        gunicorn = subprocess.Popen(
            [
                *(sys.executable, "-m", "gunicorn", "-c", str(config), "eventsite.wsgi"),
                *haproxy.gunicorn_args(),
            ],
            env={**os.environ, "MONGODB_URI": settings.MONGODB_URI},
        )
        worker = self._start_worker()
        next_prune = time.monotonic()  # at the start, then every PRUNE_EVERY
        # A polite kill or a closed terminal stops everything just as Ctrl-C does,
        # also when this process was started with SIGINT ignored (in the background).
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, signal.default_int_handler)
        try:
            while (code := gunicorn.poll()) is None:
                if mongo is not None and mongo.poll() is not None:
                    self.stderr.write(
                        f"The embedded MongoDB's supervisor stopped (exit code {mongo.returncode}"
                        "; see above): stopping the site."
                    )
                    embedded_mongo.stop(gunicorn, timeout=15)
                    return 1
                if haproxy.process.poll() is not None:
                    self.stderr.write("The front (HAProxy) stopped (see above): stopping the site.")
                    embedded_mongo.stop(gunicorn, timeout=15)
                    return 1
                if worker is not None and worker.poll() is not None:
                    worker = self._restart_worker(worker)
                if worker is not None and time.monotonic() >= next_prune:
                    self._prune_task_results()
                    next_prune = time.monotonic() + PRUNE_EVERY
                time.sleep(0.2)  # children to watch; a signal ends the wait at once
            return code
        except KeyboardInterrupt:
            embedded_mongo.stop(gunicorn, timeout=15)
            self.stdout.write("Stopped.")
            return 0
        finally:
            if worker is not None:
                embedded_mongo.stop(worker, timeout=15)
            haproxy.stop()

    def _start_front(self, port: str) -> front.Front:
        """HAProxy on $HOST:$PORT, for gunicorn behind it (eventsite/front.py)."""
        try:
            return front.start(f"{env_str('HOST', '127.0.0.1')}:{port}")
        except front.FrontMissing as exc:
            raise CommandError(str(exc)) from exc
