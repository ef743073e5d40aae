"""PooledSession reads the environment's proxy settings once per host: they still apply.

Requests go through `send`, as the SDK sends them (`Session.request` resolves proxies itself).
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
import requests

from liveswitch_api.client import PooledSession
from liveswitch_sandbox.process import SandboxProcess


def send(session: requests.Session, url: str, **kwargs) -> requests.Response:
    request = session.prepare_request(requests.Request("GET", url))
    return session.send(request, timeout=10, **kwargs)


def test_proxy_settings_apply_per_host(sandbox: SandboxProcess, monkeypatch) -> None:
    monkeypatch.setenv("HTTP_PROXY", "http://proxy.invalid:9")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    session = PooledSession()
    for _ in range(2):  # the second time from what was read the first
        assert send(session, f"{sandbox.api_url}/me").status_code == 401
    # the same server by a name NO_PROXY does not cover goes through the (dead) proxy
    port = urlsplit(sandbox.api_url).port
    for _ in range(2):
        with pytest.raises(requests.exceptions.ProxyError):
            send(session, f"http://localhost:{port}/v1/me")


def test_an_explicit_proxies_argument_wins(sandbox: SandboxProcess, monkeypatch) -> None:
    monkeypatch.setenv("HTTP_PROXY", "http://proxy.invalid:9")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    assert send(PooledSession(), f"{sandbox.api_url}/me", proxies={}).status_code == 401
