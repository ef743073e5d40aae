"""The Auth0 tenant: the Developer App, the test user, `/authorize`, `/oauth/token`, rotation.

Access tokens are JWT-shaped (three base64url parts) but opaque: the sandbox validates them by
its own table, so `expire_access_tokens` can end them all at once. Refresh tokens belong to a
family; with rotation on, each refresh uses the presented token up and hands out a new one, and
presenting a used token after the reuse leeway revokes the whole family. One lock guards every
table, so two concurrent refreshes with one token get exactly one winner.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import logging
import random
import secrets
import string
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from liveswitch_api import wire

from .config import DEFAULT_REDIRECT_URI, SandboxConfig
from .messages import Request, Response, html, json_response, redirect
from .stats import Stats

log = logging.getLogger(__name__)

CODE_TTL = 300.0
AUTHORIZATION_CODE = "authorization_code"
REFRESH_TOKEN = "refresh_token"
LOOPBACK_REDIRECT_HOSTS = ("127.0.0.1", "localhost")
INVALID_REFRESH = "Unknown or invalid refresh token."
INVALID_CODE = "Invalid authorization code"
NO_STORE = [("Cache-Control", "no-store"), ("Pragma", "no-cache")]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _jwt(payload: dict[str, Any]) -> str:
    header = {"alg": "RS256", "typ": "JWT", "kid": "liveswitch-sandbox"}
    parts = (json.dumps(header).encode(), json.dumps(payload).encode(), secrets.token_bytes(32))
    return ".".join(_b64(part) for part in parts)


def _seeded_text(rng: random.Random, length: int) -> str:
    alphabet = string.ascii_letters + string.digits
    return "".join(rng.choice(alphabet) for _ in range(length))


def scope_string(scopes: frozenset[str]) -> str:
    """Scopes in the contract's order, unknown ones last."""
    known = [scope for scope in wire.ALL_SCOPES if scope in scopes]
    return " ".join(known + sorted(scopes.difference(wire.ALL_SCOPES)))


def oauth_error(
    status: int, error: str, description: str, headers: list[tuple[str, str]] | None = None
) -> Response:
    return json_response(status, {"error": error, "error_description": description}, headers)


def with_params(uri: str, params: dict[str, str | None], fragment: bool) -> str:
    query = urlencode({key: value for key, value in params.items() if value is not None})
    if fragment:
        return f"{uri}#{query}"
    return f"{uri}{'&' if '?' in uri else '?'}{query}"


@dataclass
class AccessToken:
    scopes: frozenset[str]
    client_id: str
    expires_at: float
    serial: int


@dataclass
class Family:
    id: str
    tokens: list[str] = field(default_factory=list)
    revoked: bool = False


@dataclass
class RefreshToken:
    family: Family
    scopes: frozenset[str]
    client_id: str
    used_at: float | None = None


@dataclass(frozen=True)
class AuthCode:
    client_id: str
    redirect_uri: str
    scopes: frozenset[str]
    expires_at: float
    nonce: str | None


class Tenant:
    def __init__(self, config: SandboxConfig, issuer: str, stats: Stats) -> None:
        self.config = config
        self.issuer = issuer
        self.stats = stats
        rng = random.Random(f"liveswitch-sandbox:{config.seed}:tenant")
        self.client_id = config.client_id or _seeded_text(rng, 32)
        self.client_secret = config.client_secret or _seeded_text(rng, 64)
        self.user_sub = "auth0|" + _seeded_text(rng, 24)
        self.user = {
            "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            "email": "sandbox.user@example.com",
            "firstName": "Sandy",
            "lastName": "Box",
            "organizationId": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            "isAdmin": config.admin,
        }
        self.grantable = frozenset(config.scopes)
        self.redirect_uris = config.redirect_uris
        self._lock = threading.Lock()
        self._access: dict[str, AccessToken] = {}
        self._refresh: dict[str, RefreshToken] = {}
        self._codes: dict[str, AuthCode] = {}
        self._serial = 0
        self._expired_through = 0
        self.initial_refresh_token = config.refresh_token or "v1." + _seeded_text(rng, 64)
        family = Family(_seeded_text(rng, 16))
        self._add_refresh(
            self.initial_refresh_token,
            family,
            self.grantable | {wire.OFFLINE_ACCESS},
            self.client_id,
        )

    # redirect URIs -------------------------------------------------------------------------

    @property
    def default_redirect_uri(self) -> str:
        return self.redirect_uris[0] if self.redirect_uris else DEFAULT_REDIRECT_URI

    def redirect_allowed(self, uri: str) -> bool:
        if self.redirect_uris:
            return uri in self.redirect_uris
        try:
            parts = urlsplit(uri)
            port = parts.port
        except ValueError:
            return False
        return (
            parts.scheme == "http"
            and parts.hostname in LOOPBACK_REDIRECT_HOSTS
            and port is not None
            and parts.username is None
            and not parts.fragment
        )

    # tokens --------------------------------------------------------------------------------

    def _add_refresh(
        self, token: str, family: Family, scopes: frozenset[str], client_id: str
    ) -> str:
        """Register a refresh token (call with the lock held, or before serving)."""
        family.tokens.append(token)
        self._refresh[token] = RefreshToken(family, scopes, client_id)
        return token

    def _issue_access(self, scopes: frozenset[str], client_id: str) -> str:
        now = time.time()
        token = _jwt(
            {
                "iss": f"{self.issuer}/",
                "sub": self.user_sub,
                "aud": [wire.DEFAULT_AUDIENCE, f"{self.issuer}/userinfo"],
                "iat": int(now),
                "exp": int(now) + self.config.token_ttl,
                "azp": client_id,
                "scope": scope_string(scopes),
                "jti": secrets.token_hex(8),
            }
        )
        with self._lock:
            self._serial += 1
            self._access[token] = AccessToken(
                scopes, client_id, now + self.config.token_ttl, self._serial
            )
        return token

    def _id_token(self, client_id: str, nonce: str | None) -> str:
        now = int(time.time())
        payload: dict[str, Any] = {
            "iss": f"{self.issuer}/",
            "sub": self.user_sub,
            "aud": client_id,
            "iat": now,
            "exp": now + 36000,
            "email": self.user["email"],
            "email_verified": True,
            "given_name": self.user["firstName"],
            "family_name": self.user["lastName"],
            "name": f"{self.user['firstName']} {self.user['lastName']}",
        }
        if nonce:
            payload["nonce"] = nonce
        return _jwt(payload)

    def authenticate(self, token: str) -> AccessToken | None:
        """The live access token behind a bearer value, or None (unknown or expired)."""
        with self._lock:
            record = self._access.get(token)
            expired_through = self._expired_through
        if record is None or record.serial <= expired_through:
            return None
        if record.expires_at <= time.time():
            return None
        return record

    def expire_access_tokens(self) -> int:
        """End every access token issued so far; returns how many were still counted live."""
        with self._lock:
            ended = self._serial - self._expired_through
            self._expired_through = self._serial
        return ended

    # /authorize ----------------------------------------------------------------------------

    def authorize(self, request: Request) -> Response:
        """Approve the test user at once and redirect, as Auth0's login page would."""
        client_id = request.param("client_id")
        redirect_uri = request.param("redirect_uri") or ""
        if client_id != self.client_id:
            return html(400, "Unknown client", f"Unknown client: {client_id}")
        if not self.redirect_allowed(redirect_uri):
            return html(
                400,
                "Callback URL mismatch",
                f"The provided redirect_uri is not in the list of allowed callback URLs: "
                f"{redirect_uri}",
            )
        response_type = request.param("response_type")
        state = request.param("state")
        fragment = response_type == "token"

        def fail(error: str, description: str) -> Response:
            params = {"error": error, "error_description": description, "state": state}
            return redirect(with_params(redirect_uri, params, fragment))

        if response_type not in ("code", "token"):
            return fail("unsupported_response_type", f"Unsupported response type: {response_type}")
        audience = request.param("audience") or ""
        if audience != wire.DEFAULT_AUDIENCE:
            return fail("access_denied", f"Service not found: {audience}")
        requested = (request.param("scope") or "").split()
        scopes = frozenset(scope for scope in requested if scope in self.grantable)
        nonce = request.param("nonce")
        if response_type == "token":
            if not nonce:
                return fail("invalid_request", "Missing required parameter: nonce")
            params: dict[str, str | None] = {
                "access_token": self._issue_access(scopes, self.client_id),
                "scope": scope_string(scopes) if self.config.scope_in_token_response else None,
                "expires_in": str(self.config.token_ttl),
                "token_type": "Bearer",
                "state": state,
            }
            return redirect(with_params(redirect_uri, params, fragment=True))
        code = secrets.token_urlsafe(24)
        grant = AuthCode(self.client_id, redirect_uri, scopes, time.time() + CODE_TTL, nonce)
        with self._lock:
            self._codes[code] = grant
        return redirect(with_params(redirect_uri, {"code": code, "state": state}, False))

    # /oauth/token --------------------------------------------------------------------------

    def token(self, request: Request) -> Response:
        try:
            params = _token_params(request)
        except ValueError as exc:
            return oauth_error(400, "invalid_request", str(exc))
        grant_type = params.get("grant_type")
        if not grant_type:
            return oauth_error(400, "invalid_request", "Missing required parameter: grant_type")
        if grant_type not in (AUTHORIZATION_CODE, REFRESH_TOKEN):
            return oauth_error(
                400, "unsupported_grant_type", f"Unsupported grant type: {grant_type}"
            )
        client_id = params.get("client_id") or ""
        secret = params.get("client_secret") or ""
        if client_id != self.client_id or not hmac.compare_digest(
            secret.encode(), self.client_secret.encode()
        ):
            return oauth_error(401, "access_denied", "Unauthorized")
        if grant_type == AUTHORIZATION_CODE:
            return self._code_grant(params, client_id)
        return self._refresh_grant(params, client_id)

    def _code_grant(self, params: dict[str, str], client_id: str) -> Response:
        code = params.get("code") or ""
        with self._lock:
            grant = self._codes.pop(code, None)
        reason = None
        if grant is None:
            reason = "unknown or already used"
        elif grant.expires_at <= time.time():
            reason = "expired"
        elif grant.client_id != client_id:
            reason = "issued to another client"
        elif grant.redirect_uri != params.get("redirect_uri"):
            reason = "redirect_uri differs from the one used at /authorize"
        if grant is None or reason is not None:
            log.info("authorization code refused: %s", reason)
            return oauth_error(403, "invalid_grant", INVALID_CODE)
        refresh = None
        if wire.OFFLINE_ACCESS in grant.scopes:
            family = Family(secrets.token_hex(8))
            with self._lock:
                refresh = self._add_refresh(
                    "v1." + secrets.token_urlsafe(48), family, grant.scopes, client_id
                )
        self.stats.grant(AUTHORIZATION_CODE)
        return self._token_response(grant.scopes, client_id, refresh, grant.nonce)

    def _refresh_grant(self, params: dict[str, str], client_id: str) -> Response:
        token = params.get("refresh_token") or ""
        now = time.time()
        new_token = None
        with self._lock:
            record = self._refresh.get(token)
            if record is None or record.family.revoked or record.client_id != client_id:
                record, outcome = None, "dead"
            elif not self.config.rotate_refresh_tokens:
                outcome = "kept"
            elif record.used_at is None:
                outcome = "rotations"
                record.used_at = now
            elif now - record.used_at < self.config.reuse_leeway:
                outcome = "reuse_within_leeway"
            else:
                outcome = "family_revocations"
                record.family.revoked = True
            if record is not None and outcome in ("rotations", "reuse_within_leeway"):
                new_token = self._add_refresh(
                    "v1." + secrets.token_urlsafe(48), record.family, record.scopes, client_id
                )
        if outcome in ("rotations", "reuse_within_leeway", "family_revocations"):
            self.stats.bump(outcome)
        if record is None or outcome == "family_revocations":
            if record is not None:
                log.warning("a used refresh token came back: revoked family %s", record.family.id)
            return oauth_error(403, "invalid_grant", INVALID_REFRESH)
        self.stats.grant(REFRESH_TOKEN)
        return self._token_response(record.scopes, client_id, new_token, None)

    def _token_response(
        self, scopes: frozenset[str], client_id: str, refresh: str | None, nonce: str | None
    ) -> Response:
        body: dict[str, Any] = {"access_token": self._issue_access(scopes, client_id)}
        if refresh is not None:
            body["refresh_token"] = refresh
        if "openid" in scopes:
            body["id_token"] = self._id_token(client_id, nonce)
        if self.config.scope_in_token_response:
            body["scope"] = scope_string(scopes)
        body["expires_in"] = self.config.token_ttl
        body["token_type"] = "Bearer"
        return json_response(200, body, list(NO_STORE))


def _token_params(request: Request) -> dict[str, str]:
    """The token request's parameters from a JSON or form body, plus HTTP Basic client auth."""
    content_type = (request.header("content-type") or "").lower()
    params: dict[str, str] = {}
    if request.body.strip():
        if "json" in content_type:
            try:
                value = json.loads(request.body)
            except ValueError as exc:
                raise ValueError("The request body is not valid JSON.") from exc
            if not isinstance(value, dict):
                raise ValueError("The request body must be a JSON object.")
            params = {str(k): v for k, v in value.items() if isinstance(v, str)}
        else:
            form = parse_qs(request.body.decode("utf-8", "replace"), keep_blank_values=True)
            params = {key: values[0] for key, values in form.items()}
    authorization = request.header("authorization") or ""
    if authorization[:6].lower() == "basic " and "client_id" not in params:
        try:
            decoded = base64.b64decode(authorization[6:].strip()).decode()
        except (binascii.Error, UnicodeDecodeError) as exc:
            raise ValueError("Malformed Basic authorization header.") from exc
        client_id, _, secret = decoded.partition(":")
        params["client_id"], params["client_secret"] = client_id, secret
    return params
