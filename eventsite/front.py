"""The front before gunicorn: HAProxy, which reads each request whole before handing it on.

``manage.py serve`` (``make run``) starts one on $HOST:$PORT with
``eventsite/haproxy.cfg`` and gunicorn behind it on a Unix socket of its own,
told by the PROXY protocol who each client is. Why a front at all: the
config file says; how a deployment runs the same: docs/deployment.md.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from eventsite import embedded_mongo

CONFIG = Path(__file__).resolve().parent / "haproxy.cfg"


class FrontMissing(RuntimeError):
    pass


@dataclass(frozen=True)
class Front:
    process: subprocess.Popen
    socket_dir: Path

    @property
    def gunicorn_socket(self) -> Path:
        return self.socket_dir / "gunicorn.sock"

    def gunicorn_args(self) -> list[str]:
        """gunicorn's command-line options to serve behind this front, and only there."""
        return ["--bind", f"unix:{self.gunicorn_socket}", "--proxy-protocol", "v1"]

    def stop(self) -> None:
        embedded_mongo.stop(self.process, timeout=15)
        shutil.rmtree(self.socket_dir, ignore_errors=True)


def start(bind: str) -> Front:
    """HAProxy listening on ``bind`` (host:port), in the foreground as our child."""
    haproxy = shutil.which("haproxy")
    if haproxy is None:
        raise FrontMissing("HAProxy is missing: `make run` installs Debian's haproxy package.")
    # A short path of its own: a Unix socket's name must fit in 107 bytes.
    socket_dir = Path(tempfile.mkdtemp(prefix="eventsite-front-"))
    backend = f"unix@{socket_dir / 'gunicorn.sock'}"
    process = subprocess.Popen(
        [haproxy, "-db", "-f", str(CONFIG)],  # -db: stays in the foreground
        env={**os.environ, "FRONT_BIND": bind, "FRONT_BACKEND": backend},
    )
    return Front(process, socket_dir)
