"""A durable, locked home for the rotating refresh token (and the access token it bought).

Auth0 rotation uses a refresh token up: presenting it twice revokes the whole family. So the
newest token must survive the process that received it, and two processes must never refresh
with the same token at once. Meltano writes a fresh config file each run, so the config cannot be
that home; this file is. One file can serve several apps: entries are keyed by token endpoint
and client id.

Writes are atomic (files.write_private_file), so a crash leaves either the old or the new token,
never half of one. The file is created 0600 and its folder 0700. A sibling `.lock` file, held
with flock, serializes refreshes across processes.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from liveswitch_api.files import ensure_private_folder, write_private_file

STORE_FILE_NAME = "tokens.json"


def default_state_dir() -> Path:
    """Per-user state folder: `$LIVESWITCH_STATE_DIR`, else `$XDG_STATE_HOME/liveswitch-singer`,
    else `~/.local/state/liveswitch-singer`. It outlives Meltano's per-run config files."""
    if explicit := os.environ.get("LIVESWITCH_STATE_DIR"):
        return Path(explicit).expanduser()
    base = os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state"
    return Path(base).expanduser() / "liveswitch-singer"


def default_token_store_path() -> Path:
    return default_state_dir() / STORE_FILE_NAME


def fingerprint(secret: str) -> str:
    """A one-way name for a secret, so the store can tell which configured token it came from."""
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass
class StoredTokens:
    """The newest tokens of one family."""

    refresh_token: str | None
    # fingerprint of the refresh token the user configured; a different configured token wins
    origin: str
    access_token: str | None = None
    renew_at: float = 0.0  # when the access token is due for renewal
    scope: str | None = None
    updated_at: float = 0.0


class TokenStore:
    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path).expanduser()
        self.lock_path = self.path.with_name(self.path.name + ".lock")

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the store's inter-process lock (blocking) for a read-refresh-write cycle."""
        ensure_private_folder(self.path.parent)
        fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def read(self, key: str) -> StoredTokens | None:
        entry = self._read_all().get(key)
        if not isinstance(entry, dict):
            return None
        try:
            return StoredTokens(**entry)
        except TypeError:
            return None

    def write(self, key: str, tokens: StoredTokens) -> None:
        tokens.updated_at = time.time()
        entries = self._read_all()
        entries[key] = asdict(tokens)
        self._write_all(entries)

    def _read_all(self) -> dict[str, object]:
        try:
            data = json.loads(self.path.read_text())
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            msg = f"token_store_path {self.path} is unreadable ({type(exc).__name__}); move it away"
            raise TokenStoreError(msg) from None
        entries = data.get("entries") if isinstance(data, dict) else None
        return entries if isinstance(entries, dict) else {}

    def _write_all(self, entries: dict[str, object]) -> None:
        write_private_file(self.path, json.dumps({"version": 1, "entries": entries}, indent=1))


class TokenStoreError(Exception):
    """The token store cannot be used; the message names the path, never a token."""
