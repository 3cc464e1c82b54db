"""``make compare``'s report: one row per strategy in results.md, a chart in results.png."""

from __future__ import annotations

import json
import os
from pathlib import Path

from matplotlib.figure import Figure

from loadtests.compare.turn import RAW_CLIENTS, RETRIES
from loadtests.controls import GATHER, GATHER_PATIENCE_S, NAIVE_DELAY_S

NOTES = [
    "- **overbooked**: attendees beyond capacity in the ledger afterwards, as the load "
    "tests' end check (`loadtests.endcheck.judge`) counts them; any is a violation.",
    '- **busy**: users told "busy, try again" even after {retries} asks (optimistic out of '
    "tries; a lock or a transaction refused); **retries**: asks after a busy answer.",
    "- **errors**: answers that are neither confirmed, full nor busy (5xx included).",
    "- Latencies are per user, from the first ask to the last answer, client side, "
    "on one shared 2-core machine: compare them with each other, not with production.",
    "- **raw**: the same race without HTTP ({clients} threads calling the strategy); "
    "**cost at 1,000**: the median of one RSVP on an event already holding 1,000 attendees.",
    "- `naive` waits {delay:.0f} ms between its read and its write on purpose (the control "
    "must overbook reliably); its cost at 1,000 is measured without that pause.",
    "- `unguarded_batch`'s batches wait on purpose until {gather} requests wait or "
    "{patience:.0f} ms have passed (so that they gather); its cost at 1,000 is measured "
    "without that wait.",
]


def _row(r: dict) -> str:
    if "failed" in r:
        return f"| {r['strategy']} | failed: {r['failed']} |" + " |" * 12
    h, w = r["http"], r["raw"]
    return (
        f"| {r['strategy']} | {h['confirmed']} | {h['overbooked']} | {h['errors']} "
        f"| {h['busy']} | {h['retries']} | {h['throughput']:.0f} | {h['p50_ms']:.0f} "
        f"| {h['p95_ms']:.0f} | {h['p99_ms']:.0f} | {w['confirmed']} / {w['overbooked']} "
        f"/ {w['busy']} | {w['throughput']:.0f} | {w['cost_at_1000_ms']:.1f} |"
    )


def markdown(results: list[dict], redis_said: str) -> str:
    first = next((r for r in results if "failed" not in r), {})
    users, capacity = first.get("users"), first.get("capacity")
    lines = [
        "# Seat strategies side by side (`make compare`)",
        "",
        f"{users} users released together on one event of {capacity} seats, over HTTP "
        f"(gunicorn {first.get('workers')} workers of {os.environ.get('GUNICORN_THREADS', '8')} "
        "threads, a fresh embedded MongoDB per strategy); Redis: "
        f"{redis_said}.",
        "",
        "| strategy | confirmed | overbooked | errors | busy | retries | RSVPs/s "
        "| p50 ms | p95 ms | p99 ms | raw confirmed / overbooked / busy | raw ops/s "
        "| cost at 1,000 (raw ms) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        *(_row(r) for r in results),
        "",
        *(
            n.format(
                retries=RETRIES,
                clients=RAW_CLIENTS,
                delay=NAIVE_DELAY_S * 1000,
                gather=GATHER,
                patience=GATHER_PATIENCE_S * 1000,
            )
            for n in NOTES
        ),
        "",
    ]
    for r in results:
        if violations := r.get("http", {}).get("violations"):
            lines.append(f"- end check on `{r['strategy']}`: " + "; ".join(violations))
    return "\n".join(lines) + "\n"


def chart(results: list[dict], path: Path) -> None:
    done = [r for r in results if "failed" not in r]
    names = [r["strategy"] for r in done]
    x = range(len(done))
    fig = Figure(figsize=(12, 8))  # no pyplot: nothing drawn on a screen, nothing to close
    axes = fig.subplots(2, 2)
    (seats, rate), (latency, cost) = axes
    confirmed = [min(r["http"]["confirmed"], r["capacity"]) for r in done]
    seats.bar(x, confirmed, label="within capacity", color="tab:green")
    seats.bar(x, [r["http"]["overbooked"] for r in done], bottom=confirmed,
              label="overbooked", color="tab:red")  # fmt: skip
    seats.bar(x, [r["http"]["busy"] + r["http"]["errors"] for r in done],
              bottom=[c + r["http"]["overbooked"] for c, r in zip(confirmed, done, strict=True)],
              label="busy or error", color="tab:orange")  # fmt: skip
    seats.set_title("Seats over HTTP (capacity dashed)")
    if done:
        seats.axhline(done[0]["capacity"], color="black", linestyle="--")
    seats.legend()
    width = 0.4
    rate.bar([i - width / 2 for i in x], [r["http"]["throughput"] for r in done], width,
             label="over HTTP")  # fmt: skip
    rate.bar([i + width / 2 for i in x], [r["raw"]["throughput"] for r in done], width,
             label="raw (no HTTP)")  # fmt: skip
    rate.set_title("RSVPs answered per second")
    rate.legend()
    for q, offset in ((50, -0.27), (95, 0), (99, 0.27)):
        latency.bar([i + offset for i in x], [r["http"][f"p{q}_ms"] for r in done], 0.27,
                    label=f"p{q}")  # fmt: skip
    latency.set_title("Latency over HTTP (ms, per user)")
    latency.legend()
    cost.bar(x, [r["raw"]["cost_at_1000_ms"] for r in done], color="tab:purple")
    cost.set_title("One RSVP at 1,000 attendees (raw, ms)")
    for ax in (seats, rate, latency, cost):
        ax.set_xticks(list(x), names)
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def write(out: Path, results: list[dict], redis_said: str) -> str:
    text = markdown(results, redis_said)
    (out / "results.md").write_text(text)
    (out / "results.json").write_text(json.dumps(results, indent=2))
    chart(results, out / "results.png")
    return text
