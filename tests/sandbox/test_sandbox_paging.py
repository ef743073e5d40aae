"""Paging: both page bases, a clamping server, a server that ignores `page`."""

from __future__ import annotations

import pytest

from liveswitch_api import wire
from liveswitch_sandbox.process import SandboxProcess


def read_all(client, token, path, first, size, limit=50):
    pages = []
    for number in range(first, first + limit):
        response = client.call(
            "GET", path, token, params={wire.PAGE_PARAM: number, wire.PAGE_SIZE_PARAM: size}
        )
        assert response.status_code == 200
        pages.append(response.json())
        if not pages[-1]:
            return pages
    raise AssertionError("paging never reached an empty page")


@pytest.fixture(scope="module")
def twenty_three(client_for):
    with SandboxProcess(contacts=23, conversations=23) as sb:
        yield client_for(sb)


@pytest.mark.parametrize("resource", [wire.CONTACTS, wire.CONVERSATIONS])
def test_one_based_pages_cover_everything_in_stable_order(twenty_three, resource):
    client = twenty_three
    token = client.login()["access_token"]
    pages = read_all(client, token, resource.path, 1, 10)
    assert [len(page) for page in pages] == [10, 10, 3, 0]
    records = [record for page in pages for record in page]
    assert len({record["id"] for record in records}) == 23
    keys = [(record["createdAt"], record["id"]) for record in records]
    assert keys == sorted(keys)
    # below the base is the base page, as a lenient server would answer
    below = client.call("GET", resource.path, token, params={"page": 0, "pageSize": 10})
    assert below.json() == pages[0]
    # no page parameter at all: the first page, default size
    assert client.call("GET", resource.path, token).json() == records


def test_zero_based_pages(sandbox_factory, client_for):
    sb = sandbox_factory(contacts=15, page_base=0)
    client = client_for(sb)
    token = client.login()["access_token"]
    pages = read_all(client, token, wire.CONTACTS.path, 0, 10)
    assert [len(page) for page in pages] == [10, 5, 0]
    # a 1-based client would skip the first page here: page 1 is the second one
    second = client.call("GET", "/contacts", token, params={"page": 1, "pageSize": 10}).json()
    assert second == pages[1]


def test_page_size_is_clamped_silently(sandbox_factory, client_for):
    sb = sandbox_factory(contacts=12, max_page_size=5)
    client = client_for(sb)
    token = client.login()["access_token"]
    pages = read_all(client, token, wire.CONTACTS.path, 1, 100)
    assert [len(page) for page in pages] == [5, 5, 2, 0]


def test_default_max_page_size_is_100(sandbox, client_for):
    client = client_for(sandbox)
    token = client.login()["access_token"]
    response = client.call("GET", "/contacts", token, params={"page": 1, "pageSize": 500})
    assert len(response.json()) == 100


def test_ignore_page_always_serves_the_first_page(sandbox_factory, client_for):
    sb = sandbox_factory(contacts=30, ignore_page=True)
    client = client_for(sb)
    token = client.login()["access_token"]
    first, second, far = (
        client.call("GET", "/contacts", token, params={"page": n, "pageSize": 10}).json()
        for n in (1, 2, 99)
    )
    assert len(first) == 10
    assert first == second == far


def test_bad_page_parameters_are_validation_errors(sandbox, client_for):
    client = client_for(sandbox)
    token = client.login()["access_token"]
    for params in ({"page": "two"}, {"pageSize": 0}):
        response = client.call("GET", "/contacts", token, params=params)
        assert response.status_code == 400
        assert response.headers["Content-Type"].startswith("application/problem+json")
        assert response.json()["status"] == 400
