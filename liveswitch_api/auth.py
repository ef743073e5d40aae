"""OAuth for the LiveSwitch API: Auth0 token requests and the authenticator every request uses.

The SDK's OAuthAuthenticator drops rotated refresh tokens, has no expiry margin and does not
refresh on a 401, so this one is written for Auth0 with rotation on:

- a token is refreshed before it expires (a margin of a tenth of its lifetime, at most 60 s);
- every refresh runs under the token store's file lock, reads the newest refresh token there and
  saves the rotated one before the new access token is used, so no token is presented twice, by
  threads or by processes;
- an access token another process just bought is reused from the store, sparing the endpoint;
- a 401 answer gets one refresh and one resend of the request; a second 401 is returned as is.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import requests
from singer_sdk.authenticators import APIAuthenticatorBase
from singer_sdk.exceptions import RetriableAPIError
from typing_extensions import override

from liveswitch_api import wire
from liveswitch_api.retry import RetryPolicy, describe_request
from liveswitch_api.token_store import StoredTokens, TokenStore, fingerprint

LOGGER = logging.getLogger("liveswitch.auth")

# Refresh this share of a token's lifetime early, capped, so a request never leaves with a token
# about to die, and a 2-second test token is still used.
EXPIRY_MARGIN_SHARE = 0.1
MAX_EXPIRY_MARGIN_SECONDS = 60.0
DEFAULT_EXPIRES_IN = 86400.0

LOGIN_HINT = (
    "get a new one with `liveswitch-auth login` (or `liveswitch-auth exchange`) and put it in "
    "the refresh_token setting"
)


class AuthError(Exception):
    """Authentication failed; the message is safe to print (it never holds a secret)."""


class InvalidGrantError(AuthError):
    """The token endpoint refused the refresh token or code (`invalid_grant`)."""


@dataclass(frozen=True)
class TokenGrant:
    """A 200 answer of the token endpoint."""

    access_token: str = field(repr=False)
    expires_in: float
    refresh_token: str | None = field(default=None, repr=False)
    scope: str | None = None
    id_token: str | None = field(default=None, repr=False)

    @property
    def scopes(self) -> frozenset[str] | None:
        """Granted scopes, or None when the answer did not say (then nothing is ruled out)."""
        return None if self.scope is None else frozenset(self.scope.split())

    def renew_at(self, now: float) -> float:
        margin = min(MAX_EXPIRY_MARGIN_SECONDS, self.expires_in * EXPIRY_MARGIN_SHARE)
        return now + self.expires_in - margin


def token_url(auth_url: str) -> str:
    return auth_url.rstrip("/") + wire.TOKEN_PATH


def request_token(
    *,
    auth_url: str,
    body: Mapping[str, str],
    session: requests.Session,
    retry_policy: RetryPolicy,
    timeout: float,
) -> TokenGrant:
    """POST a grant to the token endpoint; retried on 429/5xx/dropped connections only."""

    def post(request: requests.PreparedRequest) -> requests.Response:
        response = session.send(request, timeout=timeout)
        if wire.is_retriable_status(response.status_code):
            raise RetriableAPIError(f"HTTP {response.status_code}", response)
        return response

    request = requests.Request("POST", token_url(auth_url), json=dict(body)).prepare()
    response = retry_policy.decorate(post, lambda args: describe_request(args[0]))(request)
    try:
        payload: Any = response.json()
    except ValueError:
        payload = None
    if response.status_code != 200 or not isinstance(payload, dict):
        raise _token_error(body.get("grant_type", ""), response.status_code, payload)
    if not isinstance(payload.get("access_token"), str):
        msg = "the token endpoint answered 200 without an access_token"
        raise AuthError(msg)
    return TokenGrant(
        access_token=payload["access_token"],
        expires_in=float(payload.get("expires_in") or DEFAULT_EXPIRES_IN),
        refresh_token=payload.get("refresh_token"),
        scope=payload.get("scope"),
        id_token=payload.get("id_token"),
    )


def _token_error(grant_type: str, status: int, payload: object) -> AuthError:
    error = payload.get("error") if isinstance(payload, dict) else None
    said = wire.error_message(payload) or f"HTTP {status}"
    if error == wire.INVALID_GRANT and grant_type == "refresh_token":
        return InvalidGrantError(
            f"the refresh token was refused ({said}): it is expired, revoked, or was used "
            f"twice (with rotation on, reusing a used token revokes its whole family); {LOGIN_HINT}"
        )
    if error == wire.INVALID_GRANT:
        return InvalidGrantError(
            f"the authorization code was refused ({said}): codes are single-use and expire "
            "within minutes; log in again"
        )
    if status == wire.UNAUTHORIZED or error in ("access_denied", "invalid_client"):
        return AuthError(f"client_id or client_secret was refused by the token endpoint ({said})")
    return AuthError(f"the token endpoint answered HTTP {status}: {said}")


class LiveSwitchAuthenticator(APIAuthenticatorBase):
    """Bearer auth from a rotating refresh token (or a fixed access token). Thread-safe."""

    def __init__(
        self,
        *,
        auth_url: str,
        client_id: str | None = None,
        client_secret: str | None = None,
        refresh_token: str | None = None,
        access_token: str | None = None,
        token_store: TokenStore,
        retry_policy: RetryPolicy | None = None,
        timeout: float = 30.0,
    ) -> None:
        super().__init__()
        if not refresh_token and not access_token:
            msg = "set refresh_token (with client_id and client_secret) or access_token"
            raise AuthError(msg)
        self.auth_url = auth_url
        self._client_id = client_id or ""
        self._client_secret = client_secret or ""
        self._configured_refresh_token = refresh_token
        self._token_store = token_store
        self._retry_policy = retry_policy or RetryPolicy()
        self._timeout = timeout
        self._lock = threading.Lock()
        self._session = requests.Session()
        self._access_token: str | None = access_token if not refresh_token else None
        self._renew_at = math.inf if self._access_token else 0.0
        self._scopes: frozenset[str] | None = None
        self._rejected_token: str | None = None

    @property
    def can_refresh(self) -> bool:
        return bool(self._configured_refresh_token)

    @property
    def store_key(self) -> str:
        return f"{token_url(self.auth_url)}|{self._client_id}"

    def access_token(self) -> str:
        """A token valid for at least the margin, refreshing (once, for all threads) if needed."""
        with self._lock:
            if self._access_token is None or time.time() >= self._renew_at:
                self._refresh()
            assert self._access_token is not None
            return self._access_token

    def granted_scopes(self) -> frozenset[str] | None:
        """Scopes of the current token; None if the token endpoint did not say."""
        self.access_token()
        return self._scopes

    def reject(self, token: str) -> None:
        """The API answered 401 to `token`: forget it (unless a thread already replaced it)."""
        if not self.can_refresh:
            msg = (
                "the API refused the access_token (HTTP 401): it has expired or is invalid. "
                "Access tokens from the token flow cannot be refreshed: get a new one with "
                "`liveswitch-auth url --response-type token`, or use a refresh_token instead"
            )
            raise AuthError(msg)
        with self._lock:
            self._rejected_token = token
            if self._access_token == token:
                self._access_token = None
                self._renew_at = 0.0

    @override
    def authenticate_request(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self.access_token()}"
        hooks = request.hooks.setdefault("response", [])
        if self._resend_after_401 not in hooks:
            hooks.append(self._resend_after_401)
        return request

    def _resend_after_401(self, response: requests.Response, **send_kwargs: Any) -> Any:
        request = response.request
        if response.status_code != wire.UNAUTHORIZED or getattr(request, "_resent", False):
            return response
        sent = (request.headers.get("Authorization") or "").removeprefix("Bearer ")
        LOGGER.info("%s: access token refused (401); refreshing once", describe_request(request))
        self.reject(sent)
        response.content  # noqa: B018 - drain the body so the connection can be reused
        response.close()
        retry = request.copy()
        retry.headers["Authorization"] = f"Bearer {self.access_token()}"
        retry._resent = True  # type: ignore[attr-defined]
        resent = response.connection.send(retry, **send_kwargs)
        resent.history.append(response)
        resent.request = retry
        return resent

    def _refresh(self) -> None:
        """Buy a new access token. Caller holds self._lock."""
        if not self.can_refresh:
            return
        assert self._configured_refresh_token is not None
        origin = fingerprint(self._configured_refresh_token)
        store = self._token_store
        with store.locked():
            now = time.time()
            stored = store.read(self.store_key)
            refresh_token = self._configured_refresh_token
            if stored is not None and stored.origin == origin:
                if (
                    stored.access_token
                    and stored.access_token not in (self._access_token, self._rejected_token)
                    and now < stored.renew_at
                ):
                    # another run refreshed moments ago: use its token, spare the endpoint
                    self._access_token = stored.access_token
                    self._renew_at = stored.renew_at
                    self._scopes = None if stored.scope is None else frozenset(stored.scope.split())
                    return
                refresh_token = stored.refresh_token or refresh_token
            grant = self._grant(refresh_token)
            # save the rotated token before anything else can fail or use the new access token
            store.write(
                self.store_key,
                StoredTokens(
                    refresh_token=grant.refresh_token or refresh_token,
                    origin=origin,
                    access_token=grant.access_token,
                    renew_at=grant.renew_at(now),
                    scope=grant.scope,
                ),
            )
        self._adopt(grant)

    def _grant(self, refresh_token: str) -> TokenGrant:
        return request_token(
            auth_url=self.auth_url,
            body={
                "grant_type": "refresh_token",
                "refresh_token": refresh_token,
                "client_id": self._client_id,
                "client_secret": self._client_secret,
            },
            session=self._session,
            retry_policy=self._retry_policy,
            timeout=self._timeout,
        )

    def _adopt(self, grant: TokenGrant) -> None:
        self._access_token = grant.access_token
        self._renew_at = grant.renew_at(time.time())
        self._scopes = grant.scopes
        LOGGER.info("access token renewed; valid for %.0f s", grant.expires_in)
