"""Page tests: the app is built once per session (Dash's page registry is process-global)."""

from __future__ import annotations

import sys

import pytest


@pytest.fixture(scope="session")
def dash_app(demo_root):
    from app import get_app

    return get_app()


@pytest.fixture(scope="session")
def page(dash_app):
    """``page("explore")`` -> the loaded page module."""
    return lambda name: sys.modules[f"pages.{name}"]


def text_of(component) -> str:
    """All text in a Dash component tree (for assertions on what a page says)."""
    if component is None:
        return ""
    if isinstance(component, (str, int, float)):
        return str(component)
    if isinstance(component, (list, tuple)):
        return " ".join(text_of(c) for c in component)
    children = getattr(component, "children", None)
    parts = [text_of(children)]
    for attr in ("figure",):
        if getattr(component, attr, None) is not None:
            parts.append("[figure]")
    return " ".join(p for p in parts if p)


def find(component, predicate) -> list:
    """Every component in the tree for which ``predicate`` is true."""
    found = []
    if isinstance(component, (list, tuple)):
        for c in component:
            found += find(c, predicate)
        return found
    if component is None or isinstance(component, (str, int, float)):
        return found
    if predicate(component):
        found.append(component)
    found += find(getattr(component, "children", None), predicate)
    return found


def by_id(tree, component_id: str):
    """The component with ``component_id`` in a layout tree (fails if absent)."""
    found = find(tree, lambda c: getattr(c, "id", None) == component_id)
    assert found, f"no component {component_id}"
    return found[0]
