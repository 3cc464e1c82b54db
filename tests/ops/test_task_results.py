"""Finished tasks' rows older than TASK_RESULTS_KEEP_DAYS go; recent and pending ones stay."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from events.services import mailings
from events.task_worker import prune_finished
from tests.mail import DATABASE_TASKS

pytestmark = pytest.mark.django_db


def queued(status: str, *, days_ago: float, finished: bool) -> str:
    """A real task row (a mailing's) as it stands that many days after it was queued."""
    result = mailings.send_mailing.enqueue(mailing_id=0)
    when = timezone.now() - timedelta(days=days_ago)
    DBTaskResult.objects.filter(pk=result.id).update(
        status=status,
        enqueued_at=when,
        run_after=when,
        started_at=when if status != "READY" else None,
        finished_at=when if finished else None,
    )
    return result.id


def test_old_finished_rows_go_and_recent_queued_and_running_ones_stay(settings):
    settings.TASKS = DATABASE_TASKS
    settings.TASK_RESULTS_KEEP_DAYS = 7
    old = [
        queued("SUCCESSFUL", days_ago=8, finished=True),
        queued("FAILED", days_ago=30, finished=True),
    ]
    kept = [
        queued("SUCCESSFUL", days_ago=6, finished=True),
        queued("FAILED", days_ago=1, finished=True),
        queued("READY", days_ago=30, finished=False),  # a retry long due, never run
        queued("RUNNING", days_ago=30, finished=False),  # its worker died: requeued, not lost
    ]

    prune_finished()

    left = {str(pk) for pk in DBTaskResult.objects.values_list("pk", flat=True)}
    assert left == {*kept} and not left & {*old}

    settings.TASK_RESULTS_KEEP_DAYS = 0  # the setting is what decides
    prune_finished()
    statuses = set(DBTaskResult.objects.values_list("status", flat=True))
    assert statuses == {"READY", "RUNNING"}
