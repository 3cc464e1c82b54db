"""``python -m loadtests.bench``: ``make bench`` (see the package's docstring)."""

from loadtests import stack
from loadtests.bench.command import main

stack.exit_with(main)
