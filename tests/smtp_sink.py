"""A real SMTP server process for the tests (aiosmtpd): it accepts every message and logs it.

``python -m tests.smtp_sink --port P --log FILE [--hold-after N --release FILE]
[--refuse ADDRESS ...]``
appends one line per accepted message (its recipients) to ``FILE`` and keeps
the message whole beside it, as ``FILE.d/N.eml`` (N from 1, in order). With
``--hold-after N``, once N messages are in, the next one is held at its
``MAIL FROM`` (written as a line ``held``) until the file ``--release``
exists: a test kills its sender there, between two messages, by waiting for
that line, not for a time. Each ``--refuse`` address is answered 550 at its
``RCPT TO``, as a server answers a mailbox it does not have.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
from pathlib import Path

from aiosmtpd.controller import Controller


class Sink:
    def __init__(
        self, log: Path, hold_after: int | None, release: Path | None, refuse: set[str]
    ) -> None:
        self.log, self.hold_after, self.release = log, hold_after, release
        self.refuse = {address.lower() for address in refuse}
        self.accepted = 0

    def _write(self, line: str) -> None:
        with self.log.open("a") as log:
            log.write(line + "\n")

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        if self.hold_after is not None and self.accepted >= self.hold_after:
            self._write("held")
            self.hold_after = None  # only once
            while not self.release.exists():  # the test's signal, polled
                await asyncio.sleep(0.01)
        envelope.mail_from = address
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower() in self.refuse:
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.accepted += 1
        saved = self.log.parent / f"{self.log.name}.d" / f"{self.accepted}.eml"
        saved.write_bytes(envelope.original_content or envelope.content)
        self._write(" ".join(envelope.rcpt_tos))
        return "250 Message accepted"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--log", type=Path, required=True)
    parser.add_argument("--hold-after", type=int)
    parser.add_argument("--release", type=Path)
    parser.add_argument("--refuse", action="append", default=[], metavar="ADDRESS")
    args = parser.parse_args()
    sink = Sink(args.log, args.hold_after, args.release, set(args.refuse))
    controller = Controller(sink, hostname="127.0.0.1", port=args.port)
    (args.log.parent / f"{args.log.name}.d").mkdir(exist_ok=True)
    controller.start()
    (args.log.parent / f"{args.log.name}.up").touch()
    signal.sigwait({signal.SIGTERM, signal.SIGINT})
    controller.stop()


if __name__ == "__main__":
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT})
    main()
