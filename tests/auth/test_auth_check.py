"""`liveswitch-auth check`: what a config opens, from scopes, the admin flag, and the API."""

from __future__ import annotations

import json

from auth_helpers import assert_no_secrets, exchange_into, run_auth, write_config

SMALL = {"contacts": 2, "conversations": 1}


def check(sandbox, config_path, tmp_path):
    result = run_auth("check", "--config", str(config_path), cwd=tmp_path)
    assert_no_secrets(result.stdout + result.stderr, sandbox, config_path)
    return result


def test_scopes_and_role_decide_the_streams(sandbox_factory, tmp_path):
    sandbox = sandbox_factory(
        scopes="openid offline_access contacts conversations.write me", admin=False, **SMALL
    )
    config_path = tmp_path / "config.json"
    login = exchange_into(sandbox, config_path, tmp_path)
    assert login.returncode == 0, login.stderr
    warnings = [
        line.split("warning: ")[1] for line in login.stderr.splitlines() if "warning: " in line
    ]
    assert warnings == [
        "scope contacts.write not granted: target stream contacts will not work",
        "scope webhooks not granted: tap stream webhooks will not work",
        "scope webhooks.write not granted: tap stream webhooks and target stream webhooks "
        "will not work",
    ]
    assert "scope conversations not granted" not in login.stderr  # .write opens reads too

    result = check(sandbox, config_path, tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[2:] == [
        "admin: no (webhooks need an organization admin)",
        "granted scopes: openid offline_access contacts conversations.write me",
        "tap streams:",
        "  contacts: works",
        "  conversations: works",
        "  webhooks: will not work (needs scope webhooks or webhooks.write)",
        "  me: works",
        "target streams:",
        "  contacts: will not work (needs scope contacts.write)",
        "  conversations: works",
        "  webhooks: will not work (needs scope webhooks.write)",
        "the tap can run",
    ]


def test_a_non_admin_is_told_webhooks_need_an_admin(sandbox_factory, tmp_path):
    sandbox = sandbox_factory(admin=False, **SMALL)
    config_path = write_config(
        tmp_path / "config.json", sandbox.config(token_store_path=str(tmp_path / "t.json"))
    )
    result = check(sandbox, config_path, tmp_path)
    assert result.returncode == 0, result.stderr
    assert "  webhooks: will not work (needs an organization admin)" in result.stdout
    assert result.stdout.count("  webhooks: will not work (needs an organization admin)") == 2


def test_without_scope_in_the_token_response_the_api_is_asked(sandbox_factory, tmp_path):
    sandbox = sandbox_factory(
        scopes="offline_access contacts", scope_in_token_response=False, **SMALL
    )
    config_path = write_config(
        tmp_path / "config.json", sandbox.config(token_store_path=str(tmp_path / "t.json"))
    )
    result = check(sandbox, config_path, tmp_path)
    assert result.returncode == 0, result.stderr
    report = result.stdout.splitlines()
    assert report[0] == "user: unknown: refused (403): needs a granted scope"
    assert "admin: unknown" in report
    assert "granted scopes: not listed by the token endpoint" in report
    assert "  contacts: works" in report
    assert "  conversations: will not work (refused (403): needs a granted scope)" in report
    assert "  me: will not work (refused (403): needs a granted scope)" in report
    assert (
        report.count("  contacts: unknown (the token endpoint did not list the granted scopes)")
        == 1
    )  # the target's contacts: writes are not probed
    assert sandbox.stats()["requests"]["GET /v1/contacts"] == 1


def test_no_readable_stream_means_the_tap_cannot_run(sandbox_factory, tmp_path):
    sandbox = sandbox_factory(scopes="openid offline_access", **SMALL)
    config_path = write_config(
        tmp_path / "config.json", sandbox.config(token_store_path=str(tmp_path / "t.json"))
    )
    result = check(sandbox, config_path, tmp_path)
    assert result.returncode == 1
    assert result.stdout.splitlines()[-1] == "the tap cannot run: no stream is readable"
    assert "  contacts: will not work (needs scope contacts or contacts.write)" in result.stdout
    assert result.stdout.splitlines()[0] == "user: unknown: needs scope me"
    assert sandbox.stats()["requests"].get("GET /v1/me", 0) == 0  # known refused: not asked


def test_a_dead_refresh_token_is_one_line(auth_sandbox, tmp_path):
    config = auth_sandbox.config(token_store_path=str(tmp_path / "t.json"))
    config_path = write_config(tmp_path / "config.json", config | {"refresh_token": "v1.dead"})
    result = check(auth_sandbox, config_path, tmp_path)
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.error.startswith("the refresh token was refused (Unknown or invalid refresh")


def test_missing_keys_are_named(auth_sandbox, tmp_path):
    config_path = write_config(tmp_path / "config.json", {"api_url": auth_sandbox.api_url})
    result = check(auth_sandbox, config_path, tmp_path)
    assert result.returncode == 1
    assert result.error.startswith(
        f"{config_path}: client_id, client_secret, refresh_token: missing"
    )
    assert json.loads(config_path.read_text()) == {"api_url": auth_sandbox.api_url}


def test_a_missing_config_file_is_named(tmp_path):
    result = run_auth("check", "--config", str(tmp_path / "nope.json"), cwd=tmp_path)
    assert result.returncode == 1
    assert result.error == f"{tmp_path / 'nope.json'}: no such file"
