"""Audit the ledger against SQL, and with ``--repair`` mend what can be mended safely."""

from __future__ import annotations

import sys

from django.core.management.base import BaseCommand, CommandError

from events import audit, services
from events.audit import Fix, Problem
from events.ledger.audit import users


class Command(BaseCommand):
    help = (
        "Compare SQL events with ledger documents and each event's SQL record of RSVPs "
        "with its ledger; print every problem, one line each, and exit 1 if any is left. "
        "--repair: the ledger wins, nobody is dropped: reopen a missing ledger (empty, "
        "--capacity N), remove orphaned documents (printing who they held), mend duplicates, "
        "people in both lists and free seats while people wait, rewrite the record. Attendees "
        "above capacity, wrong types and seat times out of step are left for a person. "
        "Safe while the site runs."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--event", type=int, action="append", help="only this event id")
        parser.add_argument("--repair", action="store_true", help="repair what is safe to")
        parser.add_argument(
            "--capacity", type=int, help="capacity of a missing ledger that --repair reopens"
        )

    def handle(self, *args, event=None, repair=False, capacity=None, **options) -> None:
        if capacity is not None and capacity < 0:
            raise CommandError("--capacity cannot be negative.")
        survey = self._audit_documents(event)
        problems = survey.problems + self._audit_records(survey.with_ledger)
        left = problems
        if repair:
            left = [p for p in problems if p.fix is Fix.PERSON]
            reopened, not_reopened = self._repair_missing(problems, capacity)
            left += not_reopened
            left += self._repair_lists(problems)
            left += self._repair_orphans(problems)
            self._repair_records(survey.with_ledger + reopened)
        self._summarise(survey.checked, problems, left, repair)

    # --- the audit: reads only -------------------------------------------------------

    def _audit_documents(self, event_ids: list[int] | None) -> audit.Survey:
        survey = audit.document_problems(event_ids)
        for event_id in survey.unknown:
            self.stdout.write(f"event {event_id}: no such event (not in SQL, no ledger document)")
        self._report(survey.problems)
        return survey

    def _audit_records(self, event_ids: list[int]) -> list[Problem]:
        problems = audit.record_problems(event_ids)
        self._report(problems)
        return problems

    def _report(self, problems: list[Problem]) -> None:
        for problem in problems:
            self.stdout.write(str(problem))

    # --- the repairs: each one atomic write per document ---------------------------

    def _repair_missing(self, problems, capacity: int | None) -> tuple[list[int], list[Problem]]:
        """Reopen each missing ledger, empty; the reopened ids, and what is left."""
        reopened, left = [], []
        for problem in (p for p in problems if p.fix is Fix.REOPEN):
            seats = capacity if capacity is not None else self._ask_capacity(problem.event_id)
            if seats is None:
                self._said(problem, "not reopened: needs --capacity N")
                left.append(problem)
            elif services.reopen_ledger(event_id=problem.event_id, capacity=seats):
                self._said(problem, f"repaired: ledger reopened, capacity {seats}, empty")
                reopened.append(problem.event_id)
            else:
                self._said(problem, "not reopened: a ledger document exists by now, kept as it is")
        return reopened, left

    def _ask_capacity(self, event_id: int) -> int | None:
        """On a terminal, ask; elsewhere (cron, CI) there is nobody to ask."""
        if not sys.stdin.isatty():
            return None
        answer = input(f"Capacity for event {event_id} (empty: leave it missing): ").strip()
        return int(answer) if answer.isdigit() else None

    def _repair_lists(self, problems: list[Problem]) -> list[Problem]:
        """One atomic write per event; its problems are left if the write could not mend."""
        left = []
        mend = [p for p in problems if p.fix is Fix.MEND]
        for event_id in dict.fromkeys(p.event_id for p in mend):
            repair = services.mend_ledger(event_id=event_id)
            if repair is not None and repair.repaired:
                self.stdout.write(
                    f"event {event_id}: repaired: lists mended in one write (repeated seats "
                    f"removed: {repair.repeated_seats}; waiting entries removed, repeated or of "
                    f"people seated: {repair.dropped_waiting}; seated from the waiting list: "
                    f"{users(repair.result.promoted)})"
                )
            else:
                self.stdout.write(f"event {event_id}: not mended: the document needs a person")
                left += [p for p in mend if p.event_id == event_id]
        return left

    def _repair_orphans(self, problems: list[Problem]) -> list[Problem]:
        left = []
        for problem in (p for p in problems if p.fix is Fix.REMOVE):
            orphan = services.remove_orphan_ledger(event_id=problem.event_id)
            if orphan is None:
                self._said(problem, "not removed: its SQL event exists by now, or it is gone")
                left.append(problem)
            else:
                held = f"attendees: {users(orphan.attendees)}; waiting: {users(orphan.waitlist)}"
                self._said(problem, f"repaired: orphan removed; it held {held}")
        return left

    def _repair_records(self, event_ids: list[int]) -> None:
        """Last, after the ledger's repairs: every event's record is rewritten from its ledger."""
        for event_id in event_ids:
            repaired = services.repair_record(event_id=event_id)
            if repaired is None or not repaired[0].changes:
                continue
            found, repair = repaired
            self.stdout.write(
                f"event {event_id}: repaired: record rewritten: {audit.changes(found)}"
            )
            if repair.told:  # seats whose confirmation never went: their process died first
                self.stdout.write(
                    f"event {event_id}: confirmation queued for users {users(repair.told)}"
                )

    def _said(self, problem: Problem, outcome: str) -> None:
        self.stdout.write(f"event {problem.event_id}: {outcome}")

    # --- the end ---------------------------------------------------------------------

    def _summarise(self, checked: int, problems, left, repair: bool) -> None:
        events = _many(checked, "event")
        if not problems:
            self.stdout.write(f"{events} checked: no problems.")
            return
        if repair:
            repaired = len(problems) - len(left)
            self.stdout.write(
                f"{events} checked: {_many(len(problems), 'problem')}, {repaired} repaired, "
                f"{len(left)} left for a person."
            )
        else:
            person = sum(p.fix is Fix.PERSON for p in problems)
            self.stdout.write(
                f"{events} checked: {_many(len(problems), 'problem')} "
                f"({len(problems) - person} for --repair, {person} for a person)."
            )
        if left:
            raise CommandError(f"{_many(len(left), 'problem')} left.")


def _many(count: int, thing: str) -> str:
    return f"{count} {thing}{'' if count == 1 else 's'}"
