"""The tap's auth against the sandbox's Auth0: rotation, expiry, 401s, scopes, bad configs."""

from __future__ import annotations

import json
import os
import stat
import subprocess

import pytest
import requests
from singer_run import BIN, write_json


def test_three_runs_and_two_parallel_runs_share_one_rotating_family(sandbox_factory, tap, tmp_path):
    # a 1-second token makes every run refresh, so each run rotates the refresh token
    sandbox = sandbox_factory(contacts=40, conversations=10, token_ttl=1, latency_ms=5)
    config = sandbox.config(token_store_path=str(tmp_path / "tokens.json"))
    for _ in range(3):
        tap(sandbox, config).check()
        subprocess.run(["sleep", "1"], check=True)
    command = [
        str(BIN / "tap-liveswitch"),
        "--config",
        str(write_json(tmp_path / "c.json", config)),
    ]
    parallel = [
        subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    for process in parallel:
        _, stderr = process.communicate(timeout=120)
        assert process.returncode == 0, stderr[-2000:]
    stats = sandbox.stats()
    assert stats["family_revocations"] == 0
    assert stats["rotations"] >= 3
    mode = stat.S_IMODE(os.stat(tmp_path / "tokens.json").st_mode)
    assert mode == 0o600


def test_sync_that_outlives_its_token_refreshes_and_completes(sandbox_factory, tap, tmp_path):
    # one page at a time, 35 pages of 80 ms: the sync takes longer than the 2-second token
    sandbox = sandbox_factory(contacts=300, conversations=50, token_ttl=2, latency_ms=80)
    config = sandbox.config(
        token_store_path=str(tmp_path / "tokens.json"), page_size=10, max_concurrent_requests=1
    )
    result = tap(sandbox, config).check()
    assert len(result.ids("contacts")) == 300
    assert sandbox.stats()["grants"]["refresh_token"] >= 2
    assert sandbox.stats()["family_revocations"] == 0


def test_a_401_refreshes_once_and_resends(sandbox_factory, tap, tmp_path):
    sandbox = sandbox_factory(contacts=20, conversations=5)
    config = sandbox.config(token_store_path=str(tmp_path / "tokens.json"))
    tap(sandbox, config).check()  # leaves a valid access token in the store
    sandbox.expire_access_tokens()  # ... which the server now refuses
    before = sandbox.stats()
    result = tap(sandbox, config).check()
    after = sandbox.stats()
    assert len(result.ids("contacts")) == 20
    assert after["statuses"].get("401", 0) - before["statuses"].get("401", 0) == 1
    assert after["grants"]["refresh_token"] - before["grants"]["refresh_token"] == 1


def test_rotation_off_keeps_working_with_the_same_token(sandbox_factory, tap, tmp_path):
    sandbox = sandbox_factory(
        contacts=20, conversations=5, rotate_refresh_tokens=False, token_ttl=1
    )
    config = sandbox.config(token_store_path=str(tmp_path / "tokens.json"))
    for _ in range(2):
        assert len(tap(sandbox, config).check().ids("contacts")) == 20
        subprocess.run(["sleep", "1"], check=True)
    assert sandbox.stats()["rotations"] == 0


def test_a_new_refresh_token_in_the_config_wins_over_the_stored_one(sandbox_factory, tap, tmp_path):
    sandbox = sandbox_factory(contacts=10, conversations=5, token_ttl=1)
    store = tmp_path / "tokens.json"
    tap(sandbox, sandbox.config(token_store_path=str(store))).check()
    # a fresh login: a new family, from a new code exchange
    fresh = _fresh_refresh_token(sandbox)
    subprocess.run(["sleep", "1"], check=True)
    config = sandbox.config(token_store_path=str(store), refresh_token=fresh)
    tap(sandbox, config).check()
    stored = next(iter(json.loads(store.read_text())["entries"].values()))
    assert stored["refresh_token"] not in (sandbox.refresh_token, fresh)  # rotated from `fresh`
    assert sandbox.stats()["family_revocations"] == 0


def _fresh_refresh_token(sandbox) -> str:
    redirect = requests.get(
        sandbox.auth_url + "/authorize",
        params={
            "response_type": "code",
            "client_id": sandbox.client_id,
            "redirect_uri": sandbox.redirect_uri,
            "state": "s",
            "scope": "openid offline_access contacts conversations webhooks me",
            "audience": "https://public-api.production.liveswitch.com/",
        },
        allow_redirects=False,
        timeout=10,
    )
    code = (
        requests.utils.urlparse(redirect.headers["Location"]).query.split("code=")[1].split("&")[0]
    )
    answer = requests.post(
        sandbox.auth_url + "/oauth/token",
        json={
            "grant_type": "authorization_code",
            "code": code,
            "client_id": sandbox.client_id,
            "client_secret": sandbox.client_secret,
            "redirect_uri": sandbox.redirect_uri,
        },
        timeout=10,
    )
    return answer.json()["refresh_token"]


def test_dead_refresh_token_fails_with_a_hint_and_without_the_token(sandbox_factory, tap, tmp_path):
    sandbox = sandbox_factory(contacts=5, conversations=5)
    dead = "v1.this-token-was-never-issued-0123456789"
    config = sandbox.config(token_store_path=str(tmp_path / "tokens.json"), refresh_token=dead)
    result = tap(sandbox, config)
    assert result.returncode != 0
    assert "refresh token was refused" in result.stderr
    assert "liveswitch-auth login" in result.stderr
    assert dead not in result.stderr


def test_access_token_mode_works_then_says_how_to_renew(sandbox_factory, tap, tmp_path):
    sandbox = sandbox_factory(contacts=15, conversations=5)
    access = requests.post(
        sandbox.auth_url + "/oauth/token",
        json={
            "grant_type": "refresh_token",
            "refresh_token": sandbox.refresh_token,
            "client_id": sandbox.client_id,
            "client_secret": sandbox.client_secret,
        },
        timeout=10,
    ).json()["access_token"]
    config = {
        "api_url": sandbox.api_url,
        "auth_url": sandbox.auth_url,
        "access_token": access,
        "token_store_path": str(tmp_path / "tokens.json"),
    }
    assert len(tap(sandbox, config).check().ids("contacts")) == 15
    sandbox.expire_access_tokens()
    expired = tap(sandbox, config)
    assert expired.returncode != 0
    assert "--response-type token" in expired.stderr
    assert access not in expired.stderr


@pytest.mark.parametrize(
    ("override", "setting"),
    [
        ({"client_secret": None}, "client_secret"),
        ({"refresh_token": ""}, "refresh_token"),
        ({"api_url": "ftp://127.0.0.1/v1"}, "api_url"),
        ({"auth_url": "http://auth.example.com"}, "auth_url"),
        ({"start_date": "last tuesday"}, "start_date"),
        ({"max_retries": -1}, "max_retries"),
    ],
)
def test_bad_config_fails_before_any_request_naming_the_setting(
    sandbox_factory, tap, tmp_path, override, setting
):
    sandbox = sandbox_factory(contacts=5, conversations=5)
    config = sandbox.config(token_store_path=str(tmp_path / "tokens.json"))
    config.update(override)
    config = {k: v for k, v in config.items() if v is not None}
    result = tap(sandbox, config)
    assert result.returncode != 0
    assert setting in result.stderr
    assert sum(sandbox.stats()["requests"].values()) == 0


def test_non_admin_skips_webhooks_with_a_warning(sandbox_factory, tap):
    sandbox = sandbox_factory(contacts=25, conversations=5, admin=False)
    result = tap(sandbox).check()
    assert "stream 'webhooks' skipped" in result.stderr
    assert "admin" in result.stderr
    assert len(result.ids("contacts")) == 25


@pytest.mark.parametrize("scope_in_response", [True, False], ids=["scope-granted", "scope-unknown"])
def test_missing_scope_skips_that_stream(sandbox_factory, tap, scope_in_response):
    options = {} if scope_in_response else {"no_scope_in_token_response": True}
    sandbox = sandbox_factory(
        contacts=25, conversations=5, scopes="openid offline_access contacts me webhooks", **options
    )
    result = tap(sandbox).check()
    assert "stream 'conversations' skipped" in result.stderr
    assert "`conversations` scope" in result.stderr
    assert result.records("conversations") == []
    assert len(result.ids("contacts")) == 25
    if scope_in_response:  # known scopes: the request is not even sent
        assert "GET /v1/conversations" not in sandbox.stats()["requests"]
