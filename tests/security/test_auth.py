"""Optional sign-in (``EQUALITIES_AUTH``): off by default; basic authentication or a trusted
proxy header when configured; every route covered except ``/healthz``; the export browser
let in by its token; bad settings refuse to serve."""

from __future__ import annotations

import base64
import io
import json
import logging
import urllib.error
import urllib.request

import pytest
from werkzeug.security import check_password_hash

from cli import main
from tests.security.conftest import PASSWORD
from web import auth as app_auth
from web import throttle

# Routes of every kind: a page, Dash's layout and callback, an asset, a component file,
# the stylesheet, an export.
ROUTES = ("/", "/explore?org=ENG", "/_dash-layout", "/_dash-dependencies",
          "/assets/style.css", "/vendor/bootstrap.min.css",
          "/_dash-component-suites/dash/deps/polyfill@7.v4_4_1m1700000000.12.1.min.js",
          "/export/view.pdf?url=/about")


@pytest.fixture(autouse=True)
def fresh_sign_ins(monkeypatch):
    """Each test starts with no failed sign-ins held against it and none remembered."""
    monkeypatch.setattr(app_auth, "_throttle", throttle.Throttle())
    monkeypatch.setattr(app_auth, "_signins",
                        throttle.RecentSignIns(app_auth._KNOWN_SIGNINS, app_auth.SIGNIN_TTL))



@pytest.fixture
def basic(monkeypatch, alice_hash):
    monkeypatch.setenv("EQUALITIES_AUTH", "basic")
    monkeypatch.setenv("EQUALITIES_USERS", f"alice:{alice_hash}, bob:{alice_hash}")


def auth(user: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def callback(client, **headers):
    # The pages router: the callback every page view makes.
    body = {"output": ".._pages_content.children..._pages_store.data..",
            "outputs": [{"id": "_pages_content", "property": "children"},
                        {"id": "_pages_store", "property": "data"}],
            "inputs": [{"id": "_pages_location", "property": "pathname", "value": "/about"},
                       {"id": "_pages_location", "property": "search", "value": ""}],
            "changedPropIds": ["_pages_location.pathname"]}
    return client.post("/_dash-update-component", data=json.dumps(body),
                       content_type="application/json", headers=headers)


def test_off_by_default(client, monkeypatch):
    monkeypatch.delenv("EQUALITIES_AUTH", raising=False)
    assert app_auth.load_config() is None
    assert client.get("/").status_code == 200
    assert callback(client).status_code == 200


def test_basic_covers_every_route(client, basic, caplog):
    for route in ROUTES:
        caplog.clear()
        with caplog.at_level(logging.WARNING):
            response = client.get(route)
        assert response.status_code == 401, route
        assert response.headers["WWW-Authenticate"].startswith("Basic realm=")
        assert "not signed in" in caplog.text
    assert callback(client).status_code == 401
    assert client.get("/healthz").status_code == 200  # for load balancers


def test_basic_right_and_wrong_passwords(client, basic):
    assert client.get("/", headers=auth("alice", PASSWORD)).status_code == 200
    assert client.get("/assets/style.css", headers=auth("bob", PASSWORD)).status_code == 200
    assert callback(client, **auth("alice", PASSWORD)).status_code == 200
    for user, password in (("alice", "wrong"), ("mallory", PASSWORD), ("alice", ""),
                           ("", ""), ("alice", PASSWORD + " ")):
        assert client.get("/", headers=auth(user, password)).status_code == 401, user
    assert client.get("/", headers={"Authorization": "Bearer abc"}).status_code == 401
    assert client.get("/", headers={"Authorization": "Basic !!!"}).status_code == 401


def test_unknown_user_costs_a_hash_check_too(basic, monkeypatch, client):
    """No shortcut for unknown users: the time does not tell which names exist."""
    calls = []
    real = app_auth.check_password_hash
    monkeypatch.setattr(app_auth, "check_password_hash",
                        lambda h, p: calls.append(h) or real(h, p))
    client.get("/", headers=auth("nobody", "x"))
    client.get("/", headers=auth("alice", "x"))
    assert len(calls) == 2


def test_users_from_a_file(client, monkeypatch, tmp_path, alice_hash):
    users = tmp_path / "users"
    users.write_text(f"# who may sign in\ncarol:{alice_hash}\n", encoding="utf-8")
    monkeypatch.setenv("EQUALITIES_AUTH", "basic")
    monkeypatch.setenv("EQUALITIES_USERS", str(users))
    assert client.get("/", headers=auth("carol", PASSWORD)).status_code == 200
    assert client.get("/", headers=auth("alice", PASSWORD)).status_code == 401


def test_trusted_proxy_header(client, monkeypatch):
    monkeypatch.setenv("EQUALITIES_AUTH", "header")
    monkeypatch.delenv("EQUALITIES_AUTH_HEADER", raising=False)
    assert client.get("/").status_code == 403
    assert client.get("/", headers={"X-Forwarded-User": "  "}).status_code == 403
    assert client.get("/", headers={"X-Forwarded-User": "jo@trust.nhs.uk"}).status_code == 200
    monkeypatch.setenv("EQUALITIES_AUTH_HEADER", "X-Remote-User")
    assert client.get("/", headers={"X-Forwarded-User": "jo"}).status_code == 403
    assert client.get("/", headers={"X-Remote-User": "jo"}).status_code == 200


@pytest.mark.parametrize("settings", [{"EQUALITIES_AUTH": "basic"},
                                      {"EQUALITIES_AUTH": "kerberos"},
                                      {"EQUALITIES_AUTH": "basic", "EQUALITIES_USERS": "alice"},
                                      {"EQUALITIES_AUTH": "basic",
                                       "EQUALITIES_USERS": "alice:plaintext"}])
def test_bad_settings_refuse_to_serve(client, monkeypatch, settings, capsys):
    monkeypatch.delenv("EQUALITIES_USERS", raising=False)
    for key, value in settings.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(app_auth.AuthConfigError):
        app_auth.load_config()
    assert client.get("/").status_code == 503  # fail closed, never open
    assert main(["serve", "--port", "1"]) == 2  # refused before anything starts
    assert "EQUALITIES_" in capsys.readouterr().err


def test_internal_token_lets_the_export_browser_in(client, basic):
    token = app_auth.internal_headers()
    assert client.get("/", headers=token).status_code == 200
    forged = {app_auth.INTERNAL_HEADER: "not-the-token"}
    assert client.get("/", headers=forged).status_code == 401


def test_hash_password_command(monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", io.StringIO("s3cret phrase\n"))
    assert main(["hash-password", "--user", "dana"]) == 0
    user, hashed = capsys.readouterr().out.strip().split(":", 1)
    assert user == "dana" and hashed.startswith("pbkdf2:sha256:600000$")
    assert check_password_hash(hashed, "s3cret phrase")
    assert not check_password_hash(hashed, "s3cret phrase ")
    monkeypatch.setattr("sys.stdin", io.StringIO("\n"))
    assert main(["hash-password"]) == 2


def test_export_renders_with_sign_in_on(dash_app, monkeypatch, alice_hash):
    """The real thing: the app served on loopback with basic sign-in, an export asked for
    with a password, drawn by Chromium, which itself has to get past the sign-in."""
    from export.server import running_app

    monkeypatch.setenv("EQUALITIES_AUTH", "basic")
    monkeypatch.setenv("EQUALITIES_USERS", f"alice:{alice_hash}")
    with running_app(dash_app.server) as base:
        url = f"{base}/export/view.png?url=/about"
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(url, timeout=60)
        assert refused.value.code == 401
        request = urllib.request.Request(url, headers=auth("alice", PASSWORD))
        with urllib.request.urlopen(request, timeout=120) as response:
            image = response.read()
    assert image[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(image) > 20_000  # a drawn page, not a one-line refusal
