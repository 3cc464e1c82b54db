"""The task worker beside gunicorn (``manage.py db_worker``), and the tasks a dead one held.

django-tasks-db marks a task ``RUNNING`` when a worker claims it and never
hands it to another worker: it has no lease or heartbeat. A worker killed
mid-task (SIGKILL, the OOM killer, a power cut) would leave its task, say
a mailing to 300 people, unfinished for ever. So every worker started here
gets an id of this site's (``worker_prefix``), and before one starts, the
tasks still ``RUNNING`` under such an id are made ``READY`` again: only
one of this site's workers runs at a time (``manage.py serve`` starts it),
so they were held by one that died. The email tasks are safe to run again:
each person gets each email once (``events.services.notifications``).

Every task leaves its row behind when it finishes (its result, or a failed
one's traceback); ``prune_finished`` deletes those older than
``TASK_RESULTS_KEEP_DAYS``, and ``manage.py serve`` calls it on a schedule.
"""

from __future__ import annotations

import hashlib
import itertools
import logging
import socket
import subprocess
import sys

from django.conf import settings
from django.core.management import call_command
from django.db import transaction
from django_tasks_db.models import DBTaskResult

logger = logging.getLogger(__name__)

RUNNING = "RUNNING"
READY = "READY"


def worker_prefix() -> str:
    """This site's workers' ids begin with it: the host, and the site's var/ directory."""
    digest = hashlib.sha256(str(settings.VAR_DIR).encode()).hexdigest()[:8]
    return f"serve:{socket.gethostname()[:32]}:{digest}:"


def requeue_abandoned(prefix: str) -> int:
    """Make the tasks left ``RUNNING`` by workers whose ids begin with ``prefix`` ready again.

    Call it only while no such worker runs. Each task is changed by one
    guarded update (still ``RUNNING``, claimed at the same time), so a task
    that finished or was claimed again meanwhile is left as it is. How many were requeued.
    """
    running = DBTaskResult.objects.running().values_list("pk", "worker_ids", "started_at")
    held = [(pk, at) for pk, ids, at in running if ids and ids[-1].startswith(prefix)]
    requeued = 0
    with transaction.atomic(using=DBTaskResult.objects.db):
        for pk, started_at in held:
            # Claimed again since it was read (started_at changes): not this one's to requeue.
            guard = {"pk": pk, "status": RUNNING, "started_at": started_at}
            requeued += DBTaskResult.objects.filter(**guard).update(status=READY)
    if requeued:
        logger.warning("Requeued %d task(s) left running by a worker that died", requeued)
    return requeued


def prune_finished() -> None:
    """Delete the rows of tasks that finished more than ``TASK_RESULTS_KEEP_DAYS`` ago.

    django-tasks-db's own command does it: only finished rows (succeeded or
    failed), of every queue; a task queued or running stays, however old.
    """
    call_command(
        "prune_db_task_results",
        min_age_days=settings.TASK_RESULTS_KEEP_DAYS,
        queue_name="*",
        verbosity=0,
    )


class TaskWorker:
    """Starts this site's ``db_worker`` processes, one at a time, each with a new id."""

    def __init__(self, *, env: dict[str, str], prefix: str | None = None) -> None:
        self.env = env
        self.prefix = prefix or worker_prefix()
        self._numbers = itertools.count(1)

    def start(self, stdout=None) -> subprocess.Popen:
        """Requeue what a dead predecessor held, then start a worker (its output to ``stdout``)."""
        requeue_abandoned(self.prefix)
        worker_id = f"{self.prefix}{next(self._numbers)}"
        manage = settings.BASE_DIR / "manage.py"
        command = [sys.executable, str(manage), "db_worker", "--no-reload", "--verbosity", "1"]
        output = {"stdout": stdout, "stderr": subprocess.STDOUT} if stdout else {}
        return subprocess.Popen([*command, "--worker-id", worker_id], env=self.env, **output)
