"""Regional returns in a real browser, signed in by a proxy's header: a reviewer approves a
return waiting, a submitter sees only its own row, uploads a damaged file and then a good
one, and cannot open another provider's unpublished return by its link."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import date

import pytest
from selenium.webdriver.common.by import By

from returns import db, service
from returns import demo as rdemo
from tests.e2e.conftest import ROOT, _free_port
from tests.e2e.helpers import (
    axe_violations,
    click,
    console_errors,
    main_text,
    open_page,
    table_rows,
    wait_for,
    wait_idle,
)

pytestmark = pytest.mark.e2e
HEADER = "X-Forwarded-User"


@pytest.fixture(scope="module")
def returns_db(tmp_path_factory, demo) -> str:
    """A demo returns database beside (not inside) the session's demo store."""
    url = f"sqlite:///{tmp_path_factory.mktemp('returns') / 'returns.sqlite'}"
    rdemo.seed(db.engine(url), organisations=demo.organisations)
    return url


@pytest.fixture(scope="module")
def signed_server(demo_root, returns_db, tmp_path_factory):
    """``equalities serve`` with sign-in by header on a copy of the demo store (approvals
    publish into it) and the returns."""
    port = _free_port()
    root = tmp_path_factory.mktemp("signed") / "store"
    shutil.copytree(demo_root, root, symlinks=True)
    env = os.environ | {"EQUALITIES_DATA_DIR": str(root), "DATABASE_URL": returns_db,
                        "EQUALITIES_AUTH": "header", "EQUALITIES_AUTH_HEADER": HEADER}
    log = tempfile.NamedTemporaryFile("w+", suffix=".log", delete=False)
    process = subprocess.Popen([sys.executable, "-m", "cli", "serve", "--port", str(port)],
                               cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while time.time() < deadline and process.poll() is None:
        try:
            urllib.request.urlopen(f"{url}/healthz", timeout=2)
            break
        except OSError:
            time.sleep(0.3)
    if process.poll() is not None or time.time() >= deadline:
        process.kill()
        log.seek(0)
        pytest.fail(f"server did not start:\n{log.read()[-3000:]}")
    yield url
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture
def sign_in(browser):
    """``sign_in(user)``: every request of the browser carries the proxy's header."""
    browser.execute_cdp_cmd("Network.enable", {})

    def as_user(user: str) -> None:
        browser.execute_cdp_cmd("Network.setExtraHTTPHeaders", {"headers": {HEADER: user}})

    yield as_user
    browser.execute_cdp_cmd("Network.setExtraHTTPHeaders", {"headers": {}})


def providers(url: str) -> tuple[str, ...]:
    return service.current_set(db.engine(url)).providers()


def grid_row(browser, org: str) -> dict[str, str]:
    """The grid's row of ``org``: month heading -> the cell's words."""
    header = [th.text for th in browser.find_elements(By.CSS_SELECTOR,
                                                      "#returns-grid thead th")]
    for row in browser.find_elements(By.CSS_SELECTOR, "#returns-grid tbody tr"):
        name = row.find_element(By.TAG_NAME, "th").text
        if name.endswith(f"({org})"):
            cells = [td.text for td in row.find_elements(By.TAG_NAME, "td")]
            return dict(zip(header[1:], cells, strict=True))
    return {}


def grid_providers(browser) -> list[str]:
    return [th.text.rsplit("(", 1)[1].rstrip(")") for th in
            browser.find_elements(By.CSS_SELECTOR, "#returns-grid tbody th")]


def test_reviewer_approves_a_return_waiting(browser, signed_server, returns_db, sign_in):
    codes = providers(returns_db)
    sign_in(rdemo.REVIEWER)
    open_page(browser, f"{signed_server}/returns", wait_for="#returns-grid")
    assert grid_providers(browser) == list(codes)
    assert grid_row(browser, codes[3])["Feb 2025"] == "Waiting for review"
    assert "Signed in as reviewer@network" in main_text(browser)
    # The oldest return waiting is open: its figures with small counts withheld.
    figures = table_rows(browser, "returns-figures")
    assert figures and figures[0][1:3] == ["Total", "All"]
    assert axe_violations(browser) == []
    click(browser, "returns-approve")
    assert wait_for(lambda: "return was approved" in main_text(browser), timeout=40)
    wait_idle(browser)
    assert grid_row(browser, codes[3])["Feb 2025"] == "Approved"
    cell = browser.find_element(By.CSS_SELECTOR, "#returns-grid td.returns-chosen")
    assert cell.get_attribute("data-state") == "approved"
    assert browser.current_url == f"{signed_server}/returns"  # the action wrote no URL
    assert console_errors(browser) == []


def _return_file(url: str, org: str, month: date, path, damage: bool = False):
    engine = db.engine(url)
    latest = service.history(engine, rdemo.REVIEWER, org, month)[-1]
    rows = list(service.rows(engine, rdemo.REVIEWER, latest.id).iter_rows(named=True))
    lines = ["organisation,month,indicator,dimension,group,numerator,denominator"]
    for n, r in enumerate(rows):
        numerator, denominator = r["numerator"], r["denominator"]
        if damage and n == 0:
            denominator = "lots"
        lines.append(f"{org},{month:%Y-%m},{r['indicator']},{r['dimension']},{r['group']},"
                     f"{numerator},{denominator}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _upload(browser, path) -> None:
    browser.find_element(By.CSS_SELECTOR, "#returns-upload input[type=file]").send_keys(
        str(path))


def test_submitter_sends_a_return(browser, signed_server, returns_db, sign_in, tmp_path):
    codes = providers(returns_db)
    own = codes[0]
    sign_in(rdemo.submitter(own))
    open_page(browser, f"{signed_server}/returns?org={own}&month=2025-03",
              wait_for="#returns-grid")
    assert grid_providers(browser) == [own]
    assert grid_row(browser, own)["Mar 2025"] == "Approved"
    assert axe_violations(browser) == []
    _upload(browser, _return_file(returns_db, own, date(2025, 3, 1),
                                  tmp_path / "damaged.csv", damage=True))
    assert wait_for(lambda: browser.find_elements(By.ID, "returns-problems"))
    problems = table_rows(browser, "returns-problems")
    assert ["damaged.csv", "2", "denominator", "lots"] in [p[:4] for p in problems]
    assert "Nothing was stored" in main_text(browser)
    assert grid_row(browser, own)["Mar 2025"] == "Approved"
    _upload(browser, _return_file(returns_db, own, date(2025, 3, 1), tmp_path / "march.csv"))
    assert wait_for(lambda: "Version 2 of the March 2025 return was received"
                    in main_text(browser))
    wait_idle(browser)
    assert grid_row(browser, own)["Mar 2025"] == "Waiting for review v2"
    assert table_rows(browser, "returns-history")[0][:2] == ["2", "Waiting for review"]
    assert console_errors(browser) == []


def test_submitter_cannot_open_another_providers_return(browser, signed_server, returns_db,
                                                        sign_in):
    codes = providers(returns_db)
    sign_in(rdemo.submitter(codes[0]))
    open_page(browser, f"{signed_server}/returns?org={codes[2]}&month=2025-01",
              wait_for="#returns-refused")
    text = main_text(browser)
    assert "only your own organisation's returns" in text
    assert not browser.find_elements(By.ID, "returns-history")
    assert not browser.find_elements(By.ID, "returns-figures")  # sent back: not published
    assert console_errors(browser) == []
