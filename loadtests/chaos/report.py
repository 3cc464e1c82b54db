"""The chaos run's numbers: answers, faults, the outage's time to a 503, and ``summary.md``.

Pure functions over what the run collected; no Django, no I/O but the file.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from loadtests.chaos.faults import Fault
from loadtests.endcheck import Click, Ledger
from loadtests.measure import percentile

TARGET_P99_MS = 1000.0  # an outage answers its 503 within a second
FAILED = (0, 503)  # statuses a client retries after


@dataclass
class EventCheck:
    """What the end check (``loadtests.chaos.check``) found on one event."""

    event_id: int
    ledger: Ledger
    told: dict[str, Click]  # each user's last definitive answer to RSVP or join
    cancelled: set[str]
    told_going: int = 0  # told a seat and never cancelled: each must be in the ledger
    promoted: int = 0  # told a place on the list, holding a seat at the end
    sql_repaired: int = 0  # rows check_ledger's reconcile had to rewrite
    violations: list[str] = field(default_factory=list)


@dataclass
class OutageStats:
    """What the requests sent while MongoDB was held down were answered."""

    sent: int = 0
    to_503_ms: list[float] = field(default_factory=list)
    from_cache: int = 0  # anonymous reads answered 200 from the seat cache
    timeouts: int = 0
    no_answer: int = 0  # refused or reset
    after_hold: Counter = field(default_factory=Counter)  # other answers, once it was over
    other: Counter = field(default_factory=Counter)  # other answers during the hold: wrong

    def ms(self, q: int | None = None) -> str:
        """The ``q``th percentile of the times to a 503 (the longest when None), or "none"."""
        if not self.to_503_ms:
            return "none"
        return f"{max(self.to_503_ms) if q is None else percentile(self.to_503_ms, q):.0f}"


def outage_stats(clicks: Iterable[Click], hold: Fault) -> OutageStats:
    """Requests sent during the hold, sorted by what they got."""
    end = hold.at + hold.held_s
    stats = OutageStats()
    for click in clicks:
        if not hold.at <= click.at < end:
            continue
        stats.sent += 1
        if click.status == 503:
            stats.to_503_ms.append((click.done - click.at) * 1000)
        elif click.outcome == "timeout":
            stats.timeouts += 1
        elif click.outcome == "no_answer":
            stats.no_answer += 1
        elif click.done >= end:
            stats.after_hold[click.status] += 1
        elif click.action == "read" and click.status == 200:
            stats.from_cache += 1
        else:
            stats.other[click.status] += 1
    return stats


def late_503s(clicks: list[Click], hold: Fault) -> int:
    """503s answered after the hold: processes that had not probed yet, or a swamped ledger."""
    end = hold.at + hold.held_s
    return sum(c.status == 503 and c.done >= end for c in clicks)


def failed_after(clicks: list[Click], faults: list[Fault]) -> list[list[Click]]:
    """Per fault: crowd requests answered 503 or not at all, from it until the next."""
    bounds = [f.at for f in faults] + [float("inf")]
    return [
        [c for c in clicks if c.status in FAILED and start <= c.done < stop]
        for start, stop in itertools.pairwise(bounds)
    ]


def duration(seconds: float | None, missing: str = "not within 30 s") -> str:
    """Seconds as the summary shows them; ``missing`` when they never came."""
    return missing if seconds is None else f"{seconds:.2f} s"


def counts(counter: Counter, none: str = "none") -> str:
    if not counter:
        return none
    return ", ".join(f"{key}: {n}" for key, n in sorted(counter.items(), key=lambda kv: str(kv[0])))


def _status(status: int) -> str:
    return "no answer" if status == 0 else str(status)


def crowd_lines(clicks: list[Click], people: int, actions: Counter, faults, t0) -> list[str]:
    finals = {}
    for click in sorted(clicks, key=lambda c: c.at):
        finals[(click.username, click.action == "cancel")] = click
    retried = Counter(c.username for c in clicks if c.status in FAILED)
    tries = Counter((c.username, c.action) for c in clicks)
    lines = [
        f"- users: {people} ({actions['rsvp']} RSVP, {actions['join']} join the waiting list)",
        f"- requests: {len(clicks)}; answers by status: "
        + counts(Counter(_status(c.status) for c in clicks)),
        "- final answers: " + counts(Counter(c.outcome for c in finals.values())),
        f"- users who had to ask again (503 or no answer): {len(retried)}; "
        f"most requests for one answer: {max(tries.values(), default=0)}",
        "",
        "| # | fault | pid | at (s into the crowd) | replacement in place after "
        "| serving again after | /healthz 200 after "
        "| crowd requests failed after it (503, no answer) | longest of those |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for n, (fault, failed) in enumerate(zip(faults, failed_after(clicks, faults), strict=True), 1):
        replaced, serving = duration(fault.replaced_s), duration(fault.serving_s)
        healthy = duration(fault.healthy_s, fault.health_cut or "not within 30 s")
        longest = max(((c.done - c.at) * 1000 for c in failed), default=0)
        lines.append(
            f"| {n} | {fault.what} | {fault.pid} | {fault.at - t0:.1f} | {replaced} "
            f"| {serving} | {healthy} | {len(failed)} | {longest:.0f} ms |"
        )
    return lines


def outage_lines(clicks: list[Click], hold: Fault, clients: int, timeout_s: float) -> list[str]:
    total = outage_stats(clicks, hold)
    met = "met" if total.to_503_ms and percentile(total.to_503_ms, 99) < TARGET_P99_MS else "missed"
    lines = [
        f"- requests sent during the hold: {total.sent}",
        f"- time to a 503: p50 {total.ms(50)} ms, p99 {total.ms(99)} ms, max {total.ms()} ms "
        f"over {len(total.to_503_ms)} 503s (target p99 < {TARGET_P99_MS / 1000:.0f} s: {met})"
        if total.to_503_ms
        else "- time to a 503: not one 503 (target p99 < 1 s: missed)",
        f"- served from the seat cache (anonymous reads, 200): {total.from_cache}",
        f"- timed out (no answer within {timeout_s:.0f} s): {total.timeouts}; "
        f"refused or reset: {total.no_answer}",
        f"- other answers during the hold: {counts(total.other)}",
        f"- answered only after the hold, not 503: {counts(total.after_hold)}",
        f"- end of the hold → a server on MongoDB's address: {duration(hold.replaced_s)}; "
        f"→ serving again: {duration(hold.serving_s)}; → /healthz 200: "
        f"{duration(hold.healthy_s)} ({late_503s(clicks, hold)} more 503s after the hold)",
        "",
        "| request | sent | 503 | p50 ms | p99 ms | max ms | seat cache | timed out |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    names = {"read": "GET event, anonymous", "standing": "GET event, token", "rsvp": "POST rsvp"}
    for action, name in names.items():
        kind = outage_stats((c for c in clicks if c.action == action), hold)
        lines.append(
            f"| {name} | {kind.sent} | {len(kind.to_503_ms)} | {kind.ms(50)} | {kind.ms(99)} "
            f"| {kind.ms()} | {kind.from_cache} | {kind.timeouts} |"
        )
    return lines


def ledger_lines(checks: dict[str, EventCheck]) -> list[str]:
    lines = []
    for role, check in checks.items():
        led = check.ledger
        lines.append(
            f"- {role} (event {check.event_id}): {led.taken} attendees of {led.capacity} seats, "
            f'{led.waiting} waiting; {check.told_going} users told "going" and not cancelled, '
            f"{check.promoted} promoted from the list, {len(check.cancelled)} cancelled; "
            f"SQL record: {check.sql_repaired} rows repaired by reconcile"
        )
    return lines


def write(path: Path, head: list[str], sections: dict[str, list[str]], violations) -> str:
    """summary.md: the verdict, each section, and every violation by name."""
    verdict = "FAIL" if violations else "PASS"
    lines = [f"# Chaos run: {verdict}", "", *head]
    for title, body in sections.items():
        lines += ["", f"## {title}", "", *body]
    lines += ["", "## Violations", "", *([f"- {v}" for v in violations] or ["none"])]
    text = "\n".join(lines) + "\n"
    path.write_text(text)
    return text
