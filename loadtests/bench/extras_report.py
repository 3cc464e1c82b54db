"""The extras' report (``loadtests.bench.extras``): (c)-(e)'s tables, (f)'s, the profile, targets.

Rendered in the extras' own process, where their results are objects; the
parent (``loadtests.bench.report``) appends the markdown to ``results.md``
and the JSON to ``results.json``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from loadtests.bench import history_report
from loadtests.bench.context import LEVEL_SAMPLES, TARGET_GROWTH, target
from loadtests.bench.history_report import HistoryResult
from loadtests.measure import Level


@dataclass
class Extras:
    levels: list[Level] = field(default_factory=list)  # RSVP, by attendees going
    joins: list[Level] = field(default_factory=list)  # join the waiting list, by people waiting
    cancels: list[Level] = field(default_factory=list)  # cancel with promotion, by people waiting
    history: HistoryResult | None = None  # (f), with BENCH_HISTORY=1
    problems: list[str] = field(default_factory=list)
    profile: dict | None = None

    def targets(self) -> list[dict]:
        rows = []
        if self.levels:
            first, last = self.levels[0], self.levels[-1]
            rows += [
                target(
                    f"(c) {kind} RSVP cost at {last.people:,} vs {first.people:,} attendees",
                    f"<= {TARGET_GROWTH:.0f}x",
                    growth,
                    growth <= TARGET_GROWTH,
                    f"{growth:,.1f}x",
                    f"{growth / TARGET_GROWTH:,.0f}x over the allowed {TARGET_GROWTH:.0f}x",
                )
                for kind, growth in (
                    ("HTTP", last.http / first.http),
                    ("raw", last.raw / first.raw),
                )
            ]
        return rows + (self.history.targets() if self.history is not None else [])

    def waitlist_rows(self) -> list[tuple[Level, Level, Level]]:
        """(RSVP, join, cancel with promotion) at each level, side by side."""
        return list(zip(self.levels, self.joins, self.cancels, strict=True))

    def as_json(self) -> dict:
        return {
            "cost_by_attendees": [{"attendees": lv.people, **_costs(lv)} for lv in self.levels],
            "waitlist_cost_by_waiting": [_waitlist_json(*row) for row in self.waitlist_rows()],
            "history": self.history.as_json() if self.history else None,
            "targets": self.targets(),
            "problems": self.problems,
            "profile": self.profile,
        }


def _costs(lv: Level) -> dict:
    return {
        "raw_median_ms": round(lv.raw, 2),
        "http_median_ms": round(lv.http, 2),
        "raw_samples_ms": [round(x, 2) for x in lv.raw_ms],
        "http_samples_ms": [round(x, 2) for x in lv.http_ms],
    }


def _waitlist_json(rsvp: Level, join: Level, cancel: Level) -> dict:
    return {
        "people": join.people,
        "rsvp": {"raw_median_ms": round(rsvp.raw, 2), "http_median_ms": round(rsvp.http, 2)},
        "join": _costs(join),
        "cancel_with_promotion": _costs(cancel),
        "ratio_to_rsvp": {
            "join_raw": round(join.raw / rsvp.raw, 3),
            "join_http": round(join.http / rsvp.http, 3),
            "cancel_with_promotion_raw": round(cancel.raw / rsvp.raw, 3),
            "cancel_with_promotion_http": round(cancel.http / rsvp.http, 3),
        },
    }


# --------------------------------------------------------------------------- results.md


def markdown(report: Extras) -> list[str]:
    sections = (_rsvp_costs, _waitlist_costs, _history, _targets, _profile)
    lines = ["", "# Extras (opt-in: BENCH_LEVELS=1, BENCH_HISTORY=1), on a stack of their own"]
    return lines + [line for section in sections for line in section(report)]


def _rsvp_costs(report: Extras) -> list[str]:
    if not report.levels:
        return []
    lines = [
        "",
        f"## Cost of one RSVP by attendees already going (median of"
        f" {LEVEL_SAMPLES}, one at a time)",
        "",
        "| attendees | raw ledger op (ms) | HTTP RSVP (ms) | raw vs 10 | HTTP vs 10 |",
        "|---:|---:|---:|---:|---:|",
    ]
    base = report.levels[0]
    for lv in report.levels:
        lines.append(
            f"| {lv.people:,} | {lv.raw:,.1f} | {lv.http:,.1f} | {lv.raw / base.raw:,.1f}x "
            f"| {lv.http / base.http:,.1f}x |"
        )
    return lines


def _waitlist_costs(report: Extras) -> list[str]:
    if not report.levels:
        return []
    samples = LEVEL_SAMPLES
    lines = [
        "",
        f"## Waiting list: join and cancel-with-promotion beside a plain RSVP (median of"
        f" {samples}, one at a time)",
        "",
        f"N is the number of people already listed: for the RSVP, attendees going (as above);"
        f" for join and cancel, people on the waiting list of a full event of {samples} seats."
        " Join: a new person joins the end of the list. Cancel with promotion: a seat holder"
        " cancels and the head of the list takes the seat in the same write; over HTTP the"
        " request also sends the promoted person's email (immediate task backend).",
    ]
    for kind, name in (("raw", "raw ledger op (pymongo)"), ("http", "HTTP, the event page's form")):
        lines += [
            "",
            f"### {name}",
            "",
            "| N | RSVP (ms) | join (ms) | join / RSVP | cancel with promotion (ms)"
            " | cancel with promotion / RSVP |",
            "|---:|---:|---:|---:|---:|---:|",
        ]
        for rsvp, join, cancel in report.waitlist_rows():
            r, j, c = (getattr(lv, kind) for lv in (rsvp, join, cancel))
            ratios = f"{j / r:.2f}x | {c:,.1f} | {c / r:.2f}x"
            lines.append(f"| {join.people:,} | {r:,.1f} | {j:,.1f} | {ratios} |")
    return lines


def _history(report: Extras) -> list[str]:
    if report.history is None:
        return []
    return history_report.markdown(report.history, LEVEL_SAMPLES)


def _targets(report: Extras) -> list[str]:
    lines = ["", "## The extras' targets (reported, not asserted)", ""]
    lines += ["| target | goal | measured | verdict |", "|---|---|---:|---|"]
    for t in report.targets():
        verdict = "met" if t["met"] else f"MISSED: {t['miss']}"
        lines.append(f"| {t['target']} | {t['goal']} | {t['measured']} | {verdict} |")
    return lines


def _profile(report: Extras) -> list[str]:
    prof = report.profile
    if not prof:
        return []
    return [
        "",
        "## Where the embedded server's time goes at 10,000 attendees",
        "",
        f"py-spy, {prof['busy_samples']} busy samples of the server process during 3"
        " RSVPs (raw stacks: `profile-mongodb-10000.txt`).",
        "",
        "| % of busy samples (inclusive) | function |",
        "|---:|---|",
        *(f"| {pct} | `{frame}` |" for frame, pct in prof["inclusive"]),
        "",
        "| % of busy samples (self) | function |",
        "|---:|---|",
        *(f"| {pct} | `{frame}` |" for frame, pct in prof["self"]),
    ]
