"""Singer output: the SDK's msgspec writer, with RECORD lines written in blocks."""

from __future__ import annotations

import sys

from singer_sdk.contrib.msgspec import MsgSpecWriter
from singer_sdk.singerlib.encoding.base import SingerMessageType
from singer_sdk.singerlib.encoding.simple import Message
from typing_extensions import override

# Big enough to make the write calls rare, small enough to keep a pipe's reader busy.
BLOCK_BYTES = 64 * 1024


class RecordBufferingWriter(MsgSpecWriter):
    """Collects RECORD lines and writes them in blocks; every other message goes out at once.

    The SDK's writer writes and flushes each record: with PYTHONUNBUFFERED (set by Meltano and
    many schedulers) that is one system call per record, a large share of a fast sync. A STATE
    is always written right behind the records it covers, so a killed run loses only records
    no STATE had claimed, which the next run reads again.
    """

    def __init__(self) -> None:
        super().__init__()
        self._block = bytearray()

    @override
    def write_message(self, message: Message) -> None:
        self._block += self.format_message(message)
        if message.type != SingerMessageType.RECORD or len(self._block) >= BLOCK_BYTES:
            sys.stdout.buffer.write(self._block)
            sys.stdout.flush()
            self._block.clear()
