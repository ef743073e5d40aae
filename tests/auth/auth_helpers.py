"""Helpers for liveswitch-auth tests: the command run as users run it, and a test that plays the
browser (GET the printed login URL from the sandbox's /authorize, then GET the redirect).

A module of its own (not conftest.py), so `from auth_helpers import ...` cannot pick up another
folder's conftest when several test folders run together."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests
from singer_run import BIN, secrets_in, stored_tokens

from liveswitch_api.login_url import authorize_url
from liveswitch_sandbox.process import SandboxProcess

AUTH = str(BIN / "liveswitch-auth")
ERROR_PREFIX = "liveswitch-auth: error: "
READ_TIMEOUT = 30.0


@dataclass
class AuthRun:
    returncode: int
    stdout: str
    stderr: str

    @property
    def error(self) -> str:
        """The one error line (asserting there is exactly one, and that it is the last)."""
        lines = [line for line in self.stderr.splitlines() if line.startswith(ERROR_PREFIX)]
        assert len(lines) == 1, self.stderr
        assert self.stderr.splitlines()[-1] == lines[0], self.stderr
        return lines[0].removeprefix(ERROR_PREFIX)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def known_secrets(sandbox: SandboxProcess, *configs: Path) -> list[str]:
    """The app's secret, every refresh token in sight, and every token a token store holds."""
    secrets = [sandbox.client_secret, sandbox.refresh_token]
    for path in configs:
        if not path.exists():
            continue
        config = json.loads(path.read_text())
        secrets += [config.get("client_secret", ""), config.get("refresh_token", "")]
        secrets += stored_tokens(Path(config.get("token_store_path", "/nonexistent")))
    return secrets


def assert_no_secrets(text: str, sandbox: SandboxProcess, *configs: Path) -> None:
    leaked = secrets_in(text, known_secrets(sandbox, *configs))
    assert not leaked, f"secrets in stderr: {leaked}"


def run_auth(*args: str, cwd: Path) -> AuthRun:
    completed = subprocess.run(
        [AUTH, *args], capture_output=True, text=True, cwd=cwd, timeout=120, check=False
    )
    return AuthRun(completed.returncode, completed.stdout, completed.stderr)


class LoginProcess:
    """`liveswitch-auth login --no-browser ...` running in the background."""

    def __init__(self, args: list[str], cwd: Path) -> None:
        self.process = subprocess.Popen(
            [AUTH, "login", "--no-browser", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=cwd,
            env={**os.environ, "BROWSER": "false"},  # in case --no-browser were ignored
        )

    def login_url(self) -> str:
        """The first stdout line: the URL alone."""
        assert self.process.stdout is not None
        lines: list[str] = []
        reader = threading.Thread(
            target=lambda: lines.append(self.process.stdout.readline()),  # type: ignore[union-attr]
            daemon=True,
        )
        reader.start()
        reader.join(READ_TIMEOUT)
        assert lines, "no login URL on stdout"
        assert lines[0].strip(), "stdout closed without a login URL"
        return lines[0].rstrip("\n")

    def finish(self) -> AuthRun:
        """The rest of stdout (after the URL line), stderr, and the exit status."""
        stdout, stderr = self.process.communicate(timeout=READ_TIMEOUT)
        return AuthRun(self.process.returncode, stdout, stderr)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.communicate()


def authorize(url: str) -> str:
    """What a browser does at the login page: GET it; the sandbox approves and redirects."""
    response = requests.get(url, allow_redirects=False, timeout=READ_TIMEOUT)
    assert response.status_code in (302, 303), response.text
    return str(response.headers["Location"])


def app_args(sandbox: SandboxProcess, redirect_uri: str) -> list[str]:
    return [
        "--client-id",
        sandbox.client_id,
        "--client-secret",
        sandbox.client_secret,
        "--auth-url",
        sandbox.auth_url,
        "--redirect-uri",
        redirect_uri,
    ]


def loopback_redirect() -> str:
    return f"http://127.0.0.1:{free_port()}/callback"


def write_config(path: Path, config: dict[str, Any]) -> Path:
    path.write_text(json.dumps(config))
    return path


def new_code(sandbox: SandboxProcess, redirect_uri: str, scope: str | None = None) -> str:
    """A fresh authorization code, as the user of `url` + `exchange` copies it from a browser."""
    login = authorize_url(
        auth_url=sandbox.auth_url,
        client_id=sandbox.client_id,
        redirect_uri=redirect_uri,
        **({"scope": scope} if scope else {}),
    )
    return parse_qs(urlsplit(authorize(login.url)).query)["code"][0]


def exchange_into(sandbox: SandboxProcess, config_path: Path, tmp_path: Path) -> AuthRun:
    """`exchange` a fresh code into `config_path`, with a token store of the test's own."""
    if not config_path.exists():
        write_config(config_path, {"token_store_path": str(tmp_path / "tokens.json")})
    redirect_uri = "http://127.0.0.1:8765/callback"
    return run_auth(
        "exchange",
        "--code",
        new_code(sandbox, redirect_uri),
        *app_args(sandbox, redirect_uri),
        "--api-url",
        sandbox.api_url,
        "--write-config",
        str(config_path),
        cwd=tmp_path,
    )
