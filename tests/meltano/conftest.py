"""Real Meltano (pinned, in its own venv from scripts/tools.py) driving this project's meltano.yml.

`meltano install` runs once per test session into the project's `.meltano/`; each test gets its
own system database (so its own state), token stores and output folder under tmp_path, and runs
in the `sandbox` environment with the URLs pointed at a sandbox it started.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from meltano_helpers import Meltano, installed_meltano
from meltano_project import sandbox_credentials

from liveswitch_sandbox.process import SandboxProcess


@pytest.fixture(scope="session")
def meltano_executable() -> Path:
    return installed_meltano()


@pytest.fixture(scope="session")
def meltano_installed(meltano_executable: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    Meltano(meltano_executable, tmp_path_factory.mktemp("meltano-install"))("install")
    return meltano_executable


@pytest.fixture
def meltano(meltano_installed: Path, tmp_path: Path) -> Meltano:
    return Meltano(meltano_installed, tmp_path)


@pytest.fixture
def sandbox_with_credentials() -> Iterator[Callable[..., SandboxProcess]]:
    """Sandboxes that accept the `sandbox` environment's credentials, stopped at teardown."""
    started: list[SandboxProcess] = []

    def start(**options: object) -> SandboxProcess:
        sandbox = SandboxProcess(**sandbox_credentials(), **options)
        started.append(sandbox)
        return sandbox.start()

    yield start
    for sandbox in started:
        sandbox.stop()
