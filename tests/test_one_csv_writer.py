"""One CSV writer: every CSV the dashboard serves is written by ``components.pagekit.csv_text``
(formula-like cells neutralised, ``#`` lines safe), so no module writes one by hand or keeps
its own list of formula characters."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WRITER = ROOT / "components" / "pagekit.py"
# The code the web app serves files from (the command line prints records of its own).
FOLDERS = ("components", "pages", "views", "web", "export", "data", "metrics")
FORMULA_CHARACTERS = {"=", "+", "@"}


def hand_written_csv(path: Path) -> list[str]:
    """What in ``path`` writes CSV or guards against formulas itself, with line numbers."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            name = node.func.attr
            owner = node.func.value
            if name == "write_csv" or (name in ("writer", "DictWriter") and isinstance(
                    owner, ast.Name) and owner.id == "csv"):
                found.append(f"{name}() on line {node.lineno}")
        elif isinstance(node, ast.Tuple):
            texts = {e.value for e in node.elts if isinstance(e, ast.Constant)}
            if FORMULA_CHARACTERS <= texts:
                found.append(f"formula characters on line {node.lineno}")
    return found


def test_only_the_writer_writes_csv():
    sources = [p for folder in FOLDERS for p in (ROOT / folder).rglob("*.py")]
    offenders = {str(p.relative_to(ROOT)): hand_written_csv(p)
                 for p in [*sources, ROOT / "app.py"] if p != WRITER}
    assert {p: f for p, f in offenders.items() if f} == {}


def test_the_check_finds_a_hand_written_csv(tmp_path):
    """The check above can fail: each way of writing CSV by hand is found."""
    path = tmp_path / "sample.py"
    path.write_text("import csv\n"
                    "w = csv.writer(out)\n"
                    "frame.write_csv()\n"
                    "GUARD = ('=', '+', '-', '@')\n", encoding="utf-8")
    assert set(hand_written_csv(path)) == {"writer() on line 2", "write_csv() on line 3",
                                           "formula characters on line 4"}
    assert hand_written_csv(WRITER)  # the writer itself holds each
