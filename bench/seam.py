"""How much each page asks of the cached seam, and how long its modules are.

Plain script, not a test: ``python bench/seam.py [--data-dir STORE]``. For every page it
renders the layout once with no arguments and once for a trust (inside a request, cache
cleared first) and counts the calls into the seam's public functions (``data.queries`` and
the view models in ``views``) made from outside the seam: what the pages, components and
layout wrapper ask of it (calls the seam makes to itself are not counted). Then it prints
each page module's line count. The figures are counts, so they do not depend on the
machine.
"""

from __future__ import annotations

import argparse
import collections
import importlib
import inspect
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SEAMS = ("data.queries", "views")


def _seam_modules() -> list:
    found = []
    for name in SEAMS:
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        found.append(module)
        path = getattr(module, "__path__", None)
        for sub in sorted(Path(path[0]).glob("*.py")) if path else ():
            if sub.stem != "__init__":
                found.append(importlib.import_module(f"{name}.{sub.stem}"))
    return found


def count_calls(modules: list) -> collections.Counter:
    """Wrap every public function of ``modules`` with a counter (returned, live)."""
    counter: collections.Counter = collections.Counter()
    for module in modules:
        for name, function in list(vars(module).items()):
            if name.startswith("_") or not inspect.isfunction(function) or \
                    function.__module__ != module.__name__:
                continue

            def wrapped(*args, _f=function, _n=f"{module.__name__}.{name}", **kwargs):
                caller = sys._getframe(1).f_globals.get("__name__", "")
                if not caller.startswith(SEAMS):
                    counter[_n] += 1
                return _f(*args, **kwargs)

            wrapped.__wrapped__ = function  # type: ignore[attr-defined]
            setattr(module, name, wrapped)
    return counter


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", default=os.environ.get("EQUALITIES_DATA_DIR"))
    args = parser.parse_args(argv)
    if args.data_dir:
        os.environ["EQUALITIES_DATA_DIR"] = args.data_dir
    import dash

    from app import get_app
    from data import queries

    app = get_app()
    counter = count_calls(_seam_modules())
    trust = queries.organisations().filter(
        queries.organisations()["org_level"] == "trust")["org_code"][0]
    print(f"{'page':<16}{'calls, no args':>16}{'calls, one trust':>18}{'lines':>8}")
    for page in sorted(dash.page_registry.values(), key=lambda p: p["path"]):
        module = sys.modules[page["module"]]
        row = []
        for query in ({}, {"org": trust}):
            with app.server.test_request_context(page["path"]):
                queries.cache.clear()
                counter.clear()
                page["layout"](**query)
                row.append(sum(counter.values()))
        lines = len(Path(module.__file__).read_text().splitlines())
        print(f"{page['path']:<16}{row[0]:>16}{row[1]:>18}{lines:>8}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
