"""Production mode: the documented environment passes ``check --deploy``; gaps stop the start.

Each check runs ``manage.py`` in a process of its own with an environment
built from nothing, as a deployment would start it. ``MONGODB_URI`` names a
port where nothing listens: no check connects to MongoDB.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.core.exceptions import ImproperlyConfigured
from django.test import Client

from eventsite.env import env_bool, env_int
from tests.helpers import ROOT

# What docs/configuration.md marks "required in production" (EMAIL_HOST: with the default
# SMTP backend). Spelled out here, not read from the settings, so that dropping
# one from the settings fails this test.
REQUIRED_IN_PRODUCTION = [
    "DJANGO_SECRET_KEY",
    "ALLOWED_HOSTS",
    "SITE_URL",
    "DEFAULT_FROM_EMAIL",
    "HEADLESS_JWT_PRIVATE_KEY",
    "MONGODB_URI",
    "EMAIL_HOST",
]


def jwt_key_on_one_line() -> str:
    pem = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return pem.decode().replace("\n", "\\n")  # as a PEM often arrives in a variable


@pytest.fixture(scope="module")
def production_env(tmp_path_factory) -> dict[str, str]:
    """The production environment docs/configuration.md documents."""
    return {
        "DJANGO_ENV": "production",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "events.example.com",
        "SITE_URL": "https://events.example.com",
        "MONGODB_URI": "mongodb://127.0.0.1:1/?replicaSet=rs0&w=majority",
        "HEADLESS_JWT_PRIVATE_KEY": jwt_key_on_one_line(),
        "EMAIL_HOST": "smtp.example.com",
        "EMAIL_PORT": "587",
        "EMAIL_USE_TLS": "1",
        "DEFAULT_FROM_EMAIL": "events@example.com",
        "BEHIND_HTTPS_PROXY": "1",
        "EVENTSITE_VAR_DIR": str(tmp_path_factory.mktemp("production-var")),
    }


def manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={"PATH": os.environ["PATH"], **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def generated(var_dir: Path) -> list[Path]:
    """What the site made in var/, but the default SQLite database's (empty) file.

    Without DATABASE_URL the database is var/db.sqlite3, and `check` opens it:
    Django checks that a JSONField (the task queue's, django-tasks-db) is
    supported on every database, which SQLite answers only once connected.
    """
    return [path for path in var_dir.iterdir() if path.name != "db.sqlite3"]


def test_documented_production_environment_passes_check_deploy(production_env):
    result = manage(production_env, "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout
    var_dir = Path(production_env["EVENTSITE_VAR_DIR"])
    assert not generated(var_dir), "production generates no key and starts no MongoDB"


@pytest.mark.parametrize("variable", REQUIRED_IN_PRODUCTION)
def test_production_refuses_to_start_without(production_env, variable):
    env = {name: value for name, value in production_env.items() if name != variable}
    result = manage(env, "check")
    assert result.returncode != 0
    assert "ImproperlyConfigured: DJANGO_ENV=production" in result.stderr
    problems = [line for line in result.stderr.splitlines() if line.startswith("  - ")]
    assert len(problems) == 1 and problems[0].startswith(f"  - {variable} is not set"), problems


def test_production_names_every_problem_at_once(production_env):
    env = {
        "DJANGO_ENV": "production",
        "EVENTSITE_VAR_DIR": production_env["EVENTSITE_VAR_DIR"],
        "EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend",
        "DJANGO_DEBUG": "1",
    }
    result = manage(env, "check")
    assert result.returncode != 0
    for name in REQUIRED_IN_PRODUCTION:
        if name != "EMAIL_HOST":  # the console backend needs no host; it is refused instead
            assert f"  - {name} is not set" in result.stderr
    assert "  - EMAIL_BACKEND is django.core.mail.backends.console.EmailBackend" in result.stderr
    assert "  - DJANGO_DEBUG is on" in result.stderr
    assert not generated(Path(env["EVENTSITE_VAR_DIR"])), "nothing generated on the way"


def test_a_mistyped_environment_is_refused(tmp_path):
    result = manage({"DJANGO_ENV": "prod", "EVENTSITE_VAR_DIR": str(tmp_path)}, "check")
    assert result.returncode != 0
    assert "DJANGO_ENV must be one of development, production, not 'prod'" in result.stderr


def test_development_needs_no_variable(tmp_path):
    env = {"EVENTSITE_VAR_DIR": str(tmp_path), "MONGODB_URI": "mongodb://127.0.0.1:1"}
    result = manage(env, "check")
    assert result.returncode == 0, result.stderr
    assert {path.name for path in tmp_path.iterdir()} >= {"secret_key", "jwt_private_key.pem"}


def test_health_checks_are_not_redirected_to_https(settings, db):
    """Load balancers probe /healthz over plain HTTP; everything else goes to HTTPS."""
    settings.SECURE_SSL_REDIRECT = True
    client = Client()
    page = client.get("/")
    assert page.status_code == 301 and page["Location"].startswith("https://")
    assert client.get("/healthz").status_code == 200


def test_environment_values_are_parsed_strictly(monkeypatch):
    monkeypatch.setenv("SECURE_COOKIES", "Off")
    assert env_bool("SECURE_COOKIES", True) is False
    monkeypatch.setenv("SECURE_COOKIES", "ture")
    with pytest.raises(ImproperlyConfigured, match="SECURE_COOKIES must be on or off"):
        env_bool("SECURE_COOKIES")
    monkeypatch.setenv("MONGODB_TIMEOUT_MS", "2s")
    with pytest.raises(ImproperlyConfigured, match="MONGODB_TIMEOUT_MS must be a whole number"):
        env_int("MONGODB_TIMEOUT_MS", 2000)


def test_seed_demo_refuses_in_production_and_writes_nothing(production_env):
    result = manage(production_env, "seed_demo")
    assert result.returncode != 0
    assert "seed_demo refuses to run in production" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    assert not (Path(production_env["EVENTSITE_VAR_DIR"]) / "demo-login.txt").exists()


def test_serve_in_production_skips_the_demo(settings, monkeypatch):
    """serve's own steps, gunicorn and the commands it runs left out: which commands it runs."""
    from events.management.commands import serve

    settings.IS_PRODUCTION = True
    ran = []
    monkeypatch.setattr(serve, "call_command", lambda name, **options: ran.append(name))
    monkeypatch.setattr(serve.Command, "_serve", lambda self, mongo: 0)
    serve.Command().handle()
    assert ran == ["migrate", "collectstatic"]
