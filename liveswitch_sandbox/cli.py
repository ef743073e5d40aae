"""`liveswitch-sandbox serve [options]`: run the emulator until SIGINT or SIGTERM.

On start it prints exactly one JSON line on stdout (api_url, auth_url, client_id,
client_secret, refresh_token, redirect_uri); everything after that is logs on stderr.
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import threading
from collections.abc import Sequence
from types import FrameType

from liveswitch_api import wire

from .config import SandboxConfig
from .server import SandboxServer

log = logging.getLogger("liveswitch_sandbox")


def _fraction(text: str) -> float:
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError("must be between 0 and 1")
    return value


def _non_negative(text: str) -> float:
    value = float(text)
    if value < 0:
        raise argparse.ArgumentTypeError("must be >= 0")
    return value


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be >= 1")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="liveswitch-sandbox",
        description="A local, real-HTTP emulator of the LiveSwitch API and its Auth0 tenant.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve until SIGINT/SIGTERM")
    add = serve.add_argument
    flag = argparse.BooleanOptionalAction
    add("--host", default="127.0.0.1")
    add("--port", type=int, default=0, help="0 picks a free port")
    add("--seed", type=int, default=1, help="seeds data, credentials and faults")
    add("--contacts", type=int, default=250)
    add("--conversations", type=int, default=120)
    add("--latency-ms", type=_non_negative, default=0.0, help="added to every request")
    add("--rate-limit", type=int, default=0, help="requests per second before 429; 0 = off")
    add(
        "--rate-limit-headers",
        action=flag,
        default=True,
        help="send x-ratelimit-limit/-remaining/-reset (as Auth0 does) on limited answers",
    )
    add("--fault-rate", type=_fraction, default=0.0, help="share of faulted requests (0..1)")
    add("--page-base", type=int, default=1, help="number of the first page (1, or 0)")
    add("--max-page-size", type=_positive_int, default=wire.DEFAULT_PAGE_SIZE)
    add("--ignore-page", action=flag, default=False, help="always serve the first page")
    add("--token-ttl", type=int, default=86400, help="access token lifetime in seconds")
    add("--rotate-refresh-tokens", action=flag, default=True)
    add("--reuse-leeway", type=_non_negative, default=0.0, help="seconds a used token stays ok")
    add("--admin", action=flag, default=True, help="the test user is an organization admin")
    add(
        "--scopes",
        action="append",
        help="space-separated scopes the test user may be granted (default: all)",
    )
    add(
        "--scope-in-token-response",
        action=flag,
        default=True,
        help="include `scope` in token responses",
    )
    add("--client-id")
    add("--client-secret")
    add("--refresh-token", help="a fixed initial refresh token (default: from the seed)")
    add(
        "--redirect-uri",
        action="append",
        default=[],
        help="exact whitelisted redirect URI (repeatable; default: any loopback http URI)",
    )
    add("--log-level", default="INFO", type=str.upper)
    return parser


def config_from_args(args: argparse.Namespace) -> SandboxConfig:
    scopes = wire.ALL_SCOPES
    if args.scopes is not None:
        scopes = tuple(dict.fromkeys(s for text in args.scopes for s in text.split()))
    return SandboxConfig(
        host=args.host,
        port=args.port,
        seed=args.seed,
        contacts=args.contacts,
        conversations=args.conversations,
        latency_ms=args.latency_ms,
        rate_limit=args.rate_limit,
        rate_limit_headers=args.rate_limit_headers,
        fault_rate=args.fault_rate,
        page_base=args.page_base,
        max_page_size=args.max_page_size,
        ignore_page=args.ignore_page,
        token_ttl=args.token_ttl,
        rotate_refresh_tokens=args.rotate_refresh_tokens,
        reuse_leeway=args.reuse_leeway,
        admin=args.admin,
        scopes=scopes,
        scope_in_token_response=args.scope_in_token_response,
        client_id=args.client_id,
        client_secret=args.client_secret,
        refresh_token=args.refresh_token,
        redirect_uris=tuple(args.redirect_uri),
        log_level=args.log_level,
    )


def serve(config: SandboxConfig) -> int:
    server = SandboxServer(config)
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.1}, name="serve", daemon=True
    )
    thread.start()
    try:
        sys.stdout.write(json.dumps(server.info) + "\n")
        sys.stdout.flush()
    except BrokenPipeError:  # nobody reads stdout; serve anyway
        pass
    log.info(
        "serving %s (seed %s, %s contacts, %s conversations)",
        server.info["api_url"],
        config.seed,
        config.contacts,
        config.conversations,
    )
    while not stop.wait(0.2):
        pass
    log.info("stopping")
    server.shutdown()
    server.server_close()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        stream=sys.stderr,
        level=getattr(logging, args.log_level, logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    return serve(config_from_args(args))
