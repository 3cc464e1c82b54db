"""Where the embedded MongoDB's time goes during RSVPs: py-spy, for ``make bench``."""

from __future__ import annotations

import re
import shutil
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

from events import ledger
from loadtests.bench.context import log


def profile_server(pid: int, event_id: int, first_id: int, path: Path) -> dict | None:
    """py-spy on the embedded server while it takes 3 RSVPs at 10,000 attendees."""
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    command = [py_spy, "record", "--pid", str(pid), "--rate", "200", "--format", "raw"]
    try:
        spy = subprocess.Popen(
            [*command, "--output", str(path)],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
    except OSError as exc:
        log(f"no profile: cannot run py-spy ({exc})")
        return None
    try:
        for line in spy.stdout:  # wait until it is attached
            if "Sampling process" in line:
                break
        else:
            log(f"no profile: py-spy exited with {spy.wait()}")
            return None
        for i in range(3):
            ledger.take_seat(event_id, first_id + i)
    finally:
        if spy.poll() is None:
            spy.send_signal(signal.SIGINT)
            spy.communicate(timeout=60)
    return summarise_profile(path) if path.exists() else None


def summarise_profile(path: Path) -> dict:
    """Busy samples of the server (a mongoeco frame on the stack), by function."""
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    busy = 0
    for line in path.read_text().splitlines():
        stack_text, _, count_text = line.rpartition(" ")
        frames = [re.sub(r":\d+\)$", ")", f) for f in stack_text.split(";")]
        if not any("mongoeco/" in f for f in frames):
            continue  # an idle thread: the event loop waiting, the parent watch
        count = int(count_text)
        busy += count
        own[frames[-1]] += count
        for frame in set(frames):
            inclusive[frame] += count
    # Frames on (nearly) every busy stack are dispatch, not cost: leave them out.
    telling = [(f, n) for f, n in inclusive.most_common() if n < 0.9 * busy]
    return {
        "busy_samples": busy,
        "inclusive": [(f, round(100 * n / busy, 1)) for f, n in telling[:14]],
        "self": [(f, round(100 * n / busy, 1)) for f, n in own.most_common(10)],
    }
