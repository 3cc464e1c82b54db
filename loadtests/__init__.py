"""Load tools: the benchmark (``make bench``) and what it shares with other runners."""
