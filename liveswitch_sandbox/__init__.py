"""A local, real-HTTP emulator of the LiveSwitch `/v1` API and its Auth0 tenant.

Start it with `liveswitch-sandbox serve` or, from Python, with `SandboxProcess` (process.py).
Standard library only.
"""

from liveswitch_sandbox.process import SandboxProcess

__all__ = ["SandboxProcess"]
