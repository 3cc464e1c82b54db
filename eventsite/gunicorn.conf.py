"""gunicorn settings, from the environment like the rest (through eventsite/env.py).

Threads matter more than processes here: an RSVP spends its time waiting on
MongoDB, and several processes sharing the same ledger are what the
concurrency tests need to prove correct.
"""

from eventsite.env import env_int, env_str

bind = f"{env_str('HOST', '127.0.0.1')}:{env_str('PORT', '8000')}"
workers = env_int("WEB_CONCURRENCY", 2)
worker_class = "gthread"
threads = env_int("GUNICORN_THREADS", 8)
backlog = 2048
timeout = 30
# Request lines up to gunicorn's most: the site answers an address over 8,000
# characters with its own 414 (events/refusals.py), JSON under /api/.
limit_request_line = 8190
graceful_timeout = 10
accesslog = env_str("GUNICORN_ACCESS_LOG") or None
errorlog = "-"
control_socket_disable = True  # several sites (tests, load tests) may run side by side
