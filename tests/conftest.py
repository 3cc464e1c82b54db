"""Test fixtures: a real MongoDB over a socket, and a live gunicorn when asked.

With MONGODB_URI set the suite runs against that server; otherwise it starts
the embedded server in a temporary directory, exactly as the site does. Each
session uses its own database name, dropped at the end.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import django
import pytest
from django.conf import settings
from django.core.cache import cache
from django.core.management import call_command
from django.test import override_settings

from events import ledger
from eventsite import embedded_mongo
from loadtests.stack import LIFTED_LIMITS, free_port
from tests.helpers import LiveSite, live_gunicorn, session_database_url


class EmbeddedServer:
    """An embedded MongoDB process that a test can stop and start again."""

    def __init__(self, var_dir: Path) -> None:
        self.var_dir = var_dir
        self.port = free_port()
        self.process: subprocess.Popen | None = None
        self.uri = ""

    def start(self) -> str:
        self.process = embedded_mongo.spawn(self.var_dir, self.port)
        self.uri = embedded_mongo.wait_until_up(self.var_dir, self.process)
        return self.uri

    def stop(self) -> None:
        if self.process is not None:
            embedded_mongo.stop(self.process)
            self.process = None


_session_server: EmbeddedServer | None = None
SEAT_LIMITS = ("SEAT_ACCOUNT_RATE_LIMIT", "SEAT_ADDRESS_RATE_LIMIT")
IMMEDIATE_TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}


def _xdist_controller(config: pytest.Config) -> bool:
    """The process that hands tests to pytest-xdist's workers, running none itself."""
    return bool(getattr(config.option, "numprocesses", None)) and not hasattr(config, "workerinput")


def pytest_configure(config: pytest.Config) -> None:
    global _session_server
    if _xdist_controller(config):
        # Each worker starts its own server (a test may kill it); the static
        # files, which every worker's pages need, are collected once, here.
        django.setup()
        call_command("collectstatic", interactive=False, verbosity=0)
        return
    if not os.environ.get("MONGODB_URI"):
        _session_server = EmbeddedServer(Path(tempfile.mkdtemp(prefix="eventsite-mongo-")))
        os.environ["MONGODB_URI"] = _session_server.start()
    settings.MONGODB_URI = os.environ["MONGODB_URI"]
    settings.MONGODB_DB = os.environ["MONGODB_DB"] = f"eventsite_test_{uuid.uuid4().hex[:8]}"
    # Emails are sent at once, in the test's process, into the locmem outbox;
    # the servers a test starts do the same rather than queue for no worker.
    os.environ["TASKS_BACKEND"] = "immediate"
    override_settings(TASKS=IMMEDIATE_TASKS).enable()
    # Many tests seat many users from 127.0.0.1 at once, here and on the servers
    # they start: the seat limits are raised as the load tools raise them
    # (tests/pages/test_seat_limits.py and tests/api/test_seat_limits.py set their own).
    seat_limits = {name: LIFTED_LIMITS[name] for name in SEAT_LIMITS}
    for name, rate in seat_limits.items():
        os.environ[name] = rate
    override_settings(**seat_limits).enable()


def pytest_unconfigure(config: pytest.Config) -> None:
    from pymongo import MongoClient

    if _xdist_controller(config) or not settings.MONGODB_URI:
        return
    try:
        with MongoClient(settings.MONGODB_URI, serverSelectionTimeoutMS=2000) as client:
            client.drop_database(settings.MONGODB_DB)
    finally:
        if _session_server is not None:
            _session_server.stop()
            shutil.rmtree(_session_server.var_dir, ignore_errors=True)


@pytest.fixture(scope="session", autouse=True)
def static_files() -> None:
    """The manifest storage needs collected files to render any page.

    Under pytest-xdist the controller has collected them for every worker.
    """
    if "PYTEST_XDIST_WORKER" not in os.environ:
        call_command("collectstatic", interactive=False, verbosity=0)


@pytest.fixture(autouse=True)
def empty_cache() -> Iterator[None]:
    """Event ids come back after a rollback: no test sees another's seat counts."""
    cache.clear()
    yield


@pytest.fixture(autouse=True)
def fast_password_hashing(request: pytest.FixtureRequest, settings) -> None:
    """Passwords made in a test are hashed with MD5: the real hasher costs a second a user.

    A test whose users log in to a live server through its login page marks
    itself ``real_password_hashing``: the server checks with the real hasher.
    """
    if request.node.get_closest_marker("real_password_hashing") is None:
        settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def organiser(django_user_model):
    """A plain account that organises the test's events (not staff: the services don't ask)."""
    return django_user_model.objects.create_user("organiser", "org@example.com", "pw")


@pytest.fixture
def spare_mongo(tmp_path: Path) -> Iterator[EmbeddedServer]:
    """A MongoDB of the test's own, which it may stop and restart."""
    server = EmbeddedServer(tmp_path)
    server.start()
    yield server
    server.stop()
    # A later test's server may get the same port, hence the same URI: it must
    # not inherit this one's outage (the breaker) or its pooled connections.
    ledger.disconnect()


@pytest.fixture(scope="session")
def live_site(django_db_setup) -> Iterator[LiveSite]:
    """gunicorn with two worker processes on the test database and ledger."""
    with live_gunicorn(session_database_url()) as site:
        yield site
