"""Fixtures for liveswitch-auth tests (helpers are in auth_helpers.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from auth_helpers import LoginProcess

from liveswitch_sandbox.process import SandboxProcess


@pytest.fixture(scope="module")
def auth_sandbox() -> Iterator[SandboxProcess]:
    with SandboxProcess(contacts=3, conversations=2) as running:
        yield running


@pytest.fixture
def login(tmp_path: Path) -> Iterator[Callable[..., LoginProcess]]:
    started: list[LoginProcess] = []

    def start(*args: str) -> LoginProcess:
        process = LoginProcess(list(args), tmp_path)
        started.append(process)
        return process

    yield start
    for process in started:
        process.kill()
