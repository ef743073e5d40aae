"""config.sample.json: every setting of both plugins, valid for both, production URLs."""

from __future__ import annotations

import copy
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


def own_schema(plugin: Any) -> dict[str, Any]:
    """The plugin's declared settings, without the SDK's built-in ones.

    The SDK appends its built-in settings to the class attribute in place when a plugin is
    first instantiated (as the SDK suites in other test modules do), so filter them out.
    """
    schema: dict[str, Any] = copy.deepcopy(plugin.config_jsonschema)
    builtin: dict[str, Any] = {"type": "object", "properties": {}}
    plugin.append_builtin_config(builtin)
    for name in builtin["properties"]:
        schema["properties"].pop(name, None)
    return schema


@pytest.fixture(scope="module")
def sample() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((REPO / "config.sample.json").read_text())
    return loaded


def test_sample_lists_every_setting_of_both_plugins(sample: dict[str, Any]) -> None:
    settings = {name for plugin in PLUGINS for name in own_schema(plugin)["properties"]}
    assert set(sample) == settings


@pytest.mark.parametrize("plugin", PLUGINS, ids=lambda plugin: plugin.name)
def test_sample_is_a_valid_config(sample: dict[str, Any], plugin: type[Any]) -> None:
    jsonschema.validate(sample, own_schema(plugin))
    assert config_errors(sample) == []


def test_sample_points_at_production(sample: dict[str, Any]) -> None:
    assert sample["api_url"] == wire.DEFAULT_API_URL
    assert sample["auth_url"] == wire.DEFAULT_AUTH_URL
    assert sample["audience"] == wire.DEFAULT_AUDIENCE
