"""The published OpenAPI schema, and the live API checked against it by schemathesis.

schemathesis loads the schema from the live gunicorn's /api/schema/, generates
requests from it with Hypothesis and runs all of its checks on each answer: no
5xx, and status codes, content types, headers and bodies as documented;
schema-violating requests refused. (Its pytest plugin's lazy loader does not
run on pytest 9, so the operations are driven through its Python API, and its
command line runs the phases the API does not offer.)
"""

from __future__ import annotations

import subprocess
import sys

import pytest
import requests
import schemathesis
from django.contrib.auth import get_user_model
from django.core.management import call_command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode

from accounts.tokens import issue_access_token
from events.models import MAX_GUESTS
from tests.helpers import make_event, make_users

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]

EXAMPLES = 15  # per case below: enough to vary every input, and quick (21 cases)
# Every run draws the same examples, so a run's verdict never depends on its
# luck; the seed is changed by hand to explore further, and what a seed found
# becomes a test of its own.
SEED = 20261203

# Every operation of the schema; test_every_operation_is_fuzzed keeps this complete.
OPERATIONS = [
    ("GET", "/api/events/"),
    ("GET", "/api/events/{event_id}/"),
    ("POST", "/api/events/{event_id}/rsvp"),
    ("PATCH", "/api/events/{event_id}/rsvp"),
    ("DELETE", "/api/events/{event_id}/rsvp"),
    ("POST", "/api/events/{event_id}/waitlist"),
    ("DELETE", "/api/events/{event_id}/waitlist"),
    ("POST", "/api/events/{event_id}/requests/approve"),
    ("POST", "/api/events/{event_id}/requests/decline"),
    ("GET", "/api/me/rsvps/"),
]
CASES = (
    # Valid requests, event ids drawn at random (mostly unknown ones).
    [(m, p, GenerationMode.POSITIVE, "random ids") for m, p in OPERATIONS]
    # Valid requests on the open, the full and the past event.
    + [(m, p, GenerationMode.POSITIVE, "real ids") for m, p in OPERATIONS if "{event_id}" in p]
    # Requests that break the schema; GET /api/me/rsvps/ has no input to break.
    + [(m, p, GenerationMode.NEGATIVE, "random ids") for m, p in OPERATIONS if "me/" not in p]
)


@pytest.fixture
def fuzz_events(django_user_model, settings) -> list[int]:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    organiser = django_user_model.objects.create_user("fuzz-org", password="x")
    # Each allows the most guests the schema does: how many an event allows is
    # its own (a 400 the schema cannot say), and test_api_parties tests it.
    guests = {"guests_allowed": MAX_GUESTS}
    return [
        make_event(organiser, 3, title="Open", **guests).pk,
        make_event(organiser, 0, title="Full", **guests).pk,
        make_event(organiser, 0, title="Full, no list", waitlist_limit=0, **guests).pk,
        make_event(organiser, 3, days=-1, title="Past", **guests).pk,
    ]


@pytest.fixture
def api_schema(live_site, fuzz_events):
    """The schema as served, aimed at the live site, calling as a signed-in user."""
    (user,) = make_users(1, prefix="fuzzer")
    schema = schemathesis.openapi.from_url(f"{live_site.url}/api/schema/")
    schema.config.update(
        base_url=live_site.url,
        headers={"Authorization": f"Bearer {issue_access_token(user)}"},
    )
    return schema


def test_every_operation_is_fuzzed(api_schema):
    found = {(op.ok().method.upper(), op.ok().path) for op in api_schema.get_all_operations()}
    assert found == set(OPERATIONS)


@pytest.mark.parametrize(("method", "path", "mode", "ids"), CASES)
def test_api_never_fails_and_answers_as_documented(
    api_schema, fuzz_events, method, path, mode, ids
):
    operation = api_schema[path][method]
    if ids == "real ids":
        cases = st.sampled_from(fuzz_events).flatmap(
            lambda pk: operation.as_strategy(generation_mode=mode, path_parameters={"event_id": pk})
        )
    else:
        cases = operation.as_strategy(generation_mode=mode)

    @given(case=cases)
    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def check(case) -> None:
        case.call_and_validate()

    check()


def test_schemathesis_run_as_a_tester_would_finds_nothing(live_site, fuzz_events, tmp_path):
    """The command line too: its coverage and stateful phases (RSVP, then cancel...).

    As the events' organiser, so that the organisers' calls are reached, not only refused.
    """
    user = get_user_model().objects.get(username="fuzz-org")
    run = subprocess.run(
        [
            *(sys.executable, "-m", "schemathesis.cli", "run"),
            f"{live_site.url}/api/schema/?format=json",
            *("--header", f"Authorization: Bearer {issue_access_token(user)}"),
            *("--max-examples", str(EXAMPLES), "--seed", str(SEED), "--no-color"),
            "--generation-deterministic",
        ],
        cwd=tmp_path,  # its Hypothesis cache stays out of the work tree
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stdout[-4000:]
    assert "No issues found" in run.stdout, run.stdout[-3000:]


def test_schema_generates_without_warnings(tmp_path):
    """drf-spectacular warns when it has to guess; the schema must not be a guess."""
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", tmp_path / "s.yaml")


def test_schema_and_docs_are_published(live_site):
    schema = requests.get(f"{live_site.url}/api/schema/?format=json", timeout=30)
    assert schema.status_code == 200
    spec = schema.json()
    assert spec["openapi"].startswith("3.")
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    rsvp = spec["paths"]["/api/events/{event_id}/rsvp"]
    assert {"201", "400", "401", "403", "404", "409", "415", "503"} <= set(
        rsvp["post"]["responses"]
    )
    assert {"200", "401", "404", "409", "503"} <= set(rsvp["delete"]["responses"])
    docs = requests.get(f"{live_site.url}/api/docs/", timeout=30)
    assert docs.status_code == 200
    assert "swagger-ui" in docs.text and '<script src="/api/docs/?script=">' in docs.text
    # Swagger UI's start-up script is served beside the page, not inline (CSP).
    script = requests.get(f"{live_site.url}/api/docs/?script=", timeout=30)
    assert script.status_code == 200
    assert script.headers["Content-Type"].startswith("application/javascript")
    assert 'url: "/api/schema/"' in script.text


def test_a_long_query_string_gets_the_apis_json_414_from_the_live_server(live_site):
    """Longer than gunicorn's default request line (4,094 bytes), within its most (8,190)."""
    answer = requests.get(f"{live_site.url}/api/events/?q={'x' * 8_100}", timeout=30)
    assert answer.status_code == 414
    assert answer.headers["Content-Type"] == "application/json"
    assert answer.json()["code"] == "uri_too_long"
