"""``make chaos`` (``python -m loadtests.chaos``): a crowd clicks while the site is broken under it.

``command`` runs it, step by step; ``clients`` are the crowd's processes,
``faults`` the kills and the held outage, ``check`` the end check of the
ledger against every answer, ``report`` the summary.
"""
