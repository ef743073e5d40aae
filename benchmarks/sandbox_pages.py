"""How many 100-contact pages a second the sandbox serves, next to a minimal stdlib baseline.

    .venv/bin/python benchmarks/sandbox_pages.py [--seconds 3] [--clients 4] [--contacts 20000]

Starts a sandbox (SandboxProcess) with 20,000 contacts, then reads pages with a few keep-alive
http.client connections for a few seconds. The baseline, measured in the same run by the same
clients, is a stdlib ThreadingHTTPServer in its own process answering one pre-encoded page of the
same size (headers and body in one write, TCP_NODELAY): the most a Python server can do here.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from liveswitch_api import wire  # noqa: E402
from liveswitch_sandbox.process import SandboxProcess  # noqa: E402

PAGE_SIZE = 100


def serve_baseline(page_path: str) -> None:
    """The baseline server (run in a child process): one pre-encoded page for every GET."""
    body = Path(page_path).read_bytes()
    response = (
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json; charset=utf-8\r\n"
        + f"Content-Length: {len(body)}\r\n\r\n".encode()
        + body
    )

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def do_GET(self) -> None:
            self.wfile.write(response)

        def log_message(self, format, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    print(server.server_address[1], flush=True)
    server.serve_forever()


def measure(base_url: str, headers: dict[str, str], seconds: float, clients: int, pages: int):
    """Pages per second over `clients` keep-alive connections, and bytes per page."""
    parts = urlsplit(base_url)
    counts = [0] * clients
    sizes = [0] * clients
    errors: list[str] = []
    start_line = threading.Barrier(clients + 1)
    stop_at = [0.0]

    def client(index: int) -> None:
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        start_line.wait()
        page = index
        while time.perf_counter() < stop_at[0]:
            page = page % pages + 1
            path = (
                f"{parts.path}{wire.CONTACTS.path}?{wire.PAGE_PARAM}={page}"
                f"&{wire.PAGE_SIZE_PARAM}={PAGE_SIZE}"
            )
            connection.request("GET", path, headers=headers)
            response = connection.getresponse()
            body = response.read()
            if response.status != 200:
                errors.append(f"{response.status} {body[:200]!r}")
                return
            counts[index] += 1
            sizes[index] = len(body)
        connection.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    began = time.perf_counter()
    stop_at[0] = began + seconds
    start_line.wait()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    if errors:
        raise SystemExit(f"benchmark request failed: {errors[0]}")
    return sum(counts) / elapsed, max(sizes)


def access_token(sandbox: SandboxProcess) -> str:
    parts = urlsplit(sandbox.auth_url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    body = {
        "grant_type": "refresh_token",
        "refresh_token": sandbox.refresh_token,
        "client_id": sandbox.client_id,
        "client_secret": sandbox.client_secret,
    }
    connection.request(
        "POST", wire.TOKEN_PATH, json.dumps(body), {"Content-Type": "application/json"}
    )
    return json.loads(connection.getresponse().read())["access_token"]


def start_baseline(page: bytes) -> tuple[subprocess.Popen[str], str, Path]:
    page_file = Path(tempfile.gettempdir()) / f"liveswitch-baseline-page-{os.getpid()}.json"
    page_file.write_bytes(page)
    process = subprocess.Popen(
        [sys.executable, __file__, "--serve-baseline", str(page_file)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    port = int(process.stdout.readline())
    return process, f"http://127.0.0.1:{port}/v1", page_file


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=4.0, help="per server, in all")
    parser.add_argument("--rounds", type=int, default=4, help="alternations of the two servers")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--contacts", type=int, default=20_000)
    parser.add_argument("--serve-baseline", metavar="PAGE_FILE", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_baseline:
        serve_baseline(args.serve_baseline)
        return

    pages = args.contacts // PAGE_SIZE
    with SandboxProcess(contacts=args.contacts, conversations=0, log_level="WARNING") as sandbox:
        headers = {"Authorization": f"Bearer {access_token(sandbox)}"}
        parts = urlsplit(sandbox.api_url)
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
        connection.request("GET", f"{parts.path}/contacts?page=1&pageSize=100", headers=headers)
        page = connection.getresponse().read()
        connection.close()
        assert len(json.loads(page)) == PAGE_SIZE
        baseline, baseline_url, page_file = start_baseline(page)
        try:
            measure(sandbox.api_url, headers, 0.5, args.clients, pages)  # warm up both
            measure(baseline_url, {}, 0.5, args.clients, pages)
            # Alternate short rounds so both servers meet the same background load.
            rates: dict[str, list[float]] = {"sandbox": [], "baseline": []}
            for _ in range(args.rounds):
                share = args.seconds / args.rounds
                rates["sandbox"].append(
                    measure(sandbox.api_url, headers, share, args.clients, pages)[0]
                )
                rates["baseline"].append(measure(baseline_url, {}, share, args.clients, pages)[0])
        finally:
            baseline.terminate()
            baseline.wait(10)
            page_file.unlink(missing_ok=True)
        served = sandbox.stats()["requests"].get("GET /v1/contacts", 0)

    sandbox_rate = statistics.mean(rates["sandbox"])
    baseline_rate = statistics.mean(rates["baseline"])
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"machine:  {os.cpu_count()} CPUs, load average {load:.1f} at the end")
    print(f"clients:  {args.clients} keep-alive http.client connections, {args.rounds} rounds")
    print(f"page:     {PAGE_SIZE} contacts, {len(page)} bytes, {args.contacts} contacts in all")
    print(f"sandbox:  {sandbox_rate:8.0f} pages/s  ({served} pages served)")
    print(f"baseline: {baseline_rate:8.0f} pages/s  (stdlib server, one pre-encoded page)")
    print(f"ratio:    {sandbox_rate / baseline_rate:8.2f}  (sandbox / baseline)")


if __name__ == "__main__":
    socket.setdefaulttimeout(30)
    main()
