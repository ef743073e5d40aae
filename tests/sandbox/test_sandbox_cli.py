"""The CLI: exactly one JSON line on stdout, seeded credentials, clean exit on SIGTERM/SIGINT."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from liveswitch_sandbox.process import SandboxProcess, options_to_flags

ROOT = Path(__file__).resolve().parents[2]
KEYS = ["api_url", "auth_url", "client_id", "client_secret", "refresh_token", "redirect_uri"]


def start(*flags):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.Popen(
        [sys.executable, "-m", "liveswitch_sandbox", "serve", "--contacts", "3", *flags],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_one_json_line_then_a_clean_exit(stop_signal):
    process = start("--seed", "5")
    try:
        info = json.loads(process.stdout.readline())
        assert list(info) == KEYS
        assert info["api_url"] == info["auth_url"] + "/v1"
        assert info["redirect_uri"] == "http://127.0.0.1:8765/callback"
        assert requests.get(info["auth_url"] + "/_sandbox/stats", timeout=5).status_code == 200
    finally:
        process.send_signal(stop_signal)
        stdout, stderr = process.communicate(timeout=10)
    assert process.returncode == 0, stderr
    assert stdout == b""  # nothing after the one line
    assert b"Traceback" not in stderr


def test_credentials_come_from_the_seed_or_the_flags():
    with SandboxProcess(seed=9, contacts=1) as a, SandboxProcess(seed=9, contacts=1) as b:
        assert a.client_id == b.client_id
        assert a.refresh_token == b.refresh_token
        assert a.api_url != b.api_url
    fixed = {"client_id": "cid", "client_secret": "secret", "refresh_token": "v1.fixed"}
    with SandboxProcess(contacts=1, **fixed) as sb:
        assert {key: sb.info[key] for key in fixed} == fixed
        assert sb.config(stream_maps={}) == {
            **fixed,
            "api_url": sb.api_url,
            "auth_url": sb.auth_url,
            "stream_maps": {},
        }
    assert sb.returncode == 0


def test_options_to_flags():
    assert options_to_flags(
        {
            "contacts": 5,
            "ignore_page": True,
            "admin": False,
            "rotate_refresh_tokens": False,
            "redirect_uri": ["a", "b"],
            "seed": None,
        }
    ) == [
        "--contacts", "5", "--ignore-page", "--no-admin", "--no-rotate-refresh-tokens",
        "--redirect-uri", "a", "--redirect-uri", "b",
    ]  # fmt: skip


def test_a_bad_option_fails_fast_with_the_log():
    sandbox = SandboxProcess(fault_rate=2)
    with pytest.raises(RuntimeError, match="fault-rate"):
        sandbox.start()
    assert sandbox.returncode == 2
    sandbox.log_path.unlink()  # kept after a failed start, for a post-mortem
