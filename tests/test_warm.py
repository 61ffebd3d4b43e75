"""Results saved with a build (``data.warm``, ``web.warm``): a new server's first pages come
from them, the same as computing them, and never from other code or a damaged file."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from data import queries, settings, warm
from metrics import changes as changes_mod
from web import warm as first_views

ROUTER_OUTPUTS = [{"id": "_pages_content", "property": "children"},
                  {"id": "_pages_store", "property": "data"}]


@pytest.fixture(scope="module")
def app(demo_root):
    from app import get_app

    return get_app()


@pytest.fixture
def root(demo_root, tmp_path) -> Path:
    """A copy of the demo store of this test's own, as the data folder."""
    copy = tmp_path / "store"
    shutil.copytree(demo_root, copy, symlinks=True)
    with settings.data_dir_set_to(copy):
        yield copy


def layout_of(app, path: str) -> dict:
    """The pages router's answer for ``path`` (as a new server gives it), without the time
    the print heading states it was generated."""
    queries.cache.clear()
    body = {"output": ".._pages_content.children..._pages_store.data..",
            "outputs": ROUTER_OUTPUTS, "changedPropIds": ["_pages_location.pathname"],
            "inputs": [{"id": "_pages_location", "property": "pathname", "value": path},
                       {"id": "_pages_location", "property": "search", "value": ""}]}
    response = app.server.test_client().post("/_dash-update-component", json=body)
    assert response.status_code == 200
    text = re.sub(r"\d\d \w+ \d{4}, \d\d:\d\d", "(time)", response.get_data(as_text=True))
    return json.loads(text)


def refuse_to_compute(monkeypatch) -> None:
    """Make "what changed" fail if computed (the landing page's slowest part)."""
    def refuse(_parts):
        raise AssertionError("computed, not read from the saved results")

    monkeypatch.setattr(changes_mod, "rank_changes", refuse)


def test_first_views_are_saved_and_served_as_computed(app, root, monkeypatch):
    computed = {path: layout_of(app, path) for path in ("/", "/benchmark")}
    build, saved = first_views.prime(app)
    folder = root / "current" / warm.FOLDER
    assert build == (root / "current").resolve().name and saved > 50
    assert len(list(folder.glob("*.pickle"))) == saved
    assert (folder / warm.FINGERPRINT_FILE).read_text().split() == [warm.fingerprint(), build]
    refuse_to_compute(monkeypatch)
    for path, page in computed.items():
        assert layout_of(app, path) == page
    assert "Sorry" not in json.dumps(computed["/"])


def test_results_saved_by_other_code_are_not_used(app, root, monkeypatch):
    first_views.prime(app)
    folder = root / "current" / warm.FOLDER
    (folder / warm.FINGERPRINT_FILE).write_text("other code\n")
    warm._usable.clear()
    refuse_to_compute(monkeypatch)
    page = json.dumps(layout_of(app, "/"))
    assert "Sorry, this view could not be shown" in page  # computed: the refusal shows


def test_results_saved_again_are_read_by_a_server_that_refused_the_old(app, root):
    """A server that found results from other code reads them once ``equalities warm``
    has saved them again (the folder is replaced, not changed in place)."""
    first_views.prime(app, ("/",))
    build = (root / "current").resolve()
    (build / warm.FOLDER / warm.FINGERPRINT_FILE).write_text("other code\n")
    warm._usable.clear()
    assert not warm.is_current(build)
    first_views.prime(app, ("/",))
    assert warm.is_current(build)


def test_results_saved_with_another_build_are_not_used(app, root, monkeypatch):
    """A saved folder copied into another build (its figures are the other build's)."""
    first_views.prime(app)
    build = (root / "current").resolve()
    copy = build.parent / "20990101T000000-copied"
    shutil.copytree(build, copy)
    (root / "current").unlink()
    (root / "current").symlink_to(copy)
    warm._usable.clear()
    refuse_to_compute(monkeypatch)
    assert not warm.is_current(copy) and warm.is_current(build)
    assert "Sorry, this view could not be shown" in json.dumps(layout_of(app, "/"))


def test_a_damaged_result_is_computed_afresh(app, root, caplog):
    computed = layout_of(app, "/")
    first_views.prime(app)
    for file in (root / "current" / warm.FOLDER).glob("*.pickle"):
        file.write_bytes(b"not a pickle")
    assert layout_of(app, "/") == computed
    assert "ignored the damaged saved result" in caplog.text


def test_saving_again_replaces_the_folder_whole(app, root):
    first_views.prime(app, ("/",))
    build = (root / "current").resolve()
    few = len(list((build / warm.FOLDER).glob("*.pickle")))
    first_views.prime(app, ("/", "/explore"))
    assert len(list((build / warm.FOLDER).glob("*.pickle"))) > few
    assert [p.name for p in build.iterdir() if p.name.startswith(".")] == []
    assert warm.is_current(build)


def test_recording_computes_afresh_and_leaves_the_cache_alone(app, root):
    with app.server.app_context():
        queries.cache.clear()
        queries.periods("pph_1500", "quarter")  # cached before recording
        with warm.recording() as entries:
            queries.periods("pph_1500", "quarter")
        build = queries.build_id()
    # Computed afresh with what it calls (the metric's summary), though both were cached.
    assert len(entries) == 2
    name = warm.key("data.queries.periods", ("pph_1500", "quarter"), {})
    assert entries[(build, name)] == queries.periods.uncached("pph_1500", "quarter")


def test_the_fingerprint_covers_the_projects_code_not_its_store():
    sources = {p.relative_to(settings.PROJECT_ROOT).as_posix() for p in warm._sources()}
    assert {"data/queries.py", "metrics/changes.py", "pages/overview.py",
            "views/overview.py", "web/layouts.py"} <= sources
    assert not any(s.startswith("data/store/") for s in sources)


def test_servers_running_other_code_do_not_share_cached_results(app, root, monkeypatch):
    """The code's fingerprint is in every cache key (a shared Redis during a deployment)."""
    from metrics import cells

    calls = []
    real = cells.periods
    monkeypatch.setattr(cells, "periods", lambda *a, **k: calls.append(1) or real(*a, **k))
    with app.server.app_context():
        queries.cache.clear()
        for code in ("old code", "old code", "new code"):
            monkeypatch.setattr(warm, "_fingerprint", code)
            queries.periods("pph_1500", "quarter")
    assert len(calls) == 2  # once for each code, the second call of the old one cached
