"""What Meltano shows of the plugins' settings: secrets redacted, and the README's settings
tables equal to what `meltano invoke <plugin> --about --format=markdown` prints."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

# scripts/ modules: importable because conftest.py imported meltano_helpers, which adds scripts/
import render_settings_tables
from about_blocks import PLUGINS, about
from meltano_helpers import REPO, Meltano

pytestmark = pytest.mark.slow


def secret_settings(plugin: str) -> set[str]:
    settings = json.loads(about(plugin, "json"))["settings"]["properties"]
    return {name for name, schema in settings.items() if schema.get("secret")}


def readme_block(plugin: str) -> str:
    readme = (REPO / "README.md").read_text()
    start, end = f"<!-- settings:{plugin}:start -->\n", f"<!-- settings:{plugin}:end -->"
    return readme.split(start, 1)[1].split(end, 1)[0]


@pytest.mark.parametrize("plugin", PLUGINS)
def test_config_list_redacts_every_secret(meltano: Meltano, plugin: str) -> None:
    secrets = secret_settings(plugin)
    assert secrets == {"client_secret", "refresh_token", "access_token"}
    prefix = plugin.upper().replace("-", "_")
    values = {name: f"do-not-print-{name}-7f3a" for name in secrets}
    for name, value in values.items():
        meltano.env[f"{prefix}_{name.upper()}"] = value
    meltano.env[f"{prefix}_CLIENT_ID"] = "visible-client-id"

    result = meltano("config", "list", plugin, "--all")

    listed = [line for line in result.stdout.splitlines() if " [env: " in line]
    lines = {line.split(" ", 1)[0]: line for line in listed}
    for name in secrets:
        assert "current value: (redacted)" in lines[name], lines[name]
    for value in values.values():
        assert value not in result.stdout + result.stderr
    assert "current value: 'visible-client-id'" in lines["client_id"]
    # meltano.yml's credential groups, as Meltano reads them
    assert "Group 1: client_id, client_secret, refresh_token" in result.stdout
    assert "Group 2: access_token" in result.stdout


@pytest.mark.parametrize("plugin", PLUGINS)
def test_readme_settings_tables_match_meltano_invoke_about(meltano: Meltano, plugin: str) -> None:
    printed = meltano("invoke", plugin, "--about", "--format=markdown").stdout
    assert "## Settings" in printed
    assert readme_block(plugin) == render_settings_tables.readme_block(printed), (
        "README.md is stale: run `python scripts/render_settings_tables.py`"
    )


def test_meltano_yml_settings_match_the_plugins_about() -> None:
    result = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "sync_meltano_settings.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
