"""Settings the tap, the target and the login helper share: declarations, checks, and what they
build (the retry policy, the token store, the authenticator).

Checks run before any request and name the setting at fault, one line each.
"""

from __future__ import annotations

import datetime as dt
import decimal
import ipaddress
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from singer_sdk import typing as th
from singer_sdk.exceptions import ConfigValidationError

from liveswitch_api import wire
from liveswitch_api.auth import LiveSwitchAuthenticator
from liveswitch_api.retry import DEFAULT_MAX_RETRIES, RetryPolicy
from liveswitch_api.token_store import TokenStore, default_token_store_path

DEFAULT_REQUEST_TIMEOUT = 60.0
# the SDK reads config files with parse_float=Decimal, so 60.0 arrives as a Decimal
NUMBERS = (int, float, decimal.Decimal)

AUTH_PROPERTIES: tuple[th.Property, ...] = (
    th.Property(
        "client_id",
        th.StringType,
        title="Client ID",
        description="Client ID of your LiveSwitch Developer App (code-exchange flow).",
    ),
    th.Property(
        "client_secret",
        th.StringType,
        secret=True,
        title="Client Secret",
        description="Client secret of your LiveSwitch Developer App.",
    ),
    th.Property(
        "refresh_token",
        th.StringType,
        secret=True,
        title="Refresh Token",
        description=(
            "Refresh token from `liveswitch-auth login`. Rotated tokens are kept in the token "
            "store; putting a new token here makes it win over the stored one."
        ),
    ),
    th.Property(
        "access_token",
        th.StringType,
        secret=True,
        title="Access Token",
        description=(
            "Alternative to the refresh-token set: an access token from the token flow "
            "(`liveswitch-auth url --response-type token`). It cannot be refreshed; the run "
            "stops with an error when it expires."
        ),
    ),
    th.Property(
        "api_url",
        th.StringType,
        default=wire.DEFAULT_API_URL,
        title="API URL",
        description="Base URL of the LiveSwitch API, `/v1` included. https unless loopback.",
    ),
    th.Property(
        "auth_url",
        th.StringType,
        default=wire.DEFAULT_AUTH_URL,
        title="Auth URL",
        description=(
            "Auth0 tenant URL; the token endpoint is `{auth_url}/oauth/token`. "
            "https unless loopback."
        ),
    ),
    th.Property(
        "audience",
        th.StringType,
        default=wire.DEFAULT_AUDIENCE,
        title="Audience",
        description="OAuth audience of the API (the trailing slash matters).",
    ),
    th.Property(
        "token_store_path",
        th.StringType,
        title="Token Store Path",
        description=(
            "File that keeps the newest rotated refresh token between runs (owner-only, "
            "locked). Default: `$LIVESWITCH_STATE_DIR/tokens.json`, else "
            "`$XDG_STATE_HOME/liveswitch-singer/tokens.json`, else "
            "`~/.local/state/liveswitch-singer/tokens.json`. Give the tap and the target of "
            "one app the same store."
        ),
    ),
)

HTTP_PROPERTIES: tuple[th.Property, ...] = (
    th.Property(
        "request_timeout",
        th.NumberType,
        default=DEFAULT_REQUEST_TIMEOUT,
        title="Request Timeout",
        description="Seconds to wait for one HTTP answer before retrying it.",
    ),
    th.Property(
        "max_retries",
        th.IntegerType,
        default=DEFAULT_MAX_RETRIES,
        title="Max Retries",
        description=(
            "Retries of a request answered 429 or 5xx, with a malformed body, a dropped "
            "connection or a timeout (exponential backoff, `Retry-After` honoured)."
        ),
    ),
    th.Property(
        "max_requests_per_second",
        th.NumberType,
        title="Max Requests Per Second",
        description="Optional cap on the request rate, for users who know their limit.",
    ),
    th.Property(
        "user_agent",
        th.StringType,
        title="User Agent",
        description="User-Agent header sent with every request.",
    ),
)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def url_error(name: str, value: object) -> str | None:
    if not isinstance(value, str) or not value:
        return f"{name}: must be a URL"
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"{name}: {value!r} is not an http(s) URL"
    if parts.scheme != "https" and not is_loopback(parts.hostname):
        return f"{name}: {value!r} must use https (plain http only for a loopback host)"
    return None


def parse_datetime(value: str) -> dt.datetime:
    """ISO-8601 to an aware UTC datetime (naive means UTC); ValueError if malformed."""
    parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.timezone.utc)
    return parsed.astimezone(dt.timezone.utc)


def config_errors(config: Mapping[str, Any]) -> list[str]:
    """Problems a config has that would make every request fail; one line each."""
    errors: list[str] = []
    if not config.get("access_token"):
        missing = [k for k in ("client_id", "client_secret", "refresh_token") if not config.get(k)]
        if missing:
            errors.append(
                f"{', '.join(missing)}: missing; set client_id, client_secret and refresh_token "
                "(from `liveswitch-auth login`), or access_token"
            )
    for name in ("api_url", "auth_url"):
        if name in config and (error := url_error(name, config[name])):
            errors.append(error)
    if (start_date := config.get("start_date")) is not None:
        try:
            parse_datetime(str(start_date))
        except ValueError:
            errors.append(f"start_date: {start_date!r} is not an ISO-8601 date or date-time")
    for name, minimum in (("request_timeout", 0.001), ("max_retries", 0)):
        value = config.get(name)
        numeric = isinstance(value, NUMBERS)
        if value is not None and (not numeric or value < minimum):
            errors.append(f"{name}: must be a number >= {minimum}")
    rate = config.get("max_requests_per_second")
    if rate is not None and (isinstance(rate, bool) or not isinstance(rate, NUMBERS) or rate <= 0):
        errors.append("max_requests_per_second: must be a number > 0 (leave it out for no cap)")
    return errors


def build_retry_policy(config: Mapping[str, Any], logger: Any = None) -> RetryPolicy:
    return RetryPolicy(int(config.get("max_retries", DEFAULT_MAX_RETRIES)), logger=logger)


def build_token_store(config: Mapping[str, Any]) -> TokenStore:
    return TokenStore(config.get("token_store_path") or default_token_store_path())


def build_authenticator(config: Mapping[str, Any], logger: Any = None) -> LiveSwitchAuthenticator:
    """The one authenticator of a run: share it between all streams or sinks."""
    return LiveSwitchAuthenticator(
        auth_url=str(config.get("auth_url") or wire.DEFAULT_AUTH_URL),
        client_id=config.get("client_id"),
        client_secret=config.get("client_secret"),
        refresh_token=config.get("refresh_token"),
        access_token=config.get("access_token"),
        token_store=build_token_store(config),
        retry_policy=build_retry_policy(config, logger),
        timeout=float(config.get("request_timeout") or DEFAULT_REQUEST_TIMEOUT),
    )


def check_config(
    schema_errors: list[str], config: Mapping[str, Any], *, raise_errors: bool
) -> list[str]:
    """The SDK's JSON-schema errors plus config_errors; raises the SDK's error, one line each.

    The tap and the target call this from their `_validate_config`, so a bad config fails
    before any request.
    """
    errors = [*schema_errors, *config_errors(config)]
    if errors and raise_errors:
        raise ConfigValidationError("Config validation failed", errors=errors)
    return errors
