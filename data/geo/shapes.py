"""Plane geometry on British National Grid metres: simplifying outlines, testing whether a
point is inside a region and placing a point inside one.

A region is a sequence of rings, each an ``(n, 2)`` array of eastings and northings whose
last point repeats the first. The boundary files hold no holes, so the even-odd rule over
all rings is the region.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np

Ring = np.ndarray


def _segment_distances(points: np.ndarray, start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Distance of each of ``points`` from the segment ``start``-``end``."""
    d = end - start
    length2 = float(d @ d)
    if length2 == 0:
        return np.hypot(*(points - start).T)
    t = np.clip(((points - start) @ d) / length2, 0.0, 1.0)
    return np.hypot(*(points - (start + t[:, None] * d)).T)


def douglas_peucker(line: np.ndarray, tolerance: float) -> np.ndarray:
    """The points of ``line`` that Douglas and Peucker's algorithm keeps.

    Keeps the end points, then recursively the point farthest from the chord between kept
    points while that distance exceeds ``tolerance`` (Douglas D, Peucker T. Algorithms for
    the reduction of the number of points required to represent a digitized line or its
    caricature. Cartographica 1973;10(2):112-22).
    """
    line = np.asarray(line, dtype=float)
    if tolerance < 0:
        raise ValueError(f"tolerance must be 0 or more, not {tolerance}")
    if len(line) < 3:
        return line
    keep = np.zeros(len(line), dtype=bool)
    keep[[0, -1]] = True
    stack = [(0, len(line) - 1)]
    while stack:
        first, last = stack.pop()
        if last - first < 2:
            continue
        distances = _segment_distances(line[first + 1:last], line[first], line[last])
        far = int(np.argmax(distances))
        if distances[far] > tolerance:
            index = first + 1 + far
            keep[index] = True
            stack += [(first, index), (index, last)]
    return line[keep]


def simplify_ring(ring: Ring, tolerance: float) -> Ring:
    """A closed ring simplified by :func:`douglas_peucker`, split at its first point and the
    point farthest from it (a closed ring's chord has no length)."""
    ring = np.asarray(ring, dtype=float)
    far = int(np.argmax(np.hypot(*(ring - ring[0]).T)))
    if far == 0:
        return ring
    head = douglas_peucker(ring[:far + 1], tolerance)
    tail = douglas_peucker(ring[far:], tolerance)
    return np.vstack([head, tail[1:]])


def ring_area(ring: Ring) -> float:
    """Area enclosed by a closed ring (shoelace formula), square metres."""
    x, y = np.asarray(ring, dtype=float).T
    return abs(float(np.dot(x[:-1], y[1:]) - np.dot(x[1:], y[:-1]))) / 2


def inside_mask(rings: Sequence[Ring], x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """For each point ``(x[i], y[i])``, whether it is inside the region (ray casting,
    even-odd rule)."""
    x, y = np.atleast_1d(np.asarray(x, dtype=float)), np.atleast_1d(np.asarray(y, dtype=float))
    inside = np.zeros(x.shape, dtype=bool)
    for ring in rings:
        x0, y0 = ring[:-1, 0], ring[:-1, 1]
        x1, y1 = ring[1:, 0], ring[1:, 1]
        crosses = (y0[None, :] > y[:, None]) != (y1[None, :] > y[:, None])
        with np.errstate(divide="ignore", invalid="ignore"):
            at = x0 + (y[:, None] - y0) * (x1 - x0) / (y1 - y0)
        inside ^= (np.count_nonzero(crosses & (x[:, None] < at), axis=1) % 2).astype(bool)
    return inside


def contains(rings: Sequence[Ring], x: float, y: float) -> bool:
    """Whether ``(x, y)`` is inside the region."""
    return bool(inside_mask(rings, x, y)[0])


def edge_distances(rings: Sequence[Ring], x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """For each point, the shortest distance to the region's outline, metres."""
    points = np.column_stack([np.atleast_1d(x), np.atleast_1d(y)]).astype(float)
    best = np.full(len(points), np.inf)
    for ring in rings:
        start, d = ring[:-1], ring[1:] - ring[:-1]
        length2 = np.einsum("ij,ij->i", d, d)
        rel = points[:, None, :] - start[None, :, :]
        with np.errstate(divide="ignore", invalid="ignore"):
            t = np.where(length2 > 0, np.einsum("pij,ij->pi", rel, d) / length2, 0.0)
        t = np.clip(t, 0.0, 1.0)
        gap = rel - t[:, :, None] * d[None, :, :]
        best = np.minimum(best, np.sqrt(np.einsum("pij,pij->pi", gap, gap)).min(axis=1))
    return best


def seed_of(text: str) -> int:
    """A stable random seed from text (Python's ``hash`` changes between runs)."""
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "big")


def point_inside(rings: Sequence[Ring], seed: str, *, margin: float,
                 batches: int = 40, batch: int = 64) -> tuple[float, float]:
    """A point inside the largest ring of the region, at least ``margin`` metres from its
    outline, drawn uniformly by rejection with a generator seeded by ``seed``.

    The same seed always gives the same point. Falls back to any inside point when the
    margin leaves no room.
    """
    if not rings:
        raise ValueError("a region needs at least one ring to place a point in")
    ring = max(rings, key=ring_area)
    rng = np.random.default_rng(seed_of(seed))
    (x_min, y_min), (x_max, y_max) = ring.min(axis=0), ring.max(axis=0)
    fallback = None
    for _ in range(batches):
        x, y = rng.uniform(x_min, x_max, batch), rng.uniform(y_min, y_max, batch)
        inside = inside_mask([ring], x, y)
        if not inside.any():
            continue
        x, y = x[inside], y[inside]
        clear = edge_distances([ring], x, y) >= margin
        if clear.any():
            first = int(np.argmax(clear))
            return float(x[first]), float(y[first])
        fallback = fallback or (float(x[0]), float(y[0]))
    if fallback is None:
        raise ValueError("no point found inside the region")
    return fallback
