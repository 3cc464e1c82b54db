"""How often one client may change seats: RSVP, cancel, join or leave a waiting list.

Counted by django-ratelimit in Django's default cache (settings/databases.py):
Redis when CACHE_URL is set, so every worker and host counts together;
otherwise each process counts alone. ``events/limits.py`` applies them to the
pages, the API and the email links alike.
"""

from eventsite.env import env_rate

# Per account: a person clicks a seat button a few times a minute at most; a
# script looping on RSVP/cancel to grab and hold seats is held to this.
SEAT_ACCOUNT_RATE_LIMIT = env_rate("SEAT_ACCOUNT_RATE_LIMIT", "10/m")
# Per client address: higher, because an office, campus or conference Wi-Fi
# puts many people behind one address, and they all click when an event opens.
# It only has to stop one client spreading its clicks over many accounts.
SEAT_ADDRESS_RATE_LIMIT = env_rate("SEAT_ADDRESS_RATE_LIMIT", "60/m")

# The address is the one allauth's login throttles use, behind the trusted
# proxies (accounts.adapter.AccountAdapter.get_client_ip); IPv6 clients are
# counted by their /64, as one host usually owns one.
RATELIMIT_IP_META_KEY = "events.limits.client_address"
# A cache that cannot count lets the action through (events/limits.py says why).
RATELIMIT_FAIL_OPEN = True
# django_ratelimit is not in INSTALLED_APPS: its only part there is a system
# check that refuses the per-process cache development runs with.
