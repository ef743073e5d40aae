"""The one retry policy for every request the tap, target and login helper send.

429 and 5xx answers, malformed JSON bodies, dropped connections and timeouts are retried with
exponential backoff and jitter, except that a `Retry-After` header (seconds or an HTTP date) is
honoured exactly. Each retry is logged once at WARNING without the response body; after the last
try the error names the request, the attempt count and the last answer.
"""

from __future__ import annotations

import email.utils
import logging
import random
import time
import urllib.parse
from collections.abc import Callable, Generator
from typing import Any, TypeVar

import backoff
import requests
from singer_sdk.exceptions import FatalAPIError, RetriableAPIError

T = TypeVar("T")

RETRIABLE_EXCEPTIONS: tuple[type[Exception], ...] = (
    RetriableAPIError,
    ConnectionError,
    requests.exceptions.ConnectionError,
    requests.exceptions.Timeout,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
)

DEFAULT_MAX_RETRIES = 5
# A server that asks for longer than this is not waited for: the run fails instead of hanging.
MAX_RETRY_AFTER_SECONDS = 600.0


class RetriesExhaustedError(FatalAPIError):
    """Every try failed; the message says which request, how many tries, and the last answer."""


def retry_after_seconds(response: requests.Response | None) -> float | None:
    """Seconds the server asked us to wait, from `Retry-After` as seconds or an HTTP date."""
    if response is None:
        return None
    value = response.headers.get("Retry-After")
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        seconds = when.timestamp() - time.time()
    return min(max(seconds, 0.0), MAX_RETRY_AFTER_SECONDS)


def failure_reason(exc: BaseException) -> str:
    """A short, secret-free description of why a try failed."""
    response = getattr(exc, "response", None)
    if isinstance(exc, RetriableAPIError) and response is not None:
        return str(exc) or f"HTTP {response.status_code}"
    if isinstance(exc, requests.exceptions.Timeout):
        return "timed out"
    if isinstance(exc, (ConnectionError, requests.exceptions.ConnectionError)):
        return "connection failed or dropped"
    return type(exc).__name__


class RetryPolicy:
    """How long to wait between tries and how many to make."""

    def __init__(
        self,
        max_retries: int = DEFAULT_MAX_RETRIES,
        *,
        base_delay: float = 1.0,
        max_delay: float = 60.0,
        logger: logging.Logger | None = None,
    ) -> None:
        self.max_retries = max_retries
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.logger = logger or logging.getLogger("liveswitch")

    def waits(self) -> Generator[float, BaseException, None]:
        """Backoff wait generator: receives each failure, yields the seconds to wait."""
        attempt = 0
        exc = yield 0.0  # primed by backoff with None
        while True:
            hinted = retry_after_seconds(getattr(exc, "response", None))
            if hinted is None:
                ceiling = min(self.max_delay, self.base_delay * 2**attempt)
                hinted = random.uniform(ceiling / 2, ceiling)
            attempt += 1
            exc = yield hinted

    def decorate(
        self, func: Callable[..., T], describe: Callable[[tuple[Any, ...]], str]
    ) -> Callable[..., T]:
        """Wrap `func` with this policy; `describe(args)` names the request, e.g. `GET /v1/me`."""

        def log_retry(details: Any) -> None:
            self.logger.warning(
                "%s: %s; retry %d of %d in %.1f s",
                describe(details["args"]),
                failure_reason(details["exception"]),
                details["tries"],
                self.max_retries,
                details["wait"],
            )

        def give_up(details: Any) -> None:
            msg = (
                f"{describe(details['args'])} failed after {details['tries']} attempts: "
                f"{failure_reason(details['exception'])}"
            )
            raise RetriesExhaustedError(msg) from details["exception"]

        return backoff.on_exception(
            self.waits,  # type: ignore[arg-type]  # it is sent each failure
            RETRIABLE_EXCEPTIONS,
            max_tries=self.max_retries + 1,
            jitter=None,  # the generator jitters itself, and leaves Retry-After exact
            on_backoff=log_retry,
            on_giveup=give_up,
            logger=None,
        )(func)


def describe_request(request: requests.PreparedRequest) -> str:
    """`METHOD /path` of a request: no query string, no headers, so nothing secret."""
    path = urllib.parse.urlsplit(request.url or "").path
    return f"{request.method} {path}"
