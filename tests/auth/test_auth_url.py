"""`liveswitch-auth url`: the login URL, parameter by parameter, and the sandbox accepting it."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from auth_helpers import run_auth

from liveswitch_api import wire

REDIRECT = "http://127.0.0.1:8765/callback?tenant=a b"
CODE_KEYS = ["response_type", "client_id", "redirect_uri", "state", "scope", "audience"]


def url_of(tmp_path, *args: str) -> str:
    result = run_auth("url", *args, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 1  # the URL alone
    return lines[0]


def params_of(url: str) -> list[tuple[str, str]]:
    return [(key, values[0]) for key, values in parse_qs(urlsplit(url).query).items()]


def test_defaults_are_the_contracts_code_flow(tmp_path):
    url = url_of(tmp_path, "--client-id", "my app", "--redirect-uri", REDIRECT)
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}" == wire.DEFAULT_AUTH_URL
    assert parts.path == wire.AUTHORIZE_PATH
    assert " " not in url
    assert "+" not in parts.query  # spaces are %20, so no decoder can mistake them
    params = dict(params_of(url))
    assert [key for key, _ in params_of(url)] == CODE_KEYS  # exactly these, in this order
    assert params["response_type"] == "code"
    assert params["client_id"] == "my app"
    assert params["redirect_uri"] == REDIRECT
    assert params["scope"].split() == list(wire.ALL_SCOPES)
    assert params["audience"] == wire.DEFAULT_AUDIENCE
    assert len(params["state"]) >= 32
    other = dict(params_of(url_of(tmp_path, "--client-id", "x", "--redirect-uri", REDIRECT)))
    assert other["state"] != params["state"]  # random per call


def test_token_flow_adds_a_nonce_and_the_given_values_are_used(tmp_path):
    url = url_of(
        tmp_path,
        "--client-id", "app",
        "--redirect-uri", "https://app.example.com/cb",
        "--response-type", "token",
        "--scope", "openid contacts",
        "--state", "s&t=1",
        "--auth-url", "https://id.liveswitch.com/",
        "--audience", "https://aud.example/",
    )  # fmt: skip
    assert url.startswith("https://id.liveswitch.com/authorize?")
    params = dict(params_of(url))
    assert list(params) == [*CODE_KEYS, "nonce"]
    assert params["response_type"] == "token"
    assert params["scope"] == "openid contacts"
    assert params["state"] == "s&t=1"
    assert params["audience"] == "https://aud.example/"
    assert len(params["nonce"]) >= 32


def test_the_sandbox_accepts_the_url(auth_sandbox, tmp_path):
    redirect_uri = "http://127.0.0.1:8765/callback"
    args = ["--client-id", auth_sandbox.client_id, "--redirect-uri", redirect_uri]
    args += ["--auth-url", auth_sandbox.auth_url, "--state", "st-1"]
    code = requests.get(url_of(tmp_path, *args), allow_redirects=False, timeout=30)
    assert code.status_code == 302
    back = parse_qs(urlsplit(code.headers["Location"]).query)
    assert back["state"] == ["st-1"]
    assert back["code"]
    token_url = url_of(tmp_path, *args, "--response-type", "token")
    token = requests.get(token_url, allow_redirects=False, timeout=30)
    fragment = parse_qs(urlsplit(token.headers["Location"]).fragment)
    assert fragment["access_token"]
    assert fragment["state"] == ["st-1"]


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["--redirect-uri", "/callback"], "redirect_uri"),
        (["--redirect-uri", "http://127.0.0.1:1/cb#frag"], "redirect_uri"),
        (["--redirect-uri", REDIRECT, "--auth-url", "http://auth.example"], "auth_url"),
    ],
)
def test_bad_urls_are_named(tmp_path, args, named):
    result = run_auth("url", "--client-id", "app", *args, cwd=tmp_path)
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.error.startswith(f"{named}: ")
