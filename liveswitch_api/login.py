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
import os
import sys
import webbrowser
from collections.abc import Sequence
from dataclasses import dataclass, field
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
    client_secret: str = field(repr=False)
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
        them = "it" if len(missing) == 1 else "them"
        msg = (
            f"{', '.join(missing)}: missing; pass {flags} "
            f"(or keep {them} in the --write-config file)"
        )
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
        updates["api_url"] = args.api_url
    update_config(args.write_config, updates)
    _say(f"wrote {', '.join(updates)} to {args.write_config} (owner-only)")
    _say(f"next: {PROG} check --config {args.write_config}")


def _saved_config(args: argparse.Namespace) -> dict[str, object]:
    """The --write-config file's settings; read, and --api-url checked, up front, so that a bad
    file or URL fails before the single-use code is spent."""
    if args.api_url:
        _check_url("api_url", args.api_url)
    return {} if args.write_config is None else read_config(args.write_config, missing_ok=True)


def _can_open_a_browser() -> bool:
    """A browser the user can see: on Linux and the like only with a display or a $BROWSER, as
    Python would otherwise start a console browser (lynx, w3m) that takes the terminal over."""
    return sys.platform in ("darwin", "win32") or any(
        os.environ.get(name) for name in ("DISPLAY", "WAYLAND_DISPLAY", "BROWSER")
    )


def _open_browser(url: str) -> None:
    if not _can_open_a_browser():
        _say("no graphical browser here: open the URL on this machine, or use `url` + `exchange`")
        return
    # A browser started now inherits stdout and may chatter on it ("Opening in existing browser
    # session."), which would corrupt the refresh token line: lend it stderr instead.
    sys.stdout.flush()
    saved_stdout = os.dup(1)
    try:
        os.dup2(2, 1)
        opened = webbrowser.open(url)
    except webbrowser.Error:
        opened = False
    finally:
        os.dup2(saved_stdout, 1)
        os.close(saved_stdout)
    if not opened:
        _say("could not open a browser: open the URL yourself")


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
            _open_browser(login.url)
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


def _positive_seconds(value: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        seconds = 0.0
    if seconds <= 0:
        msg = f"{value!r} is not a positive number of seconds"
        raise argparse.ArgumentTypeError(msg)
    return seconds


def _add_app_options(parser: argparse.ArgumentParser) -> None:
    """The app's credentials; each may instead come from the --write-config file."""
    parser.add_argument(
        "--client-id", help="Client ID of the Developer App (else from the --write-config file)"
    )
    parser.add_argument(
        "--client-secret",
        help="Client secret of the Developer App (else from the --write-config file, which "
        "keeps it out of the process list)",
    )
    parser.add_argument(
        "--auth-url",
        help=f"Auth0 tenant URL (else from the --write-config file, else {wire.DEFAULT_AUTH_URL})",
    )


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

    url = commands.add_parser(
        "url",
        help="print the login URL",
        description="Print the login URL alone on stdout. Open it in a browser; after the "
        "login, the browser lands on the redirect URI with ?code=... (use `exchange`) or, for "
        "--response-type token, with #access_token=...",
    )
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
        "login",
        help="log in through a browser and store the refresh token",
        description="Print the login URL, open a browser (unless --no-browser), catch the "
        "redirect on the loopback redirect URI, check its state, exchange the code, and write "
        "the refresh token into --write-config (or print it).",
    )
    _add_app_options(login)
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
        type=_positive_seconds,
        default=DEFAULT_LOGIN_TIMEOUT,
        help="seconds to wait for the redirect (default: %(default)g)",
    )
    login.set_defaults(run=cmd_login)

    exchange = commands.add_parser(
        "exchange",
        help="exchange a code copied from the browser's address bar",
        description="For a machine without a browser: run `url` there, log in on any machine, "
        "copy the code parameter from the address bar the browser lands on, and exchange it "
        "here (within minutes: codes are single-use and short-lived).",
    )
    exchange.add_argument("--code", required=True, help="the code parameter of the redirect")
    _add_app_options(exchange)
    exchange.add_argument(
        "--redirect-uri", required=True, help="the redirect URI the login URL used"
    )
    _add_write_options(exchange)
    exchange.set_defaults(run=cmd_exchange)

    check = commands.add_parser(
        "check",
        help="check a config: refresh, GET /me, streams",
        description="Refresh through the token store as the tap does, call GET /me, and print "
        "the user, organization, admin flag, granted scopes and which tap and target streams "
        "will work. Exit 0 only if the tap can run.",
    )
    check.add_argument(
        "--config", required=True, type=Path, metavar="FILE", help="the tap's JSON config"
    )
    check.set_defaults(run=cmd_check)
    return parser


# Options whose values are opaque strings (base64url codes, generated ids and secrets) that
# may start with "-", which argparse would take for an option.
OPAQUE_VALUE_OPTIONS = frozenset({"--code", "--client-id", "--client-secret", "--state"})


def _join_opaque_values(argv: Sequence[str]) -> list[str]:
    """`--code VALUE` as `--code=VALUE`, and likewise for every OPAQUE_VALUE_OPTIONS."""
    joined: list[str] = []
    values = iter(argv)
    for arg in values:
        if arg in OPAQUE_VALUE_OPTIONS:
            arg = f"{arg}={next(values, '')}"
        joined.append(arg)
    return joined


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(_join_opaque_values(sys.argv[1:] if argv is None else argv))
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
