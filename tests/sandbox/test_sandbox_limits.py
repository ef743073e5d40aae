"""Rate limit, seeded faults (repeatable, and served before any state changes)."""

from __future__ import annotations

import requests

from liveswitch_api import wire


def outcome(method, url, **kwargs):
    """What one request met, on a fresh connection (a dropped one must not poison the next)."""
    try:
        response = requests.request(method, url, headers={"Connection": "close"}, **kwargs)
    except requests.ConnectionError:
        return "drop"
    if response.status_code == 200:
        try:
            response.json()
        except ValueError:
            return "malformed"
    return str(response.status_code)


def test_rate_limit_answers_429_with_retry_after(sandbox_factory, client_for):
    sb = sandbox_factory(rate_limit=3, contacts=1, conversations=0)
    client = client_for(sb)
    statuses = [client.call("GET", "/me").status_code for _ in range(10)]
    assert statuses.count(429) >= 4
    assert set(statuses) == {401, 429}
    limited = client.call("GET", "/me")
    while limited.status_code != 429:
        limited = client.call("GET", "/me")
    assert int(limited.headers["Retry-After"]) >= 1
    assert limited.headers["x-ratelimit-limit"] == "3"
    token = client.refresh("v1.whatever")
    while token.status_code != 429:
        token = client.refresh("v1.whatever")
    assert token.json()["error"] == "too_many_requests"
    assert {"x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset", "retry-after"} <= {
        name.lower() for name in token.headers
    }
    assert sb.stats()["statuses"]["429"] >= 6
    # the test hooks are never limited
    assert all(sb.stats() for _ in range(10))


def test_rate_limit_without_window_headers_and_its_per_window_counts(sandbox_factory, client_for):
    sb = sandbox_factory(rate_limit=3, rate_limit_headers=False, contacts=1, conversations=0)
    client = client_for(sb)
    answers = [client.call("GET", "/me") for _ in range(10)]
    limited = [a for a in answers if a.status_code == 429]
    assert limited
    assert all(int(a.headers["Retry-After"]) >= 1 for a in limited)
    assert not any(name.lower().startswith("x-ratelimit") for a in answers for name in a.headers)
    windows = sb.stats()["rate_windows"]
    assert sum(windows.values()) == 10 - len(limited)
    assert all(1 <= count <= 3 for count in windows.values())


def run_sequence(sb):
    results = []
    for index in range(40):
        results.append(outcome("GET", f"{sb.api_url}/contacts?page={index % 4}"))
    for _ in range(10):
        results.append(outcome("POST", sb.auth_url + wire.TOKEN_PATH, json={}))
    return results


def test_faults_are_seeded_and_repeatable(sandbox_factory):
    first = sandbox_factory(seed=7, fault_rate=0.5, contacts=5, conversations=0)
    second = sandbox_factory(seed=7, fault_rate=0.5, contacts=5, conversations=0)
    other = sandbox_factory(seed=8, fault_rate=0.5, contacts=5, conversations=0)
    results = run_sequence(first)
    assert run_sequence(second) == results
    assert run_sequence(other) != results
    faults = first.stats()["faults"]
    assert faults == second.stats()["faults"]
    assert sum(faults.values()) == sum(1 for r in results if r not in ("401", "400"))
    assert sum(1 for count in faults.values() if count) >= 4  # most kinds show up
    assert set(results) - {"401", "400"} <= {"500", "502", "503", "drop", "malformed"}


def test_no_faults_by_default(sandbox):
    results = [outcome("GET", f"{sandbox.api_url}/contacts") for _ in range(20)]
    assert results == ["401"] * 20


def until_served(method, url, headers=None, **kwargs):
    """Repeat one request until it is not faulted; return the served response."""
    for _ in range(100):
        try:
            response = requests.request(
                method, url, headers={"Connection": "close", **(headers or {})}, **kwargs
            )
        except requests.ConnectionError:
            continue
        if response.status_code in (500, 502, 503):
            continue
        try:
            response.json()
        except ValueError:
            continue
        return response
    raise AssertionError("every attempt was faulted")


def test_a_faulted_request_changes_nothing(sandbox_factory):
    sb = sandbox_factory(seed=3, fault_rate=0.6, contacts=2, conversations=0)
    body = {
        "grant_type": "refresh_token",
        "refresh_token": sb.refresh_token,
        "client_id": sb.client_id,
        "client_secret": sb.client_secret,
    }
    # had a faulted attempt used the token up, the served one would be a reuse (403)
    served = until_served("POST", sb.auth_url + wire.TOKEN_PATH, json=body)
    assert served.status_code == 200
    bearer = {"Authorization": f"Bearer {served.json()['access_token']}"}
    # had a faulted create created the contact, the served one would be a 409
    created = until_served(
        "POST", f"{sb.api_url}/contacts", headers=bearer, json={"phone": "+15551230000"}
    )
    assert created.status_code == 201
    stats = sb.stats()
    assert stats["counts"]["contacts"] == 3
    assert stats["records"]["contacts"]["created"] == 1
    assert stats["rotations"] == 1
    assert stats["family_revocations"] == 0
    assert sum(stats["faults"].values()) >= 1  # the loops above did meet faults
