"""`liveswitch-auth check`: refresh the way the tap does, ask `GET /me`, say what will work.

The client is built by ApiClient.from_config, so the refresh goes through the same token store,
lock and rotation as a tap run (the rotated token is saved there). What works is first read from
the granted scopes and the admin flag; what those leave open (the token endpoint may omit
`scope`, `/me` may be refused) is found by asking the API for one record.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TextIO

from liveswitch_api import wire
from liveswitch_api.client import ApiClient, ApiError
from liveswitch_api.login_config import ConfigFileError
from liveswitch_api.login_scopes import (
    TAP_RESOURCES,
    TARGET_RESOURCES,
    Access,
    scope_text,
    tap_access,
    target_access,
)
from liveswitch_api.settings import config_errors


@dataclass(frozen=True)
class CheckResult:
    me: dict[str, Any] | None
    scopes: frozenset[str] | None
    tap: dict[str, Access]
    target: dict[str, Access]

    @property
    def tap_can_run(self) -> bool:
        return any(access.works for access in self.tap.values())


def probe(client: ApiClient, resource: wire.Resource) -> tuple[Access, Any]:
    """Ask for one record: 2xx works, 403 and 404 do not (with why); the body when it works."""
    params = {wire.PAGE_PARAM: 1, wire.PAGE_SIZE_PARAM: 1} if resource.paged else None
    try:
        body = client.request("GET", resource.path, params=params)
    except ApiError as exc:
        if exc.status == wire.FORBIDDEN:
            role = ", as an organization admin" if resource.admin_only else ""
            return Access(False, f"refused (403): needs a granted scope{role}"), None
        if exc.status == wire.NOT_FOUND:
            return Access(False, "the API does not offer it (404)"), None
        raise
    return Access(works=True), body


def run_check(config: Mapping[str, Any], logger: logging.Logger | None = None) -> CheckResult:
    if errors := config_errors(config):
        raise ConfigFileError("; ".join(errors))
    client = ApiClient.from_config(config, logger)
    scopes = client.authenticator.granted_scopes()  # the refresh, through the token store
    me_access = tap_access(wire.ME, scopes, None)
    me: dict[str, Any] | None = None
    if me_access.works is not False:
        me_access, body = probe(client, wire.ME)
        me = body if isinstance(body, dict) else None
    is_admin = me.get("isAdmin") if me else None
    is_admin = is_admin if isinstance(is_admin, bool) else None
    tap = {
        resource.name: me_access
        if resource is wire.ME
        else _settle(client, resource, scopes, is_admin)
        for resource in TAP_RESOURCES
    }
    target = {
        resource.name: target_access(resource, scopes, is_admin) for resource in TARGET_RESOURCES
    }
    return CheckResult(me, scopes, tap, target)


def _settle(
    client: ApiClient,
    resource: wire.Resource,
    scopes: frozenset[str] | None,
    is_admin: bool | None,
) -> Access:
    """Scopes and role first; the API itself when they leave the answer open."""
    access = tap_access(resource, scopes, is_admin)
    return probe(client, resource)[0] if access.works is None else access


def _describe(access: Access) -> str:
    if access.works:
        return "works"
    verdict = "unknown" if access.works is None else "will not work"
    return f"{verdict} ({access.reason})"


def print_report(result: CheckResult, out: TextIO) -> None:
    """The user, organization, admin flag, scopes and streams; nothing secret."""
    me = result.me or {}
    name = " ".join(str(me[key]) for key in ("firstName", "lastName") if me.get(key))
    email = f" <{me['email']}>" if me.get("email") else ""
    why = result.tap[wire.ME.name].reason or "GET /me answered no user"
    user = f"{name}{email} (id {me.get('id')})" if me else f"unknown: {why}"
    admin = (
        "yes"
        if me.get("isAdmin") is True
        else "no (webhooks need an organization admin)"
        if me.get("isAdmin") is False
        else "unknown"
    )
    scopes = (
        "not listed by the token endpoint" if result.scopes is None else scope_text(result.scopes)
    )
    lines = [
        f"user: {user}",
        f"organization: {me.get('organizationId') or 'unknown'}",
        f"admin: {admin}",
        f"granted scopes: {scopes}",
        "tap streams:",
        *(f"  {name}: {_describe(access)}" for name, access in result.tap.items()),
        "target streams:",
        *(f"  {name}: {_describe(access)}" for name, access in result.target.items()),
        "the tap can run" if result.tap_can_run else "the tap cannot run: no stream is readable",
    ]
    print("\n".join(lines), file=out)
