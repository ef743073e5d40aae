"""A small JSON client for the LiveSwitch API, for code that is not an SDK stream: the target's
sinks and the login helper's `check`. Same authenticator, retry policy and page walk as the tap.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from typing import Any

import requests
from singer_sdk.exceptions import FatalAPIError, RetriableAPIError

from liveswitch_api import wire
from liveswitch_api.auth import LiveSwitchAuthenticator
from liveswitch_api.paging import PageWalk
from liveswitch_api.retry import RetryPolicy, describe_request
from liveswitch_api.settings import DEFAULT_REQUEST_TIMEOUT, build_authenticator, build_retry_policy


class ApiError(FatalAPIError):
    """A 4xx answer: the request itself was refused. Safe to print."""

    def __init__(self, request: str, status: int, message: str) -> None:
        self.request = request
        self.status = status
        self.message = message
        super().__init__(f"{request} answered {status}" + (f": {message}" if message else ""))


def decode_json(response: requests.Response) -> Any:
    """The body as JSON; a malformed body counts as a transient server fault (retried)."""
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
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
    """JSON over HTTP with auth, retries and the page walk; thread-safe."""

    def __init__(
        self,
        api_url: str,
        authenticator: LiveSwitchAuthenticator,
        retry_policy: RetryPolicy,
        *,
        timeout: float = DEFAULT_REQUEST_TIMEOUT,
        user_agent: str | None = None,
        logger: logging.Logger | None = None,
    ) -> None:
        self.api_url = api_url.rstrip("/")
        self.authenticator = authenticator
        self.timeout = timeout
        self.logger = logger or logging.getLogger("liveswitch.client")
        self.session = requests.Session()
        self.session.auth = authenticator
        if user_agent:
            self.session.headers["User-Agent"] = user_agent
        self._send = retry_policy.decorate(self._send_once, lambda args: f"{args[0]} {args[1]}")

    @classmethod
    def from_config(
        cls, config: Mapping[str, Any], logger: logging.Logger | None = None
    ) -> ApiClient:
        return cls(
            str(config.get("api_url") or wire.DEFAULT_API_URL),
            build_authenticator(config, logger),
            build_retry_policy(config, logger),
            timeout=float(config.get("request_timeout") or DEFAULT_REQUEST_TIMEOUT),
            user_agent=config.get("user_agent"),
            logger=logger,
        )

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
    ) -> Any:
        """Send one request (with retries); return the decoded body, None when empty."""
        return self._send(method, path, params, json)

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
                records = self._probe(resource.path, params)
            else:
                records = self.request("GET", resource.path, params=params)
            yield from walk.accept(records if isinstance(records, list) else None)

    def _probe(self, path: str, params: Mapping[str, Any]) -> Any:
        """One try at page 0: a server without one may refuse it in any way, all meaning "none"."""
        try:
            return self._send_once("GET", path, params, None)
        except (FatalAPIError, RetriableAPIError, requests.exceptions.RequestException):
            return None
