"""The one base stream: auth, retries, concurrent in-order paging, scope and availability checks,
and the client-side bookmark filter every LiveSwitch stream shares."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Generator, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar

import requests
from singer_sdk import RESTStream
from singer_sdk import singerlib as singer
from singer_sdk.exceptions import FatalAPIError
from singer_sdk.helpers._util import utc_now
from singer_sdk.helpers.conform import TypeConformanceLevel
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


class StreamUnavailableError(FatalAPIError):
    """The endpoint is not offered (404) or not allowed (403): skip the stream, not the run."""


class LiveSwitchStream(RESTStream[int]):
    """Base stream for the LiveSwitch `/v1` API."""

    resource: ClassVar[wire.Resource]
    # API records are plain JSON already shaped like the schemas: the SDK's per-value
    # conformance pass would cost more than the rest of the per-record work together.
    TYPE_CONFORMANCE_LEVEL = TypeConformanceLevel.NONE
    _tap: TapLiveSwitch

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
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
    def requests_session(self) -> requests.Session:
        return self._tap.requests_session

    @property
    @override
    def timeout(self) -> int:
        return int(self.config.get("request_timeout") or DEFAULT_REQUEST_TIMEOUT)

    @override
    def request_decorator(self, func: Callable) -> Callable:
        policy = build_retry_policy(self.config, self.logger)
        return policy.decorate(self._tap.throttle.wrap(func), lambda a: describe_request(a[0]))

    @override
    def get_new_paginator(self) -> BaseAPIPaginator | None:
        return None  # paged resources are walked by request_records below

    @override
    def get_http_request(self, *, page: PageContext) -> HTTPRequest:
        request = super().get_http_request(page=page)
        if page.next_page_token is not None:
            request.params[wire.PAGE_PARAM] = page.next_page_token
            request.params[wire.PAGE_SIZE_PARAM] = int(
                self.config.get("page_size") or wire.DEFAULT_PAGE_SIZE
            )
        return request

    @override
    def request_records(self, context: Context | None) -> Iterable[dict]:
        """Pages fetched `max_concurrent_requests` at a time, records emitted in page order.

        Page numbers are known in advance, so the next pages are requested while the current
        one is emitted; the walk still sees the pages one by one, in order, so output and state
        are exactly those of a sequential run. After the last page at most a window of
        speculative requests was sent; their answers (empty pages) are dropped.
        """
        if not self.resource.paged:
            yield from super().request_records(context)
            return
        walk = PageWalk(self.name, self.logger)
        send = self.request_decorator(self._request)
        window = self._tap.throttle.max_in_flight

        def fetch(page: int) -> requests.Response:
            return send(self._page_request(context, page), context)

        with (
            self.get_http_request_counter() as counter,
            ThreadPoolExecutor(window, thread_name_prefix=self.name) as pool,
        ):
            counter.with_context(context)
            pending: dict[int, Future[requests.Response]] = {}
            next_page = walk.page
            pages_read = 0
            while not walk.probing and not walk.done:
                # the window opens 1, 2, 4... pages wide, so a small listing costs few requests
                while len(pending) < min(window, 2**pages_read):
                    pending[next_page] = pool.submit(fetch, next_page)
                    next_page += 1
                response = pending.pop(walk.page).result()
                pages_read += 1
                counter.increment()
                yield from walk.accept(list(self.parse_response(response)))
            for future in pending.values():
                future.cancel()
            yield from walk.accept(
                walk.probe_answer(lambda: getattr(fetch(walk.page), _BODY, None))
            )

    def _page_request(self, context: Context | None, page: int) -> requests.PreparedRequest:
        request = self.get_http_request(
            page=PageContext(stream_context=context, next_page_token=page)
        )
        return self.build_prepared_request(
            method=request.method,
            url=request.url,
            params=request.encode_params(),
            headers=request.headers,
        )

    @override
    def validate_response(self, response: requests.Response) -> None:
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
    def parse_response(self, response: requests.Response) -> Iterator[dict]:
        body = getattr(response, _BODY, None)
        if isinstance(body, list):
            yield from body
        elif isinstance(body, dict):
            yield body

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
    def _generate_record_messages(
        self, record: dict
    ) -> Generator[singer.RecordMessage, None, None]:
        """The SDK's record messages, without its per-record field selection and conformance
        passes when both would leave the record as it is: every field selected (the usual
        catalog) and conformance off. The selection pass alone costs a tenth of a zero-latency
        sync."""
        if not self._records_pass_unchanged:
            yield from super()._generate_record_messages(record)
            return
        time_extracted = utc_now()
        for stream_map in self.stream_maps:
            mapped = stream_map.transform(record)
            if mapped is not None:
                yield singer.RecordMessage(
                    stream=stream_map.stream_alias,
                    record=mapped,
                    version=self._stream_version,
                    time_extracted=time_extracted,
                )

    @cached_property
    def _records_pass_unchanged(self) -> bool:
        # A breadcrumb missing from the mask inherits its parent's value, so all True here
        # means every field of every record is kept.
        return self.TYPE_CONFORMANCE_LEVEL == TypeConformanceLevel.NONE and all(self.mask.values())

    @override
    def post_process(self, row: dict, context: Context | None = None) -> dict | None:
        if self._start is not None and self.replication_key:
            value = row.get(self.replication_key)
            if isinstance(value, str) and parse_datetime(value) < self._start:
                return None  # the API cannot filter: the bookmark is applied here
        if row.keys() <= self._known_fields:
            return row
        unknown = row.keys() - self._known_fields - self._reported_fields
        if unknown:
            self._reported_fields |= unknown
            self.logger.warning(
                "stream '%s': fields not in the schema, emitted as they are: %s",
                self.name,
                ", ".join(sorted(unknown)),
            )
        return row
