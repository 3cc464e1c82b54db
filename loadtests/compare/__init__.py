"""``make compare`` (``python -m loadtests.compare``): every seat strategy against the same crowd.

``command`` runs one ``turn`` per strategy, each in a process of its own with
a fresh site, and ``report`` sets them side by side.
"""
