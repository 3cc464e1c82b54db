"""What ``make bench`` found: the ratios, the targets, ``results.md``, ``results.json``, the chart.

It reads what each stack's child wrote (``loadtests.bench.stack_run``) and
the extras' (``loadtests.bench.extras``); every ratio is taken within one
child's run, never across runs, because this machine's figures move with
whatever else runs on it.
"""

from __future__ import annotations

import json
from pathlib import Path

from matplotlib.figure import Figure

from loadtests.bench.context import (
    ALONE_S,
    CAPACITY,
    CLIENTS,
    OTHER_EVENTS,
    PAGES,
    READERS,
    SETTLE_S,
    TARGET_HTTP_VS_PLAIN,
    TARGET_PAGE_SLOWDOWN,
    TARGET_RSVP_P99_MS,
    TARGET_SCALING,
    USERS,
)

PATHS = {
    "plain": f"1. engine ceiling: the plain guarded `findOneAndUpdate`, {CLIENTS} threads",
    "site": f'2. the site\'s single write, `get("atomic").take_seat`, {CLIENTS} threads',
    "http": f"3. HTTP `POST /api/events/<id>/rsvp`, {CLIENTS} clients, {READERS} readers beside",
}


def _ran(stack: dict) -> bool:
    return "not_run" not in stack


def _div(a: float | None, b: float | None) -> float | None:
    return round(a / b, 3) if a is not None and b else None


def _x(value: float | None, digits: int = 2) -> str:
    return "–" if value is None else f"{value:,.{digits}f}x"


def _n(value: float | None, digits: int = 1) -> str:
    return "–" if value is None else f"{value:,.{digits}f}"


def ratios(stack: dict) -> dict[str, float | None]:
    plain, site, http = stack["writes"]["plain"], stack["writes"]["site"], stack["http"]
    found = {
        "http_vs_plain": _div(http["seats_per_s"], plain["seats_per_s"]),
        "http_vs_site": _div(http["seats_per_s"], site["seats_per_s"]),
    }
    for kind in PAGES:
        page = stack["pages"][kind]
        found[f"{kind}_p99_rush_vs_alone"] = _div(page["rush"]["p99_ms"], page["alone"]["p99_ms"])
    found["requests_per_write"] = stack["ledger_writes"]["requests_per_write"]
    return found


RATIO_NAMES = {
    "http_vs_plain": "HTTP seats/s ÷ the engine's plain write",
    "http_vs_site": "HTTP seats/s ÷ the site's single write",
    "event_p99_rush_vs_alone": "event page p99: rush ÷ readers alone",
    "home_p99_rush_vs_alone": "home page p99: rush ÷ readers alone",
    "requests_per_write": "RSVP requests per ledger write in the rush (1.0: one write each)",
}


def _target(name: str, goal: str, value: float | None, met: bool, shown: str) -> dict:
    verdict = "not measured" if value is None else "met" if met else "MISSED"
    return {"target": name, "goal": goal, "value": value, "measured": shown, "verdict": verdict}


def targets(stack: dict) -> list[dict]:
    """The story's targets for one stack: reported, never asserted."""
    found = ratios(stack)
    http_vs_plain = found["http_vs_plain"]
    rows = [
        _target(
            "HTTP RSVPs/s ÷ the plain write",
            f"≥ {TARGET_HTTP_VS_PLAIN:g}x",
            http_vs_plain,
            http_vs_plain is not None and http_vs_plain >= TARGET_HTTP_VS_PLAIN,
            _x(http_vs_plain),
        )
    ]
    for kind, page in PAGES.items():
        slowdown = found[f"{kind}_p99_rush_vs_alone"]
        rows.append(
            _target(
                f"{page} p99 during the rush ÷ alone",
                f"≤ {TARGET_PAGE_SLOWDOWN:g}x",
                slowdown,
                slowdown is not None and slowdown <= TARGET_PAGE_SLOWDOWN,
                _x(slowdown),
            )
        )
    p99 = stack["http"]["p99_ms"]
    rows.append(
        _target(
            f"RSVP p99 at {CLIENTS} clients",
            f"< {TARGET_RSVP_P99_MS:,.0f} ms",
            p99,
            p99 is not None and p99 < TARGET_RSVP_P99_MS,
            f"{_n(p99, 0)} ms",
        )
    )
    for op, name in (("rsvp", "one RSVP"), ("home", "one home page")):
        ratio = stack.get("scaling", {}).get("ratio", {}).get(op)
        rows.append(
            _target(
                f"{name} with {OTHER_EVENTS:,} other events ÷ with none",
                f"≤ {TARGET_SCALING:g}x",
                ratio,
                ratio is not None and ratio <= TARGET_SCALING,
                _x(ratio),
            )
        )
    return rows


def problems_of(stacks: list[dict], extras: dict | None) -> list[str]:
    """What makes the run exit 1: a failed check, a part that died, anything left behind."""
    found = [f"[{s['stack']}] {p}" for s in stacks for p in s.get("problems", [])]
    found += [
        f"[{s['stack']}] did not run to the end: {s['not_run']}" for s in stacks if s.get("failed")
    ]
    found += [
        f"[{s['stack']}] left behind: {n['note']}"
        for s in stacks
        for n in s.get("cleanup", [])
        if not n["clean"]
    ]
    if extras is not None:
        if "not_run" in extras:
            found.append(f"[extras] did not run to the end: {extras['not_run']}")
        found += [f"[extras] {p}" for p in extras.get("problems", [])]
    return found


# --------------------------------------------------------------------------- results.md


def _header(started: str, elapsed: float, stacks: list[dict]) -> list[str]:
    ran = [s for s in stacks if _ran(s)]
    s = ran[0]["settings"] if ran else {}
    versions = (
        f"{s.get('cpus')} CPUs, Python {s.get('python')}, Django {s.get('django')},"
        f" pymongo {s.get('pymongo')}, mongoeco {s.get('mongoeco')}; gunicorn"
        f" {s.get('gunicorn_workers')} workers x {s.get('gunicorn_threads')} threads"
        if s
        else "no stack ran"
    )
    return [
        "# `make bench`: the rush, in one run",
        "",
        f"Run {started}, {elapsed:,.0f} s; {versions}.",
        "",
        f"**The shape, the same on every path**: {CLIENTS} clients released together,"
        f" {USERS} distinct users dealt round robin to them (each client asks for its users"
        f" one after another), one event of {CAPACITY} seats: it fills, then refuses the rest."
        f" **Seats/s**: {CAPACITY} ÷ the time from the release to the answer that confirmed"
        " the last seat (the rate the event fills; the ratios use it). **Answers/s**: every"
        " answer ÷ the time to the last. p50/p99/max over every answer. **Pages**:"
        f" {READERS} anonymous readers load the event page and the home page in turn, alone"
        f" for {ALONE_S:g} s (the first {SETTLE_S:g} s not counted), then during the HTTP"
        " rush; a load counts for the phase it began in (alone: and finished in).",
    ]


def _stack_section(stack: dict) -> list[str]:
    lines = ["", f"## {stack['label']} (`{stack['stack']}` stack)", ""]
    if not _ran(stack):
        return [*lines, f"**Not run**: {stack['not_run']}", *_cleanup(stack)]
    s = stack["settings"]
    lines += [
        f"SQL: {s['sql']}; cache: {s['cache']}; MongoDB: {s['mongodb']}.",
        "",
        "| seat requests | seats/s | answers/s | p50 (ms) | p99 (ms) | max (ms)"
        " | confirmed / full / errors |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    crowds = {**stack["writes"], "http": stack["http"]}
    for key, name in PATHS.items():
        c = crowds[key]
        lines.append(
            f"| {name} | {_n(c['seats_per_s'])} | {_n(c['answers_per_s'])} | {_n(c['p50_ms'], 0)}"
            f" | {_n(c['p99_ms'], 0)} | {_n(c['max_ms'], 0)}"
            f" | {c['confirmed']} / {c['full']} / {c['errors']} |"
        )
    lines += [
        "",
        f"| page ({READERS} readers) | alone p50 (ms) | alone p99 (ms) | alone pages/s"
        " | rush p50 (ms) | rush p99 (ms) | rush pages/s | p99 rush ÷ alone |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    found = ratios(stack)
    for kind, name in PAGES.items():
        alone, rush = stack["pages"][kind]["alone"], stack["pages"][kind]["rush"]
        lines.append(
            f"| {name} | {_n(alone['p50_ms'], 0)} | {_n(alone['p99_ms'], 0)}"
            f" | {_n(alone['pages_per_s'])} | {_n(rush['p50_ms'], 0)} | {_n(rush['p99_ms'], 0)}"
            f" | {_n(rush['pages_per_s'])} | {_x(found[f'{kind}_p99_rush_vs_alone'])} |"
        )
    writes = stack["ledger_writes"]
    cpu = ", ".join(f"{k} {v:.2f}" for k, v in stack["cpu_cores"].items())
    lines += [
        "",
        f"Ledger writes during the rush: the event's `version` rose by {writes['delta_version']}"
        f" for {writes['requests']} RSVP requests: **{_n(writes['requests_per_write'], 2)}"
        " requests per write**.",
        f"CPU during the rush, in busy cores: {cpu}. This child ran {stack['elapsed_s']:.0f} s.",
    ]
    return lines + _cleanup(stack)


def _cleanup(stack: dict) -> list[str]:
    notes = [n["note"] for n in stack.get("cleanup") or []]
    return ["", "Cleanup: " + "; ".join(notes) + "."] if notes else []


def _ratios_section(stacks: list[dict]) -> list[str]:
    ran = [s for s in stacks if _ran(s)]
    if not ran:
        return []
    lines = [
        "",
        "## Ratios (each within its own stack's run)",
        "",
        "| ratio | " + " | ".join(s["label"] for s in ran) + " |",
        "|---|" + "---:|" * len(ran),
    ]
    found = [ratios(s) for s in ran]
    for key, name in RATIO_NAMES.items():
        shown = _n if key == "requests_per_write" else _x  # a count per write, not a factor
        lines.append(f"| {name} | " + " | ".join(shown(r[key], 2) for r in found) + " |")
    return lines


def _scaling_section(stacks: list[dict]) -> list[str]:
    stack = next((s for s in stacks if _ran(s) and s.get("scaling")), None)
    if stack is None:
        return []
    sc = stack["scaling"]
    lines = [
        "",
        f"## Scaling with other events ({stack['label']})",
        "",
        f"One at a time, median of {sc['samples']}; the other events are {sc['kind']}, in SQL"
        " and in the ledger, loaded in bulk. The home page lists the same 20 upcoming events"
        " at both levels, its seats read from the ledger each time (rounds paced past the"
        " seat cache).",
        "",
        f"| one at a time | no other events (ms) | {sc['other_events']:,} other events (ms)"
        " | ratio | target |",
        "|---|---:|---:|---:|---|",
    ]
    for op, name in (("rsvp", "RSVP (`POST /api/events/<id>/rsvp`)"), ("home", "home page")):
        ratio = sc["ratio"][op]
        verdict = "met" if ratio <= TARGET_SCALING else "MISSED"
        lines.append(
            f"| {name} | {sc['none'][f'{op}_ms']:,.1f} | {sc['many'][f'{op}_ms']:,.1f}"
            f" | {_x(ratio)} | ≤ {TARGET_SCALING:g}x: {verdict} |"
        )
    return lines


def _targets_section(stacks: list[dict]) -> list[str]:
    ran = [s for s in stacks if _ran(s)]
    if not ran:
        return []
    rows = [targets(s) for s in ran]
    lines = [
        "",
        "## Targets (reported, never asserted: missing one does not fail the run)",
        "",
        "| target | goal | " + " | ".join(s["label"] for s in ran) + " |",
        "|---|---|" + "---|" * len(ran),
    ]
    for i, first in enumerate(rows[0]):
        cells = [
            "–" if r[i]["value"] is None else f"{r[i]['measured']}: {r[i]['verdict']}" for r in rows
        ]
        lines.append(f"| {first['target']} | {first['goal']} | " + " | ".join(cells) + " |")
    return lines


def _correctness_section(stacks: list[dict], problems: list[str]) -> list[str]:
    lines = ["", "## Correctness", ""]
    for s in stacks:
        if _ran(s) and not s.get("problems"):
            lines.append(
                f"- {s['label']}: items 1-3 each seated exactly the users told 'confirmed',"
                f" once each, within {CAPACITY} seats, and turned nobody away while a seat was"
                " free."
            )
    if not any(_ran(s) for s in stacks):
        lines.append("- no stack ran: nothing to check.")
    return lines + [f"- PROBLEM {p}" for p in problems]


def markdown(started: str, elapsed: float, stacks: list[dict], extras: dict | None) -> str:
    problems = problems_of(stacks, extras)
    lines = _header(started, elapsed, stacks)
    for stack in stacks:
        lines += _stack_section(stack)
    lines += _ratios_section(stacks) + _scaling_section(stacks) + _targets_section(stacks)
    lines += _correctness_section(stacks, problems)
    if extras is not None:
        lines += extras.get("markdown") or ["", f"## Extras: not run ({extras.get('not_run')})"]
    return "\n".join(lines) + "\n"


def write(
    out: Path, started: str, elapsed: float, stacks: list[dict], extras: dict | None
) -> tuple[str, list[str]]:
    """``results.md``, ``results.json`` and ``bench.png``; the text and the run's problems."""
    problems = problems_of(stacks, extras)
    text = markdown(started, elapsed, stacks, extras)
    (out / "results.md").write_text(text)
    for stack in stacks:
        if _ran(stack):
            stack["ratios"], stack["targets"] = ratios(stack), targets(stack)
    document = {
        "started": started,
        "elapsed_s": round(elapsed, 1),
        "shape": {"clients": CLIENTS, "users": USERS, "capacity": CAPACITY, "readers": READERS},
        "stacks": stacks,
        "extras": extras,
        "problems": problems,
    }
    (out / "results.json").write_text(json.dumps(document, indent=2) + "\n")
    chart([s for s in stacks if _ran(s)], out / "bench.png")
    return text, problems


# --------------------------------------------------------------------------- bench.png


def chart(stacks: list[dict], path: Path) -> None:
    """Seats/s of the three paths, and the pages' p99 alone and in the rush, per stack."""
    if not stacks:
        return
    fig = Figure(figsize=(13, 5))  # no pyplot: nothing drawn on a screen, nothing to close
    seats, pages = fig.subplots(1, 2)
    width = 0.8 / len(stacks)
    for i, stack in enumerate(stacks):
        rates = [*(stack["writes"][k]["seats_per_s"] for k in ("plain", "site"))]
        rates.append(stack["http"]["seats_per_s"])
        xs = [x + (i - (len(stacks) - 1) / 2) * width for x in range(3)]
        bars = seats.bar(xs, [r or 0 for r in rates], width, label=stack["label"])
        seats.bar_label(bars, fmt="{:,.0f}", fontsize=8)
        p99 = [
            stack["pages"][k][phase]["p99_ms"] or 0 for k in PAGES for phase in ("alone", "rush")
        ]
        xs = [x + (i - (len(stacks) - 1) / 2) * width for x in range(4)]
        bars = pages.bar(xs, p99, width, label=stack["label"])
        pages.bar_label(bars, fmt="{:,.0f}", fontsize=8)
    seats.set_xticks(range(3), ["plain write", "site's write", "HTTP"])
    seats.set_title(f"Seats/s, {CLIENTS} clients, {CAPACITY} seats")
    seats.set_ylabel("seats per second")
    pages.set_xticks(range(4), [f"{PAGES[k]}\n{p}" for k in PAGES for p in ("alone", "rush")])
    pages.set_yscale("log")
    pages.set_title(f"Page p99, {READERS} readers (log scale)")
    pages.set_ylabel("ms")
    for ax in (seats, pages):
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
