"""The whole site brought up as deployed, in a scratch directory, for load tools.

``running()`` starts, in order: the embedded MongoDB (unless ``MONGODB_URI`` is
set, in which case a database of its own on that server is used and dropped
afterwards), a fresh SQLite database (or the empty database a caller made
elsewhere, ``database_url``) with migrations and collected static files, and
gunicorn from ``eventsite/gunicorn.conf.py`` with ``workers``
processes. Django is set up in the calling process on the same databases, so
the caller can make fixtures with the ORM and call ``events.ledger``.
Everything started is stopped and the scratch directory removed on the way out,
whether the block ends normally, raises, or is interrupted.

A ``STRATEGY`` in the environment (``STRATEGY=naive make loadtest``) is
passed on to gunicorn with the proving-ground marker that lets the settings
honour it (eventsite/env.py); a site started any other way refuses it.

Its users all come from one address and click faster than people, so the
site's throttles (logins, sign-ups, seat actions) are raised on its servers
(``LIFTED_LIMITS``), unless the environment already names a limit.

With ``mail=True`` a mail worker (``manage.py db_worker``, as ``make run``
starts it) runs beside gunicorn and sends every email the run queues, each
written as a file under the scratch directory (Django's file backend): the
figures then include the work of mail, as a deployment has it, without a
mail server.

With ``supervised=True`` the embedded MongoDB runs as ``make run`` runs it:
under ``eventsite.mongo_supervisor``, whose standby takes over a server that
dies, on the same address (``make chaos`` kills it on purpose).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import django
import requests
from django.conf import settings
from django.core.management import call_command
from pymongo import MongoClient

from eventsite import embedded_mongo, mongo_supervisor

ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class Stack:
    url: str
    mongodb_uri: str
    mongodb_db: str
    var_dir: Path
    gunicorn: subprocess.Popen
    # The embedded server, or its supervisor when supervised; None when
    # MONGODB_URI names an outside server.
    mongo: subprocess.Popen | None
    supervised: bool = False

    def gunicorn_pids(self) -> list[int]:
        """The master and its workers."""
        return [self.gunicorn.pid, *children(self.gunicorn.pid)]

    @property
    def mongo_dir(self) -> Path:
        """The embedded server's var/ directory: its lock, address file and data."""
        return self.var_dir / "mongo"


def children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    try:
        return [int(p) for p in path.read_text().split()]
    except FileNotFoundError:
        return []


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for[T](condition: Callable[[], T], seconds: float, poll_s: float = 0.02) -> T | None:
    """Poll until ``condition`` returns something true (returned); None after ``seconds``.

    The one way the load tools and the tests wait for a condition, never a bare sleep.
    """
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if found := condition():
            return found
        time.sleep(poll_s)
    return condition() or None


def _wait_until_serving(url: str, process: subprocess.Popen, workers: int, healthy: bool) -> None:
    """Until gunicorn answers /healthz (with 200 when ``healthy``) from all its workers."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with code {process.returncode}")
        try:
            status = requests.get(f"{url}/healthz", timeout=2).status_code
            answered = status == 200 or not healthy
        except requests.RequestException:  # refused, or too slow to answer yet
            answered = False
        if answered and len(children(process.pid)) >= workers:
            return
        time.sleep(0.1)
    raise RuntimeError(f"gunicorn did not serve {url} within {START_TIMEOUT_S:.0f}s")


@contextmanager
def gunicorn(
    env: dict[str, str], workers: int, *, log=None, healthy: bool = True
) -> Iterator[tuple[str, subprocess.Popen]]:
    """The site served as deployed (``eventsite/gunicorn.conf.py``) on a free port.

    ``env`` is the whole environment of the server; ``log`` a file for its
    output (else it inherits ours). Yields its URL once every worker answers
    (only once /healthz says 200, unless ``healthy`` is False), and stops it
    on the way out.
    """
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "eventsite/gunicorn.conf.py", "eventsite.wsgi"],
        cwd=ROOT,
        env={**env, "PORT": str(port), "WEB_CONCURRENCY": str(workers)},
        stdout=log,
        stderr=subprocess.STDOUT if log else None,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_serving(url, process, workers, healthy)
        yield url, process
    finally:
        embedded_mongo.stop(process, timeout=20)


@contextmanager
def mail_worker(env: dict[str, str], *, log=None) -> Iterator[subprocess.Popen]:
    """This site's task worker on ``env``'s databases, stopped (by its pid) on the way out."""
    # Not at the top: it imports Django's models, and this module is imported
    # before running() has set Django up (it is what sets it up).
    from events.task_worker import TaskWorker

    worker = TaskWorker(env=env, prefix=f"load:{os.getpid()}:").start(stdout=log)
    try:
        yield worker
    finally:
        embedded_mongo.stop(worker, timeout=20)


@contextmanager
def running(
    workers: int = 2,
    log_file: Path | None = None,
    *,
    supervised: bool = False,
    static: bool = True,
    database_url: str | None = None,
    mail: bool = False,
) -> Iterator[Stack]:
    """Start the stack; gunicorn's log goes to ``log_file`` (else to stderr).

    ``supervised``: the embedded MongoDB under its supervisor, as ``make run``
    has it. ``static=False`` skips collecting static files (about ten seconds
    on a busy 2-core machine), for a tool that asks only for JSON: no page can
    be rendered without them. ``database_url``: Django's database, an empty
    one the caller made for this stack and drops afterwards (PostgreSQL, say);
    None: a scratch SQLite file. Django's cache is whatever ``CACHE_URL`` in
    the environment says.
    """
    var_dir = Path(tempfile.mkdtemp(prefix="eventsite-stack-")).resolve()
    outside_uri = os.environ.get("MONGODB_URI", "")
    mongo: subprocess.Popen | None = None
    db = ""
    with ExitStack() as resources:
        log = resources.enter_context(open(log_file, "w")) if log_file else None
        try:
            if outside_uri:
                uri, db = outside_uri, f"eventsite_bench_{uuid.uuid4().hex[:8]}"
            else:
                start = mongo_supervisor.spawn if supervised else embedded_mongo.spawn
                mongo = start(var_dir / "mongo")
                uri, db = embedded_mongo.wait_until_up(var_dir / "mongo", mongo), "eventsite"
            if database_url:
                os.environ["DATABASE_URL"] = database_url
            else:
                os.environ.pop("DATABASE_URL", None)  # a scratch SQLite file
            os.environ.update(
                DJANGO_SETTINGS_MODULE="eventsite.settings",
                EVENTSITE_VAR_DIR=str(var_dir),
                MONGODB_URI=uri,
                MONGODB_DB=db,
            )
            _mark_proving_ground()
            lift_limits(os.environ)
            _set_up_django(var_dir, static)
            if mail:
                os.environ.update(
                    TASKS_BACKEND="database",
                    EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend",
                    EMAIL_FILE_PATH=str(var_dir / "mail"),
                )
            url, server = resources.enter_context(gunicorn(dict(os.environ), workers, log=log))
            if mail:
                resources.enter_context(mail_worker(dict(os.environ), log=log))
            yield Stack(url, uri, db, var_dir, server, mongo, supervised and mongo is not None)
        finally:
            resources.close()  # gunicorn first, before the databases it uses
            if outside_uri and db:
                _drop_database(outside_uri, db)
            if mongo is not None:
                embedded_mongo.stop(mongo)  # a supervisor stops its standby, then its server
            shutil.rmtree(var_dir, ignore_errors=True)


# A load test's hundreds of users all come from one address (127.0.0.1) and
# click far faster than people: the site's own limits would answer most of
# them 429 and measure nothing. Raised, not off, so a limit still runs its code.
LIFTED_LIMITS = {
    "LOGIN_RATE_LIMIT": "100000/m/ip",
    "SIGNUP_RATE_LIMIT": "100000/m/ip",
    "SEAT_ACCOUNT_RATE_LIMIT": "100000/m",
    "SEAT_ADDRESS_RATE_LIMIT": "100000/m",
}


def lift_limits(environ: dict[str, str]) -> None:
    """The site's throttles raised in ``environ``, unless a variable there already says."""
    for name, rate in LIFTED_LIMITS.items():
        environ.setdefault(name, rate)


def _mark_proving_ground() -> None:
    """``STRATEGY=naive make loadtest``: a STRATEGY is honoured on servers started here.

    Imported here, not at the top: eventsite.env reads ``EVENTSITE_VAR_DIR``
    when first imported, and ``running`` sets it just before.
    """
    from eventsite.env import PROVING_GROUND

    if os.environ.get("STRATEGY"):
        os.environ[PROVING_GROUND] = "1"


def _set_up_django(var_dir: Path, static: bool = True) -> None:
    """Django in this process, on the scratch databases: migrate, collect static."""
    django.setup()
    if var_dir != settings.VAR_DIR:
        raise RuntimeError("Django was set up before the stack: call running() first")
    call_command("migrate", interactive=False, verbosity=0)
    if static:
        call_command("collectstatic", interactive=False, verbosity=0)
    else:  # whitenoise warns in every worker about a missing one
        Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)


def _drop_database(uri: str, db: str) -> None:
    with MongoClient(uri, serverSelectionTimeoutMS=5000) as client:
        client.drop_database(db)


def stop_group(child: subprocess.Popen, timeout: float = 60) -> None:
    """Stop a tool's child started in a session of its own: SIGTERM, then SIGKILL its group.

    SIGTERM first, so that a child running a stack stops its gunicorn and
    MongoDB; whatever of its group is left after ``timeout`` is killed.
    """
    with contextlib.suppress(ProcessLookupError):
        os.killpg(child.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        child.wait(timeout)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(child.pid, signal.SIGKILL)
    child.wait()


def run_in_group(
    args: list[str], env: dict[str, str], timeout: float, **popen
) -> tuple[subprocess.Popen, int | None]:
    """Run a tool's child in a session of its own: it, and its exit code (None: it overran).

    An overrun or a Ctrl-C stops its whole group (``stop_group``); Ctrl-C is
    raised again once it has.
    """
    child = subprocess.Popen(args, cwd=ROOT, env=env, start_new_session=True, **popen)
    try:
        return child, child.wait(timeout)
    except (subprocess.TimeoutExpired, KeyboardInterrupt) as exc:
        stop_group(child)
        if isinstance(exc, KeyboardInterrupt):
            raise
        return child, None


def exit_with(main: Callable[[], int]) -> NoReturn:
    """Run a load tool's ``main`` as a command: Ctrl-C exits 130, once what it started stopped."""
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("interrupted; everything started was stopped", file=sys.stderr)
        sys.exit(130)
