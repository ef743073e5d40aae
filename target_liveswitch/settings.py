"""The target's own settings (the auth and HTTP ones are shared: liveswitch_api.settings)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from singer_sdk import typing as th

from liveswitch_api.token_store import default_state_dir

WRITE_MODES = ("upsert", "create_only", "update_only")
MATCH_KEYS = ("id", "phone", "email")
NULL_POLICIES = ("skip", "overwrite")

# Four writes in flight cut a 100 ms API's wall time about fourfold and stay polite.
DEFAULT_CONCURRENT_WRITES = 4

LEDGER_FILE_NAME = "ledger.sqlite3"
DEAD_LETTER_FILE_NAME = "dead-letter.jsonl"

TARGET_PROPERTIES: tuple[th.Property, ...] = (
    th.Property(
        "write_mode",
        th.StringType,
        default="upsert",
        allowed_values=list(WRITE_MODES),
        title="Write Mode",
        description=(
            "`upsert`: create what is missing and update what differs; `create_only`: never "
            "update (matched contacts are skipped); `update_only`: never create (unmatched "
            "records go to the dead letter)."
        ),
    ),
    th.Property(
        "contact_match_key",
        th.StringType,
        default="phone",
        allowed_values=list(MATCH_KEYS),
        title="Contact Match Key",
        description=(
            "How an incoming contact finds an existing one: `id`, `phone` (compared as digits "
            "and a leading +) or `email` (case-insensitive). A contact this target wrote "
            "before is found through the ledger first."
        ),
    ),
    th.Property(
        "null_policy",
        th.StringType,
        default="skip",
        allowed_values=list(NULL_POLICIES),
        title="Null Policy",
        description=(
            "`skip`: a null or missing field never erases a value in LiveSwitch; `overwrite`: "
            "it does (except `phone`, which a contact must keep)."
        ),
    ),
    th.Property(
        "allow_conversation_invites",
        th.BooleanType,
        default=False,
        title="Allow Conversation Invites",
        description=(
            "Must be true for the `conversations` stream to create anything: each created "
            "conversation texts an invitation to a real customer. Otherwise its records are "
            "rejected to the dead letter."
        ),
    ),
    th.Property(
        "prune_webhooks",
        th.BooleanType,
        default=False,
        title="Prune Webhooks",
        description=(
            "Delete the organization's webhook subscriptions that the `webhooks` input does not "
            "list (only when that stream was sent and none of its records was rejected)."
        ),
    ),
    th.Property(
        "ledger_path",
        th.StringType,
        title="Ledger Path",
        description=(
            "SQLite file recording what this target created or matched (source key -> "
            "LiveSwitch id and payload hash), so a rerun never creates a record twice. "
            f"Default: `{LEDGER_FILE_NAME}` next to the token store (`token_store_path`'s "
            "folder, else `$LIVESWITCH_STATE_DIR`, `$XDG_STATE_HOME/liveswitch-singer` or "
            "`~/.local/state/liveswitch-singer`). Keep it between runs."
        ),
    ),
    th.Property(
        "dead_letter_path",
        th.StringType,
        title="Dead Letter Path",
        description=(
            "JSONL file that receives one line per rejected record (stream, record, HTTP "
            "status, the API's error message, time); appended to. Default: "
            f"`{DEAD_LETTER_FILE_NAME}` next to the ledger's default."
        ),
    ),
    th.Property(
        "max_failures",
        th.IntegerType,
        title="Max Failures",
        description="Abort the run once more than this many records were rejected. Default: "
        "no limit.",
    ),
    th.Property(
        "max_concurrent_writes",
        th.IntegerType,
        default=DEFAULT_CONCURRENT_WRITES,
        title="Max Concurrent Writes",
        description=(
            "Records written at once. Records for the same contact (source key, phone, match "
            "key) and a conversation after its contact are still written in input order, "
            "webhooks one at a time, and each STATE is passed on only once every record "
            "before it is written. 1 writes one record at a time. Requests in flight are "
            "halved on each 429, grown back slowly."
        ),
    ),
    th.Property(
        "dry_run",
        th.BooleanType,
        default=False,
        title="Dry Run",
        description=(
            "Validate and match every record and log each write it would send, without "
            "sending any (reads still happen; the ledger is not changed)."
        ),
    ),
)


def state_dir(config: Mapping[str, Any]) -> Path:
    """The folder of the token store: the ledger and dead letter live next to it by default."""
    if token_store_path := config.get("token_store_path"):
        return Path(token_store_path).expanduser().parent
    return default_state_dir()


def ledger_path(config: Mapping[str, Any]) -> Path:
    if explicit := config.get("ledger_path"):
        return Path(explicit).expanduser()
    return state_dir(config) / LEDGER_FILE_NAME


def dead_letter_path(config: Mapping[str, Any]) -> Path:
    if explicit := config.get("dead_letter_path"):
        return Path(explicit).expanduser()
    return state_dir(config) / DEAD_LETTER_FILE_NAME


def target_config_errors(config: Mapping[str, Any]) -> list[str]:
    """Problems the JSON schema cannot express; one line each, naming the setting."""
    errors: list[str] = []
    max_failures = config.get("max_failures")
    if max_failures is not None and (isinstance(max_failures, bool) or max_failures < 0):
        errors.append("max_failures: must be an integer >= 0 (leave it out for no limit)")
    writers = config.get("max_concurrent_writes")
    if writers is not None and (isinstance(writers, bool) or writers < 1):
        errors.append("max_concurrent_writes: must be an integer >= 1")
    for name, path in (
        ("ledger_path", ledger_path(config)),
        ("dead_letter_path", dead_letter_path(config)),
    ):
        if path.is_dir():
            errors.append(f"{name}: {path} is a folder; give a file path")
    return errors
