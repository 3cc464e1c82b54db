"""``python -m loadtests.compare``: ``make compare`` (see ``loadtests.compare.command``)."""

from loadtests import stack
from loadtests.compare.command import main

stack.exit_with(main)
