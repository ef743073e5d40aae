"""`liveswitch-auth login` end to end against the sandbox, the test playing the browser."""

from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import requests
from auth_helpers import (
    AUTH,
    app_args,
    assert_no_secrets,
    authorize,
    free_port,
    loopback_redirect,
    run_auth,
    write_config,
)
from singer_run import run

from liveswitch_api import wire


def query(url: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}


def test_login_writes_a_config_that_check_accepts(auth_sandbox, login, tmp_path):
    store = tmp_path / "state" / "tokens.json"
    config_path = write_config(
        tmp_path / "config.json", {"token_store_path": str(store), "start_date": "2020-01-01"}
    )
    redirect_uri = loopback_redirect()
    process = login(
        *app_args(auth_sandbox, redirect_uri),
        "--api-url",
        auth_sandbox.api_url,
        "--write-config",
        str(config_path),
    )
    url = process.login_url()
    params = query(url)
    assert url.startswith(auth_sandbox.auth_url + wire.AUTHORIZE_PATH + "?")
    assert params["redirect_uri"] == redirect_uri
    assert params["response_type"] == "code"

    location = authorize(url)
    assert location.startswith(redirect_uri + "?")
    page = requests.get(location, timeout=30)
    assert page.status_code == 200
    assert "close this tab" in page.text
    result = process.finish()

    assert result.returncode == 0, result.stderr
    assert result.stdout == ""  # the URL was the only stdout line: the token went to the file
    assert stat.S_IMODE(config_path.stat().st_mode) == 0o600
    config = json.loads(config_path.read_text())
    assert config["token_store_path"] == str(store)  # kept
    assert config["start_date"] == "2020-01-01"  # kept
    assert config["client_id"] == auth_sandbox.client_id
    assert config["client_secret"] == auth_sandbox.client_secret
    assert config["auth_url"] == auth_sandbox.auth_url
    assert config["api_url"] == auth_sandbox.api_url
    assert config["refresh_token"].startswith("v1.")
    assert config["refresh_token"] != auth_sandbox.refresh_token  # a new family from this login
    assert "granted scopes: " + " ".join(wire.ALL_SCOPES) in result.stderr
    assert "warning" not in result.stderr
    assert_no_secrets(result.stderr, auth_sandbox, config_path)

    grants_before = auth_sandbox.stats()["grants"].get("refresh_token", 0)
    check = run_auth("check", "--config", str(config_path), cwd=tmp_path)
    assert check.returncode == 0, check.stderr
    report = check.stdout.splitlines()
    assert "user: Sandy Box <sandbox.user@example.com>" in report[0]
    assert report[1].startswith("organization: ")
    assert report[1] != "organization: unknown"
    assert "admin: yes" in report
    assert "granted scopes: " + " ".join(wire.ALL_SCOPES) in report
    for name in ("contacts", "conversations", "webhooks", "me"):
        assert f"  {name}: works" in report
    assert report[-1] == "the tap can run"
    # check refreshed through the token store, as the tap does, and saved the rotated token
    assert auth_sandbox.stats()["grants"]["refresh_token"] == grants_before + 1
    stored = json.loads(store.read_text())["entries"]
    assert [entry["refresh_token"] for entry in stored.values()] != [config["refresh_token"]]
    assert_no_secrets(check.stdout + check.stderr, auth_sandbox, config_path)

    # the tap runs on the written file as is, continuing the family check rotated
    tap = run("tap-liveswitch", None, tmp_path, args=["--config", str(config_path)]).check()
    assert len(tap.records("contacts")) == 3
    assert len(tap.records("conversations")) == 2
    assert [record["email"] for record in tap.records("me")] == ["sandbox.user@example.com"]
    assert auth_sandbox.stats()["family_revocations"] == 0
    assert_no_secrets(tap.stdout + tap.stderr, auth_sandbox, config_path)


def test_login_without_write_config_prints_the_refresh_token_once(auth_sandbox, login, tmp_path):
    redirect_uri = loopback_redirect()
    process = login(*app_args(auth_sandbox, redirect_uri))
    requests.get(authorize(process.login_url()), timeout=30)
    result = process.finish()

    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 1
    token = lines[0]
    assert_no_secrets(result.stderr, auth_sandbox)
    assert token not in result.stderr
    refreshed = requests.post(
        auth_sandbox.auth_url + wire.TOKEN_PATH,
        json={
            "grant_type": "refresh_token",
            "refresh_token": token,
            "client_id": auth_sandbox.client_id,
            "client_secret": auth_sandbox.client_secret,
        },
        timeout=30,
    )
    assert refreshed.status_code == 200


def test_state_mismatch_writes_nothing(auth_sandbox, login, tmp_path):
    config_path = tmp_path / "config.json"
    redirect_uri = loopback_redirect()
    process = login(*app_args(auth_sandbox, redirect_uri), "--write-config", str(config_path))
    location = authorize(process.login_url())
    params = query(location)
    forged = f"{redirect_uri}?{urlencode({'code': params['code'], 'state': 'forged'})}"
    page = requests.get(forged, timeout=30)
    result = process.finish()

    assert page.status_code == 400
    assert "Login failed" in page.text
    assert result.returncode == 1
    assert "state does not match" in result.error
    assert not config_path.exists()
    # the code was never exchanged, so it is still good for the login that owns it
    exchange = run_auth(
        "exchange",
        "--code",
        params["code"],
        *app_args(auth_sandbox, redirect_uri),
        cwd=tmp_path,
    )
    assert exchange.returncode == 0, exchange.stderr


def test_error_redirect_writes_nothing(auth_sandbox, login, tmp_path):
    config_path = tmp_path / "config.json"
    redirect_uri = loopback_redirect()
    process = login(*app_args(auth_sandbox, redirect_uri), "--write-config", str(config_path))
    state = query(process.login_url())["state"]
    denied = {"error": "access_denied", "error_description": "User did not consent", "state": state}
    page = requests.get(f"{redirect_uri}?{urlencode(denied)}", timeout=30)
    result = process.finish()

    assert page.status_code == 400
    assert "User did not consent" in page.text
    assert result.returncode == 1
    assert "access_denied: User did not consent" in result.error
    assert not config_path.exists()


def test_other_paths_are_ignored_until_the_redirect(auth_sandbox, login, tmp_path):
    redirect_uri = loopback_redirect()
    process = login(*app_args(auth_sandbox, redirect_uri))
    location = authorize(process.login_url())
    favicon = requests.get(redirect_uri.replace("/callback", "/favicon.ico"), timeout=30)
    assert favicon.status_code == 404
    assert requests.get(location, timeout=30).status_code == 200
    assert process.finish().returncode == 0


def test_a_localhost_redirect_uri_is_caught_on_ipv4_loopback(auth_sandbox, login, tmp_path):
    redirect_uri = f"http://localhost:{free_port()}/cb"
    process = login(*app_args(auth_sandbox, redirect_uri))
    location = authorize(process.login_url())
    assert location.startswith(redirect_uri)
    page = requests.get(location.replace("localhost", "127.0.0.1", 1), timeout=30)
    assert page.status_code == 200
    result = process.finish()
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.splitlines()) == 1


def test_timeout_writes_nothing(auth_sandbox, login, tmp_path):
    config_path = tmp_path / "config.json"
    process = login(
        *app_args(auth_sandbox, loopback_redirect()),
        "--write-config",
        str(config_path),
        "--timeout",
        "0.2",
    )
    process.login_url()
    result = process.finish()
    assert result.returncode == 1
    assert result.error.startswith("no login redirect reached")
    assert not config_path.exists()


def test_login_refuses_a_redirect_uri_it_cannot_listen_on(auth_sandbox, tmp_path):
    for uri in ("https://example.com/callback", "http://127.0.0.1/callback"):
        result = run_auth("login", "--no-browser", *app_args(auth_sandbox, uri), cwd=tmp_path)
        assert result.returncode == 1
        assert result.stdout == ""  # no URL: nothing would catch its redirect
        assert "is not a loopback URL with a port" in result.error


def test_a_taken_port_fails_before_the_url_is_shown(auth_sandbox, tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        uri = f"http://127.0.0.1:{port}/callback"
        result = run_auth("login", "--no-browser", *app_args(auth_sandbox, uri), cwd=tmp_path)
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.error.startswith(f"cannot listen on 127.0.0.1 port {port}")


def test_without_offline_access_nothing_is_written(auth_sandbox, login, tmp_path):
    config_path = tmp_path / "config.json"
    process = login(
        *app_args(auth_sandbox, loopback_redirect()),
        "--scope",
        "openid contacts me",
        "--write-config",
        str(config_path),
    )
    requests.get(authorize(process.login_url()), timeout=30)
    result = process.finish()
    assert result.returncode == 1
    assert "no refresh token was issued" in result.error
    assert "warning: scope offline_access not granted" in result.stderr
    assert "warning: scope contacts.write not granted: target stream contacts" in result.stderr
    assert not config_path.exists()


def test_client_secret_can_come_from_the_config_file(auth_sandbox, login, tmp_path):
    """Keeps the secret out of the process list: only the config file holds it."""
    config_path = write_config(
        tmp_path / "config.json",
        {"client_id": auth_sandbox.client_id, "client_secret": auth_sandbox.client_secret},
    )
    redirect_uri = loopback_redirect()
    process = login(
        "--auth-url", auth_sandbox.auth_url, "--redirect-uri", redirect_uri,
        "--write-config", str(config_path),
    )  # fmt: skip
    requests.get(authorize(process.login_url()), timeout=30)
    result = process.finish()
    assert result.returncode == 0, result.stderr
    assert json.loads(config_path.read_text())["refresh_token"]


def test_missing_client_secret_is_named(auth_sandbox, tmp_path):
    result = run_auth(
        "login", "--no-browser", "--client-id", "x", "--redirect-uri", loopback_redirect(),
        cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 1
    assert result.error.startswith("client_secret: missing")


def test_a_config_that_is_not_json_is_left_alone(auth_sandbox, tmp_path):
    config_path = tmp_path / "config.json"
    config_path.write_text("not json")
    result = run_auth(
        "login", "--no-browser", *app_args(auth_sandbox, loopback_redirect()),
        "--write-config", str(config_path), cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 1
    assert result.error == f"{config_path}: is not valid JSON"
    assert config_path.read_text() == "not json"


def test_written_file_replaces_a_readable_one_with_owner_only(auth_sandbox, login, tmp_path):
    config_path = write_config(tmp_path / "config.json", {"keep": True})
    config_path.chmod(0o644)
    process = login(
        *app_args(auth_sandbox, loopback_redirect()), "--write-config", str(config_path)
    )
    requests.get(authorize(process.login_url()), timeout=30)
    assert process.finish().returncode == 0
    assert stat.S_IMODE(config_path.stat().st_mode) == 0o600
    assert json.loads(config_path.read_text())["keep"] is True
    assert [p.name for p in Path(tmp_path).iterdir() if p.name.startswith(".config")] == []


def test_the_browser_opened_for_the_user_cannot_corrupt_stdout(auth_sandbox, tmp_path):
    browser = f"{sys.executable} {Path(__file__).with_name('fake_browser.py')} %s"
    result = subprocess.run(
        [AUTH, "login", *app_args(auth_sandbox, loopback_redirect()), "--timeout", "60"],
        capture_output=True,
        text=True,
        env={**os.environ, "BROWSER": browser},
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    url, token = result.stdout.splitlines()  # the URL and the token, and nothing else
    assert url.startswith(auth_sandbox.auth_url + wire.AUTHORIZE_PATH)
    assert token.startswith("v1.")
    assert "Opening in existing browser session." in result.stderr
