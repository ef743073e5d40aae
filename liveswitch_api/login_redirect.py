"""The loopback listener that catches the login redirect, `{redirect_uri}?code=..&state=..`.

It listens on the redirect URI's own host and port (loopback only, so nothing on the network can
reach it or see the code), answers the browser with a plain page saying the tab can be closed,
and hands the code over only when `state` matches the login URL's. Requests for other paths (a
browser's favicon) get a 404 and the wait goes on; only the first redirect counts.
"""

from __future__ import annotations

import hmac
import html
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from urllib.parse import parse_qs, urlsplit

from typing_extensions import override

from liveswitch_api.auth import AuthError
from liveswitch_api.login_url import redirect_uri_error
from liveswitch_api.settings import is_loopback

# the longest piece of the authorization server's error text that is echoed
MAX_ERROR_TEXT = 300


def loopback_redirect_error(value: str) -> str | None:
    """Why `value` cannot be caught here: it must be http://<loopback host>:<port>/<path>."""
    if error := redirect_uri_error(value):
        return error
    parts = urlsplit(value)
    if parts.scheme != "http" or not is_loopback(parts.hostname or "") or parts.port is None:
        return (
            f"redirect_uri: {value!r} is not a loopback URL with a port; `login` listens for "
            "the redirect itself, so use http://127.0.0.1:PORT/PATH (and allow it on the "
            "Developer App), or use `url` and `exchange` on a machine without a browser"
        )
    return None


def code_from_redirect(params: dict[str, str], state: str) -> str:
    """The code of a redirect's query, or AuthError saying why there is none to exchange."""
    if error := params.get("error"):
        said = params.get("error_description") or ""
        said = f"{error}: {said}" if said else error
        msg = f"the login was refused by the authorization server ({said[:MAX_ERROR_TEXT]})"
        raise AuthError(msg)
    if not hmac.compare_digest(params.get("state", "").encode(), state.encode()):
        msg = (
            "the redirect's state does not match the login URL's: it belongs to another or a "
            "forged login, so its code was not used; log in again"
        )
        raise AuthError(msg)
    code = params.get("code")
    if not code:
        msg = "the redirect carried neither a code nor an error; log in again"
        raise AuthError(msg)
    return code


class _Server(ThreadingHTTPServer):
    daemon_threads = True


class _Server6(_Server):
    address_family = socket.AF_INET6


class RedirectCatcher:
    """Listens from `__enter__` (so a taken port fails before the URL is shown) to `__exit__`."""

    def __init__(self, redirect_uri: str, state: str) -> None:
        if error := loopback_redirect_error(redirect_uri):
            raise AuthError(error)
        parts = urlsplit(redirect_uri)
        assert parts.hostname is not None
        assert parts.port is not None
        self.redirect_uri = redirect_uri
        # browsers fall back from ::1 to 127.0.0.1 for "localhost"
        self.host = "127.0.0.1" if parts.hostname == "localhost" else parts.hostname
        self.port = parts.port
        self.path = parts.path or "/"
        self._state = state
        self._lock = threading.Lock()
        self._received = False
        self._arrived = threading.Event()
        self._code: str | None = None
        self._error: AuthError | None = None
        self._server: _Server | None = None

    def __enter__(self) -> RedirectCatcher:
        server_class = _Server6 if ":" in self.host else _Server
        try:
            self._server = server_class((self.host, self.port), self._handler_class())
        except OSError as exc:
            msg = (
                f"cannot listen on {self.host} port {self.port} for the login redirect "
                f"({exc.strerror or exc}); free the port or use another allowed redirect URI"
            )
            raise AuthError(msg) from None
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def wait(self, timeout: float) -> str:
        """The code of the first redirect; AuthError on an error redirect, bad state or timeout."""
        if not self._arrived.wait(timeout):
            msg = (
                f"no login redirect reached {self.redirect_uri} within {timeout:g} s; "
                "open the printed URL in a browser on this machine (or raise --timeout)"
            )
            raise AuthError(msg)
        if self._error is not None:
            raise self._error
        assert self._code is not None
        return self._code

    def receive(self, query: str) -> tuple[int, str]:
        """Record the first redirect; return the status and text of the page to show.

        The waiter is woken by `answered`, only once the page is out: the process may exit
        right after, and the browser must not be left with a broken connection.
        """
        params = {key: values[0] for key, values in parse_qs(query).items()}
        with self._lock:
            if self._received:
                return 409, "This login was already received. You can close this tab."
            self._received = True
            try:
                self._code = code_from_redirect(params, self._state)
            except AuthError as exc:
                self._error = exc
        if self._error is not None:
            return 400, f"Login failed: {self._error}. You can close this tab."
        return 200, "Login received. You can close this tab and return to the terminal."

    def answered(self) -> None:
        if self._received:
            self._arrived.set()

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        catcher = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                if parts.path != catcher.path:
                    self._page(404, "Not the login redirect.")
                    return
                try:
                    self._page(*catcher.receive(parts.query))
                finally:  # a browser that hung up must not leave the login waiting
                    catcher.answered()

            def _page(self, status: int, text: str) -> None:
                body = (
                    "<!doctype html><html><head><meta charset='utf-8'>"
                    "<title>liveswitch-auth</title></head>"
                    f"<body><p>{html.escape(text)}</p></body></html>"
                ).encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(body)

            @override
            def log_message(self, format: str, *args: object) -> None:
                """Silent: the request line holds the code and state."""

        return Handler
