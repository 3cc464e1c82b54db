"""The change page logs each mailing: sent, failed, pending, and whether it is still going."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from django.utils import timezone

from events.models import Mailing
from tests.helpers import logged_in, make_event, make_organiser

pytestmark = pytest.mark.django_db

ROW = re.compile(r"<tr>\s*<td>.*?</tr>", re.DOTALL)
CELL = re.compile(r'<td class="mailing-(\w+)">([^<]*)</td>')


def log_rows(html: str) -> dict[str, dict[str, str]]:
    """Each logged mailing's counts and state, by subject."""
    rows = {}
    for row in ROW.findall(html.split('class="mailing-log"', 1)[1]):
        subject = re.findall(r"<td>([^<]*)</td>", row)[2]
        rows[subject] = {name: value.strip() for name, value in CELL.findall(row)}
    return rows


def test_the_log_shows_sent_failed_and_pending_and_in_progress_only_while_some_are_left():
    alice = make_organiser("log-alice")
    event = make_event(alice, 10)
    now = timezone.now()
    logged = {
        "Going out": dict(sent=3, failed=1),  # 2 pending
        "Some refused": dict(sent=5, failed=1, finished_at=now),
        "Server gone": dict(sent=2, failed=4, finished_at=now),  # given up
    }
    for subject, counts in logged.items():
        Mailing.objects.create(
            event=event,
            event_title=event.title,
            subject=subject,
            body="Hello.",
            recipients=list(range(1, 7)),
            **counts,
        )

    page = logged_in(alice).get(reverse("admin:events_event_change", args=[event.pk]))

    rows = log_rows(page.content.decode())
    finished = f"finished {timezone.localtime(now):%H:%M}"
    assert rows == {
        "Going out": {"sent": "3", "failed": "1", "pending": "2", "state": "in progress"},
        "Some refused": {"sent": "5", "failed": "1", "pending": "0", "state": finished},
        "Server gone": {"sent": "2", "failed": "4", "pending": "0", "state": finished},
    }
