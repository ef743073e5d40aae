"""PageWalk decisions, page by page (the tap's wire behaviour is covered in tests/tap), and the
shared client's walk against a sandbox."""

from __future__ import annotations

import logging

import pytest

from liveswitch_api import wire
from liveswitch_api.client import ApiClient, ApiError
from liveswitch_api.paging import PageWalk
from liveswitch_api.retry import RetriesExhaustedError
from liveswitch_sandbox.faults import FaultPlan

LOGGER = logging.getLogger("test")


def page(start: int, count: int) -> list[dict]:
    return [{"id": str(i)} for i in range(start, start + count)]


def walk_through(server: dict[int, list[dict] | None]) -> tuple[list[str], list[int]]:
    walk = PageWalk("contacts", LOGGER)
    emitted: list[str] = []
    asked: list[int] = []
    while not walk.done:
        asked.append(walk.page)
        emitted += [r["id"] for r in walk.accept(server.get(walk.page, []))]
        assert len(asked) < 50, "the walk does not end"
    return emitted, asked


def test_one_based_server_with_a_short_last_page():
    emitted, asked = walk_through({1: page(0, 3), 2: page(3, 3), 3: page(6, 1), 0: page(0, 3)})
    assert emitted == [str(i) for i in range(7)]
    assert asked == [1, 2, 3, 0]


def test_clamped_page_size_does_not_stop_early():
    # asked for 100, served 2 a page: never stop on a page shorter than asked for
    emitted, _ = walk_through({1: page(0, 2), 2: page(2, 2), 3: page(4, 2), 4: page(6, 1)})
    assert len(emitted) == 7


def test_zero_based_server_loses_nothing():
    emitted, asked = walk_through({0: page(0, 2), 1: page(2, 2), 2: page(4, 1)})
    assert sorted(emitted, key=int) == [str(i) for i in range(5)]
    assert asked == [1, 2, 0]


@pytest.mark.parametrize("probe_answer", [None, []], ids=["refused", "empty"])
def test_page_zero_refused_or_empty_means_one_based(probe_answer):
    emitted, _ = walk_through({1: page(0, 2), 2: page(2, 1), 0: probe_answer})
    assert emitted == ["0", "1", "2"]


def test_server_ignoring_page_stops(caplog):
    same = page(0, 3)
    emitted, asked = walk_through({n: same for n in range(50)})
    assert emitted == ["0", "1", "2"]
    assert asked == [1, 2, 0]
    assert "ignore `page`" in caplog.text


def test_empty_organization():
    emitted, asked = walk_through({})
    assert emitted == []
    assert asked == [1, 0]


def test_shifted_echo_of_page_one_is_not_a_page_zero():
    # a 1-based server answering page 0 with page 1, after a record was created mid-walk
    emitted, _ = walk_through({1: page(0, 3), 2: page(3, 2), 0: page(1, 3)})
    assert emitted == ["0", "1", "2", "3", "4"]


def test_probe_answer_takes_refusals_for_no_page_0(caplog):
    walk = PageWalk("contacts", LOGGER)

    def refused():
        raise ApiError("GET /v1/contacts", 400, "The value '0' is not valid.")

    assert walk.probe_answer(refused) is None
    assert walk.probe_answer(lambda: {"not": "a page"}) is None
    assert walk.probe_answer(lambda: page(0, 2)) == page(0, 2)
    assert not caplog.records


def test_probe_answer_says_when_every_try_failed(caplog):
    walk = PageWalk("contacts", LOGGER)

    def exhausted():
        raise RetriesExhaustedError("GET /v1/contacts failed after 6 attempts: HTTP 503")

    assert walk.probe_answer(exhausted) is None
    assert "its first page was not read" in caplog.text
    assert "after 6 attempts: HTTP 503" in caplog.text


def test_the_clients_walk_survives_a_faulted_probe_on_a_zero_based_server(
    sandbox_factory, tmp_path
):
    seed = FaultPlan.seed_faulting_first(0.2, "GET", "/v1/contacts?page=0&pageSize=100")
    sandbox = sandbox_factory(contacts=230, conversations=0, page_base=0, fault_rate=0.2, seed=seed)
    client = ApiClient.from_config(sandbox.config(token_store_path=str(tmp_path / "t.json")))
    records = list(client.iter_records(wire.CONTACTS, 100))
    assert len({r["id"] for r in records}) == 230
