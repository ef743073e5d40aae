"""The Auth0 login URL (shared/liveswitch-api.md section 1), built in this one place.

Code flow: `response_type, client_id, redirect_uri, state, scope, audience`; the token flow adds
`nonce`. Nothing else goes in, and every value is percent-encoded (spaces as %20).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from urllib.parse import quote, urlencode, urlsplit

from liveswitch_api import wire

CODE = "code"
TOKEN = "token"
RESPONSE_TYPES = (CODE, TOKEN)
DEFAULT_SCOPE = " ".join(wire.ALL_SCOPES)


def random_value() -> str:
    """An unguessable `state` or `nonce`: 32 bytes of randomness, URL-safe."""
    return secrets.token_urlsafe(32)


@dataclass(frozen=True)
class AuthorizeUrl:
    url: str
    state: str
    nonce: str | None


def authorize_url(
    *,
    auth_url: str,
    client_id: str,
    redirect_uri: str,
    scope: str = DEFAULT_SCOPE,
    audience: str = wire.DEFAULT_AUDIENCE,
    response_type: str = CODE,
    state: str | None = None,
) -> AuthorizeUrl:
    """The login URL; a missing `state` is made random, and so is the token flow's `nonce`."""
    if response_type not in RESPONSE_TYPES:
        msg = f"response_type: {response_type!r} is not one of {', '.join(RESPONSE_TYPES)}"
        raise ValueError(msg)
    state = state or random_value()
    params = {
        "response_type": response_type,
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "state": state,
        "scope": scope,
        "audience": audience,
    }
    nonce = random_value() if response_type == TOKEN else None
    if nonce is not None:
        params["nonce"] = nonce
    query = urlencode(params, quote_via=quote)
    return AuthorizeUrl(f"{auth_url.rstrip('/')}{wire.AUTHORIZE_PATH}?{query}", state, nonce)


def redirect_uri_error(value: str) -> str | None:
    """Why `value` cannot be a redirect URI (an absolute http(s) URL without a fragment)."""
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError:
        return f"redirect_uri: {value!r} is not a valid URL"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"redirect_uri: {value!r} is not an absolute http(s) URL"
    if parts.fragment:
        return f"redirect_uri: {value!r} must not have a #fragment"
    return None
