"""tap-liveswitch: settings and streams."""

from __future__ import annotations

from functools import cached_property

from singer_sdk import Tap
from singer_sdk import typing as th
from singer_sdk.contrib.msgspec import MsgSpecWriter
from typing_extensions import override

from liveswitch_api import wire
from liveswitch_api.auth import LiveSwitchAuthenticator
from liveswitch_api.settings import (
    AUTH_PROPERTIES,
    HTTP_PROPERTIES,
    build_authenticator,
    check_config,
)
from tap_liveswitch.client import LiveSwitchStream
from tap_liveswitch.streams import STREAM_TYPES


class TapLiveSwitch(Tap):
    """Reads contacts, conversations, webhooks and the current user from LiveSwitch."""

    name = "tap-liveswitch"
    message_writer_class = MsgSpecWriter

    config_jsonschema = th.PropertiesList(
        *AUTH_PROPERTIES,
        *HTTP_PROPERTIES,
        th.Property(
            "start_date",
            th.DateTimeType,
            title="Start Date",
            description=(
                "Earliest `updatedAt` to sync on a first run (ISO-8601). Later runs start "
                "from the bookmark in the state."
            ),
        ),
        th.Property(
            "page_size",
            th.IntegerType,
            default=wire.DEFAULT_PAGE_SIZE,
            title="Page Size",
            description=(
                "Records asked for per page (`pageSize`). A server that clamps it to less "
                "is detected; paging goes on."
            ),
        ),
    ).to_dict()

    @override
    def _validate_config(self, *, raise_errors: bool = True) -> list[str]:
        return check_config(
            super()._validate_config(raise_errors=False), self.config, raise_errors=raise_errors
        )

    @cached_property
    def authenticator(self) -> LiveSwitchAuthenticator:
        """One authenticator for every stream, so a token is refreshed once, not per stream."""
        return build_authenticator(self.config, self.logger)

    @override
    def discover_streams(self) -> list[LiveSwitchStream]:
        return [stream_class(tap=self) for stream_class in STREAM_TYPES]


if __name__ == "__main__":
    TapLiveSwitch.cli()
