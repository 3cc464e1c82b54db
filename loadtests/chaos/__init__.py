"""``make chaos`` (``python -m loadtests.chaos``): a crowd clicks while the site is broken under it.

``command`` runs it, step by step; ``clients`` are the crowd's processes,
``faults`` the kills and the held outage, ``report`` the summary. Once the
stack is up, ``command`` imports the two that use Django's models:
``fixture`` (the users and events made first) and ``check`` (the end check
of the ledger against every answer).
"""
