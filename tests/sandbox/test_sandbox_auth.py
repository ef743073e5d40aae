"""The Auth0 tenant: /authorize, every grant and its errors, rotation, leeway, family revocation."""

from __future__ import annotations

import threading
from urllib.parse import parse_qs, urlsplit

import requests

from liveswitch_api import wire

INVALID_REFRESH = {
    "error": "invalid_grant",
    "error_description": "Unknown or invalid refresh token.",
}
INVALID_CODE = {"error": "invalid_grant", "error_description": "Invalid authorization code"}


def query_of(response):
    return {k: v[0] for k, v in parse_qs(urlsplit(response.headers["Location"]).query).items()}


def fragment_of(response):
    return {k: v[0] for k, v in parse_qs(urlsplit(response.headers["Location"]).fragment).items()}


def test_authorize_code_redirect_and_exchange(sandbox, client_for):
    client = client_for(sandbox)
    response = client.authorize(redirect_uri="http://localhost:9999/cb?x=1", state="s-1")
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.startswith("http://localhost:9999/cb?x=1&")
    params = query_of(response)
    assert params["state"] == "s-1"
    assert params["x"] == "1"
    token = client.exchange(params["code"], redirect_uri="http://localhost:9999/cb?x=1")
    assert token.status_code == 200
    body = token.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 86400
    assert body["scope"].split() == list(wire.ALL_SCOPES)
    assert body["refresh_token"]
    assert body["id_token"].count(".") == 2
    assert len(body["access_token"].split(".")) == 3
    me = client.call("GET", wire.ME.path, body["access_token"])
    assert me.status_code == 200
    assert me.json()["isAdmin"] is True


def test_code_is_single_use_and_bound_to_redirect_uri(sandbox, client_for):
    client = client_for(sandbox)
    code = client.code()
    assert client.exchange(code).status_code == 200
    used = client.exchange(code)
    assert used.status_code == 403
    assert used.json() == INVALID_CODE
    other = client.exchange(client.code(), redirect_uri="http://127.0.0.1:1/elsewhere")
    assert other.status_code == 403
    assert other.json() == INVALID_CODE
    assert client.exchange("no-such-code").json() == INVALID_CODE


def test_form_encoded_token_request(sandbox, client_for):
    client = client_for(sandbox)
    data = {
        "grant_type": "authorization_code",
        "code": client.code(),
        "redirect_uri": "http://127.0.0.1:8765/callback",
        "client_id": sandbox.client_id,
        "client_secret": sandbox.client_secret,
    }
    response = requests.post(sandbox.auth_url + wire.TOKEN_PATH, data=data)
    assert response.status_code == 200
    assert response.json()["access_token"]


def test_client_and_grant_errors(sandbox, client_for):
    client = client_for(sandbox)
    bad = client.token(grant_type="refresh_token", refresh_token="x", client_secret="wrong")
    assert bad.status_code == 401
    assert bad.json() == {"error": "access_denied", "error_description": "Unauthorized"}
    unsupported = client.token(grant_type="password")
    assert unsupported.status_code == 400
    assert unsupported.json()["error"] == "unsupported_grant_type"
    dead = client.refresh("v1.not-a-real-token")
    assert dead.status_code == 403
    assert dead.json() == INVALID_REFRESH


def test_scopes_are_intersected_and_offline_access_gives_a_refresh_token(sandbox, client_for):
    client = client_for(sandbox)
    body = client.login(scope="contacts bogus.scope")
    assert body["scope"] == "contacts"
    assert "refresh_token" not in body
    assert "id_token" not in body


def test_implicit_token_flow(sandbox, client_for):
    client = client_for(sandbox)
    response = client.authorize(response_type="token", nonce="n-1", scope="openid me")
    assert response.status_code == 302
    fragment = fragment_of(response)
    assert fragment["token_type"] == "Bearer"
    assert fragment["state"] == "xyz"
    assert int(fragment["expires_in"]) == 86400
    assert "refresh_token" not in fragment
    assert client.call("GET", "/me", fragment["access_token"]).status_code == 200
    no_nonce = client.authorize(response_type="token")
    assert fragment_of(no_nonce)["error"] == "invalid_request"


def test_authorize_errors(sandbox, client_for):
    client = client_for(sandbox)
    audience = client.authorize(audience="https://elsewhere.example/")
    assert audience.status_code == 302
    params = query_of(audience)
    assert params["error"] == "access_denied"
    assert params["error_description"].startswith("Service not found")
    assert params["state"] == "xyz"
    for redirect_uri in (
        "https://evil.example/cb",
        "http://127.0.0.1/no-port",
        "http://10.0.0.1:80/",
    ):
        refused = client.authorize(redirect_uri=redirect_uri)
        assert refused.status_code == 400
        assert "Location" not in refused.headers
        assert refused.headers["Content-Type"].startswith("text/html")
    assert client.authorize(client_id="unknown").status_code == 400


def test_exact_redirect_whitelist(sandbox_factory, client_for):
    allowed = "http://127.0.0.1:5555/exact"
    sb = sandbox_factory(redirect_uri=[allowed, "http://localhost:5556/other"])
    assert sb.redirect_uri == allowed
    client = client_for(sb)
    assert client.authorize(redirect_uri=allowed).status_code == 302
    assert client.authorize(redirect_uri="http://127.0.0.1:5555/exact2").status_code == 400


def delta(before, after):
    keys = ("rotations", "reuse_within_leeway", "family_revocations")
    return {key: after[key] - before[key] for key in keys} | {
        "refresh_grants": after["grants"]["refresh_token"] - before["grants"]["refresh_token"]
    }


def test_rotation_and_reuse_revokes_the_family(sandbox, client_for):
    client = client_for(sandbox)
    before = sandbox.stats()
    start = client.login()["refresh_token"]  # a family of its own
    first = client.refresh(start)
    assert first.status_code == 200
    second = client.refresh(first.json()["refresh_token"])
    assert second.status_code == 200
    newest = second.json()["refresh_token"]
    access = second.json()["access_token"]
    assert len({start, first.json()["refresh_token"], newest}) == 3
    reused = client.refresh(start)
    assert reused.status_code == 403
    assert reused.json() == INVALID_REFRESH
    assert client.refresh(newest).json() == INVALID_REFRESH  # the newest died with the family
    assert client.call("GET", "/me", access).status_code == 200  # access tokens live on
    assert delta(before, sandbox.stats()) == {
        "rotations": 2,
        "reuse_within_leeway": 0,
        "family_revocations": 1,
        "refresh_grants": 2,
    }


def test_reuse_within_leeway_gets_a_fresh_token(sandbox_factory, client_for):
    sb = sandbox_factory(reuse_leeway=30)
    client = client_for(sb)
    first = client.refresh(sb.refresh_token)
    again = client.refresh(sb.refresh_token)
    assert again.status_code == 200
    assert again.json()["refresh_token"] != first.json()["refresh_token"]
    assert client.refresh(first.json()["refresh_token"]).status_code == 200
    stats = sb.stats()
    assert stats["reuse_within_leeway"] == 1
    assert stats["family_revocations"] == 0


def test_rotation_off_keeps_the_refresh_token(sandbox_factory, client_for):
    sb = sandbox_factory(rotate_refresh_tokens=False, scope_in_token_response=False)
    client = client_for(sb)
    for _ in range(3):
        response = client.refresh(sb.refresh_token)
        assert response.status_code == 200
        assert "refresh_token" not in response.json()
        assert "scope" not in response.json()
    assert sb.stats()["rotations"] == 0


def test_concurrent_refreshes_have_exactly_one_winner(sandbox, client_for):
    before = sandbox.stats()
    start = client_for(sandbox).login()["refresh_token"]
    barrier = threading.Barrier(6)
    statuses = []

    def refresh():
        client = client_for(sandbox)
        barrier.wait()
        statuses.append(client.refresh(start).status_code)

    threads = [threading.Thread(target=refresh) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200, 403, 403, 403, 403, 403]
    change = delta(before, sandbox.stats())
    assert change["rotations"] == 1
    assert change["family_revocations"] == 1  # the first reuse revokes; the rest find it dead


def test_expired_access_tokens_get_401(sandbox, client_for):
    sb = sandbox
    client = client_for(sb)
    refreshed = client.refresh(client.login()["refresh_token"]).json()
    assert client.call("GET", "/me", refreshed["access_token"]).status_code == 200
    sb.expire_access_tokens()
    expired = client.call("GET", "/me", refreshed["access_token"])
    assert expired.status_code == 401
    assert expired.content == b""
    assert expired.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'
    fresh = client.refresh(refreshed["refresh_token"]).json()["access_token"]
    assert client.call("GET", "/me", fresh).status_code == 200


def test_token_ttl(sandbox_factory, client_for):
    sb = sandbox_factory(token_ttl=0)
    client = client_for(sb)
    body = client.refresh(sb.refresh_token).json()
    assert body["expires_in"] == 0
    assert client.call("GET", "/me", body["access_token"]).status_code == 401
