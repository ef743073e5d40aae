"""Walking a bare-array listing without trusting the assumed page rules.

The real API is 1-based with at most 100 a page as far as anyone knows. The walk survives the
other answers too (shared/liveswitch-api.md, "Robustness rules"):

- a server that clamps the page size: never stop on a page shorter than asked for, only on an
  empty page or one shorter than the largest page seen;
- a server that ignores `page`: the same page twice stops the walk, with a warning;
- a 0-based server: after the last page, page 0 is asked for once. A 1-based server answers it
  with an error, `[]` or page 1 again (all ignored); a 0-based one with its real first page,
  which is then emitted. Probing last, not first, keeps an error on page 0 harmless. A 429 or
  a transient fault is no answer: the probe is retried like any page (`probe_answer`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from singer_sdk.exceptions import FatalAPIError

from liveswitch_api.retry import RetriesExhaustedError

PROBE_PAGE = 0
FIRST_PAGE = 1

Record = dict[str, Any]


def _ids(records: Sequence[Record]) -> tuple[object, ...]:
    return tuple(record.get("id") for record in records)


class PageWalk:
    """Which page to ask for next, and which of a page's records are new."""

    def __init__(self, what: str, logger: logging.Logger) -> None:
        self.what = what
        self.logger = logger
        self.page: int = FIRST_PAGE
        self.done = False
        self._first_ids: tuple[object, ...] = ()
        self._last_ids: tuple[object, ...] = ()
        self._largest = 0

    @property
    def probing(self) -> bool:
        """True while the walk waits for page 0, whose errors mean "no such page"."""
        return not self.done and self.page == PROBE_PAGE

    def probe_answer(self, fetch: Callable[[], Any]) -> Sequence[Record] | None:
        """Page 0's records, from `fetch` (which sends it as any page is sent: through the
        throttle, 429s and transient faults retried), or None for any refusal.

        Every try failing is the one case where a 0-based server's first page may be lost, so
        it is said in a warning rather than taken for "no page 0" in silence.
        """
        try:
            body = fetch()
        except RetriesExhaustedError as error:
            self.logger.warning(
                "%s: %s; if this server's pages start at 0, its first page was not read",
                self.what,
                error,
            )
            return None
        except FatalAPIError:
            return None  # a 1-based server refusing page 0
        return body if isinstance(body, list) else None

    def accept(self, records: Sequence[Record] | None) -> Sequence[Record]:
        """Take the answer for `self.page` (None: the probe failed) and return what to emit."""
        if self.page == PROBE_PAGE:
            self.done = True
            # page 1 again, even shifted by a record created meanwhile, is a 1-based echo
            if records and not set(_ids(records)) & set(self._first_ids):
                self.logger.info("%s: the server's pages start at 0; read page 0 too", self.what)
                return records
            return []
        ids = _ids(records) if records else ()
        if self.page == FIRST_PAGE:
            self._first_ids = ids
        if not records:
            self.page = PROBE_PAGE
            return []
        if ids == self._last_ids:
            self.logger.warning(
                "%s: page %d repeats page %d (the server seems to ignore `page`); stopping",
                self.what,
                self.page,
                self.page - 1,
            )
            self.page = PROBE_PAGE
            return []
        self._last_ids = ids
        if len(records) < self._largest:
            self.page = PROBE_PAGE
        else:
            self._largest = len(records)
            self.page += 1
        return records
