"""The baselines of the throughput benchmarks: the simplest sequential `requests` loops.

    python benchmarks/plain_loops.py read CONFIG      # page=1.. until an empty page
    python benchmarks/plain_loops.py create CONFIG SINGER_FILE

CONFIG is a JSON file with `api_url` and `access_token`. `read` writes each contact as a JSON
line to stdout (the work a tap's output does); `create` POSTs the contact of each Singer RECORD
line, one after the other, and writes each answer as a JSON line. Kept apart from the benchmark
scripts so a baseline imports nothing but requests and the API's wire facts.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import requests

from liveswitch_api import wire

# The writable contact fields, as target-liveswitch sends them.
CONTACT_FIELDS = ("phone", "firstName", "lastName", "email")
TIMEOUT = 30


def session_for(config: dict[str, str]) -> requests.Session:
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {config['access_token']}"
    return session


def read(config: dict[str, str]) -> None:
    session = session_for(config)
    url = config["api_url"] + wire.CONTACTS.path
    write = sys.stdout.write
    page = 1
    while True:
        params = {wire.PAGE_PARAM: page, wire.PAGE_SIZE_PARAM: wire.DEFAULT_PAGE_SIZE}
        response = session.get(url, params=params, timeout=TIMEOUT)
        response.raise_for_status()
        records = response.json()
        if not records:
            return
        for record in records:
            write(json.dumps(record))
            write("\n")
        page += 1


def create(config: dict[str, str], singer_file: Path) -> None:
    session = session_for(config)
    url = config["api_url"] + wire.CONTACTS.path
    with singer_file.open() as lines:
        for line in lines:
            message = json.loads(line)
            if message.get("type") != "RECORD":
                continue
            record = message["record"]
            body = {name: record[name] for name in CONTACT_FIELDS if record.get(name) is not None}
            response = session.post(url, json=body, timeout=TIMEOUT)
            response.raise_for_status()
            sys.stdout.write(response.text.strip() + "\n")


def main() -> None:
    command, config_path, *rest = sys.argv[1:]
    config = json.loads(Path(config_path).read_text())
    if command == "read":
        read(config)
    elif command == "create":
        create(config, Path(rest[0]))
    else:
        raise SystemExit(f"unknown command {command!r}: use read or create")


if __name__ == "__main__":
    main()
