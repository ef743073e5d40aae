"""The one base stream: auth, retries, the page walk, scope and availability checks, and the
client-side bookmark filter every LiveSwitch stream shares."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, ClassVar

import requests
from singer_sdk import RESTStream
from singer_sdk.exceptions import FatalAPIError, RetriableAPIError
from singer_sdk.pagination import BaseAPIPaginator
from singer_sdk.streams.rest import HTTPRequest, PageContext
from typing_extensions import override

from liveswitch_api import wire
from liveswitch_api.auth import LiveSwitchAuthenticator
from liveswitch_api.client import ApiError, decode_json, raise_for_status
from liveswitch_api.paging import PageWalk
from liveswitch_api.retry import describe_request
from liveswitch_api.settings import DEFAULT_REQUEST_TIMEOUT, build_retry_policy, parse_datetime

if TYPE_CHECKING:
    from singer_sdk.helpers.types import Context

    from tap_liveswitch.tap import TapLiveSwitch

# The body decoded inside the retried request (so a malformed body is retried), kept on the
# response for parse_response.
_BODY = "liveswitch_body"


def _probe_records(response: requests.Response) -> list[dict] | None:
    """Page 0's records, or None for any answer that is not a JSON array."""
    if not response.ok:
        return None
    try:
        body = decode_json(response)
    except RetriableAPIError:
        return None
    return body if isinstance(body, list) else None


class StreamUnavailableError(FatalAPIError):
    """The endpoint is not offered (404) or not allowed (403): skip the stream, not the run."""


class PageWalkPaginator(BaseAPIPaginator[int]):
    """Drives the SDK's paging loop from a PageWalk (which also sees every page's records)."""

    def __init__(self, walk: PageWalk) -> None:
        super().__init__(walk.page)
        self.walk = walk

    @override
    def continue_if_empty(self, response: requests.Response) -> bool:
        # An empty page ends the walk's forward run, but the page-0 probe may still follow.
        return not self.walk.done

    @override
    def get_next(self, response: requests.Response) -> int | None:
        return None if self.walk.done else self.walk.page

    @override
    def advance(self, response: requests.Response) -> None:
        # The walk has already taken this page's records (in parse_response). Page 0 comes
        # last, which the SDK's own advance() would mistake for the end (a falsy token).
        self._page_count += 1
        next_page = self.get_next(response)
        if next_page is None:
            self._finished = True
        else:
            self._value = next_page


class LiveSwitchStream(RESTStream[int]):
    """Base stream for the LiveSwitch `/v1` API."""

    resource: ClassVar[wire.Resource]
    _tap: TapLiveSwitch

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._walk: PageWalk | None = None
        self._start: dt.datetime | None = None
        self._known_fields = frozenset(self.schema.get("properties", {}))
        self._reported_fields: set[str] = set()

    @property
    @override
    def url_base(self) -> str:
        return str(self.config.get("api_url") or wire.DEFAULT_API_URL).rstrip("/")

    @property
    @override
    def path(self) -> str:  # type: ignore[override]
        return self.resource.path

    @property
    @override
    def authenticator(self) -> LiveSwitchAuthenticator:
        return self._tap.authenticator

    @property
    @override
    def timeout(self) -> int:
        return int(self.config.get("request_timeout") or DEFAULT_REQUEST_TIMEOUT)

    @override
    def request_decorator(self, func: Callable) -> Callable:
        policy = build_retry_policy(self.config, self.logger)
        return policy.decorate(func, lambda args: describe_request(args[0]))

    @override
    def get_new_paginator(self) -> BaseAPIPaginator | None:
        if not self.resource.paged:
            self._walk = None
            return None
        self._walk = PageWalk(self.name, self.logger)
        return PageWalkPaginator(self._walk)

    @override
    def get_http_request(self, *, page: PageContext) -> HTTPRequest:
        request = super().get_http_request(page=page)
        if self.resource.paged:
            request.params[wire.PAGE_PARAM] = page.next_page_token
            request.params[wire.PAGE_SIZE_PARAM] = int(
                self.config.get("page_size") or wire.DEFAULT_PAGE_SIZE
            )
        return request

    @override
    def validate_response(self, response: requests.Response) -> None:
        if self._walk is not None and self._walk.probing:
            return  # page 0 may be refused in any way by a 1-based server: not an error
        try:
            raise_for_status(response)
        except ApiError as error:
            raise self._refusal(error) from None
        setattr(response, _BODY, decode_json(response))

    def _refusal(self, error: ApiError) -> FatalAPIError:
        if error.status == wire.FORBIDDEN and self.resource.admin_only:
            return StreamUnavailableError(
                f"stream '{self.name}' skipped: {error.request} answered 403; it needs an "
                "organization admin's login"
            )
        if error.status == wire.FORBIDDEN:
            return StreamUnavailableError(
                f"stream '{self.name}' skipped: {error.request} answered 403; the token lacks "
                f"the `{self.resource.read_scope}` scope"
            )
        if error.status == wire.NOT_FOUND:
            return StreamUnavailableError(
                f"stream '{self.name}' skipped: {error.request} answered 404 (not offered here)"
            )
        if error.status == wire.UNAUTHORIZED:
            return FatalAPIError(
                f"{error.request} answered 401 twice, also right after a token refresh: the "
                "API does not accept this app's tokens (check api_url, auth_url and audience)"
            )
        return error

    @override
    def response_error_message(self, response: requests.Response) -> str:
        # The SDK's message carries the body and headers; ours carries the API's error only.
        return f"{describe_request(response.request)} answered {response.status_code}"

    @override
    def parse_response(self, response: requests.Response) -> Iterable[dict]:
        walk = self._walk
        if walk is not None and walk.probing:
            return walk.accept(_probe_records(response))
        body = getattr(response, _BODY, None)
        records = body if isinstance(body, list) else [body] if isinstance(body, dict) else []
        return records if walk is None else walk.accept(records)

    @override
    def get_records(self, context: Context | None) -> Iterable[dict[str, Any]]:
        granted = self.authenticator.granted_scopes()
        if granted is not None and not self.resource.readable_with(granted):
            self.logger.warning(
                "stream '%s' skipped: the token was not granted the `%s` scope; log in again "
                "asking for it (liveswitch-auth login)",
                self.name,
                self.resource.read_scope,
            )
            return
        if self.replication_key:
            self._start = self.get_starting_timestamp(context)
        try:
            yield from super().get_records(context)
        except StreamUnavailableError as skipped:
            self.logger.warning("%s", skipped)

    @override
    def post_process(self, row: dict, context: Context | None = None) -> dict | None:
        if self._start is not None and self.replication_key:
            value = row.get(self.replication_key)
            if isinstance(value, str) and parse_datetime(value) < self._start:
                return None  # the API cannot filter: the bookmark is applied here
        unknown = row.keys() - self._known_fields - self._reported_fields
        if unknown:
            self._reported_fields |= unknown
            self.logger.warning(
                "stream '%s': fields not in the schema, emitted as they are: %s",
                self.name,
                ", ".join(sorted(unknown)),
            )
        return row
