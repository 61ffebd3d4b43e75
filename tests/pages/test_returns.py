"""Regional returns page: what each reader sees (sign-in off, reviewer, submitter), bad links,
uploads refused and accepted, reviews, the template route, and disclosure control."""

from __future__ import annotations

import shutil
from datetime import date

import polars as pl
import pytest

from components import returns as rc
from returns import db, publish, service
from returns import demo as rdemo
from tests.pages.conftest import by_id, find, table_of, tables_of, text_of
from tests.returns.published import Published, published_copy
from views import returns as models

TODAY = rdemo.DEMO_TODAY  # the demo returns as they stood that day
HEADER = "X-Forwarded-User"


@pytest.fixture(scope="module")
def seeded(tmp_path_factory, demo_root) -> Published:
    """A copy of the demo store with the demo returns seeded and published; tests that
    write copy its database (``database``)."""
    found = published_copy(tmp_path_factory.mktemp("returns"), demo_root)
    assert len(service.current_set(found.engine).providers()) == 6
    db.dispose(str(found.engine.url))
    return found


@pytest.fixture
def published_after(monkeypatch) -> list:
    """Each publishing an approval on the page asks for (recorded, not run: the store
    copy stays as seeded for the module)."""
    asked = []
    monkeypatch.setattr(publish, "publish_soon",
                        lambda engine, root=None, then=None: asked.append(engine))
    return asked


@pytest.fixture
def database(seeded, published_after, tmp_path, monkeypatch, page):
    """A fresh copy of the seeded database as the page's, on the published store copy,
    sign-in by header, day fixed."""
    path = tmp_path / "returns.sqlite"
    shutil.copy(seeded.engine.url.database, path)
    url = f"sqlite:///{path}"
    monkeypatch.setenv("EQUALITIES_DATA_DIR", str(seeded.root))
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("EQUALITIES_AUTH", "header")
    monkeypatch.setenv("EQUALITIES_AUTH_HEADER", HEADER)
    monkeypatch.setattr(page("returns"), "today", lambda: TODAY)
    yield db.engine(url)
    db.dispose(url)


@pytest.fixture(scope="module")
def returns_page(page):
    return page("returns")


def providers(engine) -> tuple[str, ...]:
    return service.current_set(engine).providers()


def render(dash_app, module, user: str | None = None, **query):
    environ = {"REMOTE_USER": user} if user else {}
    with dash_app.server.test_request_context("/returns", environ_base=environ):
        return module.layout(**query)


def grid(tree):
    return table_of(tree, "returns-grid")


def states(tree) -> set[str]:
    """The states written in the grid's cells (without a date or a later version)."""
    return {"Due" if cell.startswith("Due ") else cell.split(" v")[0]
            for row in grid(tree).rows for cell in row[1:]}


def test_sign_in_off_shows_approved_figures_only(dash_app, returns_page, database,
                                                  monkeypatch):
    monkeypatch.delenv("EQUALITIES_AUTH")
    tree = render(dash_app, returns_page, "someone")  # a name without sign-in counts for nothing
    text = text_of(tree)
    assert "Submitting and reviewing returns need sign-in" in text
    assert "Deploying internally" in text
    table = grid(tree)
    assert len(table.rows) == 6
    assert [r[0].rsplit("(", 1)[1].rstrip(")") for r in table.rows] == list(providers(database))
    assert states(tree) == {"Approved", "Not approved yet"}
    # Nothing about unpublished returns, and no actions.
    assert "Waiting for review" not in text and "Sent back" not in text
    for absent in ("returns-upload", "returns-approve", "returns-history", "returns-reminders"):
        assert not find(tree, lambda c, i=absent: getattr(c, "id", None) == i)
    approved = table_of(tree, "returns-approved")
    assert approved.caption.startswith("Approved totals, March 2025")
    assert len(approved.rows) == 4  # two providers have not had March approved
    assert "Local" in text


def test_reviewer_sees_every_provider_and_the_return_waiting(dash_app, returns_page,
                                                              database):
    codes = providers(database)
    tree = render(dash_app, returns_page, rdemo.REVIEWER)
    text = text_of(tree)
    assert "Signed in as reviewer@network" in text
    assert len(grid(tree).rows) == 6
    assert {"Approved", "Waiting for review", "Sent back", "Late", "Due"} <= states(tree)
    waiting = by_id(tree, "returns-waiting")
    assert f"({codes[3]}), February 2025: version 1" in text_of(waiting)
    # The oldest return waiting is opened, with its figures and the review buttons.
    assert f"({codes[3]}), February 2025" in text
    by_id(tree, "returns-approve")
    by_id(tree, "returns-send-back")
    figures = table_of(tree, "returns-figures")
    assert figures.header == list(rc.FIGURE_COLUMNS)
    assert figures.rows[0][1:3] == ["Total", "All"]
    history = table_of(tree, "returns-history")
    assert [r[:2] for r in history.rows] == [["1", "Waiting for review"]]


def test_submitter_sees_only_its_own_row(dash_app, returns_page, database):
    own = providers(database)[4]
    tree = render(dash_app, returns_page, rdemo.submitter(own))
    table = grid(tree)
    assert len(table.rows) == 1 and table.rows[0][0].endswith(f"({own})")
    reminders = text_of(by_id(tree, "returns-reminders"))
    assert "February 2025: late, was due" in reminders
    assert "March 2025: due" in reminders
    # Its oldest return needing action is opened for sending: the late February one.
    assert by_id(tree, "returns-submit-month").value == "2025-02"
    assert by_id(tree, "returns-template").href == \
        f"/returns/template.csv?org={own}&month=2025-02"
    by_id(tree, "returns-upload")
    assert not find(tree, lambda c: getattr(c, "id", None) == "returns-approve")


def test_a_submitter_cannot_open_another_providers_return(dash_app, returns_page, database):
    codes = providers(database)
    tree = render(dash_app, returns_page, rdemo.submitter(codes[0]), org=codes[3],
                  month="2025-02")
    assert "only your own organisation's returns" in text_of(by_id(tree, "returns-refused"))
    assert not find(tree, lambda c: getattr(c, "id", None) == "returns-history")
    ids = {t.id for t in tables_of(tree)}
    assert "returns-figures" not in ids  # February is not approved for that provider
    # An approved return of another provider shows its published figures, no history.
    tree = render(dash_app, returns_page, rdemo.submitter(codes[0]), org=codes[1],
                  month="2025-01")
    assert table_of(tree, "returns-figures").caption.startswith("Approved figures")
    assert not find(tree, lambda c: getattr(c, "id", None) == "returns-history")


def test_bad_parameters_get_the_friendly_notice(dash_app, returns_page, database):
    tree = render(dash_app, returns_page, rdemo.REVIEWER, org="<script>", month="2025-13")
    notice = text_of(by_id(tree, "page-notice"))
    assert "Some of the link could not be used" in notice
    assert "Unknown provider" in notice and "Unknown month" in notice
    assert len(grid(tree).rows) == 6
    tree = render(dash_app, returns_page, None, month=["2025-01"])
    assert "Unknown month" in text_of(by_id(tree, "page-notice"))


def _good_return(engine, org: str, month: date) -> bytes:
    latest = service.history(engine, rdemo.REVIEWER, org, month)[-1]
    rows = service.rows(engine, rdemo.REVIEWER, latest.id)
    lines = ["organisation,month,indicator,dimension,group,numerator,denominator"]
    lines += [f"{org},{month:%Y-%m},{r['indicator']},{r['dimension']},{r['group']},"
              f"{r['numerator']},{r['denominator']}" for r in rows.iter_rows(named=True)]
    return ("\n".join(lines) + "\n").encode()


def _data_url(content: bytes) -> str:
    import base64
    return "data:text/csv;base64," + base64.b64encode(content).decode()


def test_a_damaged_upload_lists_every_problem_and_stores_nothing(dash_app, returns_page,
                                                                  database):
    own = providers(database)[0]
    user = rdemo.submitter(own)
    before = service.history(database, user, own, date(2025, 3, 1))
    good = _good_return(database, own, date(2025, 3, 1)).decode().splitlines()
    damaged = [good[0], good[1].rsplit(",", 2)[0] + ",12,ten", *good[2:]]
    damaged[2] = damaged[2].rsplit(",", 2)[0] + ",90,40"
    with dash_app.server.test_request_context("/_dash-update-component"):
        out = returns_page.upload(_data_url("\n".join(damaged).encode()), "march.csv",
                                  "2025-03", user)
    problems = table_of(out, "returns-problems")
    assert problems.header == list(rc.PROBLEM_COLUMNS)
    assert ["march.csv", "2", "denominator", "ten"] in [r[:4] for r in problems.rows]
    assert ["march.csv", "3", "numerator", "90"] in [r[:4] for r in problems.rows]
    assert "Nothing was stored" in text_of(out)
    assert service.history(database, user, own, date(2025, 3, 1)) == before


def test_a_good_upload_makes_the_next_version(dash_app, returns_page, database):
    own = providers(database)[0]
    user = rdemo.submitter(own)
    count = len(service.history(database, user, own, date(2025, 3, 1)))
    with dash_app.server.test_request_context("/_dash-update-component"):
        out = returns_page.upload(_data_url(_good_return(database, own, date(2025, 3, 1))),
                                  "C:\\returns\\march.csv", "2025-03", user)
    text = text_of(out)
    assert f"Version {count + 1} of the March 2025 return was received" in text
    assert "from march.csv and is waiting for review" in text
    assert "no figures changed" in text
    history = table_of(out, "returns-history")
    assert history.rows[0][:2] == [str(count + 1), "Waiting for review"]
    cells = {c.month: c.state for c in service.status(database, user, today=TODAY)}
    assert cells[date(2025, 3, 1)] == service.SUBMITTED


def test_review_approves_and_send_back_needs_a_comment(dash_app, returns_page, database,
                                                       published_after):
    org = providers(database)[3]
    waiting = service.history(database, rdemo.REVIEWER, org, date(2025, 2, 1))[-1]
    search = f"?org={org}&month=2025-02"
    with dash_app.server.test_request_context("/_dash-update-component"):
        out = returns_page.review("send_back", waiting.id, "  ", search, rdemo.REVIEWER)
        assert "Write a comment" in text_of(out)
        assert service.history(database, rdemo.REVIEWER, org, date(2025, 2, 1))[-1].state == \
            service.SUBMITTED
        out = returns_page.review("approve", waiting.id, "", search, rdemo.REVIEWER)
    assert "February 2025 return was approved" in text_of(out)
    assert published_after == [database]  # the approval is published
    row = next(r for r in table_of(out, "returns-grid").rows if r[0].endswith(f"({org})"))
    assert row[grid(out).header.index("Feb 2025")] == "Approved"
    # A submitter cannot review.
    with dash_app.server.test_request_context("/_dash-update-component"):
        out = returns_page.review("approve", waiting.id, "", search, rdemo.submitter(org))
    assert "Not done" in text_of(out)


def test_template_route_checks_roles(dash_app, database):
    codes = providers(database)
    client = dash_app.server.test_client()
    path = f"/returns/template.csv?org={codes[0]}&month=2025-03"
    response = client.get(path, headers={HEADER: rdemo.submitter(codes[0])})
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == \
        f'attachment; filename="return-{codes[0]}-2025-03.csv"'
    body = response.get_data(as_text=True)
    assert f"{codes[0]},2025-03,pmh_referral_28d,total,All,," in body
    assert client.get(path, headers={HEADER: rdemo.submitter(codes[1])}).status_code == 403
    assert client.get(path, headers={HEADER: "stranger"}).status_code == 403
    assert client.get(path, headers={HEADER: rdemo.REVIEWER}).status_code == 200
    bad = client.get(f"/returns/template.csv?org={codes[0]}&month=March",
                     headers={HEADER: rdemo.REVIEWER})
    assert bad.status_code == 400


def test_controlled_withholds_small_counts_and_the_next_smallest_group():
    figures = pl.DataFrame({
        "indicator": ["ind_a"] * 4, "dimension": ["total", "ethnicity", "ethnicity", "ethnicity"],
        "group": ["All", "White", "Black", "Asian"],
        "numerator": [60, 40, 5, 15], "denominator": [100, 60, 20, 20],
    })
    out = models.controlled(figures)
    assert out["suppressed"].to_list() == [False, False, True, True]
    assert out["numerator"].to_list() == [60, 40, None, None]
    assert out["denominator"].to_list() == [100, 60, 20, 20]
    shown = rc.figure_rows(out, _one_indicator())
    assert shown["Numerator"].to_list() == ["60", "40", "*", "*"]
    assert shown["Value"].to_list() == ["60.0%", "66.7%", "*", "*"]


def test_a_small_denominator_withholds_the_cell():
    figures = pl.DataFrame({"indicator": ["ind_a"], "dimension": ["total"], "group": ["All"],
                            "numerator": [0], "denominator": [4]})
    out = models.controlled(figures)
    assert out.row(0, named=True) == {"indicator": "ind_a", "dimension": "total",
                                      "group": "All", "numerator": None,
                                      "denominator": None, "suppressed": True}


def _one_indicator():
    from returns.indicators import parse_indicator_set

    return parse_indicator_set("""
[network]
code = "N"
name = "Network"
due_days = 20
first_month = "2024-04"
providers = ["T1"]

[[indicator]]
id = "ind_a"
title = "Indicator A"
short_title = "A"
numerator = "n"
denominator = "d"
unit = "%"
polarity = "higher_is_better"
breakdowns = ["total", "ethnicity"]
""")


def test_pages_never_create_a_returns_database(dash_app, page, demo_root, tmp_path,
                                               monkeypatch):
    """Without ``DATABASE_URL`` or a returns database beside the store, every page draws
    (the Returns page saying no network is set up) and none creates one."""
    root = tmp_path / "store"
    shutil.copytree(demo_root, root, symlinks=True)
    shutil.rmtree(root / "returns", ignore_errors=True)
    monkeypatch.setenv("EQUALITIES_DATA_DIR", str(root))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    with dash_app.server.test_request_context("/returns"):
        text = text_of(page("returns").layout())
        page("overview").layout()
    assert "Sorry" not in text
    assert not (root / "returns").exists()
