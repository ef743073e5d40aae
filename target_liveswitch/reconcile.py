"""Finding out whether a conversation create that went unanswered did happen.

After an ambiguous failure (or a run killed with a create in flight) the target lists the
organization's conversations and looks for the one it sent: same contact and fields, created no
earlier than the request (less a margin for clock skew) and not already claimed by another
ledger entry. One such conversation is adopted; none means the create did not happen, so it may
be sent; several mean the target cannot tell, and the record goes to the dead letter.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from liveswitch_api import wire
from liveswitch_api.settings import parse_datetime
from target_liveswitch.contacts import normalize_phone

# How far the server's clock may be behind ours when comparing createdAt with the request time.
CLOCK_SKEW = dt.timedelta(minutes=10)

# Fields a created conversation echoes back (as far as the contract knows), with the value the
# API gives one the request left out.
ECHOED_FIELDS: dict[str, Any] = {
    "name": None,
    "notes": None,
    "message": None,
    "tags": [],
    "type": wire.DEFAULT_CONVERSATION_TYPE,
}


def _created_since(conversation: Mapping[str, Any], since: dt.datetime) -> bool:
    created = conversation.get("createdAt")
    if not isinstance(created, str):
        return True  # the listing does not say: the other fields must decide
    try:
        return parse_datetime(created) >= since - CLOCK_SKEW
    except ValueError:
        return True


def is_the_one_sent(
    conversation: Mapping[str, Any],
    body: Mapping[str, Any],
    phone_of: Callable[[str], str | None],
) -> bool:
    """Whether `conversation` carries what `body` asked for. Fields the listing leaves out
    are not compared."""
    for name, default in ECHOED_FIELDS.items():
        if name in conversation and conversation[name] != body.get(name, default):
            return False
    if "contactId" in body:
        return conversation.get("contactId") == body["contactId"]
    contact_id = conversation.get("contactId")
    phone = phone_of(str(contact_id)) if contact_id else None
    return phone is not None and phone == normalize_phone(body.get("phone"))


def candidates(
    conversations: Iterable[Mapping[str, Any]],
    body: Mapping[str, Any],
    *,
    since: str,
    claimed: set[str],
    phone_of: Callable[[str], str | None],
) -> list[Mapping[str, Any]]:
    """The unclaimed conversations that may be the result of sending `body` at `since`, each
    once: a listing read while other writes go on may show a conversation twice (pages shift,
    and the walk's page-0 probe can take page 1 with a newcomer for a 0-based first page)."""
    sent_at = parse_datetime(since)
    found: dict[str, Mapping[str, Any]] = {}
    for conversation in conversations:
        conversation_id = str(conversation.get("id"))
        if (
            conversation_id not in claimed
            and _created_since(conversation, sent_at)
            and is_the_one_sent(conversation, body, phone_of)
        ):
            found.setdefault(conversation_id, conversation)
    return list(found.values())
