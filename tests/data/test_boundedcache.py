"""Each worker's own cache holds at most its budget of bytes, dropping the oldest results
first; the budget is a setting, and a value that is not one is an error naming it."""

from __future__ import annotations

import pickle

import pytest

from data import queries, settings
from data.boundedcache import BoundedCache


def _result(size: int) -> bytes:
    return b"x" * size


def test_the_oldest_results_go_when_the_budget_is_spent():
    cache = BoundedCache(max_bytes=100_000, threshold=2000, default_timeout=0)
    for i in range(10):
        cache.set(f"k{i}", _result(30_000))
    # Each pickled result is a little over 30,000 bytes: the budget holds three, and the
    # fourth is added once the oldest have gone.
    held = [k for k in (f"k{i}" for i in range(10)) if cache.has(k)]
    assert held == ["k6", "k7", "k8", "k9"]
    assert cache.held_bytes() <= 100_000 + len(pickle.dumps(_result(30_000)))
    assert cache.get("k9") == _result(30_000)


def test_small_results_are_bounded_by_the_entry_threshold_as_before():
    cache = BoundedCache(max_bytes=10**9, threshold=5, default_timeout=0)
    for i in range(20):
        cache.set(f"k{i}", i)
    assert len(cache._cache) <= 6 and cache.get("k19") == 19


def test_the_app_uses_it_with_the_budget_set(monkeypatch):
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.setenv("EQUALITIES_CACHE_MB", "64")
    config = queries.cache_config()
    assert config["CACHE_TYPE"] == "data.boundedcache.BoundedCache"
    assert config["CACHE_MAX_BYTES"] == 64 * 2**20
    monkeypatch.delenv("EQUALITIES_CACHE_MB")
    assert queries.cache_config()["CACHE_MAX_BYTES"] == settings.DEFAULT_CACHE_MB * 2**20


@pytest.mark.parametrize("value", ["lots", "0", "-5", "1.5"])
def test_a_budget_that_is_not_one_is_an_error_naming_it(monkeypatch, value):
    monkeypatch.setenv("EQUALITIES_CACHE_MB", value)
    with pytest.raises(ValueError, match=f"EQUALITIES_CACHE_MB .* not '{value}'"):
        settings.cache_megabytes()


def test_the_running_app_holds_a_bounded_cache(demo_root):
    from app import get_app

    with get_app().server.app_context():
        assert isinstance(queries.cache.cache, BoundedCache)
