"""The JSON config file `liveswitch-auth` reads (`check`) and writes (`login`, `exchange`).

Writing merges: keys already in the file stay, the given ones are replaced, and the file is
rewritten atomically with owner-only permissions (files.write_private_file), because it holds
the client secret and the refresh token. Error messages name the file, never its content.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from liveswitch_api.files import write_private_file


class ConfigFileError(Exception):
    """The config file cannot be read or written; the message is safe to print."""


def read_config(path: Path, *, missing_ok: bool = False) -> dict[str, Any]:
    """The file's JSON object; {} for a missing file when `missing_ok`."""
    try:
        text = path.read_text()
    except FileNotFoundError:
        if missing_ok:
            return {}
        raise ConfigFileError(f"{path}: no such file") from None
    except OSError as exc:
        raise ConfigFileError(f"{path}: cannot be read ({exc.strerror})") from None
    try:
        config = json.loads(text)
    except ValueError:
        raise ConfigFileError(f"{path}: is not valid JSON") from None
    if not isinstance(config, dict):
        raise ConfigFileError(f"{path}: must hold a JSON object of settings")
    return config


def update_config(path: Path, updates: Mapping[str, str]) -> None:
    """Set `updates` in the file (created if missing), keeping its other keys."""
    config = read_config(path, missing_ok=True)
    config.update(updates)
    try:
        write_private_file(path, json.dumps(config, indent=2) + "\n")
    except OSError as exc:
        raise ConfigFileError(f"{path}: cannot be written ({exc.strerror})") from None
