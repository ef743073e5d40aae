"""Rewrite the tap's and target's capabilities and settings in meltano.yml from their `--about`.

Each plugin's block sits between `# about:<plugin>:start` and `# about:<plugin>:end` comment
lines. JSON-schema types become Meltano setting kinds; `secret` settings become
`kind: string` with `sensitive: true` (Meltano's `kind: password` is deprecated); enums become
`kind: options`. Run `python scripts/sync_meltano_settings.py` after changing a setting;
`--check` fails if meltano.yml is stale.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import yaml
from about_blocks import PLUGINS, REPO_ROOT, about, replace_block, run

MELTANO_YML = REPO_ROOT / "meltano.yml"
# the plugin entries sit at this depth under `plugins: extractors|loaders:`
INDENT = " " * 4
KINDS = {
    "string": "string",
    "integer": "integer",
    "number": "decimal",
    "boolean": "boolean",
    "object": "object",
    "array": "array",
}


def setting_kind(schema: dict[str, Any]) -> str:
    if "enum" in schema:
        return "options"
    if schema.get("format") == "date-time":
        return "date_iso8601"
    types = schema.get("type", "string")
    types = [types] if isinstance(types, str) else types
    return KINDS[next(t for t in types if t != "null")]


def setting(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    definition: dict[str, Any] = {"name": name, "label": schema.get("title") or name}
    definition["kind"] = setting_kind(schema)
    if definition["kind"] == "options":
        definition["options"] = [{"label": str(v), "value": v} for v in schema["enum"]]
    if schema.get("secret"):
        definition["sensitive"] = True
    if schema.get("default") is not None:
        definition["value"] = schema["default"]
    definition["description"] = schema.get("description", "")
    return definition


def plugin_block(plugin: str) -> str:
    described = json.loads(about(plugin, "json"))
    block = {
        "capabilities": described["capabilities"],
        "settings": [setting(n, s) for n, s in described["settings"]["properties"].items()],
    }
    text = yaml.safe_dump(block, sort_keys=False, width=96, allow_unicode=True)
    return "".join(INDENT + line if line.strip() else line for line in text.splitlines(True))


def render(meltano_yml: str) -> str:
    for plugin in PLUGINS:
        meltano_yml = replace_block(
            meltano_yml,
            f"# about:{plugin}:start",
            f"# about:{plugin}:end",
            plugin_block(plugin),
            where="meltano.yml",
        )
    return meltano_yml


if __name__ == "__main__":
    sys.exit(run(MELTANO_YML, render, __doc__.splitlines()[0]))
