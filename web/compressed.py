"""Callback answers compressed once: an answer sent before is sent again as the bytes gzip
made of it then.

Flask-Compress (Dash's ``compress=True``) compresses every response afresh. A page from the
cache costs the server little else, so gzip was the largest part of its work (0.8 ms for a
300 KB page of the 10x store). This hook runs before Flask-Compress, for Dash's callback
answers only, and remembers the last compressed answers by their own bytes: an answer is
only ever sent as the compression of exactly those bytes. Other responses (scripts,
downloads) are left to Flask-Compress.
"""

from __future__ import annotations

import functools
import gzip

from flask import Flask, Response, request

KEPT = 32  # answers remembered per process: at most a few MB at the 10x store's sizes
MIN_BYTES = 500  # smaller answers go as they are (Flask-Compress's own threshold)
CALLBACK_PATH = "_dash-update-component"


@functools.lru_cache(maxsize=KEPT)
def gzipped(body: bytes, level: int) -> bytes:
    """``body`` compressed by gzip at ``level``, with no time stamp (the same bytes always
    give the same answer)."""
    return gzip.compress(body, compresslevel=level, mtime=0)


def install(server: Flask, level: int) -> None:
    """Compress ``server``'s callback answers through :func:`gzipped`."""

    @server.after_request
    def _compress(response: Response) -> Response:
        if (request.path.endswith(CALLBACK_PATH) and response.status_code == 200
                and response.mimetype == "application/json" and not response.is_streamed
                and "Content-Encoding" not in response.headers
                and request.accept_encodings["gzip"]):
            body = response.get_data()
            if len(body) >= MIN_BYTES:
                response.set_data(gzipped(body, level))
                response.headers["Content-Encoding"] = "gzip"
                response.vary.add("Accept-Encoding")
        return response
