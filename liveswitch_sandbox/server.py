"""HTTP plumbing: the threaded server, request parsing, one-piece responses, and the order in
which every request meets latency, the rate limit and faults before it reaches a handler.

Order for `/v1` and `/oauth/token`: latency (a sleep outside any lock), rate limit (429), fault
(decided before any state is touched, so a faulted write changes nothing), then the handler.
`/authorize` gets latency only; `/_sandbox/*` gets none of it and is not counted.
"""

from __future__ import annotations

import logging
import socket
import socketserver
import time
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from liveswitch_api import wire

from . import api
from .auth0 import Tenant, oauth_error
from .config import SandboxConfig
from .data import Store
from .faults import FaultPlan, RateLimiter
from .messages import JSON, Request, Response, empty, html, json_response, problem
from .stats import Stats
from .webhooks import Webhooks

log = logging.getLogger(__name__)

HOOK_PREFIX = "/_sandbox/"
MALFORMED_BODY = b'{"truncated": "this body is not valid JSON'
API, TOKEN, AUTHORIZE, OTHER = "api", "token", "authorize", "other"


def parse_query(query: str) -> dict[str, list[str]]:
    """parse_qs, with a fast path for the plain `page=2&pageSize=100` of every list call."""
    if "%" in query or "+" in query:
        return parse_qs(query, keep_blank_values=True)
    params: dict[str, list[str]] = {}
    for pair in query.split("&"):
        if pair:
            name, _, value = pair.partition("=")
            params.setdefault(name, []).append(value)
    return params


def fault_response(kind: str) -> Response:
    if kind == "drop":
        return Response(0, drop=True)
    if kind == "malformed":
        return Response(200, MALFORMED_BODY, JSON)
    if kind == "500":
        return problem(500)
    if kind == "502":
        return html(502, "502 Bad Gateway", "The upstream server sent an invalid response.")
    return html(503, "503 Service Unavailable", "The service is temporarily unavailable.")


class App:
    """Everything behind the socket: routes a parsed request to a Response."""

    def __init__(self, config: SandboxConfig, base_url: str) -> None:
        self.config = config
        self.base_url = base_url
        self.stats = Stats()
        self.store = Store(config.seed, config.contacts, config.conversations)
        self.tenant = Tenant(config, base_url, self.stats)
        self.webhooks = Webhooks(self.stats)
        self.api = api.Api(config, self.store, self.tenant, self.webhooks, self.stats)
        self.faults = FaultPlan(config.seed, config.fault_rate)
        self.limiter = (
            RateLimiter(config.rate_limit, config.rate_limit_headers)
            if config.rate_limit > 0
            else None
        )
        self.latency = max(config.latency_ms, 0.0) / 1000.0

    @property
    def info(self) -> dict[str, str]:
        return {
            "api_url": self.base_url + api.API_PREFIX,
            "auth_url": self.base_url,
            "client_id": self.tenant.client_id,
            "client_secret": self.tenant.client_secret,
            "refresh_token": self.tenant.initial_refresh_token,
            "redirect_uri": self.tenant.default_redirect_uri,
        }

    def counts(self) -> dict[str, int]:
        return {**self.store.counts(), "webhooks": self.webhooks.count()}

    def handle(self, request: Request) -> Response:
        path = request.path
        if path.startswith(HOOK_PREFIX):
            return self.hook(request, path[len(HOOK_PREFIX) :])
        route = None
        if path == api.API_PREFIX or path.startswith(api.API_PREFIX + "/"):
            route = api.match(path)
            kind, template = API, route.template if route else api.UNKNOWN_TEMPLATE
        elif path == wire.TOKEN_PATH:
            kind, template = TOKEN, path
        elif path == wire.AUTHORIZE_PATH:
            kind, template = AUTHORIZE, path
        else:
            kind, template = OTHER, "*"
        response = self.serve(kind, request, route)
        status = None if response.drop else response.status
        self.stats.served(f"{request.method} {template}", status)
        return response

    def serve(self, kind: str, request: Request, route: api.Route | None = None) -> Response:
        if self.latency and kind != OTHER:
            time.sleep(self.latency)
        limit_headers: list[tuple[str, str]] = []
        if kind in (API, TOKEN):
            if self.limiter is not None:
                allowed, limit_headers = self.limiter.check()
                if not allowed:
                    if kind == TOKEN:
                        description = "Global limit has been reached"
                        return oauth_error(429, "too_many_requests", description, limit_headers)
                    return problem(429, headers=limit_headers)
            fault = self.faults.decide(request.method, request.target)
            if fault is not None:
                self.stats.fault(fault)
                return fault_response(fault)
        if kind == API:
            response = self.api.handle(request, route)
        elif kind == TOKEN:
            if request.method != "POST":
                return empty(405, [("Allow", "POST")])
            response = self.tenant.token(request)
        elif kind == AUTHORIZE:
            if request.method not in ("GET", "HEAD"):
                return empty(405, [("Allow", "GET")])
            response = self.tenant.authorize(request)
        else:
            response = problem(404)
        response.headers.extend(limit_headers)
        return response

    def hook(self, request: Request, name: str) -> Response:
        """The test hooks: never rate limited, faulted, delayed or counted."""
        if name == "stats" and request.method == "GET":
            snapshot = self.stats.snapshot(self.counts())
            if self.limiter is not None:
                snapshot["rate_windows"] = self.limiter.allowed_per_window()
            return json_response(200, snapshot)
        if name == "touch" and request.method == "POST":
            try:
                count = int(request.param("n") or "1")
            except ValueError:
                return json_response(400, {"error": "n must be an integer"})
            contacts, conversations, events = self.store.touch(max(count, 0))
            self.webhooks.publish(events)
            return json_response(200, {"contacts": contacts, "conversations": conversations})
        if name == "expire-access-tokens" and request.method == "POST":
            return json_response(200, {"expired": self.tenant.expire_access_tokens()})
        return json_response(404, {"error": f"no test hook {request.method} {HOOK_PREFIX}{name}"})


class Handler(BaseHTTPRequestHandler):
    """HTTP/1.1 keep-alive; TCP_NODELAY; each response goes out in one write."""

    protocol_version = "HTTP/1.1"
    server_version = "liveswitch-sandbox"
    disable_nagle_algorithm = True
    timeout = 300
    server: SandboxServer

    _date_second = -1
    _date_text = ""

    def _dispatch(self) -> None:
        try:
            body = self._read_body()
        except ValueError:
            self.close_connection = True
            self._write(problem(400, {"": ["Malformed request framing."]}))
            return
        target = self.path
        if not target.startswith("/"):  # absolute-form request target
            parts = urlsplit(target)
            target = parts.path + (f"?{parts.query}" if parts.query else "")
        path, _, query = target.partition("?")
        request = Request(
            method=self.command,
            path=path,
            query=parse_query(query),
            headers={name.lower(): value for name, value in self.headers.items()},
            body=body,
            target=target,
        )
        try:
            response = self.server.app.handle(request)
        except Exception:
            log.exception("handler failed for %s %s", self.command, self.path)
            response = problem(500)
        if response.drop:
            self.close_connection = True
            log.debug("%s %s -> dropped", self.command, target)
            return
        self._write(response)
        log.debug("%s %s -> %s", self.command, target, response.status)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _dispatch

    def _read_body(self) -> bytes:
        if (self.headers.get("Transfer-Encoding") or "").lower() == "chunked":
            chunks: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        if length < 0:
            raise ValueError("negative Content-Length")
        return self.rfile.read(length) if length else b""

    def _date(self) -> str:
        now = int(time.time())
        cls = type(self)
        if now != cls._date_second:
            cls._date_text, cls._date_second = formatdate(now, usegmt=True), now
        return cls._date_text

    def _write(self, response: Response) -> None:
        status = response.status
        reason = self.responses.get(status, ("",))[0]
        lines = [
            f"HTTP/1.1 {status} {reason}",
            f"Date: {self._date()}",
            "Server: liveswitch-sandbox",
        ]
        if response.content_type:
            lines.append(f"Content-Type: {response.content_type}")
        if status != 204:
            lines.append(f"Content-Length: {len(response.body)}")
        lines.extend(f"{name}: {value}" for name, value in response.headers)
        if self.close_connection:
            lines.append("Connection: close")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8")
        body = b"" if self.command == "HEAD" or status == 204 else response.body
        try:
            self.wfile.write(head + body)
        except OSError:
            self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:
        log.debug(format, *args)


class SandboxServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def __init__(self, config: SandboxConfig) -> None:
        if ":" in config.host:
            self.address_family = socket.AF_INET6
        super().__init__((config.host, config.port), Handler)
        wildcard = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}  # noqa: S104
        host = wildcard.get(config.host, config.host)
        if ":" in host:
            host = f"[{host}]"
        self.app = App(config, f"http://{host}:{self.server_address[1]}")

    def server_bind(self) -> None:
        # HTTPServer.server_bind calls socket.getfqdn, a reverse DNS lookup that can stall.
        socketserver.TCPServer.server_bind(self)
        self.server_name = str(self.server_address[0])
        self.server_port = int(self.server_address[1])

    @property
    def info(self) -> dict[str, str]:
        return self.app.info
