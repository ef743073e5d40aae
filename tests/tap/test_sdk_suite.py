"""The SDK's standard tap tests, run against a sandbox started for this module."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from singer_sdk.testing import SuiteConfig, get_tap_test_class

from liveswitch_sandbox.process import SandboxProcess
from tap_liveswitch.tap import TapLiveSwitch

# The suite builds its test class at import time from this dict and reads it again when it
# runs; the fixture below fills in the live sandbox's URLs and credentials before then.
SANDBOX_CONFIG: dict = {
    "client_id": "placeholder",
    "client_secret": "placeholder",
    "refresh_token": "placeholder",
    "api_url": "http://127.0.0.1:9/v1",
    "auth_url": "http://127.0.0.1:9",
}


@pytest.fixture(scope="module", autouse=True)
def live_sandbox() -> Iterator[SandboxProcess]:
    with (
        SandboxProcess(contacts=120, conversations=40) as sandbox,
        tempfile.TemporaryDirectory() as tmp,
    ):
        SANDBOX_CONFIG.update(sandbox.config(token_store_path=str(Path(tmp) / "tokens.json")))
        yield sandbox


TestTapLiveSwitch = get_tap_test_class(
    TapLiveSwitch,
    config=SANDBOX_CONFIG,
    # the sandbox seeds no webhook subscriptions
    suite_config=SuiteConfig(ignore_no_records_for_streams=["webhooks"]),
)
