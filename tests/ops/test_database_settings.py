"""Django's database connections: kept between requests for PostgreSQL, not for SQLite.

The settings are read in a process of their own with the environment given,
as a deployment starts them (nothing connects: only the settings are read).
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.helpers import ROOT

SHOW = (
    "import json; from django.conf import settings; db = settings.DATABASES['default']; "
    "print(json.dumps([db['ENGINE'], db['CONN_MAX_AGE'], db['CONN_HEALTH_CHECKS']]))"
)


def connection_settings(var_dir, **env: str) -> list:
    environment = {
        "PATH": "/usr/bin:/bin",
        "DJANGO_SETTINGS_MODULE": "eventsite.settings",
        "EVENTSITE_VAR_DIR": str(var_dir),  # its generated keys, not the checkout's
        "MONGODB_URI": "mongodb://127.0.0.1:9/",  # read, never reached
        **env,
    }
    done = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {SHOW}"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.splitlines()[-1])


@pytest.mark.parametrize(
    ("env", "kept"),
    [
        ({}, 60),
        ({"DATABASE_CONN_MAX_AGE": "300"}, 300),
        ({"DATABASE_CONN_MAX_AGE": "0"}, 0),
    ],
)
def test_a_postgresql_connection_is_kept_and_checked_before_reuse(tmp_path, env, kept):
    found = connection_settings(
        tmp_path, DATABASE_URL="postgres://site@127.0.0.1:5432/eventsite", **env
    )
    assert found == ["django.db.backends.postgresql", kept, True]


def test_a_sqlite_connection_lasts_one_request(tmp_path):
    found = connection_settings(tmp_path, DATABASE_CONN_MAX_AGE="300")
    assert found == ["django.db.backends.sqlite3", 0, True]
