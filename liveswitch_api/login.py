"""`liveswitch-auth`: from a LiveSwitch Developer App to a stored refresh token, and a check.

    url       print the login URL
    login     print the URL, catch the redirect on a loopback port, exchange the code
    exchange  exchange a code copied from a browser on another machine
    check     refresh as the tap does, call GET /me, say which streams will work

Only the login URL and (without --write-config) the refresh token go to stdout; everything else
goes to stderr, and no secret ever does. Every failure ends with one line and exit status 1,
before anything is written.
"""

from __future__ import annotations

import argparse
import logging
import sys
import webbrowser
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import requests
from singer_sdk.exceptions import FatalAPIError

from liveswitch_api import wire
from liveswitch_api.auth import AuthError, TokenGrant, request_token
from liveswitch_api.login_check import print_report, run_check
from liveswitch_api.login_config import ConfigFileError, read_config, update_config
from liveswitch_api.login_redirect import RedirectCatcher
from liveswitch_api.login_scopes import missing_scope_warnings, scope_text
from liveswitch_api.login_url import (
    CODE,
    DEFAULT_SCOPE,
    RESPONSE_TYPES,
    authorize_url,
    redirect_uri_error,
)
from liveswitch_api.retry import RetryPolicy
from liveswitch_api.settings import DEFAULT_REQUEST_TIMEOUT, url_error
from liveswitch_api.token_store import TokenStoreError

PROG = "liveswitch-auth"
DEFAULT_LOGIN_TIMEOUT = 300.0
LOGGER = logging.getLogger("liveswitch")


class UsageError(Exception):
    """A flag or setting is missing or malformed; the message names it."""


@dataclass(frozen=True)
class App:
    """The Developer App a login is for."""

    client_id: str
    client_secret: str
    auth_url: str


def _say(message: str) -> None:
    print(f"{PROG}: {message}", file=sys.stderr, flush=True)


def _check_url(name: str, value: str) -> str:
    if error := url_error(name, value):
        raise UsageError(error)
    return value


def _resolve_app(args: argparse.Namespace, saved: dict[str, object]) -> App:
    """Flags first, then what the --write-config file already holds (so the secret can stay
    off the command line, where `ps` would show it)."""
    values = {}
    for key in ("client_id", "client_secret", "auth_url"):
        value = getattr(args, key) or saved.get(key)
        values[key] = value if isinstance(value, str) else ""
    missing = [key for key in ("client_id", "client_secret") if not values[key]]
    if missing:
        flags = " and ".join(f"--{key.replace('_', '-')}" for key in missing)
        msg = f"{', '.join(missing)}: missing; pass {flags} or keep it in the --write-config file"
        raise UsageError(msg)
    auth_url = _check_url("auth_url", values["auth_url"] or wire.DEFAULT_AUTH_URL)
    return App(values["client_id"], values["client_secret"], auth_url)


def _exchange(app: App, code: str, redirect_uri: str) -> TokenGrant:
    return request_token(
        auth_url=app.auth_url,
        body={
            "grant_type": "authorization_code",
            "code": code,
            "client_id": app.client_id,
            "client_secret": app.client_secret,
            "redirect_uri": redirect_uri,
        },
        session=requests.Session(),
        retry_policy=RetryPolicy(logger=LOGGER),
        timeout=DEFAULT_REQUEST_TIMEOUT,
    )


def _report_scopes(grant: TokenGrant) -> None:
    scopes = grant.scopes
    if scopes is None:
        _say("the token endpoint did not list the granted scopes; `check` will probe the API")
        return
    _say(f"granted scopes: {scope_text(scopes)}")
    for warning in missing_scope_warnings(scopes):
        _say(f"warning: {warning}")
    if wire.WEBHOOKS.write_scope in scopes or wire.WEBHOOKS.read_scope in scopes:
        _say("note: webhooks also need an organization admin; `check` tells whether you are one")


def _save(args: argparse.Namespace, app: App, grant: TokenGrant) -> None:
    """Write the config (or print the refresh token) once the grant is known to be usable."""
    _report_scopes(grant)
    if not grant.refresh_token:
        msg = (
            f"no refresh token was issued: ask for scope {wire.OFFLINE_ACCESS} (and allow it "
            "on the Developer App); nothing was written"
        )
        raise AuthError(msg)
    if args.write_config is None:
        print(grant.refresh_token, flush=True)
        return
    updates = {
        "client_id": app.client_id,
        "client_secret": app.client_secret,
        "refresh_token": grant.refresh_token,
        "auth_url": app.auth_url,
    }
    if args.api_url:
        updates["api_url"] = _check_url("api_url", args.api_url)
    update_config(args.write_config, updates)
    _say(f"wrote {', '.join(updates)} to {args.write_config} (owner-only)")
    _say(f"next: {PROG} check --config {args.write_config}")


def _saved_config(args: argparse.Namespace) -> dict[str, object]:
    """The --write-config file's settings, read up front so a bad file fails before login."""
    return {} if args.write_config is None else read_config(args.write_config, missing_ok=True)


def cmd_url(args: argparse.Namespace) -> int:
    if error := redirect_uri_error(args.redirect_uri):
        raise UsageError(error)
    login = authorize_url(
        auth_url=_check_url("auth_url", args.auth_url),
        client_id=args.client_id,
        redirect_uri=args.redirect_uri,
        scope=args.scope,
        audience=args.audience,
        response_type=args.response_type,
        state=args.state,
    )
    print(login.url, flush=True)
    return 0


def cmd_login(args: argparse.Namespace) -> int:
    app = _resolve_app(args, _saved_config(args))
    login = authorize_url(
        auth_url=app.auth_url,
        client_id=app.client_id,
        redirect_uri=args.redirect_uri,
        scope=args.scope,
        audience=args.audience,
    )
    with RedirectCatcher(args.redirect_uri, login.state) as catcher:
        _say("open this URL in a browser and log in (waiting for the redirect):")
        print(login.url, flush=True)
        if not args.no_browser:
            webbrowser.open(login.url)
        code = catcher.wait(args.timeout)
    _say("login received; exchanging the code")
    _save(args, app, _exchange(app, code, args.redirect_uri))
    return 0


def cmd_exchange(args: argparse.Namespace) -> int:
    if error := redirect_uri_error(args.redirect_uri):
        raise UsageError(error)
    app = _resolve_app(args, _saved_config(args))
    _save(args, app, _exchange(app, args.code, args.redirect_uri))
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    config = read_config(args.config)
    try:
        result = run_check(config, LOGGER)
    except ConfigFileError as exc:  # the settings' fault: name the file they are in
        raise ConfigFileError(f"{args.config}: {exc}") from None
    print_report(result, sys.stdout)
    return 0 if result.tap_can_run else 1


def _add_app_options(parser: argparse.ArgumentParser, *, secret: bool) -> None:
    parser.add_argument("--client-id", help="Client ID of the Developer App")
    if secret:
        parser.add_argument(
            "--client-secret",
            help="Client secret of the Developer App (else read from the --write-config file)",
        )
    parser.add_argument("--auth-url", help=f"Auth0 tenant URL (default: {wire.DEFAULT_AUTH_URL})")


def _add_login_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--scope", default=DEFAULT_SCOPE, help="space-separated scopes (default: all of them)"
    )
    parser.add_argument(
        "--audience", default=wire.DEFAULT_AUDIENCE, help="API audience (default: %(default)s)"
    )


def _add_write_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--write-config",
        type=Path,
        metavar="FILE",
        help="JSON config to write client_id, client_secret, refresh_token and auth_url into "
        "(other keys are kept; owner-only); without it the refresh token is printed",
    )
    parser.add_argument("--api-url", help="also write this api_url into the config")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Get a LiveSwitch refresh token for tap-liveswitch and target-liveswitch, "
        "and check a config.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    url = commands.add_parser("url", help="print the login URL")
    url.add_argument("--client-id", required=True, help="Client ID of the Developer App")
    url.add_argument("--redirect-uri", required=True, help="an allowed callback URL of the app")
    url.add_argument(
        "--auth-url",
        default=wire.DEFAULT_AUTH_URL,
        help="Auth0 tenant URL (default: %(default)s)",
    )
    _add_login_options(url)
    url.add_argument("--state", help="state value (default: random)")
    url.add_argument(
        "--response-type",
        choices=RESPONSE_TYPES,
        default=CODE,
        help="code: for a refresh token (default); token: an access token only, with a nonce",
    )
    url.set_defaults(run=cmd_url)

    login = commands.add_parser(
        "login", help="log in through a browser and store the refresh token"
    )
    _add_app_options(login, secret=True)
    login.add_argument(
        "--redirect-uri",
        required=True,
        help="http://127.0.0.1:PORT/PATH, allowed on the app; the helper listens there",
    )
    _add_login_options(login)
    _add_write_options(login)
    login.add_argument("--no-browser", action="store_true", help="only print the URL")
    login.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_LOGIN_TIMEOUT,
        help="seconds to wait for the redirect (default: %(default)g)",
    )
    login.set_defaults(run=cmd_login)

    exchange = commands.add_parser(
        "exchange", help="exchange a code copied from the browser's address bar"
    )
    exchange.add_argument("--code", required=True, help="the code parameter of the redirect")
    _add_app_options(exchange, secret=True)
    exchange.add_argument(
        "--redirect-uri", required=True, help="the redirect URI the login URL used"
    )
    _add_write_options(exchange)
    exchange.set_defaults(run=cmd_exchange)

    check = commands.add_parser("check", help="check a config: refresh, GET /me, streams")
    check.add_argument("--config", required=True, type=Path, metavar="FILE")
    check.set_defaults(run=cmd_check)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format=f"{PROG}: %(levelname)s: %(message)s")
    try:
        return int(args.run(args))
    except (UsageError, AuthError, ConfigFileError, TokenStoreError, FatalAPIError) as exc:
        _say(f"error: {exc}")
    except requests.exceptions.RequestException as exc:
        _say(f"error: {type(exc).__name__} talking to the server; is the URL right?")
    except KeyboardInterrupt:
        _say("interrupted; nothing was written")
    return 1


if __name__ == "__main__":
    sys.exit(main())
