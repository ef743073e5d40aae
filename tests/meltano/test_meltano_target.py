"""`meltano run tap-liveswitch target-liveswitch`: one sandbox copied into another."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from meltano_helpers import Meltano

from liveswitch_api import wire
from liveswitch_api.client import ApiClient
from liveswitch_sandbox.process import SandboxProcess

pytestmark = pytest.mark.slow

HOOKS = [
    {"url": "http://127.0.0.1:9/hook-a", "entityName": "contact", "eventType": "CREATE"},
    {"url": "http://127.0.0.1:9/hook-b", "entityName": "conversation", "eventType": "DELETE"},
]


def api(sandbox: SandboxProcess, token_store: Path) -> ApiClient:
    return ApiClient.from_config(sandbox.config(token_store_path=str(token_store)))


def phones(client: ApiClient) -> set[str]:
    return {contact["phone"] for contact in client.iter_records(wire.CONTACTS, 100)}


def test_tap_into_target_copies_every_record(
    meltano: Meltano, sandbox_with_credentials: Callable[..., SandboxProcess], tmp_path: Path
) -> None:
    source = sandbox_with_credentials(contacts=12, conversations=6, seed=21)
    destination = sandbox_with_credentials(contacts=0, conversations=0, seed=22)
    source_api = api(source, meltano.point("TAP_LIVESWITCH", source))
    for hook in HOOKS:
        source_api.request("POST", wire.WEBHOOKS.path, json=hook)
    destination_store = meltano.point(
        "TARGET_LIVESWITCH",
        destination,
        allow_conversation_invites=True,
        ledger_path=tmp_path / "ledger.sqlite",
        dead_letter_path=tmp_path / "dead-letters.jsonl",
    )

    meltano("run", "tap-liveswitch", "target-liveswitch")

    copied, original = destination.stats()["counts"], source.stats()["counts"]
    assert original == {"contacts": 12, "conversations": 6, "webhooks": 2}
    assert copied == original
    assert phones(api(destination, destination_store)) == phones(source_api)
    assert not (tmp_path / "dead-letters.jsonl").exists()
