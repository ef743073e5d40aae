"""The four LiveSwitch streams and their schemas (one place each).

Every schema keeps additional properties: the API is partly documented, so a field it sends
that is not listed here is still emitted (and named once in a warning).
"""

from __future__ import annotations

from singer_sdk import typing as th

from liveswitch_api import wire
from tap_liveswitch.client import LiveSwitchStream

ID = th.Property("id", th.UUIDType, required=True, description="LiveSwitch id")
CREATED_AT = th.Property("createdAt", th.DateTimeType)
UPDATED_AT = th.Property("updatedAt", th.DateTimeType)


def schema(*properties: th.Property) -> dict:
    return th.PropertiesList(*properties, additional_properties=True).to_dict()


class ContactsStream(LiveSwitchStream):
    """Contacts of the organization; phone is their natural key."""

    resource = wire.CONTACTS
    name = resource.name
    primary_keys = ("id",)
    replication_key = "updatedAt"
    schema = schema(
        ID,
        th.Property("firstName", th.StringType),
        th.Property("lastName", th.StringType),
        th.Property("email", th.EmailType),
        th.Property("phone", th.StringType),
        CREATED_AT,
        UPDATED_AT,
    )


class ConversationsStream(LiveSwitchStream):
    """Conversations (SMS-invited video sessions) and their project links."""

    resource = wire.CONVERSATIONS
    name = resource.name
    primary_keys = ("id",)
    replication_key = "updatedAt"
    schema = schema(
        ID,
        th.Property("contactId", th.UUIDType),
        th.Property("type", th.StringType, allowed_values=list(wire.CONVERSATION_TYPES)),
        th.Property("name", th.StringType),
        th.Property("notes", th.StringType),
        th.Property("message", th.StringType),
        th.Property("tags", th.ArrayType(th.StringType)),
        th.Property("hostJoinUrl", th.URIType),
        th.Property("participantJoinUrl", th.URIType),
        th.Property("conversationUrl", th.URIType),
        th.Property("embeddedConversationUrl", th.URIType),
        th.Property("projectId", th.StringType),
        th.Property("projectUrl", th.URIType),
        th.Property("projectShareUrl", th.URIType),
        th.Property("projectEmbeddedShareUrl", th.URIType),
        CREATED_AT,
        UPDATED_AT,
    )


class WebhooksStream(LiveSwitchStream):
    """Webhook subscriptions (organization admins only)."""

    resource = wire.WEBHOOKS
    name = resource.name
    primary_keys = ("id",)
    schema = schema(
        ID,
        th.Property("url", th.URIType),
        th.Property("entityName", th.StringType, allowed_values=list(wire.WEBHOOK_ENTITIES)),
        th.Property("eventType", th.StringType, allowed_values=list(wire.WEBHOOK_EVENTS)),
        CREATED_AT,
    )


class MeStream(LiveSwitchStream):
    """The user the token belongs to: one record."""

    resource = wire.ME
    name = resource.name
    primary_keys = ("id",)
    schema = schema(
        ID,
        th.Property("email", th.EmailType),
        th.Property("firstName", th.StringType),
        th.Property("lastName", th.StringType),
        th.Property("organizationId", th.StringType),
        th.Property("isAdmin", th.BooleanType),
    )


STREAM_TYPES: tuple[type[LiveSwitchStream], ...] = (
    ContactsStream,
    ConversationsStream,
    WebhooksStream,
    MeStream,
)
