"""Helpers for the sandbox contract tests: logins through /authorize, bearer calls, a webhook
listener. Exposed as fixtures so no test module imports another."""

from __future__ import annotations

import json
import queue
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from liveswitch_api import wire
from liveswitch_sandbox.process import SandboxProcess

ALL = " ".join(wire.ALL_SCOPES)
REDIRECT = "http://127.0.0.1:8765/callback"


class Client:
    """Plain HTTP against one sandbox, with the contract's flows spelled out."""

    def __init__(self, sandbox: SandboxProcess) -> None:
        self.sb = sandbox
        self.http = requests.Session()

    def authorize(self, **params: str) -> requests.Response:
        query = {
            "response_type": "code",
            "client_id": self.sb.client_id,
            "redirect_uri": REDIRECT,
            "state": "xyz",
            "scope": ALL,
            "audience": wire.DEFAULT_AUDIENCE,
        } | params
        return self.http.get(
            self.sb.auth_url + wire.AUTHORIZE_PATH, params=query, allow_redirects=False
        )

    def code(self, **params: str) -> str:
        response = self.authorize(**params)
        assert response.status_code == 302, response.text
        return parse_qs(urlsplit(response.headers["Location"]).query)["code"][0]

    def token(self, **body: str) -> requests.Response:
        data = {"client_id": self.sb.client_id, "client_secret": self.sb.client_secret} | body
        return self.http.post(self.sb.auth_url + wire.TOKEN_PATH, json=data)

    def exchange(self, code: str, redirect_uri: str = REDIRECT) -> requests.Response:
        return self.token(grant_type="authorization_code", code=code, redirect_uri=redirect_uri)

    def refresh(self, refresh_token: str) -> requests.Response:
        return self.token(grant_type="refresh_token", refresh_token=refresh_token)

    def login(self, scope: str = ALL) -> dict[str, Any]:
        """A token response from the code flow (its own rotation family)."""
        response = self.exchange(self.code(scope=scope))
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()
        return result

    def call(
        self, method: str, path: str, token: str | None = None, **kwargs: Any
    ) -> requests.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return self.http.request(method, self.sb.api_url + path, headers=headers, **kwargs)


@pytest.fixture(scope="session")
def client_for() -> Any:
    return Client


class Listener:
    """A tiny webhook receiver on 127.0.0.1."""

    def __init__(self) -> None:
        self.received: queue.Queue[tuple[dict[str, str], dict[str, Any]]] = queue.Queue()
        received = self.received

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = {name.lower(): value for name, value in self.headers.items()}
                received.put((headers, json.loads(body)))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def take(
        self, count: int, timeout: float = 10.0
    ) -> list[tuple[dict[str, str], dict[str, Any]]]:
        return [self.received.get(timeout=timeout) for _ in range(count)]


@pytest.fixture
def listener() -> Iterator[Listener]:
    running = Listener()
    yield running
    running.server.shutdown()
    running.server.server_close()
