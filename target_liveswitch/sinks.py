"""One sink per LiveSwitch stream. Each record's write goes to the run's write queue
(write_queue.py), which runs `max_concurrent_writes` of them at once: records sharing an
ordering key (the same source record, phone, match key or existing contact; a conversation and
its contact; all webhooks) are written in input order, others overlap. Every STATE the target
passes on covers only records that are already durable in LiveSwitch, the ledger or the dead
letter.

Exactly once, and what an ambiguous failure means. The API has no idempotency keys. A 5xx, a
dropped connection or a read timeout after the server acted leaves a create done but unreported.
The sandbox injects its faults before touching state, so a retry there never duplicates; the
real API may not be so kind. So:

- contacts: creates are retried; if the lost attempt did create the contact, the retry meets
  409 (the phone exists), which the target turns into a rescan and an update (upsert mode).
- conversations: a create is never sent again blindly (a second conversation would text the
  customer twice). Its ledger entry is `pending` from before the request until the answer is
  recorded. After an ambiguous failure, or on a rerun that finds the entry still pending (a
  run killed mid-request), the target waits a moment and lists the organization's
  conversations (reconcile.py): the one it sent, if there, is adopted; if absent, the create is
  sent again; if several could be it, the record goes to the dead letter saying so. The
  remaining risk: a server still busy with the first request when the listing is read.
- webhooks: after an ambiguous failure the subscriptions are listed again; one that appeared
  counts as created, otherwise the record goes to the dead letter.
"""

from __future__ import annotations

import abc
import contextlib
import functools
import hashlib
import json
import time
from collections.abc import Hashable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, cast

from singer_sdk.exceptions import FatalAPIError
from singer_sdk.sinks import RecordSink
from typing_extensions import override

from liveswitch_api import wire
from liveswitch_api.auth import AuthError
from liveswitch_api.client import AmbiguousWriteError, ApiError
from liveswitch_api.retry import DEFAULT_MAX_RETRIES, RetriesExhaustedError
from target_liveswitch import contacts, reconcile
from target_liveswitch.errors import Rejected, RunAbortedError
from target_liveswitch.ledger import LedgerEntry, LedgerError
from target_liveswitch.report import Outcome
from target_liveswitch.webhooks import webhook_key

if TYPE_CHECKING:
    from singer_sdk import Target

    from target_liveswitch.run import Run
    from target_liveswitch.target import TargetLiveSwitch

# Seconds to let a server finish a request that went unanswered before looking for its result.
SETTLE_SECONDS = 1.0

# Fields of a conversation create. Answer-only fields (id, URLs, timestamps) are left out, and
# so is projectId: a project id belongs to the organization it was read from (use
# projectExternalId or projectName to place conversations in projects).
CONVERSATION_FIELDS = (
    "contactId",
    "phone",
    "email",
    "firstName",
    "lastName",
    "message",
    "name",
    "notes",
    "tags",
    "type",
    "projectExternalId",
    "projectName",
    "projectAutoCreate",
    "projectCreateAsPubliclyShared",
)


def payload_hash(payload: Any) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def source_key(record: dict[str, Any], key_properties: Sequence[str]) -> str:
    """A record's identity in its source: its primary key, else `id`, else a content hash."""
    names = list(key_properties) or (["id"] if record.get("id") is not None else [])
    if names and all(record.get(name) is not None for name in names):
        return json.dumps([record[name] for name in names], default=str)
    return "sha256:" + payload_hash(record)


def contact_source_key(contact_id: str) -> str:
    """The source key of the contact record a conversation's `contactId` names."""
    return source_key({"id": contact_id}, ["id"])


class LiveSwitchSink(RecordSink):
    """Queues each record's write and turns each answer into an outcome."""

    resource: ClassVar[wire.Resource]

    def __init__(
        self,
        target: Target,
        stream_name: str,
        schema: dict[str, Any],
        key_properties: Sequence[str] | None,
    ) -> None:
        super().__init__(target, stream_name, schema, key_properties)
        self.run: Run = cast("TargetLiveSwitch", target).run

    @override
    def process_record(self, record: dict[str, Any], context: dict[str, Any]) -> None:
        record = {k: v for k, v in record.items() if not k.startswith("_sdc_")}
        self.run.write(
            functools.partial(self.ordering_keys, record),
            functools.partial(self._write_one, record),
        )

    def ordering_keys(self, record: dict[str, Any]) -> set[Hashable]:
        """What this record's write waits for: every earlier record sharing one of these keys.
        Runs on the reading thread, in input order."""
        return {(self.resource.name, source_key(record, self.key_properties))}

    def _write_one(self, record: dict[str, Any]) -> None:
        """Write or dead-letter one record; on a writer thread."""
        try:
            with self._ending_run_on_failure():
                outcome = self.write(record)
        except Rejected as exc:
            self.rejected(record)
            self.run.reject(self.stream_name, record, exc.status, exc.message)
            return
        except ApiError as exc:
            self.rejected(record)
            self.run.reject(self.stream_name, record, exc.status, self.explain(exc))
            return
        self.run.report.count(self.stream_name, outcome)

    @contextlib.contextmanager
    def _ending_run_on_failure(self) -> Iterator[None]:
        """Failures no other record would escape (auth, exhausted retries, the ledger) end
        the run; a refused request (ApiError) stays one record's problem."""
        try:
            yield
        except ApiError as exc:
            if exc.status == wire.UNAUTHORIZED:
                msg = f"{self.stream_name}: {exc} (after a token refresh)"
                raise RunAbortedError(msg) from None
            raise
        except (FatalAPIError, AuthError, LedgerError) as exc:
            raise RunAbortedError(f"{self.stream_name}: {exc}") from None

    @abc.abstractmethod
    def write(self, record: dict[str, Any]) -> Outcome:
        """Write one record; raise Rejected (or let an ApiError through) to dead-letter it."""

    def rejected(self, record: dict[str, Any]) -> None:
        """Hook: a record is about to be dead-lettered."""

    def explain(self, error: ApiError) -> str:
        """The dead letter's message for a refused request."""
        if error.status == wire.FORBIDDEN:
            scope = self.resource.write_scope
            return f"{error}: the token lacks the `{scope}` scope"
        return error.message or str(error)


class ContactsSink(LiveSwitchSink):
    resource = wire.CONTACTS

    @property
    def match_key(self) -> str:
        return str(self.config.get("contact_match_key") or "phone")

    @override
    def ordering_keys(self, record: dict[str, Any]) -> set[Hashable]:
        """Also the phone (unique: two creates of one phone must not overlap), the match value,
        and the contact the record matches now; a contact's update then waits for every earlier
        record that matched or changed it."""
        keys = super().ordering_keys(record)
        for name in {"phone", self.match_key}:
            if value := contacts.match_value(name, record):
                keys.add((name, value))
        try:
            with self._ending_run_on_failure():
                existing = self._existing(record, source_key(record, self.key_properties))
        except ApiError:
            existing = None  # e.g. no scope to list contacts: the write meets it and says so
        if existing is not None:
            keys.add(("id", str(existing["id"])))
        return keys

    def _existing(self, record: dict[str, Any], key: str) -> contacts.Contact | None:
        """The contact this record updates: the one the ledger knows for it, else the match."""
        run = self.run
        entry = run.ledger.get(self.resource.name, key)
        existing = run.contacts.get(entry.target_id) if entry and entry.target_id else None
        return existing or run.contacts.find(self.match_key, record)

    @override
    def write(self, record: dict[str, Any]) -> Outcome:
        run = self.run
        key = source_key(record, self.key_properties)
        existing = self._existing(record, key)
        if existing is None:
            return self._create(record, key)
        if run.write_mode == "create_only":
            run.ledger.commit(self.resource.name, key, str(existing["id"]), payload_hash(record))
            return Outcome.SKIPPED
        return self._update(existing, record, key)

    def _create(self, record: dict[str, Any], key: str) -> Outcome:
        run = self.run
        if run.write_mode == "update_only":
            match_key = self.match_key
            value = contacts.match_value(match_key, record)
            found = f"{match_key} {value!r}" if value else f"no {match_key}"
            raise Rejected(f"no existing contact matches ({found}); update_only never creates")
        if contacts.normalize_phone(record.get("phone")) is None:
            raise Rejected("phone: missing or without digits; LiveSwitch needs one to create")
        body = contacts.create_body(record)
        try:
            created = run.send("POST", wire.CONTACTS.path, body)
        except ApiError as exc:
            if exc.status != wire.CONFLICT or run.write_mode != "upsert":
                raise
            # The phone exists although the index did not know it: added since the scan, or
            # created by an earlier attempt of this very request whose answer was lost.
            run.contacts.reload()
            existing = run.contacts.find("phone", record)
            if existing is None:
                raise
            return self._update(existing, record, key)
        run.contacts.put(created)
        run.ledger.commit(self.resource.name, key, str(created["id"]), payload_hash(body))
        return Outcome.CREATED

    def _update(self, existing: dict[str, Any], record: dict[str, Any], key: str) -> Outcome:
        run = self.run
        overwrite = self.config.get("null_policy") == "overwrite"
        body = contacts.update_body(existing, record, overwrite_nulls=overwrite)
        contact_id = str(existing["id"])
        outcome = Outcome.UNCHANGED
        if not contacts.same_fields(body, existing):
            updated = run.send("PUT", wire.CONTACTS.item_path(contact_id), body)
            run.contacts.put({**existing, **body, **(updated or {}), "id": contact_id})
            outcome = Outcome.UPDATED
        run.ledger.commit(self.resource.name, key, contact_id, payload_hash(body))
        return outcome


class ConversationsSink(LiveSwitchSink):
    resource = wire.CONVERSATIONS

    @override
    def ordering_keys(self, record: dict[str, Any]) -> set[Hashable]:
        """Also its contact: the contact record of this run it names (whose ledger entry the
        translation must see), or the phone it creates or reuses a contact by."""
        keys = super().ordering_keys(record)
        if (contact_id := record.get("contactId")) is not None:
            keys.add((wire.CONTACTS.name, contact_source_key(str(contact_id))))
        if phone := contacts.normalize_phone(record.get("phone")):
            keys.add(("phone", phone))
        return keys

    @override
    def write(self, record: dict[str, Any]) -> Outcome:
        run = self.run
        key = source_key(record, self.key_properties)
        entry = run.ledger.get(self.resource.name, key)
        if entry is not None and not entry.pending:
            return Outcome.UNCHANGED  # created before; conversations cannot be updated
        if run.write_mode == "update_only":
            raise Rejected("conversations cannot be updated, and update_only never creates")
        if not self.config.get("allow_conversation_invites"):
            raise Rejected(
                "not created: creating a conversation texts an invitation to a real customer; "
                "set allow_conversation_invites to true to allow it"
            )
        body = self._body(record)
        if entry is not None and self._adopt(key, body, entry):
            return Outcome.CREATED  # an earlier run's create did happen
        return self._create(key, body)

    def _create(self, key: str, body: dict[str, Any]) -> Outcome:
        """POST, and after each ambiguous failure look before sending again."""
        run = self.run
        digest = payload_hash(body)
        attempts = 1 + int(self.config.get("max_retries", DEFAULT_MAX_RETRIES))
        failure: AmbiguousWriteError | None = None
        for _ in range(attempts):
            entry = run.ledger.begin(self.resource.name, key, digest)
            try:
                created = run.send("POST", wire.CONVERSATIONS.path, body, retry_ambiguous=False)
            except AmbiguousWriteError as exc:
                self.logger.warning("%s; looking for it before sending it again", exc)
                failure = exc
                time.sleep(SETTLE_SECONDS)
                if self._adopt(key, body, entry):
                    return Outcome.CREATED
                continue
            except Exception:
                # Refused (4xx), or retries of failures that happen before the server acts
                # (429, no connection) ran out: nothing was created, so nothing is pending.
                run.ledger.forget(self.resource.name, key)
                raise
            run.ledger.commit(self.resource.name, key, str(created["id"]), digest)
            return Outcome.CREATED
        # Known not to exist, and the server keeps failing: like any exhausted retry, this
        # fails the run.
        run.ledger.forget(self.resource.name, key)
        msg = f"{failure}; gave up after {attempts} attempts (it was not created)"
        raise RetriesExhaustedError(msg)

    def _adopt(self, key: str, body: dict[str, Any], entry: LedgerEntry) -> bool:
        """Whether the create `entry` marks pending happened (then it is recorded as done)."""
        run = self.run
        found = reconcile.candidates(
            run.api.iter_records(wire.CONVERSATIONS, wire.DEFAULT_PAGE_SIZE),
            body,
            since=entry.updated_at,
            claimed=run.ledger.claimed(self.resource.name),
            phone_of=self._phone_of,
        )
        if len(found) > 1:
            raise Rejected(
                f"a create of this conversation went unanswered, and {len(found)} conversations "
                f"in LiveSwitch match it ({', '.join(str(c.get('id')) for c in found)}); not "
                "sent again so the customer is not texted twice. Check LiveSwitch; to send it "
                f"anyway, delete its entry (stream 'conversations', source_key {key!r}) from "
                f"the ledger {run.ledger.path}"
            )
        if not found:
            return False
        conversation_id = str(found[0]["id"])
        self.logger.info("a create that went unanswered did happen: %s", conversation_id)
        run.ledger.commit(self.resource.name, key, conversation_id, entry.payload_hash)
        return True

    def _phone_of(self, contact_id: str) -> str | None:
        found = self.run.contacts.get(contact_id)
        return contacts.normalize_phone(found.get("phone")) if found else None

    def _body(self, record: dict[str, Any]) -> dict[str, Any]:
        body = {name: record[name] for name in CONVERSATION_FIELDS if record.get(name) is not None}
        contact_id = body.pop("contactId", None)
        if contact_id is not None:
            translated = self._translate(str(contact_id), has_phone="phone" in body)
            if translated is not None:
                body["contactId"] = translated
        elif "phone" not in body:
            raise Rejected("contactId or phone: one is required to create a conversation")
        return body

    def _translate(self, contact_id: str, *, has_phone: bool) -> str | None:
        """The target organization's id for a source contact id; None to go by phone."""
        run = self.run
        entry = run.ledger.get(wire.CONTACTS.name, contact_source_key(contact_id))
        if entry is not None and entry.target_id:
            return entry.target_id
        if run.contacts.get(contact_id) is not None:
            return contact_id
        if has_phone:
            return None
        raise Rejected(
            f"contactId {contact_id!r} is neither a contact of the target organization nor one "
            "this target wrote; send its contact in the contacts stream first (tap-liveswitch "
            "emits contacts before conversations) or give a phone"
        )


class WebhooksSink(LiveSwitchSink):
    resource = wire.WEBHOOKS

    @override
    def ordering_keys(self, record: dict[str, Any]) -> set[Hashable]:
        """One key for all: subscriptions are few, and the declared set is simplest kept in
        order."""
        return {(self.resource.name,)}

    @override
    def write(self, record: dict[str, Any]) -> Outcome:
        run = self.run
        key = webhook_key(record)
        if key is None:
            raise Rejected(
                "url, entityName and eventType: required; entityName one of "
                f"{', '.join(wire.WEBHOOK_ENTITIES)}, eventType one of "
                f"{', '.join(wire.WEBHOOK_EVENTS)}"
            )
        run.webhooks.wanted.add(key)
        if key in run.webhooks.existing():
            return Outcome.UNCHANGED
        if run.write_mode == "update_only":
            raise Rejected("no such subscription exists, and update_only never creates")
        body = {"url": key[0], "entityName": key[1], "eventType": key[2]}
        try:
            created = run.send("POST", wire.WEBHOOKS.path, body, retry_ambiguous=False)
        except AmbiguousWriteError as exc:
            created = run.webhooks.existing(reload=True).get(key)
            if created is None:
                raise Rejected(f"{exc}; it does not exist now, send it again") from None
        run.webhooks.added(key, created)
        return Outcome.CREATED

    @override
    def rejected(self, record: dict[str, Any]) -> None:
        self.run.webhooks.incomplete = True

    @override
    def explain(self, error: ApiError) -> str:
        if error.status == wire.FORBIDDEN:
            return (
                f"{error}: managing webhooks needs an organization admin and the "
                "`webhooks.write` scope"
            )
        return super().explain(error)


class IgnoredSink(LiveSwitchSink):
    """A stream the tap emits that has nothing to write (`me`): counted as skipped."""

    resource = wire.ME

    @override
    def write(self, record: dict[str, Any]) -> Outcome:
        return Outcome.SKIPPED


SINKS: dict[str, type[LiveSwitchSink]] = {
    wire.CONTACTS.name: ContactsSink,
    wire.CONVERSATIONS.name: ConversationsSink,
    wire.WEBHOOKS.name: WebhooksSink,
    wire.ME.name: IgnoredSink,
}
