"""Plain request and response values passed between the HTTP plumbing and the handlers."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from html import escape
from typing import Any

JSON = "application/json; charset=utf-8"
PROBLEM_JSON = "application/problem+json; charset=utf-8"
HTML = "text/html; charset=utf-8"

PROBLEM_TYPES = {
    400: "https://tools.ietf.org/html/rfc9110#section-15.5.1",
    404: "https://tools.ietf.org/html/rfc9110#section-15.5.5",
    405: "https://tools.ietf.org/html/rfc9110#section-15.5.6",
    409: "https://tools.ietf.org/html/rfc9110#section-15.5.10",
    429: "https://tools.ietf.org/html/rfc6585#section-4",
    500: "https://tools.ietf.org/html/rfc9110#section-15.6.1",
}
PROBLEM_TITLES = {
    400: "One or more validation errors occurred.",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    429: "Too Many Requests",
    500: "An error occurred while processing your request.",
}


@dataclass
class Request:
    """One parsed HTTP request."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-cased names
    body: bytes
    target: str  # path plus query string, as sent

    def param(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[0] if values else None

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


@dataclass
class Response:
    """One HTTP response; `drop` closes the connection without answering."""

    status: int
    body: bytes = b""
    content_type: str | None = None
    headers: list[tuple[str, str]] = field(default_factory=list)
    drop: bool = False


def dumps(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


def json_response(
    status: int, value: Any, headers: list[tuple[str, str]] | None = None
) -> Response:
    return Response(status, dumps(value), JSON, headers or [])


def raw_json(status: int, body: bytes) -> Response:
    return Response(status, body, JSON)


def empty(status: int, headers: list[tuple[str, str]] | None = None) -> Response:
    return Response(status, b"", None, headers or [])


def trace_id() -> str:
    return f"00-{secrets.token_hex(16)}-{secrets.token_hex(8)}-00"


def problem(
    status: int,
    errors: dict[str, list[str]] | None = None,
    detail: str | None = None,
    headers: list[tuple[str, str]] | None = None,
) -> Response:
    """An ASP.NET-style `application/problem+json` answer."""
    value: dict[str, Any] = {
        "type": PROBLEM_TYPES.get(status, "about:blank"),
        "title": PROBLEM_TITLES.get(status, "Error"),
        "status": status,
    }
    if detail is not None:
        value["detail"] = detail
    if errors is not None:
        value["errors"] = errors
    value["traceId"] = trace_id()
    return Response(status, dumps(value), PROBLEM_JSON, headers or [])


def html(status: int, title: str, text: str) -> Response:
    title, text = escape(title), escape(text)
    page = (
        f"<!DOCTYPE html><html><head><title>{title}</title></head>"
        f"<body><h1>{title}</h1><p>{text}</p></body></html>"
    )
    return Response(status, page.encode(), HTML)


def redirect(location: str) -> Response:
    return Response(302, b"", None, [("Location", location)])
