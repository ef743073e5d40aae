"""A small JSON client for the LiveSwitch API, for code that is not an SDK stream: the target's
sinks and the login helper's `check`. Same authenticator, retry policy and page walk as the tap.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from functools import partial
from typing import Any
from urllib.parse import urlsplit

import msgspec
import requests
import urllib3.exceptions
from requests.adapters import HTTPAdapter
from requests.utils import resolve_proxies
from singer_sdk.exceptions import FatalAPIError, RetriableAPIError
from typing_extensions import override

from liveswitch_api import wire
from liveswitch_api.auth import LiveSwitchAuthenticator
from liveswitch_api.paging import PageWalk
from liveswitch_api.retry import RetryPolicy, describe_request
from liveswitch_api.settings import DEFAULT_REQUEST_TIMEOUT, build_authenticator, build_retry_policy
from liveswitch_api.throttle import Throttle


class ApiError(FatalAPIError):
    """A 4xx answer: the request itself was refused. Safe to print."""

    def __init__(self, request: str, status: int, message: str) -> None:
        self.request = request
        self.status = status
        self.message = message
        super().__init__(f"{request} answered {status}" + (f": {message}" if message else ""))


class AmbiguousWriteError(FatalAPIError):
    """A write failed after the request may have reached the server: it may have acted.

    Raised instead of retrying by `ApiClient.request(..., retry_ambiguous=False)`, for writes
    that are not safe to repeat (the API has no idempotency keys). Safe to print.
    """

    def __init__(self, request: str, reason: str) -> None:
        self.request = request
        super().__init__(f"{request}: {reason}; the server may or may not have acted on it")


def never_sent(exc: BaseException) -> bool:
    """True when a failed request certainly never reached the server (so repeating it is safe):
    a refused connection or a connect timeout. A dropped connection, a read timeout or a 5xx may
    come after the server acted."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return True
    if isinstance(exc, requests.exceptions.ConnectionError) and exc.args:
        reason = getattr(exc.args[0], "reason", exc.args[0])
        return isinstance(reason, urllib3.exceptions.NewConnectionError)
    return False


class PooledSession(requests.Session):
    """The Session of a run's API requests.

    A pooled connection per request in flight; every answer shown to the `throttle`, which
    learns the server's rate-limit window from it; the environment's proxy settings read once
    per host, not once per request (a few percent of a fast sync).
    """

    def __init__(self, throttle: Throttle | None = None) -> None:
        super().__init__()
        # requests keeps 10 connections per host by default
        width = max(10, throttle.max_in_flight if throttle else 1)
        for prefix in ("https://", "http://"):
            self.mount(prefix, HTTPAdapter(pool_connections=width, pool_maxsize=width))
        if throttle is not None:
            self.hooks["response"].append(throttle.observe)
        self._proxies_by_origin: dict[tuple[str, str], dict[str, str]] = {}

    @override
    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        if "proxies" not in kwargs and self.trust_env:
            url = urlsplit(request.url or "")
            origin = (url.scheme, url.netloc)
            if origin not in self._proxies_by_origin:
                self._proxies_by_origin[origin] = resolve_proxies(request, dict(self.proxies))
            kwargs["proxies"] = self._proxies_by_origin[origin]
        return super().send(request, **kwargs)


def decode_json(response: requests.Response) -> Any:
    """The body as JSON; a malformed body counts as a transient server fault (retried)."""
    if not response.content:
        return None
    try:
        # msgspec parses a page about twice as fast as the json module requests uses
        return msgspec.json.decode(response.content)
    except msgspec.DecodeError:
        msg = f"HTTP {response.status_code} with a malformed JSON body"
        raise RetriableAPIError(msg, response) from None


def raise_for_status(response: requests.Response) -> None:
    """429/5xx: RetriableAPIError (retried). Other 4xx: ApiError with the API's own words."""
    status = response.status_code
    if wire.is_retriable_status(status):
        raise RetriableAPIError(f"HTTP {status}", response)
    if status >= 400:
        try:
            body: Any = response.json()
        except ValueError:
            body = response.text
        raise ApiError(describe_request(response.request), status, wire.error_message(body))


class ApiClient:
    """JSON over HTTP with auth, retries and the page walk; thread-safe.

    With a `throttle`, every request attempt (retries included) holds one of its slots, so the
    threads sharing this client keep to its in-flight limit and pause together after a 429.
    """

    def __init__(
        self,
        api_url: str,
        authenticator: LiveSwitchAuthenticator,
        retry_policy: RetryPolicy,
        *,
        timeout: float = DEFAULT_REQUEST_TIMEOUT,
        user_agent: str | None = None,
        logger: logging.Logger | None = None,
        throttle: Throttle | None = None,
    ) -> None:
        self.api_url = api_url.rstrip("/")
        self.authenticator = authenticator
        self.timeout = timeout
        self.logger = logger or logging.getLogger("liveswitch.client")
        self.session = PooledSession(throttle)
        self.session.auth = authenticator
        if user_agent:
            self.session.headers["User-Agent"] = user_agent
        self._attempt: Callable[..., Any] = self._send_once
        if throttle is not None:
            self._attempt = throttle.wrap(self._send_once)
        describe = self._describe
        self._send = retry_policy.decorate(self._attempt, describe)
        self._send_unrepeated = retry_policy.decorate(self._send_once_or_ambiguous, describe)

    @classmethod
    def from_config(
        cls,
        config: Mapping[str, Any],
        logger: logging.Logger | None = None,
        throttle: Throttle | None = None,
    ) -> ApiClient:
        return cls(
            str(config.get("api_url") or wire.DEFAULT_API_URL),
            build_authenticator(config, logger),
            build_retry_policy(config, logger),
            timeout=float(config.get("request_timeout") or DEFAULT_REQUEST_TIMEOUT),
            user_agent=config.get("user_agent"),
            logger=logger,
            throttle=throttle,
        )

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        retry_ambiguous: bool = True,
    ) -> Any:
        """Send one request (with retries); return the decoded body, None when empty.

        `retry_ambiguous=False` is for writes that must not happen twice: a failure after which
        the server may have acted (5xx, dropped connection, read timeout, malformed body)
        raises AmbiguousWriteError instead of being retried; 429 and failures before the
        request left are still retried.
        """
        send = self._send if retry_ambiguous else self._send_unrepeated
        return send(method, path, params, json)

    @staticmethod
    def _describe(args: tuple[Any, ...]) -> str:
        return f"{args[0]} {args[1]}"

    def _send_once_or_ambiguous(
        self, method: str, path: str, params: Mapping[str, Any] | None, json: Any
    ) -> Any:
        try:
            return self._attempt(method, path, params, json)
        except RetriableAPIError as exc:
            status = exc.response.status_code if exc.response is not None else None
            if status == wire.TOO_MANY_REQUESTS:
                raise  # refused before acting: retried
            raise AmbiguousWriteError(f"{method} {path}", str(exc)) from None
        except requests.exceptions.RequestException as exc:
            if never_sent(exc):
                raise
            raise AmbiguousWriteError(f"{method} {path}", type(exc).__name__) from None

    def _send_once(
        self, method: str, path: str, params: Mapping[str, Any] | None, json: Any
    ) -> Any:
        response = self.session.request(
            method, self.api_url + path, params=params, json=json, timeout=self.timeout
        )
        raise_for_status(response)
        return decode_json(response)

    def iter_records(self, resource: wire.Resource, page_size: int) -> Iterator[dict[str, Any]]:
        """Every record of a listing, paged per the robustness rules (paging.PageWalk)."""
        if not resource.paged:
            yield from self.request("GET", resource.path) or []
            return
        walk = PageWalk(resource.name, self.logger)
        while not walk.done:
            params = {wire.PAGE_PARAM: walk.page, wire.PAGE_SIZE_PARAM: page_size}
            if walk.probing:
                records = walk.probe_answer(
                    partial(self.request, "GET", resource.path, params=params)
                )
            else:
                records = self.request("GET", resource.path, params=params)
            yield from walk.accept(records if isinstance(records, list) else None)
