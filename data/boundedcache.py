"""Each worker's own cache of results, bounded by the bytes it holds as well as by entries.

Flask-Caching's SimpleCache (without Redis) keeps up to a number of entries, whatever their
size. A view listing every trust is ten times larger at ten times the trusts, so a count
alone lets a worker's memory grow with the store. This cache also drops its oldest entries
when they hold more than a budget (``EQUALITIES_CACHE_MB``).
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask_caching.backends.simplecache import SimpleCache


class BoundedCache(SimpleCache):
    """SimpleCache holding at most ``max_bytes`` of pickled results (and ``threshold``
    entries). Before an entry is stored, the oldest are dropped until the rest fit."""

    def __init__(self, max_bytes: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.max_bytes = max_bytes

    @classmethod
    def factory(cls, app: Flask, config: dict[str, Any], args: list[Any],
                kwargs: dict[str, Any]) -> BoundedCache:
        kwargs.update(threshold=config["CACHE_THRESHOLD"], max_bytes=config["CACHE_MAX_BYTES"])
        return cls(*args, **kwargs)

    def held_bytes(self) -> int:
        """Bytes of the pickled results held."""
        return sum(len(value) for _, value in list(self._cache.values()))

    def _prune(self) -> None:
        super()._prune()  # expired entries, then the oldest past the entry threshold
        sizes = [(key, len(value)) for key, (_, value) in list(self._cache.items())]
        held = sum(size for _, size in sizes)
        for key, size in sizes:  # oldest first: a dict keeps the order entries came in
            if held <= self.max_bytes:
                break
            self._cache.pop(key, None)
            held -= size
