"""Shared fixtures: a local LiveSwitch sandbox process (liveswitch_sandbox/process.py).

`sandbox` (module-scoped, default options) and `sandbox_factory(**options)` (a started
sandbox per call, stopped at the test's teardown). Keep this file small: put feature fixtures
in the test modules that need them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

# Imported from the submodule so it works whether or not the package root is on sys.path.
from liveswitch_sandbox.process import SandboxProcess


@pytest.fixture
def sandbox_factory() -> Iterator[Callable[..., SandboxProcess]]:
    started: list[SandboxProcess] = []

    def start(*args: str, **options: object) -> SandboxProcess:
        sandbox = SandboxProcess(*args, **options)
        started.append(sandbox)
        return sandbox.start()

    yield start
    for sandbox in started:
        sandbox.stop()


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxProcess]:
    with SandboxProcess() as running:
        yield running
