"""What a set of granted scopes (and the admin role) opens: tap streams, target streams.

Reads accept the read scope or its `.write` scope; the target's streams need the `.write` scope;
webhooks need an organization admin as well. `None` for scopes or admin means "not known", and
the answer is then None too, so a caller can find out another way (login_check asks the API).
"""

from __future__ import annotations

from dataclasses import dataclass

from liveswitch_api import wire

TAP_RESOURCES = wire.RESOURCES
TARGET_RESOURCES = tuple(resource for resource in wire.RESOURCES if resource.write_scope)


@dataclass(frozen=True)
class Access:
    """Whether a stream will work (None: not known) and, if not, why."""

    works: bool | None
    reason: str = ""


def _read_scopes(resource: wire.Resource) -> str:
    return " or ".join(filter(None, (resource.read_scope, resource.write_scope)))


def _admin_access(resource: wire.Resource, is_admin: bool | None) -> Access:
    if not resource.admin_only or is_admin:
        return Access(works=True)
    if is_admin is None:
        return Access(None, "needs an organization admin; not known whether the user is one")
    return Access(works=False, reason="needs an organization admin")


def tap_access(
    resource: wire.Resource, scopes: frozenset[str] | None, is_admin: bool | None
) -> Access:
    if scopes is None:
        return Access(None, "the token endpoint did not list the granted scopes")
    if not resource.readable_with(scopes):
        return Access(works=False, reason=f"needs scope {_read_scopes(resource)}")
    return _admin_access(resource, is_admin)


def target_access(
    resource: wire.Resource, scopes: frozenset[str] | None, is_admin: bool | None
) -> Access:
    if scopes is None:
        return Access(None, "the token endpoint did not list the granted scopes")
    if resource.write_scope not in scopes:
        return Access(works=False, reason=f"needs scope {resource.write_scope}")
    return _admin_access(resource, is_admin)


def scope_text(scopes: frozenset[str]) -> str:
    """Scopes in the contract's order, unknown ones after them."""
    known = [scope for scope in wire.ALL_SCOPES if scope in scopes]
    return " ".join(known + sorted(scopes.difference(wire.ALL_SCOPES)))


def missing_scope_warnings(scopes: frozenset[str]) -> list[str]:
    """One line per scope of the contract that was not granted and costs something."""
    warnings = []
    for scope in wire.ALL_SCOPES:
        if scope in scopes:
            continue
        if scope == wire.OFFLINE_ACCESS:
            warnings.append(
                f"scope {scope} not granted: no refresh token, so the tap and target "
                "cannot run unattended"
            )
            continue
        lost = [
            f"tap stream {resource.name}"
            for resource in TAP_RESOURCES
            if scope in (resource.read_scope, resource.write_scope)
            and not resource.readable_with(scopes)
        ] + [
            f"target stream {resource.name}"
            for resource in TARGET_RESOURCES
            if scope == resource.write_scope
        ]
        if lost:
            warnings.append(f"scope {scope} not granted: {' and '.join(lost)} will not work")
    return warnings
