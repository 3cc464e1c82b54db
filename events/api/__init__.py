"""The JSON API under /api/: thin DRF views over events.services."""
