"""``python -m loadtests.chaos``: ``make chaos`` (see ``loadtests.chaos.command``)."""

from loadtests import stack
from loadtests.chaos.command import main

stack.exit_with(main)
