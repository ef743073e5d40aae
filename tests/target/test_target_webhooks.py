"""The webhooks stream: a declared set of subscriptions, pruning, and the admin role."""

from __future__ import annotations

from typing import Any

from target_helpers import Factory, TargetRunner, outcome, singer, summary, writes

from liveswitch_api import wire
from liveswitch_api.client import ApiClient
from liveswitch_sandbox.process import SandboxProcess


def hook(path: str, entity: str = "contact", event: str = "CREATE") -> dict[str, Any]:
    return {"url": f"http://127.0.0.1:9/{path}", "entityName": entity, "eventType": event}


def subscriptions(sandbox: SandboxProcess, target: TargetRunner) -> list[tuple[str, str, str]]:
    api = ApiClient.from_config(target.config(sandbox))
    return sorted(
        (h["url"], h["entityName"], h["eventType"]) for h in api.request("GET", "/webhooks")
    )


def test_creates_the_missing_leaves_the_identical_and_prunes_the_rest(
    sandbox_factory: Factory, target: TargetRunner
) -> None:
    sandbox = sandbox_factory(contacts=0, conversations=0)
    api = ApiClient.from_config(target.config(sandbox))
    api.request("POST", wire.WEBHOOKS.path, json=hook("old", "conversation", "DELETE"))
    api.request("POST", wire.WEBHOOKS.path, json=hook("kept"))

    # Entity and event compare case-insensitively, as the API does.
    declared = [hook("kept", "Contact", "create"), hook("new", "conversation", "UPDATE")]
    result = target(sandbox, singer("webhooks", declared, key_properties=())).check()
    assert summary(result, "webhooks") == outcome(created=1, unchanged=1)
    assert len(subscriptions(sandbox, target)) == 3  # no pruning unless asked

    pruned = target(sandbox, singer("webhooks", declared, key_properties=()), prune_webhooks=True)
    pruned.check()
    assert summary(pruned, "webhooks") == outcome(unchanged=2, deleted=1)
    assert subscriptions(sandbox, target) == [
        ("http://127.0.0.1:9/kept", "contact", "CREATE"),
        ("http://127.0.0.1:9/new", "conversation", "UPDATE"),
    ]
    assert writes(sandbox) == {
        "POST /v1/webhooks": 3,
        "DELETE /v1/webhooks/{id}": 1,
    }


def test_a_rejected_subscription_stops_pruning(
    sandbox_factory: Factory, target: TargetRunner
) -> None:
    sandbox = sandbox_factory(contacts=0, conversations=0)
    api = ApiClient.from_config(target.config(sandbox))
    api.request("POST", wire.WEBHOOKS.path, json=hook("other"))
    declared = [hook("fine"), hook("bad", "invoice", "CREATE")]
    result = target(sandbox, singer("webhooks", declared, key_properties=()), prune_webhooks=True)
    assert result.returncode == 1
    assert "not pruning" in result.stderr
    assert len(subscriptions(sandbox, target)) == 2
    [line] = target.dead_letters
    assert "entityName one of contact, conversation" in line["error"]


def test_without_the_admin_role_each_subscription_is_rejected_saying_why(
    sandbox_factory: Factory, target: TargetRunner
) -> None:
    sandbox = sandbox_factory(contacts=0, conversations=0, admin=False)
    lines = singer("webhooks", [hook("a"), hook("b")], key_properties=())
    result = target(sandbox, lines)
    assert result.returncode == 1
    assert summary(result, "webhooks") == outcome(rejected=2)
    assert [line["status"] for line in target.dead_letters] == [403, 403]
    assert all("needs an organization admin" in line["error"] for line in target.dead_letters)
    assert "needs an organization admin" in result.stderr
    assert writes(sandbox) == {}
