"""Fixtures for tap tests: a sandbox-backed config with its own token store."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from singer_run import SingerRun, run_tap, secrets_in, stored_tokens

from liveswitch_sandbox.process import SandboxProcess


def known_secrets(sandbox: SandboxProcess, config: dict[str, Any]) -> list[str]:
    """The config's secrets and every token the token store has seen."""
    secrets = [sandbox.client_secret, sandbox.refresh_token]
    secrets += [str(config.get(k) or "") for k in ("refresh_token", "access_token")]
    return secrets + stored_tokens(Path(str(config["token_store_path"])))


@pytest.fixture
def tap(tmp_path: Path) -> Callable[..., SingerRun]:
    """Run tap-liveswitch against a sandbox; every run is checked for leaked secrets."""

    def run(
        sandbox: SandboxProcess, config: dict[str, Any] | None = None, **kwargs: Any
    ) -> SingerRun:
        config = config or sandbox.config(token_store_path=str(tmp_path / "tokens.json"))
        result = run_tap(config, tmp_path, **kwargs)
        leaked = secrets_in(result.stdout + result.stderr, known_secrets(sandbox, config))
        assert not leaked, f"secrets in the tap's output: {leaked}"
        return result

    return run
