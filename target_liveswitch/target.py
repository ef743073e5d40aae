"""target-liveswitch: writes contacts, conversations and webhook subscriptions into LiveSwitch."""

from __future__ import annotations

import copy
import functools
import sys
from types import FrameType
from typing import Any

from singer_sdk import Target
from singer_sdk import typing as th
from singer_sdk.sinks import Sink
from typing_extensions import override

from liveswitch_api.settings import AUTH_PROPERTIES, HTTP_PROPERTIES, check_config
from target_liveswitch.errors import TargetError, UnsupportedStreamError
from target_liveswitch.run import Run
from target_liveswitch.settings import TARGET_PROPERTIES, target_config_errors
from target_liveswitch.sinks import SINKS


class TargetLiveSwitch(Target):
    """Singer target for the LiveSwitch Contact and Concierge API."""

    name = "target-liveswitch"
    package_name = "liveswitch-singer"  # the distribution both connectors ship in

    config_jsonschema = th.PropertiesList(
        *AUTH_PROPERTIES, *HTTP_PROPERTIES, *TARGET_PROPERTIES
    ).to_dict()

    _received_state: Any = None

    @functools.cached_property
    def run(self) -> Run:
        """What the sinks of this run share; built when the first sink needs it."""
        return Run(self.config, self.logger)

    @classmethod
    @override
    def append_builtin_config(cls, config_jsonschema: dict[str, Any]) -> None:
        """The SDK's built-in settings, less the two that mean nothing here: records are written
        one by one (no batches), and `write_mode` says how, not `load_method`."""
        super().append_builtin_config(config_jsonschema)
        for name in ("load_method", "batch_size_rows"):
            config_jsonschema["properties"].pop(name, None)

    @override
    def _validate_config(self, *, raise_errors: bool = True) -> list[str]:
        errors = super()._validate_config(raise_errors=False)
        return check_config(
            [*errors, *target_config_errors(self.config)], self.config, raise_errors=raise_errors
        )

    @override
    def get_sink_class(self, stream_name: str) -> type[Sink]:
        try:
            return SINKS[stream_name]
        except KeyError:
            supported = ", ".join(SINKS)
            msg = (
                f"stream {stream_name!r} is not supported; target-liveswitch writes {supported} "
                "(rename a stream with stream_maps)"
            )
            raise UnsupportedStreamError(msg) from None

    @override
    def _process_state_message(self, message_dict: dict[str, Any]) -> None:
        """Pass each new STATE on as soon as every record before it is written, not at the
        SDK's next full drain (every 5 minutes or at the end). `_latest_state`, which that
        drain prints again, only ever holds a STATE already passed on, so it is never ahead of
        the writes."""
        self._assert_line_requires(message_dict, requires={"value"})
        state = message_dict["value"]
        if state == self._received_state:
            return
        self._received_state = state
        self.run.pass_on(functools.partial(self._pass_on, copy.deepcopy(state)))

    def _pass_on(self, state: dict[str, Any]) -> None:
        self._latest_state = state
        self._write_state_message(state)

    @override
    def _handle_max_record_age(self) -> None:
        """No drain every 5 minutes: sinks buffer nothing, and STATE goes out as writes end.
        That drain would print `_latest_state` from the reading thread, possibly after a newer
        STATE a writer thread just passed on."""

    @override
    def process_endofpipe(self) -> None:
        self.run.wait()  # the last writes first, so the SDK's final STATE below is covered
        super().process_endofpipe()
        self.run.finish()

    @override
    def _handle_termination(self, signum: int, frame: FrameType | None) -> None:
        """Stop with exit code 1: an interrupted run is no success. No further write starts;
        each STATE went out once the records before it were written; a create cut off in
        flight is looked up by the next run (sinks.py)."""
        self.logger.warning("Received signal %d; stopping", signum)
        self.run.stop()
        self.run.report.log_summary(self.logger, dry_run=self.run.dry_run)
        sys.exit(1)

    @classmethod
    @override
    def invoke(  # type: ignore[override]
        cls,
        *,
        about: bool = False,
        about_format: str | None = None,
        config: Any = None,
        file_input: Any = None,
    ) -> None:
        """The SDK's invoke, ending a failed run with one clear line and exit code 1."""
        try:
            super().invoke(
                about=about, about_format=about_format, config=config, file_input=file_input
            )
        except TargetError as exc:
            cls.logger.error("%s", exc)
            sys.exit(1)


if __name__ == "__main__":
    TargetLiveSwitch.cli()
