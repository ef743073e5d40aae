"""The `/v1` resources: contacts, conversations, webhooks and the current user.

Routing first (unknown path 404, unknown method 405), then the bearer token (401), the admin
role and the scope (403), then validation (400 problem+json) and the store.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from liveswitch_api import wire

from .auth0 import Tenant
from .config import SandboxConfig
from .data import Conflict, Event, Invalid, NotFound, Store
from .messages import Request, Response, empty, json_response, problem, raw_json
from .stats import Stats
from .webhooks import Webhooks

API_PREFIX = urlsplit(wire.DEFAULT_API_URL).path  # "/v1"
UNAUTHORIZED = [("WWW-Authenticate", 'Bearer error="invalid_token"')]
READ_METHODS = ("GET", "HEAD")

Handler = Callable[[Request, "str | None"], Response]
Errors = dict[str, list[str]]


@dataclass(frozen=True)
class Route:
    resource: wire.Resource
    item_id: str | None
    template: str


def match(path: str) -> Route | None:
    """The resource (and item id) a `/v1/...` path names."""
    parts = path[len(API_PREFIX) :].strip("/").split("/")
    for resource in wire.RESOURCES:
        if parts[0] != resource.path.strip("/") or len(parts) > 2:
            continue
        if len(parts) == 1:
            return Route(resource, None, API_PREFIX + resource.path)
        if parts[1]:
            return Route(resource, parts[1], API_PREFIX + resource.item_path("{id}"))
    return None


UNKNOWN_TEMPLATE = API_PREFIX + "/*"


def _read_json(request: Request) -> dict[str, Any] | Response:
    """The body as a JSON object with lower-cased keys (ASP.NET binds case-insensitively)."""
    if not request.body.strip():
        return problem(400, {"": ["A non-empty request body is required."]})
    try:
        value = json.loads(request.body)
    except ValueError as exc:
        return problem(400, {"$": [f"The request body is not valid JSON: {exc}"]})
    if not isinstance(value, dict):
        return problem(400, {"$": ["The JSON value could not be converted to an object."]})
    return {str(key).lower(): item for key, item in value.items()}


def _optional_string(body: dict[str, Any], key: str, label: str, errors: Errors) -> str | None:
    value = body.get(key.lower())
    if value is not None and not isinstance(value, str):
        errors[label] = [f"The {label} field must be a string."]
        return None
    return value


def _phone(body: dict[str, Any], errors: Errors, missing: str) -> str | None:
    phone = body.get("phone")
    if phone is None or (isinstance(phone, str) and not phone.strip()):
        errors["Phone"] = [missing]
    elif not isinstance(phone, str):
        errors["Phone"] = ["The Phone field must be a string."]
    elif not any(ch.isdigit() for ch in phone):
        errors["Phone"] = ["The Phone field is not a valid phone number."]
    else:
        return phone.strip()
    return None


def _contact_fields(body: dict[str, Any], errors: Errors, missing: str) -> dict[str, Any]:
    return {
        "phone": _phone(body, errors, missing),
        "firstName": _optional_string(body, "firstName", "FirstName", errors),
        "lastName": _optional_string(body, "lastName", "LastName", errors),
        "email": _optional_string(body, "email", "Email", errors),
    }


def _choice(value: Any, choices: tuple[str, ...]) -> str | None:
    """The canonical spelling of `value` among `choices` (case-insensitive), or None."""
    if isinstance(value, str):
        for choice in choices:
            if choice.lower() == value.lower():
                return choice
    return None


class Api:
    def __init__(
        self,
        config: SandboxConfig,
        store: Store,
        tenant: Tenant,
        webhooks: Webhooks,
        stats: Stats,
    ) -> None:
        self.config = config
        self.store = store
        self.tenant = tenant
        self.webhooks = webhooks
        self.stats = stats
        self.handlers: dict[tuple[str, bool, str], Handler] = {
            ("contacts", False, "GET"): self.list_contacts,
            ("contacts", False, "POST"): self.create_contact,
            ("contacts", True, "GET"): self.get_contact,
            ("contacts", True, "PUT"): self.replace_contact,
            ("contacts", True, "DELETE"): self.delete_contact,
            ("conversations", False, "GET"): self.list_conversations,
            ("conversations", False, "POST"): self.create_conversation,
            ("conversations", True, "GET"): self.get_conversation,
            ("webhooks", False, "GET"): self.list_webhooks,
            ("webhooks", False, "POST"): self.create_webhook,
            ("webhooks", True, "DELETE"): self.delete_webhook,
            ("me", False, "GET"): self.me,
        }

    def handle(self, request: Request, route: Route | None) -> Response:
        """Answer a `/v1` request; `route` is `match(request.path)`, computed once by the caller."""
        if route is None:
            return problem(404)
        method = "GET" if request.method == "HEAD" else request.method
        key = (route.resource.name, route.item_id is not None, method)
        handler = self.handlers.get(key)
        if handler is None:
            allowed = sorted(m for (n, i, m) in self.handlers if (n, i) == key[:2])
            return empty(405, [("Allow", ", ".join(allowed))])
        authorization = request.header("authorization") or ""
        scheme, _, token = authorization.partition(" ")
        access = None
        if scheme.lower() == "bearer" and token.strip():
            access = self.tenant.authenticate(token.strip())
        if access is None:
            return empty(401, list(UNAUTHORIZED))
        resource = route.resource
        if resource.admin_only and not self.config.admin:
            return empty(403)
        if method in READ_METHODS:
            permitted = resource.readable_with(access.scopes)
        else:
            permitted = resource.write_scope in access.scopes
        if not permitted:
            return empty(403)
        return handler(request, route.item_id)

    def _commit(self, events: list[Event]) -> None:
        self.stats.mutations(events)
        self.webhooks.publish(events)

    # paging --------------------------------------------------------------------------------

    def _page(self, request: Request, name: str) -> Response:
        errors: Errors = {}
        numbers: dict[str, int | None] = {}
        for param in (wire.PAGE_PARAM, wire.PAGE_SIZE_PARAM):
            raw = request.param(param)
            numbers[param] = None
            if raw is not None and raw.strip():
                try:
                    numbers[param] = int(raw)
                except ValueError:
                    errors[param] = [f"The value '{raw}' is not valid."]
        size = numbers[wire.PAGE_SIZE_PARAM]
        if size is None:
            size = wire.DEFAULT_PAGE_SIZE
        elif size < 1:
            errors[wire.PAGE_SIZE_PARAM] = [f"The field {wire.PAGE_SIZE_PARAM} must be at least 1."]
        if errors:
            return problem(400, errors)
        size = min(size, self.config.max_page_size)
        page = numbers[wire.PAGE_PARAM]
        index = 0
        if page is not None and not self.config.ignore_page:
            index = max(page - self.config.page_base, 0)
        return raw_json(200, self.store.page(name, index * size, size))

    def _one(self, name: str, item_id: str | None) -> Response:
        entry = self.store.get(name, item_id or "")
        if entry is None:
            return problem(404)
        return raw_json(200, entry.body)

    # contacts ------------------------------------------------------------------------------

    def list_contacts(self, request: Request, item_id: str | None) -> Response:
        return self._page(request, "contacts")

    def get_contact(self, request: Request, item_id: str | None) -> Response:
        return self._one("contacts", item_id)

    def create_contact(self, request: Request, item_id: str | None) -> Response:
        return self._write_contact(request, None)

    def replace_contact(self, request: Request, item_id: str | None) -> Response:
        return self._write_contact(request, item_id or "")

    def _write_contact(self, request: Request, item_id: str | None) -> Response:
        body = _read_json(request)
        if isinstance(body, Response):
            return body
        errors: Errors = {}
        fields = _contact_fields(body, errors, "The Phone field is required.")
        if errors:
            return problem(400, errors)
        try:
            if item_id is None:
                entry, events = self.store.create_contact(fields)
            else:
                entry, events = self.store.replace_contact(item_id, fields)
        except NotFound:
            return problem(404)
        except Conflict as exc:
            return problem(409, detail=str(exc))
        self._commit(events)
        return raw_json(201 if item_id is None else 200, entry.body)

    def delete_contact(self, request: Request, item_id: str | None) -> Response:
        try:
            events = self.store.delete_contact(item_id or "")
        except NotFound:
            return problem(404)
        self._commit(events)
        return empty(204)

    # conversations -------------------------------------------------------------------------

    def list_conversations(self, request: Request, item_id: str | None) -> Response:
        return self._page(request, "conversations")

    def get_conversation(self, request: Request, item_id: str | None) -> Response:
        return self._one("conversations", item_id)

    def create_conversation(self, request: Request, item_id: str | None) -> Response:
        body = _read_json(request)
        if isinstance(body, Response):
            return body
        errors: Errors = {}
        fields: dict[str, Any] = {}
        contact_id = body.get("contactid")
        if contact_id is not None:
            try:
                fields["contactId"] = str(uuid.UUID(str(contact_id)))
            except ValueError:
                errors["ContactId"] = [f"The value '{contact_id}' is not valid."]
        else:
            fields.update(_contact_fields(body, errors, "Either ContactId or Phone is required."))
        kind = body.get("type")
        fields["type"] = wire.DEFAULT_CONVERSATION_TYPE
        if kind is not None:
            fields["type"] = _choice(kind, wire.CONVERSATION_TYPES)
            if fields["type"] is None:
                expected = ", ".join(wire.CONVERSATION_TYPES)
                errors["Type"] = [f"The value '{kind}' is not valid for Type ({expected})."]
        tags = body.get("tags")
        if tags is not None and not (
            isinstance(tags, list) and all(isinstance(tag, str) for tag in tags)
        ):
            errors["Tags"] = ["The Tags field must be an array of strings."]
        fields["tags"] = tags or []
        for key in ("name", "notes", "message", "projectId", "projectExternalId", "projectName"):
            fields[key] = _optional_string(body, key, key[0].upper() + key[1:], errors)
        for key in ("projectAutoCreate", "projectCreateAsPubliclyShared"):
            value = body.get(key.lower())
            if value is not None and not isinstance(value, bool):
                errors[key[0].upper() + key[1:]] = [f"The {key} field must be a boolean."]
        if errors:
            return problem(400, errors)
        try:
            entry, events = self.store.create_conversation(fields)
        except Invalid as exc:
            return problem(400, exc.errors)
        self._commit(events)
        return raw_json(201, entry.body)

    # webhooks ------------------------------------------------------------------------------

    def list_webhooks(self, request: Request, item_id: str | None) -> Response:
        return json_response(200, self.webhooks.all())

    def create_webhook(self, request: Request, item_id: str | None) -> Response:
        body = _read_json(request)
        if isinstance(body, Response):
            return body
        errors: Errors = {}
        url = body.get("url")
        valid_url = False
        if isinstance(url, str):
            try:
                parts = urlsplit(url)
                valid_url = parts.scheme in ("http", "https") and bool(parts.hostname)
                parts.port  # noqa: B018 - raises ValueError on a bad port
            except ValueError:
                valid_url = False
        if not valid_url:
            errors["Url"] = ["The Url field must be an absolute http(s) URL."]
        entity = _choice(body.get("entityname"), wire.WEBHOOK_ENTITIES)
        if entity is None:
            errors["EntityName"] = [
                "EntityName must be one of: " + ", ".join(wire.WEBHOOK_ENTITIES)
            ]
        event = _choice(body.get("eventtype"), wire.WEBHOOK_EVENTS)
        if event is None:
            errors["EventType"] = ["EventType must be one of: " + ", ".join(wire.WEBHOOK_EVENTS)]
        if errors or not isinstance(url, str) or entity is None or event is None:
            return problem(400, errors)
        hook = self.webhooks.create(url, entity, event)
        self.stats.mutations([Event("webhook", "CREATE", hook["id"], None)])
        return json_response(201, hook)

    def delete_webhook(self, request: Request, item_id: str | None) -> Response:
        if not self.webhooks.delete(item_id or ""):
            return problem(404)
        self.stats.mutations([Event("webhook", "DELETE", item_id or "", None)])
        return empty(204)

    # me ------------------------------------------------------------------------------------

    def me(self, request: Request, item_id: str | None) -> Response:
        return json_response(200, self.tenant.user)
