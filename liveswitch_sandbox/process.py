"""Run a sandbox as a child process: for tests, benchmarks, the demo and other engineers' tests.

    with SandboxProcess(contacts=5, page_base=0, admin=False) as sandbox:
        config = sandbox.config()        # ready for a tap/target config.json
        sandbox.touch(3); sandbox.stats()

Keyword options become CLI flags: contacts=5 -> --contacts 5, ignore_page=True ->
--ignore-page, admin=False -> --no-admin, redirect_uri=[a, b] -> --redirect-uri a
--redirect-uri b, None -> left out. The child's stderr goes to a temporary log file
(`log_path`), so no pipe can fill up; the file is removed after a clean exit (code 0) and kept
otherwise, for a post-mortem.
"""

from __future__ import annotations

import atexit
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import urllib.request
import weakref
from pathlib import Path
from types import TracebackType
from typing import IO, Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent
HOOK_TIMEOUT = 10.0

# Sandboxes still running when the interpreter exits (a test forgot stop()) are stopped then,
# so no child outlives the run that started it.
_running: weakref.WeakSet[SandboxProcess] = weakref.WeakSet()


@atexit.register
def _stop_leftovers() -> None:
    for sandbox in list(_running):
        sandbox.stop()


def options_to_flags(options: dict[str, object]) -> list[str]:
    flags: list[str] = []
    for key, value in options.items():
        name = key.replace("_", "-")
        if value is None:
            continue
        if value is True:
            flags.append(f"--{name}")
        elif value is False:
            flags.append(f"--no-{name}")
        elif isinstance(value, (list, tuple)):
            for item in value:
                flags += [f"--{name}", str(item)]
        else:
            flags += [f"--{name}", str(value)]
    return flags


class SandboxProcess:
    """A `liveswitch-sandbox serve` child process (a context manager)."""

    startup_timeout = 20.0
    stop_timeout = 10.0

    def __init__(self, *args: str, **options: object) -> None:
        self.args = [*args, *options_to_flags(options)]
        self.process: subprocess.Popen[bytes] | None = None
        self.info: dict[str, str] = {}
        self.log_path: Path | None = None
        self._log: IO[bytes] | None = None

    # lifecycle -----------------------------------------------------------------------------

    @property
    def command(self) -> list[str]:
        return [sys.executable, "-m", "liveswitch_sandbox", "serve", *self.args]

    def start(self) -> SandboxProcess:
        if self.process is not None:
            return self
        fd, name = tempfile.mkstemp(prefix="liveswitch-sandbox-", suffix=".log")
        self.log_path = Path(name)
        self._log = os.fdopen(fd, "wb")
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(
            part for part in (str(PROJECT_ROOT), env.get("PYTHONPATH", "")) if part
        )
        self.process = subprocess.Popen(
            self.command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=self._log,
            env=env,
        )
        _running.add(self)
        line = self._first_line()
        try:
            info = json.loads(line)
        except ValueError:
            info = None
        if not isinstance(info, dict):
            self.stop()
            raise RuntimeError(f"sandbox did not start: {line!r}\n{self.log_text()}")
        self.info = {str(key): str(value) for key, value in info.items()}
        return self

    def _first_line(self) -> str:
        assert self.process is not None
        assert self.process.stdout is not None
        stdout = self.process.stdout
        lines: list[bytes] = []
        reader = threading.Thread(target=lambda: lines.append(stdout.readline()), daemon=True)
        reader.start()
        reader.join(self.startup_timeout)
        if reader.is_alive() or not lines or not lines[0]:
            self.stop()
            raise RuntimeError(
                f"sandbox gave no JSON line within {self.startup_timeout} s "
                f"(exit code {self.process.returncode}):\n{self.log_text()}"
            )
        return lines[0].decode()

    def stop(self) -> None:
        """SIGTERM, wait, kill after a timeout. Idempotent."""
        process = self.process
        if process is None:
            return
        _running.discard(self)
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(self.stop_timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if process.stdout is not None:
            process.stdout.close()
        if self._log is not None:
            self._log.close()
            self._log = None
        if process.returncode == 0 and self.log_path is not None:
            self.log_path.unlink(missing_ok=True)  # a clean run leaves nothing behind

    @property
    def returncode(self) -> int | None:
        return None if self.process is None else self.process.poll()

    def log_text(self) -> str:
        if self._log is not None:
            self._log.flush()
        if self.log_path is None or not self.log_path.exists():
            return ""
        return self.log_path.read_text(errors="replace")

    def __enter__(self) -> SandboxProcess:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"SandboxProcess({' '.join(self.args)!r}, api_url={self.info.get('api_url')!r})"

    # the JSON line -------------------------------------------------------------------------

    @property
    def api_url(self) -> str:
        return self.info["api_url"]

    @property
    def auth_url(self) -> str:
        return self.info["auth_url"]

    @property
    def client_id(self) -> str:
        return self.info["client_id"]

    @property
    def client_secret(self) -> str:
        return self.info["client_secret"]

    @property
    def refresh_token(self) -> str:
        return self.info["refresh_token"]

    @property
    def redirect_uri(self) -> str:
        return self.info["redirect_uri"]

    def config(self, **overrides: object) -> dict[str, object]:
        """A tap/target config: credentials and URLs, with `overrides` on top."""
        keys = ("client_id", "client_secret", "refresh_token", "api_url", "auth_url")
        base: dict[str, object] = {key: self.info[key] for key in keys}
        return base | overrides

    # test hooks ----------------------------------------------------------------------------

    def _hook(self, method: str, path: str) -> Any:
        url = f"{self.auth_url}/_sandbox/{path}"  # always our own http:// URL
        request = urllib.request.Request(url, method=method)  # noqa: S310
        with urllib.request.urlopen(request, timeout=HOOK_TIMEOUT) as response:  # noqa: S310
            return json.loads(response.read())

    def stats(self) -> dict[str, Any]:
        result: dict[str, Any] = self._hook("GET", "stats")
        return result

    def touch(self, n: int) -> dict[str, list[str]]:
        result: dict[str, list[str]] = self._hook("POST", f"touch?n={int(n)}")
        return result

    def expire_access_tokens(self) -> None:
        self._hook("POST", "expire-access-tokens")
