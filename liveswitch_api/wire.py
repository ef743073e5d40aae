"""The LiveSwitch API's wire facts, in one place (see shared/liveswitch-api.md).

Hosts, OAuth parameters, resource paths and scopes, page rules and webhook vocabulary. The tap,
the target, the login helper and the sandbox all read them from here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

DEFAULT_API_URL = "https://public-api.production.liveswitch.com/v1"
DEFAULT_AUTH_URL = "https://supbubble-prod.us.auth0.com"
# The trailing slash is part of the audience: Auth0 compares it literally.
DEFAULT_AUDIENCE = "https://public-api.production.liveswitch.com/"
AUTHORIZE_PATH = "/authorize"
TOKEN_PATH = "/oauth/token"

OFFLINE_ACCESS = "offline_access"
IDENTITY_SCOPES = ("openid", "profile", "email")


@dataclass(frozen=True)
class Resource:
    """One API collection: where it lives and which scopes open it."""

    name: str
    path: str
    read_scope: str
    write_scope: str | None = None
    paged: bool = False
    admin_only: bool = False

    def readable_with(self, granted: Iterable[str]) -> bool:
        """A read accepts the read scope or its `.write` scope (assumed in the contract)."""
        granted = set(granted)
        return self.read_scope in granted or (self.write_scope or "") in granted

    def item_path(self, item_id: str) -> str:
        return f"{self.path}/{item_id}"


CONTACTS = Resource("contacts", "/contacts", "contacts", "contacts.write", paged=True)
CONVERSATIONS = Resource(
    "conversations", "/conversations", "conversations", "conversations.write", paged=True
)
WEBHOOKS = Resource("webhooks", "/webhooks", "webhooks", "webhooks.write", admin_only=True)
ME = Resource("me", "/me", "me")
RESOURCES = (CONTACTS, CONVERSATIONS, WEBHOOKS, ME)

ALL_SCOPES: tuple[str, ...] = (
    *IDENTITY_SCOPES,
    OFFLINE_ACCESS,
    *(
        scope
        for resource in RESOURCES
        for scope in (resource.read_scope, resource.write_scope)
        if scope
    ),
)

# Paging: bare JSON arrays, `page` and `pageSize`; 1-based and at most 100 a page are assumed,
# so the client must also survive a 0-based server and one that clamps the size (paging.py).
PAGE_PARAM = "page"
PAGE_SIZE_PARAM = "pageSize"
DEFAULT_PAGE_SIZE = 100


def normalize_phone(phone: str) -> str:
    """Digits only, keeping a leading `+`: how phones are compared (phone is a contact's
    natural key, so a duplicate is a 409 and a conversation by phone reuses the contact)."""
    text = phone.strip()
    return ("+" if text.startswith("+") else "") + "".join(ch for ch in text if ch.isdigit())


CONVERSATION_TYPES = ("LiveConversation", "Scheduled", "StartRecording", "TakePhotos")
DEFAULT_CONVERSATION_TYPE = "LiveConversation"

WEBHOOK_ENTITIES = ("contact", "conversation")
WEBHOOK_EVENTS = ("CREATE", "UPDATE", "DELETE")
WEBHOOK_HEADERS = (
    "x-liveswitch-transaction-id",
    "x-liveswitch-entity-id",
    "x-liveswitch-webhook-id",
    "x-liveswitch-webhook-event-type",
    "x-liveswitch-webhook-entity-name",
)

# Error meanings. 401 means the access token is missing, bad or expired (refresh once); 403 a
# missing scope or, on webhooks, a non-admin; 429 and 5xx are transient. Token endpoint errors
# come as Auth0's {"error", "error_description"}; API 400/404 as problem+json.
UNAUTHORIZED = 401
FORBIDDEN = 403
NOT_FOUND = 404
CONFLICT = 409
TOO_MANY_REQUESTS = 429
INVALID_GRANT = "invalid_grant"


# Rate-limit window headers: Auth0 sends them; for the API they are assumed (it may send only
# Retry-After on a 429). The reset is Unix time (Auth0); seconds from now is read too.
RATE_LIMIT_REMAINING_HEADER = "x-ratelimit-remaining"
RATE_LIMIT_RESET_HEADER = "x-ratelimit-reset"
# A reset value below this is seconds from now, not a Unix time (2001-09-09).
_UNIX_TIME_RESET_FLOOR = 1e9


def rate_limit_window(headers: Mapping[str, str], now: float) -> tuple[int, float] | None:
    """(requests left, Unix time the window resets) from an answer's headers, if it has them."""
    try:
        remaining = int(headers[RATE_LIMIT_REMAINING_HEADER])
        reset = float(headers[RATE_LIMIT_RESET_HEADER])
    except (KeyError, ValueError):
        return None
    return max(remaining, 0), reset if reset >= _UNIX_TIME_RESET_FLOOR else now + reset


def is_retriable_status(status: int) -> bool:
    return status == TOO_MANY_REQUESTS or status >= 500


def error_message(body: object) -> str:
    """The API's own words from an error body: problem+json, Auth0 or plain text.

    Never echoes anything but the error fields, so request secrets cannot leak through it.
    """
    if isinstance(body, dict):
        errors = body.get("errors")
        if isinstance(errors, dict) and errors:
            return "; ".join(
                f"{field}: {' '.join(map(str, msgs)) if isinstance(msgs, list) else msgs}"
                for field, msgs in errors.items()
            )
        for key in ("error_description", "detail", "title", "error", "message"):
            if isinstance(body.get(key), str) and body[key]:
                return str(body[key])
        return ""
    if isinstance(body, str):
        return body.strip()[:300]
    return ""
