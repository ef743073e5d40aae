"""A local, real-HTTP emulator of the LiveSwitch `/v1` API and its Auth0 tenant.

Start it with `liveswitch-sandbox serve` or, from Python, with `SandboxProcess` (process.py).
Standard library only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from liveswitch_sandbox.process import SandboxProcess

__all__ = ["SandboxProcess"]


def __getattr__(name: str) -> Any:
    # Lazy, so the server process does not import the client side (urllib.request, subprocess).
    if name == "SandboxProcess":
        from liveswitch_sandbox.process import SandboxProcess

        return SandboxProcess
    raise AttributeError(f"module 'liveswitch_sandbox' has no attribute {name!r}")
