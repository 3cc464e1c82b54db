"""The load tools start their stack before anything of theirs that needs Django.

``loadtests.stack.running`` sets the environment (``EVENTSITE_VAR_DIR``,
``MONGODB_URI``, ...) and then Django up in the tool's process; a module
imported before that must neither configure Django's settings nor read the
environment at import (``eventsite.env``), nor import a model. Each module a
stack-running process starts from is imported here in a fresh interpreter
without Django, as the tool's own process imports it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.helpers import ROOT

# The modules a process that starts a stack runs (python -m ...).
STACK_STARTERS = (
    "loadtests.run",
    "loadtests.bench.stack_run",
    "loadtests.chaos.command",
    "loadtests.compare.turn",
)
TOO_EARLY = ("eventsite.env", "events.models", "django.contrib.auth.models")

PROBE = """
import importlib, json, sys
from django.conf import settings
importlib.import_module(sys.argv[1])
print(json.dumps({"configured": settings.configured,
                  "loaded": [m for m in sys.argv[2:] if m in sys.modules]}))
"""


@pytest.mark.parametrize("module", STACK_STARTERS)
def test_a_stack_starter_imports_nothing_that_needs_django(module):
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    probe = subprocess.run(
        [sys.executable, "-c", PROBE, module, *TOO_EARLY],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert probe.returncode == 0, probe.stderr[-2000:]
    found = json.loads(probe.stdout)
    assert found == {"configured": False, "loaded": []}, f"{module} imports too early: {found}"
