"""Seeded records and the in-memory store.

Records are generated once from the seed, sorted by (createdAt, id) and indexed by id; each
record is JSON-encoded once when it is created or changed, so a page is a join of ready bytes.
Every mutation takes one short lock; a new timestamp is always later than every earlier one.
"""

from __future__ import annotations

import calendar
import random
import threading
import time
import uuid
from bisect import bisect_left
from dataclasses import dataclass
from typing import Any, NamedTuple

from liveswitch_api import wire

from .messages import dumps

APP_BASE = "https://app.liveswitch.test"
EPOCH_MS = 1_704_067_200_000  # 2024-01-01T00:00:00Z: seeded records are spread over 2024
DAY_MS = 86_400_000

FIRST_NAMES = (
    "Ada", "Ben", "Carla", "Dev", "Elena", "Farid", "Grace", "Hugo", "Ines", "Jamal", "Kira",
    "Liam", "Maya", "Noor", "Oscar", "Priya", "Quinn", "Rosa", "Sven", "Tara", "Umar", "Vera",
    "Wen", "Xavier", "Yara", "Zoe",
)  # fmt: skip
LAST_NAMES = (
    "Abbott", "Baker", "Chen", "Diaz", "Evans", "Fischer", "Garcia", "Haddad", "Ito", "Jones",
    "Kowalski", "Lopez", "Murphy", "Nguyen", "Okafor", "Patel", "Quist", "Rossi", "Silva",
    "Tanaka", "Usman", "Varga", "Weber", "Xu", "Young", "Zimmer",
)  # fmt: skip
DOMAINS = ("example.com", "example.org", "example.net")
TAGS = ("vip", "warranty", "inspection", "claim", "follow-up", "estimate", "roof", "plumbing")
TOPICS = ("Roof inspection", "Water damage", "Warranty claim", "Site visit", "Estimate", "Repair")

CONTACT = "contact"
CONVERSATION = "conversation"


def format_ts(ms: int) -> str:
    """ISO-8601 UTC with millisecond precision and a `Z`."""
    seconds, millis = divmod(ms, 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{millis:03d}Z"


def seeded_uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def conversation_urls(conversation_id: str, project_id: str) -> dict[str, str]:
    return {
        "hostJoinUrl": f"{APP_BASE}/host/{conversation_id}",
        "participantJoinUrl": f"{APP_BASE}/join/{conversation_id}",
        "conversationUrl": f"{APP_BASE}/conversations/{conversation_id}",
        "embeddedConversationUrl": f"{APP_BASE}/embed/conversations/{conversation_id}",
        "projectId": project_id,
        "projectUrl": f"{APP_BASE}/projects/{project_id}",
        "projectShareUrl": f"{APP_BASE}/share/projects/{project_id}",
        "projectEmbeddedShareUrl": f"{APP_BASE}/embed/share/projects/{project_id}",
    }


def conversation_record(
    conversation_id: str,
    project_id: str,
    fields: dict[str, Any],
    created_at: str,
    updated_at: str,
) -> dict[str, Any]:
    return {
        "id": conversation_id,
        **conversation_urls(conversation_id, project_id),
        "contactId": fields.get("contactId"),
        "type": fields.get("type", wire.DEFAULT_CONVERSATION_TYPE),
        "name": fields.get("name"),
        "notes": fields.get("notes"),
        "tags": list(fields.get("tags") or []),
        "message": fields.get("message"),
        "createdAt": created_at,
        "updatedAt": updated_at,
    }


def generate_contacts(rng: random.Random, count: int) -> list[dict[str, Any]]:
    numbers = rng.sample(range(10_000_000), count)
    records = []
    for index, number in enumerate(numbers):
        created = EPOCH_MS + rng.randrange(365 * DAY_MS)
        updated = created if rng.random() < 0.5 else created + rng.randrange(30 * DAY_MS)
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        email = None
        if rng.random() >= 0.1:
            email = f"{first}.{last}{index}@{rng.choice(DOMAINS)}".lower()
        records.append(
            {
                "id": seeded_uuid(rng),
                "firstName": first,
                "lastName": last,
                "email": email,
                "phone": f"+1555{number:07d}",
                "createdAt": format_ts(created),
                "updatedAt": format_ts(updated),
            }
        )
    return records


def generate_conversations(
    rng: random.Random, count: int, contacts: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    records = []
    for _ in range(count):
        contact = rng.choice(contacts) if contacts else None
        created = EPOCH_MS + rng.randrange(395 * DAY_MS)
        updated = created if rng.random() < 0.5 else created + rng.randrange(7 * DAY_MS)
        topic = rng.choice(TOPICS)
        fields = {
            "contactId": contact["id"] if contact else None,
            "type": rng.choice(wire.CONVERSATION_TYPES),
            "name": f"{topic} #{rng.randrange(1000, 10000)}",
            "notes": rng.choice((None, "Customer prefers afternoons.", "Bring the ladder.")),
            "tags": rng.sample(TAGS, rng.randrange(0, 3)),
            "message": f"Hi {contact['firstName'] if contact else 'there'}, "
            "tap the link to start your video call.",
        }
        conversation_id, project_id = seeded_uuid(rng), seeded_uuid(rng)
        records.append(
            conversation_record(
                conversation_id, project_id, fields, format_ts(created), format_ts(updated)
            )
        )
    return records


@dataclass(frozen=True)
class Entry:
    """A record and its encoded JSON; replaced, never changed, so readers need no lock."""

    key: tuple[str, str]
    record: dict[str, Any]
    body: bytes


def make_entry(record: dict[str, Any]) -> Entry:
    return Entry((record["createdAt"], record["id"]), record, dumps(record))


def _entry_key(entry: Entry) -> tuple[str, str]:
    return entry.key


class Collection:
    """Records in (createdAt, id) order with an id index. The caller holds the store lock.

    `bodies` runs parallel to `entries`, so a page is one slice and one join.
    """

    def __init__(self, records: list[dict[str, Any]]) -> None:
        self.entries = sorted((make_entry(r) for r in records), key=_entry_key)
        self.bodies = [entry.body for entry in self.entries]
        self.by_id = {entry.record["id"]: entry for entry in self.entries}

    def __len__(self) -> int:
        return len(self.entries)

    def _position(self, entry: Entry) -> int:
        position = bisect_left(self.entries, entry.key, key=_entry_key)
        if self.entries[position] is not entry:  # pragma: no cover - an index bug
            raise RuntimeError(f"index out of step for {entry.key}")
        return position

    def add(self, record: dict[str, Any]) -> Entry:
        entry = make_entry(record)
        position = bisect_left(self.entries, entry.key, key=_entry_key)
        self.entries.insert(position, entry)
        self.bodies.insert(position, entry.body)
        self.by_id[record["id"]] = entry
        return entry

    def replace(self, record: dict[str, Any]) -> Entry:
        old = self.by_id[record["id"]]
        entry = make_entry(record)
        position = self._position(old)
        self.entries[position] = entry
        self.bodies[position] = entry.body
        self.by_id[record["id"]] = entry
        return entry

    def remove(self, record_id: str) -> Entry:
        entry = self.by_id.pop(record_id)
        position = self._position(entry)
        del self.entries[position]
        del self.bodies[position]
        return entry


class Event(NamedTuple):
    """One change, for webhook deliveries and the mutation counters."""

    entity: str  # wire.WEBHOOK_ENTITIES
    event: str  # wire.WEBHOOK_EVENTS
    entity_id: str
    record: dict[str, Any] | None


class StoreError(Exception):
    pass


class NotFound(StoreError):
    pass


class Conflict(StoreError):
    pass


class Invalid(StoreError):
    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__(errors)
        self.errors = errors


class Store:
    """Contacts and conversations, generated from the seed."""

    def __init__(self, seed: int, contacts: int, conversations: int) -> None:
        self.seed = seed
        rng = random.Random(f"liveswitch-sandbox:{seed}")
        contact_records = generate_contacts(rng, contacts)
        conversation_records = generate_conversations(rng, conversations, contact_records)
        self.lock = threading.Lock()
        self.collections = {
            "contacts": Collection(contact_records),
            "conversations": Collection(conversation_records),
        }
        self.contacts = self.collections["contacts"]
        self.conversations = self.collections["conversations"]
        self.phones = {wire.normalize_phone(r["phone"]): r["id"] for r in contact_records}
        self.projects: dict[str, str] = {}  # projectExternalId -> projectId
        self.touches = 0
        latest = [r["updatedAt"] for r in contact_records + conversation_records]
        self._last_ms = EPOCH_MS
        if latest:
            self._last_ms = parse_ts_ms(max(latest))

    def _now(self) -> str:
        """A timestamp later than every one handed out before (call with the lock held)."""
        ms = max(int(time.time() * 1000), self._last_ms + 1)
        self._last_ms = ms
        return format_ts(ms)

    # reads ---------------------------------------------------------------------------------

    def page(self, name: str, start: int, size: int) -> bytes:
        with self.lock:
            bodies = self.collections[name].bodies[start : start + size]
        return b"[" + b",".join(bodies) + b"]"

    def get(self, name: str, record_id: str) -> Entry | None:
        return self.collections[name].by_id.get(record_id)

    def counts(self) -> dict[str, int]:
        return {name: len(collection) for name, collection in self.collections.items()}

    # contacts ------------------------------------------------------------------------------

    def _claim_phone(self, phone: str, owner: str | None) -> str:
        normalized = wire.normalize_phone(phone)
        holder = self.phones.get(normalized)
        if holder is not None and holder != owner:
            raise Conflict(f"A contact with phone '{phone}' already exists ({holder}).")
        return normalized

    def _new_contact(self, fields: dict[str, Any]) -> tuple[Entry, Event]:
        normalized = self._claim_phone(fields["phone"], None)
        now = self._now()
        record = {
            "id": str(uuid.uuid4()),
            "firstName": fields.get("firstName"),
            "lastName": fields.get("lastName"),
            "email": fields.get("email"),
            "phone": fields["phone"],
            "createdAt": now,
            "updatedAt": now,
        }
        entry = self.contacts.add(record)
        self.phones[normalized] = record["id"]
        return entry, Event(CONTACT, "CREATE", record["id"], record)

    def create_contact(self, fields: dict[str, Any]) -> tuple[Entry, list[Event]]:
        with self.lock:
            entry, event = self._new_contact(fields)
        return entry, [event]

    def replace_contact(self, record_id: str, fields: dict[str, Any]) -> tuple[Entry, list[Event]]:
        with self.lock:
            old = self.contacts.by_id.get(record_id)
            if old is None:
                raise NotFound(record_id)
            normalized = self._claim_phone(fields["phone"], record_id)
            record = {
                **old.record,
                "firstName": fields.get("firstName"),
                "lastName": fields.get("lastName"),
                "email": fields.get("email"),
                "phone": fields["phone"],
                "updatedAt": self._now(),
            }
            self.phones.pop(wire.normalize_phone(old.record["phone"]), None)
            self.phones[normalized] = record_id
            entry = self.contacts.replace(record)
        return entry, [Event(CONTACT, "UPDATE", record_id, record)]

    def delete_contact(self, record_id: str) -> list[Event]:
        with self.lock:
            if record_id not in self.contacts.by_id:
                raise NotFound(record_id)
            entry = self.contacts.remove(record_id)
            self.phones.pop(wire.normalize_phone(entry.record["phone"]), None)
            self._now()
        return [Event(CONTACT, "DELETE", record_id, None)]

    # conversations -------------------------------------------------------------------------

    def create_conversation(self, fields: dict[str, Any]) -> tuple[Entry, list[Event]]:
        """`fields` is validated: contactId (wins) or phone (+ contact fields), the rest."""
        events: list[Event] = []
        with self.lock:
            contact_id = fields.get("contactId")
            if contact_id is not None:
                if contact_id not in self.contacts.by_id:
                    raise Invalid({"ContactId": [f"The contact '{contact_id}' was not found."]})
            else:
                contact_id = self.phones.get(wire.normalize_phone(fields["phone"]))
                if contact_id is None:
                    contact, event = self._new_contact(fields)
                    contact_id = contact.record["id"]
                    events.append(event)
            project_id = fields.get("projectId")
            external_id = fields.get("projectExternalId")
            if not project_id and external_id:
                project_id = self.projects.get(external_id)
            if not project_id:
                project_id = str(uuid.uuid4())
                if external_id:
                    self.projects[external_id] = project_id
            now = self._now()
            record = conversation_record(
                str(uuid.uuid4()), project_id, {**fields, "contactId": contact_id}, now, now
            )
            entry = self.conversations.add(record)
        events.append(Event(CONVERSATION, "CREATE", record["id"], record))
        return entry, events

    # test hook -----------------------------------------------------------------------------

    def touch(self, count: int) -> tuple[list[str], list[str], list[Event]]:
        """Change a field and bump updatedAt of `count` contacts and conversations."""
        events: list[Event] = []
        with self.lock:
            self.touches += 1
            rng = random.Random(f"liveswitch-sandbox:{self.seed}:touch:{self.touches}")
            contacts = rng.sample(self.contacts.entries, min(count, len(self.contacts)))
            conversations = rng.sample(
                self.conversations.entries, min(count, len(self.conversations))
            )
            for entry in contacts:
                last_name = entry.record["lastName"]
                while last_name == entry.record["lastName"]:
                    last_name = rng.choice(LAST_NAMES)
                record = {**entry.record, "lastName": last_name, "updatedAt": self._now()}
                self.contacts.replace(record)
                events.append(Event(CONTACT, "UPDATE", record["id"], record))
            for entry in conversations:
                now = self._now()
                notes = f"Touched by the sandbox (#{self.touches}) at {now}."
                record = {**entry.record, "notes": notes, "updatedAt": now}
                self.conversations.replace(record)
                events.append(Event(CONVERSATION, "UPDATE", record["id"], record))
        return (
            [entry.record["id"] for entry in contacts],
            [entry.record["id"] for entry in conversations],
            events,
        )


def parse_ts_ms(value: str) -> int:
    """The inverse of format_ts."""
    seconds = time.strptime(value[:19], "%Y-%m-%dT%H:%M:%S")
    return calendar.timegm(seconds) * 1000 + int(value[20:23])
