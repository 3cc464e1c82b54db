"""Real mail for the tests: an SMTP server process, and the task worker that sends to it.

``smtp_sink`` starts ``tests.smtp_sink`` on a free port and reads back what
it accepted, recipients and whole messages; ``mail_worker`` runs this site's
``db_worker`` (as ``manage.py serve`` does) with the session's databases and
that server. A test that uses them sets ``settings.TASKS = DATABASE_TASKS``
so that what it queues lands where the worker looks.
"""

from __future__ import annotations

import email
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from pathlib import Path

from events.task_worker import TaskWorker
from loadtests.stack import free_port
from tests.helpers import ROOT, session_database_url, site_env, wait_for

DATABASE_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


@dataclass(frozen=True)
class Sink:
    port: int
    log: Path

    def accepted(self) -> list[str]:
        """The recipients of every message accepted, one entry per copy."""
        lines = self.log.read_text().splitlines() if self.log.exists() else []
        return [line for line in lines if line != "held"]

    def messages(self) -> list[EmailMessage]:
        """Every message accepted, whole, in the order they came."""
        count = len(self.accepted())
        folder = self.log.parent / f"{self.log.name}.d"
        return [
            email.message_from_bytes((folder / f"{n}.eml").read_bytes(), policy=policy.default)
            for n in range(1, count + 1)
        ]

    def held(self) -> bool:
        """Whether the server holds a message (``hold_after``) until ``release``."""
        return self.log.exists() and "held" in self.log.read_text().splitlines()

    def release(self) -> None:
        (self.log.parent / f"{self.log.name}.release").touch()


@contextmanager
def smtp_sink(
    tmp_path: Path, *, hold_after: int | None = None, refuse: tuple[str, ...] = ()
) -> Iterator[Sink]:
    """The SMTP server process, up.

    ``hold_after``: hold the next message after that many; ``refuse``: the
    addresses it answers 550 at ``RCPT TO`` (their messages never arrive).
    """
    sink = Sink(port=free_port(), log=tmp_path / "smtp.log")
    command = [sys.executable, "-m", "tests.smtp_sink", "--port", str(sink.port)]
    command += ["--log", str(sink.log)]
    if hold_after is not None:
        command += ["--hold-after", str(hold_after), "--release", f"{sink.log}.release"]
    for address in refuse:
        command += ["--refuse", address]
    server = subprocess.Popen(command, cwd=ROOT)
    try:
        up = sink.log.parent / f"{sink.log.name}.up"
        assert wait_for(lambda: up.exists() or server.poll() is not None, 10) and up.exists()
        yield sink
    finally:
        server.terminate()
        server.wait(timeout=10)


def mail_env(sink: Sink, **extra: str) -> dict[str, str]:
    """The environment of a site process whose tasks are in SQL and whose mail goes to ``sink``."""
    return site_env(
        session_database_url(),
        TASKS_BACKEND="database",
        EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=str(sink.port),
        **extra,
    )


def task_workers(tmp_path: Path, sink: Sink, **extra: str) -> TaskWorker:
    """Starts this test's workers, each requeueing what a killed one of them held."""
    return TaskWorker(env=mail_env(sink, **extra), prefix=f"test-{tmp_path.name[-20:]}:")


@contextmanager
def mail_worker(tmp_path: Path, sink: Sink, **extra: str) -> Iterator[subprocess.Popen]:
    """One running worker sending to ``sink``; stopped (killed if it must be) afterwards."""
    worker = task_workers(tmp_path, sink, **extra).start()
    try:
        yield worker
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=10)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait(timeout=10)
