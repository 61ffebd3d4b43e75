"""Optional login for internal deployments, configured by environment (off by default).

``EQUALITIES_AUTH=basic``: HTTP basic authentication against ``EQUALITIES_USERS`` (user and
PBKDF2 hash pairs, or a file of them; ``equalities hash-password`` makes a hash).
``EQUALITIES_AUTH=header``: a reverse proxy that has already signed the user in (a trust's
portal) sets ``EQUALITIES_AUTH_HEADER`` (``X-Forwarded-User`` by default); the app must then be
reachable only through that proxy.

Every route is covered (pages, Dash callbacks, assets, exports) except ``/healthz``. The
app's own export browser, which draws pages from the loopback address, is let in by a
secret token header (``EQUALITIES_INTERNAL_TOKEN``, or one made per process).
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import logging
import secrets
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

from flask import Flask, Response, jsonify, request
from werkzeug.security import check_password_hash, generate_password_hash

from data import settings, store

log = logging.getLogger(__name__)

HEALTH_PATH = "/healthz"
INTERNAL_HEADER = "X-Equalities-Internal"
REALM = "Maternity and Neonatal Equalities"
HASH_METHOD = "pbkdf2:sha256:600000"  # OWASP's 2023 minimum for PBKDF2-HMAC-SHA256
LOOPBACK = ("127.0.0.1", "::1")
_KNOWN_SIGNINS = 256  # verified (user, password) pairs remembered, so PBKDF2 runs once


class AuthConfigError(ValueError):
    """The login settings are incomplete or wrong (the app refuses to serve)."""


@dataclass(frozen=True)
class AuthConfig:
    mode: str  # "basic" or "header"
    users: tuple[tuple[str, str], ...] = ()  # (user, hash)
    header: str = ""


def hash_password(password: str) -> str:
    """A salted PBKDF2-SHA256 hash of ``password`` for ``EQUALITIES_USERS``."""
    if not password:
        raise ValueError("an empty password cannot be hashed")
    return generate_password_hash(password, method=HASH_METHOD)


def parse_users(text: str) -> tuple[tuple[str, str], ...]:
    """``user:hash`` pairs from ``text`` (comma- or line-separated) or from the file it names."""
    if text and ":" not in text:  # every entry has a colon, so this names a file
        path = Path(text).expanduser()
        if not path.is_file():
            raise AuthConfigError(f"EQUALITIES_USERS names no readable file: {text}")
        text = path.read_text(encoding="utf-8")
    users = []
    for entry in text.replace(",", "\n").splitlines():
        entry = entry.strip()
        if not entry or entry.startswith("#"):
            continue
        user, _, hashed = entry.partition(":")
        if not user or not hashed.startswith(("pbkdf2:", "scrypt:")):
            raise AuthConfigError(f"EQUALITIES_USERS entry for {user or '?'!r} is not "
                                  "user:hash (make hashes with `equalities hash-password`)")
        users.append((user, hashed))
    return tuple(users)


@functools.lru_cache(maxsize=4)
def _config(mode: str, users: str, header: str) -> AuthConfig | None:
    if mode in ("", "off", "none"):
        return None
    if mode == "basic":
        parsed = parse_users(users)
        if not parsed:
            raise AuthConfigError("EQUALITIES_AUTH=basic needs EQUALITIES_USERS (user:hash "
                                  "pairs or a file of them)")
        return AuthConfig("basic", users=parsed)
    if mode == "header":
        if not header:
            raise AuthConfigError("EQUALITIES_AUTH=header needs EQUALITIES_AUTH_HEADER")
        return AuthConfig("header", header=header)
    raise AuthConfigError(f"EQUALITIES_AUTH must be basic or header (or empty for no "
                          f"login), not {mode!r}")


def load_config() -> AuthConfig | None:
    """The login settings from the environment, or None when login is off."""
    return _config(settings.auth_mode(), settings.auth_users(), settings.auth_header())


@functools.cache
def _process_token() -> str:
    return secrets.token_urlsafe(32)


def internal_token() -> str:
    return settings.internal_token() or _process_token()


def internal_headers() -> dict[str, str]:
    """Headers that let this server's own export browser in."""
    return {INTERNAL_HEADER: internal_token()}


def forwarded_headers() -> dict[str, str]:
    """The current request's credentials, for a browser drawing a page on its behalf (so an
    export works whichever worker process answers the browser)."""
    config = load_config()
    headers = internal_headers()
    if config and config.mode == "basic" and request.authorization:
        headers["Authorization"] = request.headers.get("Authorization", "")
    elif config and config.mode == "header" and request.headers.get(config.header):
        headers[config.header] = request.headers[config.header]
    return headers


_dummy_hash = functools.cache(lambda: hash_password(secrets.token_hex(8)))
_signins: OrderedDict[bytes, None] = OrderedDict()
_key = secrets.token_bytes(32)


def _password_ok(config: AuthConfig, user: str, password: str) -> bool:
    """Constant-time check of a user's password (an unknown user costs the same)."""
    stored = None
    for name, hashed in config.users:
        if hmac.compare_digest(name.encode(), user.encode()):
            stored = hashed
    mark = hmac.new(_key, f"{user}\0{password}\0{stored}".encode(), hashlib.sha256).digest()
    if stored is not None and mark in _signins:
        _signins.move_to_end(mark)
        return True
    ok = check_password_hash(stored or _dummy_hash(), password) and stored is not None
    if ok:
        _signins[mark] = None
        while len(_signins) > _KNOWN_SIGNINS:
            _signins.popitem(last=False)
    return ok


def signed_in_user(config: AuthConfig) -> str | None:
    """The user this request is from, or None when it has no valid credentials."""
    token = request.headers.get(INTERNAL_HEADER)
    if token and hmac.compare_digest(token.encode(), internal_token().encode()):
        return "(export)"
    if config.mode == "header":
        return (request.headers.get(config.header) or "").strip() or None
    credentials = request.authorization
    if credentials is None or credentials.type != "basic":
        return None
    user, password = credentials.username or "", credentials.password or ""
    return user if _password_ok(config, user, password) else None


def _refuse(config: AuthConfig | None, why: str) -> Response:
    log.warning("rejected request %s %s from %s: %s", request.method, request.path[:200],
                request.remote_addr, why)
    if config is None:  # the settings are wrong: refuse everything rather than serve openly
        response = jsonify(error="Sign-in is misconfigured on this server.", status=503)
        response.status_code = 503
        return response
    response = jsonify(error="Please sign in to see this dashboard.", status=401)
    response.status_code = 401 if config.mode == "basic" else 403
    if config.mode == "basic":
        response.headers["WWW-Authenticate"] = f'Basic realm="{REALM}", charset="UTF-8"'
    return response


def install(server: Flask) -> None:
    """Require sign-in on every route of ``server`` when configured; add ``/healthz``."""
    load_config()  # fail at start-up on bad settings, with their message

    @server.route(HEALTH_PATH)
    def _health():
        try:
            store.load_store()
        except store.StoreError:
            response = jsonify(status="no data store")
            response.status_code = 503
            return response
        return jsonify(status="ok")

    @server.before_request
    def _sign_in():
        try:
            config = load_config()
        except AuthConfigError as error:
            log.error("%s", error)
            return _refuse(None, "sign-in settings are wrong")
        if config is None or request.path == HEALTH_PATH:
            return None
        user = signed_in_user(config)
        if user is None:
            return _refuse(config, "not signed in")
        request.environ["REMOTE_USER"] = user
        return None
