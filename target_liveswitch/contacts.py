"""Contacts: the match index of the target organization, and the bodies the target sends.

The index is built from one paged scan of the organization's contacts, the first time a record
needs it, and kept current as the target writes (LiveSwitch has no search endpoint).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from liveswitch_api import wire

# The fields a contact write carries; everything else in a record (id, timestamps) is read-only.
CONTACT_FIELDS = ("phone", "firstName", "lastName", "email")

Contact = dict[str, Any]


def normalize_phone(phone: object) -> str | None:
    """wire.normalize_phone, or None for a value that is not a phone with digits."""
    if not isinstance(phone, str):
        return None
    normalized = wire.normalize_phone(phone)
    return normalized if normalized.strip("+") else None


def normalize_email(email: object) -> str | None:
    if not isinstance(email, str) or not email.strip():
        return None
    return email.strip().lower()


def match_value(match_key: str, record: Mapping[str, Any]) -> str | None:
    """The normalized value of `match_key` in a record, None when it has none."""
    if match_key == "phone":
        return normalize_phone(record.get("phone"))
    if match_key == "email":
        return normalize_email(record.get("email"))
    value = record.get("id")
    return str(value) if value else None


def same_fields(left: Mapping[str, Any], right: Mapping[str, Any]) -> bool:
    """Whether two contacts hold the same writable values (phones compared normalized)."""
    return all(
        (normalize_phone(left.get(name)) == normalize_phone(right.get(name)))
        if name == "phone"
        else left.get(name) == right.get(name)
        for name in CONTACT_FIELDS
    )


def create_body(record: Mapping[str, Any]) -> dict[str, Any]:
    """POST body: the writable fields the record has a value for."""
    return {name: record[name] for name in CONTACT_FIELDS if record.get(name) is not None}


def update_body(
    existing: Mapping[str, Any], record: Mapping[str, Any], *, overwrite_nulls: bool
) -> dict[str, Any]:
    """PUT body (PUT replaces all four fields): the incoming values over the stored ones.

    With `overwrite_nulls` a null or missing field erases the stored value, except the phone a
    contact must keep. A phone equal to the stored one once normalized keeps the stored
    spelling, so a formatting difference alone causes no update.
    """
    body: dict[str, Any] = {}
    for name in CONTACT_FIELDS:
        incoming = record.get(name)
        if incoming is None and (name == "phone" or not overwrite_nulls):
            body[name] = existing.get(name)
        else:
            body[name] = incoming
    if normalize_phone(body["phone"]) == normalize_phone(existing.get("phone")):
        body["phone"] = existing.get("phone")
    return body


class ContactIndex:
    """The target organization's contacts by id, phone and email. Thread-safe."""

    def __init__(self, load: Callable[[], Iterable[Contact]], logger: logging.Logger) -> None:
        self._load = load
        self._logger = logger
        self._lock = threading.RLock()
        self._loaded = False
        self._by_id: dict[str, Contact] = {}
        self._by_key: dict[str, dict[str, str]] = {"phone": {}, "email": {}}

    def _ensure_loaded(self) -> None:
        with self._lock:
            if not self._loaded:
                self.reload()

    def reload(self) -> None:
        """Scan the organization's contacts (again): after a 409 the index was out of date."""
        with self._lock:
            self._by_id.clear()
            for keys in self._by_key.values():
                keys.clear()
            for contact in self._load():
                self.put(contact)
            self._loaded = True
            self._logger.info("contacts: indexed %d existing contacts", len(self._by_id))

    def get(self, contact_id: str) -> Contact | None:
        self._ensure_loaded()
        with self._lock:
            return self._by_id.get(contact_id)

    def find(self, match_key: str, record: Mapping[str, Any]) -> Contact | None:
        value = match_value(match_key, record)
        if value is None:
            return None
        self._ensure_loaded()
        with self._lock:
            contact_id = value if match_key == "id" else self._by_key[match_key].get(value)
            return self._by_id.get(contact_id) if contact_id else None

    def put(self, contact: Contact) -> None:
        """Add or replace a contact (as LiveSwitch answered it)."""
        contact_id = str(contact.get("id"))
        with self._lock:
            old = self._by_id.get(contact_id)
            if old is not None:
                for key, index in self._by_key.items():
                    old_value = match_value(key, old)
                    if old_value is not None and index.get(old_value) == contact_id:
                        del index[old_value]
            self._by_id[contact_id] = contact
            for key, index in self._by_key.items():
                value = match_value(key, contact)
                # Emails need not be unique: the first contact holding one keeps it.
                if value is not None:
                    index.setdefault(value, contact_id)
