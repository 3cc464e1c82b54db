"""(f)'s results and their report: the tables.

``loadtests.bench.history`` measures; this module holds what it measured.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field

from loadtests.bench.context import TARGET_HISTORY_GROWTH, target

OPS = {"rsvp": "RSVP", "cancel": "cancel", "my_rsvps": "My RSVPs", "home": "home page"}
FORMS = {"http": "HTTP", "raw": "raw today", "legacy": "raw before"}
RSVPS_PER_PAST_EVENT = 10  # 100,000 past RSVPs at 10,000 past events
MY_EVENTS = 3  # upcoming events the "My RSVPs" user holds a seat at


@dataclass
class HistoryLevel:
    events: int
    past_rsvps: int
    ms: dict[str, dict[str, list[float]]]  # operation -> form -> samples

    def median(self, op: str, form: str) -> float:
        return statistics.median(self.ms[op][form])


@dataclass
class HistoryResult:
    levels: list[HistoryLevel] = field(default_factory=list)

    def growth(self, op: str, form: str) -> float:
        costs = [lv.median(op, form) for lv in self.levels]
        return max(costs) / min(costs)

    def targets(self) -> list[dict]:
        first, last = self.levels[0], self.levels[-1]
        rows = []
        for form in ("http", "raw"):
            for op, name in OPS.items():
                g = self.growth(op, form)
                rows.append(
                    target(
                        f"{FORMS[form]} {name}: largest / smallest cost, {first.events:,} to"
                        f" {last.events:,} past events ({last.past_rsvps:,} past RSVPs)",
                        f"<= {TARGET_HISTORY_GROWTH}x",
                        g,
                        g <= TARGET_HISTORY_GROWTH,
                        f"{g:.2f}x",
                        f"over by {g - TARGET_HISTORY_GROWTH:.2f}x",
                    )
                )
        return rows

    def as_json(self) -> dict:
        return {
            "levels": [
                {
                    "past_events": lv.events,
                    "past_rsvps": lv.past_rsvps,
                    "median_ms": {
                        op: {form: round(lv.median(op, form), 2) for form in FORMS} for op in OPS
                    },
                    "samples_ms": {
                        op: {form: [round(x, 2) for x in xs] for form, xs in forms.items()}
                        for op, forms in lv.ms.items()
                    },
                }
                for lv in self.levels
            ],
            "growth": {op: {form: round(self.growth(op, form), 3) for form in FORMS} for op in OPS},
        }


def markdown(result: HistoryResult, samples: int) -> list[str]:
    lines = [
        "",
        f'## (f) One RSVP, one cancel, one "My RSVPs", the home page by the site\'s history'
        f" (median of {samples}, one at a time)",
        "",
        f"History: past events, each full with {RSVPS_PER_PAST_EVENT} attendees (ledger"
        " document, SQL RSVP records and, for the old form, `rsvp_times` documents), loaded in"
        " bulk. RSVP and cancel: the same user RSVPs then cancels, on an upcoming event of each"
        " form's own; over HTTP through the event page's forms. My RSVPs: a user with seats at"
        f" {MY_EVENTS} upcoming events; over HTTP `GET /api/me/rsvps/` with a Bearer token; raw"
        " today `selectors.upcoming_rsvps` (SQL record, then a ledger key lookup per event); raw"
        ' before `find({"attendees": user})`. Raw before: the ledger as it was before the history'
        " fix"
        " (guard in the filter, an upsert into `rsvp_times` per RSVP), on the same collection."
        " Home page: anonymous `GET /` over HTTP as served (seats through the seat cache); raw"
        " today the page's seats by key lookups (`ledger.seats`, no cache); raw before one"
        " aggregation with `$in` on `_id`.",
        "",
        "### Today's form (ms)",
        "",
    ]
    today = [(op, form) for form in ("http", "raw") for op in OPS]
    lines += _header([f"{FORMS[form].split()[0]} {OPS[op]}" for op, form in today])
    for lv in result.levels:
        costs = " | ".join(f"{lv.median(op, form):,.1f}" for op, form in today)
        lines.append(f"| {lv.events:,} | {lv.past_rsvps:,} | {costs} |")
    growth = " | ".join(f"{result.growth(op, form):.2f}x" for op, form in today)
    lines += [f"| largest / smallest | | {growth} |", ""]
    lines += [
        "### Before and after the history fix, raw ledger (ms; same history, same run)",
        "",
    ]
    pairs = [(op, form) for op in OPS for form in ("legacy", "raw")]
    lines += _header(
        [f"{OPS[op]} {'before' if form == 'legacy' else 'today'}" for op, form in pairs]
    )
    for lv in result.levels:
        costs = " | ".join(f"{lv.median(op, form):,.1f}" for op, form in pairs)
        lines.append(f"| {lv.events:,} | {lv.past_rsvps:,} | {costs} |")
    growth = " | ".join(f"{result.growth(op, form):.2f}x" for op, form in pairs)
    return [*lines, f"| largest / smallest | | {growth} |"]


def _header(columns: list[str]) -> list[str]:
    names = " | ".join(columns)
    return [f"| past events | past RSVPs | {names} |", "|---:|---:|" + "---:|" * len(columns)]
