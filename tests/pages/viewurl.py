"""Run a page's browser-side controls-to-URL callback (``assets/viewurl.js``) in Node, as
the browser runs it, so page tests can check the URL a control change writes."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import dash
import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "assets" / "viewurl.js"
NO_UPDATE = "<no update>"


def written_search(followed, values: dict[str, object], current: str):
    """The search the browser writes when the page's controls hold ``values`` (by URL
    parameter) and the URL's search is ``current``; ``dash.no_update`` for none."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("Node.js is not installed (make test installs it)")
    program = (
        f"const window = {{dash_clientside: {{no_update: {json.dumps(NO_UPDATE)}}}}};\n"
        f"{SCRIPT.read_text(encoding='utf-8')}\n"
        f"const callback = {followed.script()};\n"
        f"const values = {json.dumps([values.get(key) for key in followed.controls])};\n"
        f"process.stdout.write(JSON.stringify(callback(...values, {json.dumps(current)})));\n"
    )
    answer = json.loads(subprocess.run([node, "-e", program], capture_output=True, text=True,
                                       check=True, timeout=30).stdout)
    return dash.no_update if answer == NO_UPDATE else answer
