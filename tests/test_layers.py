"""Data flows one way: metrics imports no web framework, nothing imports pages."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN_IN_METRICS = ("dash", "plotly", "flask", "flask_caching", "dash_bootstrap_components")


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_metrics_is_pure():
    for path in (ROOT / "metrics").rglob("*.py"):
        bad = _imports(path) & set(FORBIDDEN_IN_METRICS)
        assert not bad, f"{path.name} imports {bad}"


def test_nothing_imports_pages():
    for folder in ("metrics", "data", "components", "views", "web", "tests"):
        for path in (ROOT / folder).rglob("*.py"):
            if path.name.startswith("test_pages") or "pages" in path.parts:
                continue
            assert "pages" not in _imports(path), path


def test_metrics_does_no_io():
    for path in (ROOT / "metrics").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        for call in ("open(", "read_parquet", "scan_parquet", "write_parquet", "read_csv"):
            assert call not in text, f"{path.name} calls {call}"


def test_export_is_given_the_app():
    """The app serves exports and export serves the app: export receives the app from its
    caller rather than importing it (no import cycle)."""
    for path in (ROOT / "export").rglob("*.py"):
        assert "app" not in _imports(path), path


def test_components_are_pure_builders():
    """Components take facts and build Dash and Plotly objects: none reads the store or the
    cached seam (pages and the view models in ``views`` do)."""
    for path in (ROOT / "components").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module in ("data", "views"):
                names = {alias.name for alias in node.names}
                assert not names & {"queries", "store", "explore", "map"}, (path, names)
            elif isinstance(node, ast.ImportFrom) and node.module:
                assert node.module not in ("data.queries", "data.store") and not \
                    node.module.startswith("views."), (path, node.module)


def test_view_models_hold_no_components():
    """The view models sit below the builders: they import no Dash and no component."""
    for path in (ROOT / "views").rglob("*.py"):
        bad = _imports(path) & {"dash", "plotly", "dash_bootstrap_components", "components",
                                "pages"}
        assert not bad, f"{path.name} imports {bad}"
