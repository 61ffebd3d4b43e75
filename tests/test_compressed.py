"""Callback answers are compressed once and sent again as the same bytes; each compressed
answer is exactly its own page, and other responses are still compressed as before."""

from __future__ import annotations

import gzip

import pytest

from tests.test_page_json import router_body
from web import compressed, layouts

CALLBACK = "/_dash-update-component"


@pytest.fixture(scope="module")
def client(demo_root):
    from app import get_app

    return get_app().server.test_client()


@pytest.fixture(autouse=True)
def fixed_minute(monkeypatch):
    # The heading states the minute it was made: hold it, to compare answers byte for byte.
    monkeypatch.setattr(layouts, "_generated", lambda: "01 January 2030, 09:00")


def answer(client, path: str, encoding: str):
    return client.post(CALLBACK, json=router_body(path), headers={"Accept-Encoding": encoding})


@pytest.mark.parametrize("path", ["/", "/benchmark", "/map", "/trends"])
def test_a_compressed_answer_is_exactly_the_page(client, path):
    plain = answer(client, path, "identity")
    packed = answer(client, path, "gzip, deflate, br")
    assert plain.status_code == packed.status_code == 200
    assert "Content-Encoding" not in plain.headers
    assert packed.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in packed.headers["Vary"]
    assert int(packed.headers["Content-Length"]) == len(packed.get_data())
    assert gzip.decompress(packed.get_data()) == plain.get_data()
    assert len(packed.get_data()) < len(plain.get_data()) / 3


def test_an_answer_sent_before_is_not_compressed_again(client):
    first = answer(client, "/explore", "gzip")
    hits = compressed.gzipped.cache_info().hits
    again = answer(client, "/explore", "gzip")
    assert compressed.gzipped.cache_info().hits == hits + 1
    assert again.get_data() == first.get_data()
    # Another page is its own answer, never one remembered for another.
    other = answer(client, "/benchmark", "gzip")
    assert gzip.decompress(other.get_data()) != gzip.decompress(first.get_data())


def test_a_client_refusing_gzip_gets_the_page_as_it_is(client):
    refused = answer(client, "/benchmark", "gzip;q=0, identity")
    assert "Content-Encoding" not in refused.headers
    assert refused.get_json()["response"]["_pages_content"]["children"]["type"] == "Div"


def test_other_responses_are_still_compressed(client):
    page = client.get("/", headers={"Accept-Encoding": "gzip"})
    assert page.status_code == 200 and page.headers["Content-Encoding"] == "gzip"
    assert b"<html" in gzip.decompress(page.get_data())
