"""The soak script's verdict (no soak is run): memory that grows fails it, like errors do."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "bench" / "soak.py"


@pytest.fixture(scope="module")
def soak():
    spec = importlib.util.spec_from_file_location("soak_script", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses and pickling look modules up by name
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.modules.pop(spec.name, None)


def result(totals: list[float], errors: list[str] = ()) -> dict:
    return {"requests": 100, "latencies": [0.01] * 100, "errors": list(errors),
            "memory": [(10.0 * n, total, [total]) for n, total in enumerate(totals)]}


@pytest.mark.parametrize("totals,errors,ok,words", [
    ([500.0] * 30, [], True, "(flat)"),
    ([500.0] * 12 + [600.0] * 18, [], False, "(NOT flat)"),
    ([500.0] * 12 + [400.0] * 18, [], False, "(NOT flat)"),
    ([500.0] * 30, ["POST /x -> 500"], False, "(flat)"),
    ([500.0, 900.0], [], True, "not judged"),  # too short to tell
])
def test_memory_growth_fails_the_soak(soak, capsys, totals, errors, ok, words):
    assert soak.report(result(totals, errors), seconds=300, clients=2) is ok
    assert words in capsys.readouterr().out
