"""gunicorn settings, from the environment like the rest.

Threads matter more than processes here: an RSVP spends its time waiting on
MongoDB, and several processes sharing the same ledger are what the
concurrency tests need to prove correct.
"""

import os

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "8"))
backlog = 2048
timeout = 30
graceful_timeout = 10
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None
errorlog = "-"
control_socket_disable = True  # several sites (tests, load tests) may run side by side
