"""What ``make bench`` found: the report, its targets, ``results.md``, JSON and chart."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from loadtests import bench_history_report, bench_rush
from loadtests.bench_context import TARGET_GROWTH, TARGET_P99_MS, TARGET_RATIO, target
from loadtests.bench_history_report import HistoryResult
from loadtests.bench_measure import Level, Phase
from loadtests.bench_rush import RushResult


@dataclass
class Report:
    started: str
    settings: dict
    phases: list[Phase] = field(default_factory=list)
    levels: list[Level] = field(default_factory=list)  # RSVP, by attendees going
    joins: list[Level] = field(default_factory=list)  # join the waiting list, by people waiting
    cancels: list[Level] = field(default_factory=list)  # cancel with promotion, by people waiting
    history: HistoryResult | None = None  # (f), unless BENCH_HISTORY=0
    rush: RushResult | None = None  # (g), unless BENCH_RUSH=0
    problems: list[str] = field(default_factory=list)
    profile: dict | None = None
    elapsed_s: float = 0.0

    @property
    def raw(self) -> Phase:
        return self.phases[0]

    @property
    def http(self) -> Phase:
        return self.phases[1]

    def targets(self) -> list[dict]:
        ratio = self.http.throughput / self.raw.throughput
        p99 = self.http.p99
        first, last = self.levels[0], self.levels[-1]
        growth_raw, growth_http = last.raw / first.raw, last.http / first.http
        rows = [
            target(
                "HTTP / raw throughput (b/a)",
                f">= {TARGET_RATIO}",
                ratio,
                ratio >= TARGET_RATIO,
                f"{ratio:.2f}",
                f"short by {TARGET_RATIO - ratio:.2f} ({ratio / TARGET_RATIO:.0%} of the target)",
            ),
            target(
                f"HTTP RSVP p99, {self.http.clients} concurrent users",
                f"< {TARGET_P99_MS:.0f} ms",
                p99,
                p99 < TARGET_P99_MS,
                f"{p99:,.0f} ms",
                f"over by {p99 - TARGET_P99_MS:,.0f} ms ({p99 / TARGET_P99_MS:.1f}x the target)",
            ),
            *(
                target(
                    f"{kind} RSVP cost at {last.people:,} vs {first.people:,} attendees",
                    f"<= {TARGET_GROWTH:.0f}x",
                    growth,
                    growth <= TARGET_GROWTH,
                    f"{growth:,.1f}x",
                    f"{growth / TARGET_GROWTH:,.0f}x over the allowed {TARGET_GROWTH:.0f}x",
                )
                for kind, growth in (("HTTP", growth_http), ("raw", growth_raw))
            ),
        ]
        for part in (self.history, self.rush):
            rows += part.targets() if part is not None else []
        return rows

    def waitlist_rows(self) -> list[tuple[Level, Level, Level]]:
        """(RSVP, join, cancel with promotion) at each level, side by side."""
        return list(zip(self.levels, self.joins, self.cancels, strict=True))

    def as_json(self) -> dict:
        return {
            "started": self.started,
            "elapsed_s": round(self.elapsed_s, 1),
            "settings": self.settings,
            "concurrent": [p.summary() for p in self.phases],
            "ratio_http_over_raw": round(self.http.throughput / self.raw.throughput, 3),
            "cost_by_attendees": [
                {
                    "attendees": lv.people,
                    "raw_median_ms": round(lv.raw, 2),
                    "http_median_ms": round(lv.http, 2),
                    "raw_samples_ms": [round(x, 2) for x in lv.raw_ms],
                    "http_samples_ms": [round(x, 2) for x in lv.http_ms],
                }
                for lv in self.levels
            ],
            "waitlist_cost_by_waiting": [_waitlist_json(*row) for row in self.waitlist_rows()],
            "history": self.history.as_json() if self.history else None,
            "rush": self.rush.as_json() if self.rush else None,
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


def markdown(report: Report) -> str:
    sections = (
        _header,
        _concurrent,
        _rsvp_costs,
        _waitlist_costs,
        _history,
        _rush,
        _targets,
        _problems,
        _profile,
    )
    return "\n".join(line for section in sections for line in section(report)) + "\n"


def _header(report: Report) -> list[str]:
    s = report.settings
    return [
        "# RSVP benchmark",
        "",
        f"Run {report.started}, {report.elapsed_s:.0f} s; {s['cpus']} CPUs, Python {s['python']}, "
        f"Django {s['django']}, pymongo {s['pymongo']}; MongoDB: {s['mongodb']}"
        + (f" (mongoeco {s['mongoeco']}, SQLite engine)" if s["mongodb"] == "embedded" else "")
        + f"; gunicorn {s['gunicorn_workers']} workers x {s['gunicorn_threads']} threads.",
    ]


def _concurrent(report: Report) -> list[str]:
    s = report.settings
    lines = [
        "",
        f"## Concurrent RSVPs: {s['clients']} clients, {s['ops']} distinct users, one event",
        "",
        "The event fills from 0 to the number of users during each run, so later RSVPs cost"
        " more (see the next table). CPU is in busy cores, averaged over the run.",
        "",
        "| | ops | errors | throughput (ops/s) | p50 (ms) | p99 (ms) | max (ms) | CPU |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for p in report.phases:
        cpu = ", ".join(f"{k} {v:.2f}" for k, v in p.cpu_cores.items())
        lines.append(
            f"| {p.name} | {p.ops} | {len(p.errors)} | {p.throughput:,.1f} | {p.p50:,.1f} "
            f"| {p.p99:,.1f} | {max(p.latencies_ms):,.1f} | {cpu} |"
        )
    ratio = report.http.throughput / report.raw.throughput
    return [*lines, "", f"Ratio b/a (HTTP throughput / raw throughput): **{ratio:.2f}**"]


def _rsvp_costs(report: Report) -> list[str]:
    lines = [
        "",
        f"## Cost of one RSVP by attendees already going (median of"
        f" {report.settings['level_samples']}, one at a time)",
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


def _waitlist_costs(report: Report) -> list[str]:
    samples = report.settings["level_samples"]
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


def _history(report: Report) -> list[str]:
    if report.history is None:
        return []
    return bench_history_report.markdown(report.history, report.settings["level_samples"])


def _rush(report: Report) -> list[str]:
    return bench_rush.markdown(report.rush) if report.rush is not None else []


def _targets(report: Report) -> list[str]:
    lines = ["", "## Targets (reported, not asserted)", ""]
    lines += ["| target | goal | measured | verdict |", "|---|---|---:|---|"]
    for t in report.targets():
        verdict = "met" if t["met"] else f"MISSED: {t['miss']}"
        lines.append(f"| {t['target']} | {t['goal']} | {t['measured']} | {verdict} |")
    return lines


def _problems(report: Report) -> list[str]:
    return ["", "## Problems", "", *(f"- {p}" for p in report.problems)] if report.problems else []


def _profile(report: Report) -> list[str]:
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


# --------------------------------------------------------------------------- bench.png

NAMES = ["(a) raw ledger op", "(b) HTTP RSVP"]
COLOURS = ["#2d5bd7", "#1f7a4d"]
RED = "#b42318"


def chart(report: Report, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ((ax1, ax2, ax5), (ax3, ax4, ax6)) = plt.subplots(2, 3, figsize=(19.5, 9.6))
    _throughput_panel(ax1, report)
    _latency_panel(ax2, report)
    _rsvp_cost_panel(ax3, report)
    _waitlist_panel(ax4, report)
    for ax, part, panel in (
        (ax5, report.history, bench_history_report.panel),
        (ax6, report.rush, bench_rush.panel),
    ):
        if part is None:
            ax.set_axis_off()
        else:
            panel(ax, part)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _throughput_panel(ax, report: Report) -> None:
    ax.bar(NAMES, [p.throughput for p in report.phases], color=COLOURS)
    ax.set_title(f"Throughput, {report.raw.clients} concurrent clients")
    ax.set_ylabel("RSVPs per second")
    ax.margins(y=0.12)
    for i, p in enumerate(report.phases):
        ax.annotate(f"{p.throughput:,.1f}", (i, p.throughput), ha="center", va="bottom")


def _latency_panel(ax, report: Report) -> None:
    width = 0.38
    for i, (p, colour, name) in enumerate(zip(report.phases, COLOURS, NAMES, strict=True)):
        xs = [x + (i - 0.5) * width for x in (0, 1)]
        bars = ax.bar(xs, [p.p50, p.p99], width, color=colour, label=name)
        ax.bar_label(bars, fmt="{:,.0f}")
    ax.set_xticks([0, 1], ["p50", "p99"])
    ax.axhline(TARGET_P99_MS, color=RED, linestyle="--", label=f"p99 target {TARGET_P99_MS:.0f} ms")
    ax.set_title("Latency under concurrency")
    ax.set_ylabel("ms")
    ax.legend(fontsize=8)


def _rsvp_cost_panel(ax, report: Report) -> None:
    levels = [lv.people for lv in report.levels]
    ax.loglog(levels, [lv.raw for lv in report.levels], "o-", color=COLOURS[0], label=NAMES[0])
    ax.loglog(levels, [lv.http for lv in report.levels], "o-", color=COLOURS[1], label=NAMES[1])
    ax.axhline(
        TARGET_GROWTH * report.levels[0].http,
        color=RED,
        linestyle="--",
        label=f"target: {TARGET_GROWTH:.0f}x HTTP cost at {levels[0]}",
    )
    ax.set_title("Cost of one RSVP by attendees already going")
    ax.set_xlabel("attendees")
    ax.set_ylabel("ms (median, one at a time)")
    ax.legend(fontsize=8)


def _waitlist_panel(ax, report: Report) -> None:
    levels = [lv.people for lv in report.levels]
    series = (
        ("RSVP", report.levels, "#2d5bd7"),
        ("join", report.joins, "#c2410c"),
        ("cancel + promotion", report.cancels, "#7c3aed"),
    )
    for name, costs, colour in series:
        for kind, style in (("raw", "o-"), ("http", "s--")):
            values = [getattr(lv, kind) for lv in costs]
            ax.loglog(levels, values, style, color=colour, label=f"{name}, {kind}")
    ax.set_title("One op by people already listed (RSVP: going; others: waiting)")
    ax.set_xlabel("people already listed")
    ax.set_ylabel("ms (median, one at a time)")
    ax.legend(fontsize=7, ncol=2)
