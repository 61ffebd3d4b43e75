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


CALLERS = ("pages", "components", "web")  # layers whose calls are counted, by layer


def count_calls(modules: list) -> collections.Counter:
    """Wrap every public function of ``modules`` with a counter of ``(layer, function)``
    (returned, live); names other modules imported from them are wrapped too, so a page that
    imports its view model by name is counted."""
    counter: collections.Counter = collections.Counter()
    wrappers = {}
    for module in modules:
        for name, function in list(vars(module).items()):
            if name.startswith("_") or not inspect.isfunction(function) or \
                    function.__module__ != module.__name__:
                continue

            def wrapped(*args, _f=function, _n=f"{module.__name__}.{name}", **kwargs):
                caller = sys._getframe(1).f_globals.get("__name__", "")
                if not caller.startswith(SEAMS):
                    layer = "links" if _following else caller.split(".")[0]
                    counter[(layer, _n)] += 1
                return _f(*args, **kwargs)

            wrapped.__wrapped__ = function  # type: ignore[attr-defined]
            setattr(module, name, wrapped)
            wrappers[id(function)] = (function, wrapped)
    for loaded in list(sys.modules.values()):
        if getattr(loaded, "__name__", "").startswith(CALLERS):
            for name, value in list(vars(loaded).items()):
                if id(value) in wrappers and wrappers[id(value)][0] is value:
                    setattr(loaded, name, wrappers[id(value)][1])
    return counter


_following = False  # inside web.follow.links: the navigation's parses of other pages' views


def _count_links_apart() -> None:
    from web import follow

    links = follow.links

    def counted(*args, **kwargs):
        global _following
        _following = True
        try:
            return links(*args, **kwargs)
        finally:
            _following = False

    follow.links = counted


def _by_layer(counter: collections.Counter) -> dict[str, int]:
    layers = collections.Counter()
    for (layer, _name), calls in counter.items():
        layers[layer] += calls
    return layers


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
    _count_links_apart()
    trust = queries.organisations().filter(
        queries.organisations()["org_level"] == "trust")["org_code"][0]
    print("Calls into the seam per render, cache cleared: from the page (its module and the "
          "builders it calls) + from the frame (web: cached layout, print heading) + from the "
          "navigation links carrying the view (other pages' parsers; cached per selection).")
    print(f"{'page':<16}{'no args':>18}{'one trust':>18}{'lines':>8}")
    for page in sorted(dash.page_registry.values(), key=lambda p: p["path"]):
        module = sys.modules[page["module"]]
        row = []
        for query in ({}, {"org": trust}):
            with app.server.test_request_context(page["path"]):
                queries.cache.clear()
                counter.clear()
                page["layout"](**query)
                layers = _by_layer(counter)
                row.append(f"{layers['pages'] + layers['components']} + {layers['web']} + "
                           f"{layers['links']}")
        lines = len(Path(module.__file__).read_text().splitlines())
        print(f"{page['path']:<16}{row[0]:>18}{row[1]:>18}{lines:>8}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
