"""allauth's JWT tokens, with two rules of the site's on top.

- **Every token carries an expiry.** allauth checks ``exp`` when a token has
  one, but PyJWT accepts a token without it: one signed with the real key
  (leaked from a test run, say) would then work for ever. Such a token is
  refused wherever a token is checked (here and in
  ``accounts.authentication``).
- **A reused refresh token ends its chain.** Refresh tokens rotate: each
  refresh spends the one presented and issues the next, and the session the
  tokens name keeps the ids of the ones not yet spent. A spent one presented
  again means two parties hold the chain (one of them stole it), and which
  is the rightful one cannot be told: the session is ended, so every refresh
  token of the chain is refused, and with ``API_STATEFUL_TOKENS`` every
  access token too (checked statelessly, an access token lives out its
  lifetime, ``API_ACCESS_TOKEN_SECONDS``).
"""

from __future__ import annotations

from typing import Any

from allauth.headless.tokens.strategies.jwt import JWTTokenStrategy, internal


def has_expiry(payload: dict[str, Any] | None) -> bool:
    return payload is not None and isinstance(payload.get("exp"), int | float)


class SiteJWTTokenStrategy(JWTTokenStrategy):
    def _get_access_token(self, request):
        payload = super()._get_access_token(request)
        return payload if has_expiry(payload) else None

    def refresh_token(self, refresh_token: str) -> tuple[str, str] | None:
        payload = internal.decode_token(refresh_token, "refresh")
        if not has_expiry(payload):
            return None
        refreshed = super().refresh_token(refresh_token)
        if refreshed is None:
            end_chain_if_spent(payload)
        return refreshed


def end_chain_if_spent(payload: dict[str, Any]) -> None:
    """End the session of a well-signed refresh token it no longer lists: a reuse.

    Its signature and expiry are good and its session still exists, so it was
    issued for that session and has been spent since (logging out deletes the
    session, so a token of a logged-out session never gets here).
    """
    session = internal.get_token_session(payload)
    if session is None:
        return
    if payload["jti"] not in internal.get_refresh_token_state(session):
        session.delete()
