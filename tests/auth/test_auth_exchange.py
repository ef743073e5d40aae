"""`liveswitch-auth exchange`: a code copied from a browser elsewhere, once and only once."""

from __future__ import annotations

import json
import stat

from auth_helpers import app_args, assert_no_secrets, exchange_into, new_code, run_auth


def test_exchange_writes_the_config_and_a_used_code_changes_nothing(auth_sandbox, tmp_path):
    config_path = tmp_path / "config.json"
    redirect_uri = "http://127.0.0.1:8765/callback"
    code = new_code(auth_sandbox, redirect_uri)
    args = ["exchange", "--code", code, *app_args(auth_sandbox, redirect_uri)]
    first = run_auth(*args, "--write-config", str(config_path), cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert first.stdout == ""
    assert stat.S_IMODE(config_path.stat().st_mode) == 0o600
    written = config_path.read_bytes()
    config = json.loads(written)
    assert set(config) == {"client_id", "client_secret", "refresh_token", "auth_url"}
    assert_no_secrets(first.stderr, auth_sandbox, config_path)

    again = run_auth(*args, "--write-config", str(config_path), cwd=tmp_path)
    assert again.returncode == 1
    assert again.error.startswith("the authorization code was refused (Invalid authorization code)")
    assert config_path.read_bytes() == written
    assert_no_secrets(again.stderr, auth_sandbox, config_path)


def test_a_code_for_another_redirect_uri_is_refused(auth_sandbox, tmp_path):
    code = new_code(auth_sandbox, "http://127.0.0.1:8765/callback")
    other = app_args(auth_sandbox, "http://127.0.0.1:8765/elsewhere")
    result = run_auth("exchange", "--code", code, *other, cwd=tmp_path)
    assert result.returncode == 1
    assert "authorization code was refused" in result.error
    assert result.stdout == ""


def test_a_wrong_client_secret_is_named(auth_sandbox, tmp_path):
    redirect_uri = "http://127.0.0.1:8765/callback"
    args = app_args(auth_sandbox, redirect_uri)
    args[args.index("--client-secret") + 1] = "wrong-secret"
    result = run_auth(
        "exchange", "--code", new_code(auth_sandbox, redirect_uri), *args, cwd=tmp_path
    )
    assert result.returncode == 1
    assert result.error.startswith("client_id or client_secret was refused")
    assert "wrong-secret" not in result.stderr


def test_exchange_into_keeps_the_token_store_path(auth_sandbox, tmp_path):
    config_path = tmp_path / "config.json"
    assert exchange_into(auth_sandbox, config_path, tmp_path).returncode == 0
    config = json.loads(config_path.read_text())
    assert config["token_store_path"] == str(tmp_path / "tokens.json")
    assert config["api_url"] == auth_sandbox.api_url


def test_a_code_starting_with_a_dash_is_taken_as_the_code(auth_sandbox, tmp_path):
    # codes are base64url: one in 64 starts with "-", which argparse would take for an option
    result = run_auth(
        "exchange",
        "--code",
        "-not-a-real-code",
        *app_args(auth_sandbox, "http://127.0.0.1:8765/callback"),
        cwd=tmp_path,
    )
    assert result.returncode == 1
    assert "authorization code was refused" in result.error
