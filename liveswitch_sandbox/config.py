"""The sandbox's settings: one frozen value built by the CLI and read by every part."""

from __future__ import annotations

from dataclasses import dataclass

from liveswitch_api import wire

DEFAULT_REDIRECT_URI = "http://127.0.0.1:8765/callback"


@dataclass(frozen=True)
class SandboxConfig:
    """Every switch of `liveswitch-sandbox serve` (see cli.py for the help texts)."""

    host: str = "127.0.0.1"
    port: int = 0
    seed: int = 1
    contacts: int = 250
    conversations: int = 120
    latency_ms: float = 0.0
    rate_limit: int = 0
    rate_limit_headers: bool = True
    fault_rate: float = 0.0
    page_base: int = 1
    max_page_size: int = wire.DEFAULT_PAGE_SIZE
    ignore_page: bool = False
    token_ttl: int = 86400
    rotate_refresh_tokens: bool = True
    reuse_leeway: float = 0.0
    admin: bool = True
    scopes: tuple[str, ...] = wire.ALL_SCOPES
    scope_in_token_response: bool = True
    client_id: str | None = None
    client_secret: str | None = None
    refresh_token: str | None = None
    redirect_uris: tuple[str, ...] = ()
    log_level: str = "INFO"
