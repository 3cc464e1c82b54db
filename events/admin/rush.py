"""How an event filled: an SVG chart and the figures, on the event's admin page.

Drawn on the server: the coordinates are computed here from
``events.rush.rush_of`` and written out by a template, with no script and
no style attribute (the admin's CSP allows neither), only SVG presentation
attributes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.template.loader import render_to_string
from django.utils import dateformat
from django.utils.safestring import mark_safe

from events import rush, times
from events.models import Event

WIDTH, HEIGHT = 640, 260
LEFT, RIGHT, TOP, BOTTOM = 48, 16, 16, 64  # the bottom holds the time labels and the legend
X_TICKS = 5
MIN_SPAN = timedelta(minutes=1)

type Point = tuple[float, float]


@dataclass(frozen=True)
class Tick:
    at: float  # x or y
    label: str


@dataclass(frozen=True)
class Chart:
    taken: list[Point]
    waiting: list[Point]
    capacity: list[Point]
    x_ticks: list[Tick]
    y_ticks: list[Tick]
    zone_label: str
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    right: int = WIDTH - RIGHT
    top: int = TOP
    bottom: int = HEIGHT - BOTTOM


def _steps(xs: list[float], ys: list[float]) -> list[Point]:
    """A step line: each value holds until the next sample, then jumps; the last runs on
    to the right edge, so that even one sample draws a line (2n points for n samples)."""
    points = [(xs[0], ys[0])]
    for x, before, now in zip(xs[1:], ys, ys[1:], strict=False):
        points += [(x, before), (x, now)]
    return [*points, (float(WIDTH - RIGHT), ys[-1])]


def _label(moment: datetime, zone: ZoneInfo, span: timedelta) -> str:
    local = moment.astimezone(zone)
    return dateformat.format(local, "H:i" if span <= timedelta(days=1) else "j M H:i")


def chart_of(found: rush.Rush, zone: ZoneInfo) -> Chart:
    """Where each line goes, in the SVG's own units (y grows downwards)."""
    samples = found.samples
    # Two servers' clocks may disagree by a little: time never runs back on the chart.
    moments = [samples[0].at]
    for sample in samples[1:]:
        moments.append(max(sample.at, moments[-1]))
    start, span = moments[0], max(moments[-1] - moments[0], MIN_SPAN)
    top_value = max(max(max(s.capacity, s.taken, s.waiting) for s in samples), 1)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(moment: datetime) -> float:
        return round(LEFT + (moment - start) / span * plot_w, 1)

    def y(value: int) -> float:
        return round(TOP + plot_h - value / top_value * plot_h, 1)

    xs = [x(m) for m in moments]
    x_ticks = [
        Tick(x(at), _label(at, zone, span))
        for at in (start + span * i / (X_TICKS - 1) for i in range(X_TICKS))
    ]
    y_values = sorted({0, top_value // 2, top_value})
    return Chart(
        taken=_steps(xs, [y(s.taken) for s in samples]),
        waiting=_steps(xs, [y(s.waiting) for s in samples]),
        capacity=_steps(xs, [y(s.capacity) for s in samples]),
        x_ticks=x_ticks,
        y_ticks=[Tick(y(v), str(v)) for v in y_values],
        zone_label=f"{zone.key} ({times.abbreviation(moments[-1].astimezone(zone))})",
    )


def _percent(rate: float | None) -> int | None:
    return None if rate is None else round(rate * 100)


def duration(span: timedelta) -> str:
    """ "3 days 4 h", "2 h 5 min", "45 s": the two largest units that matter."""
    seconds = int(span.total_seconds())
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    parts = [(days, " days" if days != 1 else " day"), (hours, " h"), (minutes, " min")]
    parts.append((seconds, " s"))
    shown = [f"{n}{unit}" for n, unit in parts if n][:2]
    return " ".join(shown) or "0 s"


def rush_context(event: Event) -> dict:
    found = rush.rush_of(event) if event.pk else None
    if found is None or not found.samples:
        return {"event": event, "rush": None}
    return {
        "event": event,
        "rush": found,
        "chart": chart_of(found, event.zone),
        "fill_percent": _percent(found.fill_rate),
        "check_in_percent": _percent(found.check_in_rate),
        "time_to_fill": duration(found.time_to_fill) if found.time_to_fill is not None else None,
    }


class RushAdmin:
    def rush_chart(self, event: Event) -> str:
        # The template escapes every value it writes; the result is whole markup.
        html = render_to_string("admin/events/event/_rush_chart.html", rush_context(event))
        return mark_safe(html)

    rush_chart.short_description = "how it filled"
