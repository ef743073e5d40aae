"""config.sample.json: every setting of both plugins, valid for both, production URLs."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest
from meltano_helpers import REPO

from liveswitch_api import wire
from liveswitch_api.settings import config_errors
from tap_liveswitch.tap import TapLiveSwitch
from target_liveswitch.target import TargetLiveSwitch

PLUGINS = (TapLiveSwitch, TargetLiveSwitch)


@pytest.fixture(scope="module")
def sample() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((REPO / "config.sample.json").read_text())
    return loaded


def test_sample_lists_every_setting_of_both_plugins(sample: dict[str, Any]) -> None:
    settings = {name for plugin in PLUGINS for name in plugin.config_jsonschema["properties"]}
    assert set(sample) == settings


@pytest.mark.parametrize("plugin", PLUGINS, ids=lambda plugin: plugin.name)
def test_sample_is_a_valid_config(sample: dict[str, Any], plugin: type[Any]) -> None:
    jsonschema.validate(sample, plugin.config_jsonschema)
    assert config_errors(sample) == []


def test_sample_points_at_production(sample: dict[str, Any]) -> None:
    assert sample["api_url"] == wire.DEFAULT_API_URL
    assert sample["auth_url"] == wire.DEFAULT_AUTH_URL
    assert sample["audience"] == wire.DEFAULT_AUDIENCE
