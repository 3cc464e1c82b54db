"""``make compare`` (``python -m loadtests.compare``): every seat strategy against the same crowd.

``command`` runs one ``turn`` per strategy, each in a process of its own with
a fresh site, and ``report`` sets them side by side. A turn imports
``in_process`` (the fixture, the end check, the race without HTTP: Django's
models and the ledger) once its stack is up.
"""
