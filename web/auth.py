"""Optional login for internal deployments, configured by environment (off by default).

``EQUALITIES_AUTH=basic``: HTTP basic authentication against ``EQUALITIES_USERS`` (user and
PBKDF2 hash pairs, or a file of them; ``equalities hash-password`` makes a hash).
``EQUALITIES_AUTH=header``: a reverse proxy that has already signed the user in (a trust's
portal) sets ``EQUALITIES_AUTH_HEADER`` (``X-Forwarded-User`` by default); the app must then be
reachable only through that proxy.

Every route is covered (pages, Dash callbacks, assets, exports) except ``/healthz``. The
app's own export browser, which draws pages from the loopback address, is let in by a
secret token header (``EQUALITIES_INTERNAL_TOKEN``, or one made per process).

Basic sign-in checks a password (600,000 rounds of PBKDF2) once per process, then trusts it
from the same address for ``SIGNIN_TTL`` seconds. Wrong passwords are throttled per address
and per user name (``web.throttle``): a try over the limit gets 429 with ``Retry-After``
before any password check. A users file is read again when it changes.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import logging
import math
import secrets
from dataclasses import dataclass
from pathlib import Path

from flask import Flask, Response, jsonify, request
from werkzeug.security import check_password_hash, generate_password_hash

from data import settings, store
from web.throttle import RecentSignIns, Throttle, client_key

log = logging.getLogger(__name__)

HEALTH_PATH = "/healthz"
INTERNAL_HEADER = "X-Equalities-Internal"
REALM = "Maternity and Neonatal Equalities"
HASH_METHOD = "pbkdf2:sha256:600000"  # OWASP's 2023 minimum for PBKDF2-HMAC-SHA256
LOOPBACK = ("127.0.0.1", "::1")
EXPORT_USER = "(export)"  # the user name of this server's own export browser
_KNOWN_SIGNINS = 256  # verified sign-ins remembered, so PBKDF2 runs once per SIGNIN_TTL
SIGNIN_TTL = 300.0  # seconds a verified sign-in is trusted before its password is checked again


class AuthConfigError(ValueError):
    """The login settings are incomplete or wrong (the app refuses to serve)."""


class SignInThrottled(Exception):
    """Too many failed sign-ins from this address or for this user name: try again later."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"too many failed sign-ins; retry after {retry_after:.0f} s")
        self.retry_after = retry_after


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


def _users_file_state(users: str) -> tuple[int, ...] | None:
    """What changes when the users file named by ``users`` changes (identity, size, times);
    None when ``users`` holds the pairs themselves or names no file that can be read."""
    if not users or ":" in users:
        return None
    try:
        stat = Path(users).expanduser().stat()
    except OSError:
        return None
    return stat.st_ino, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns


@functools.lru_cache(maxsize=4)
def _config(mode: str, users: str, header: str,
            file_state: tuple[int, ...] | None = None) -> AuthConfig | None:
    if mode in ("", "off", "none"):
        return None
    if mode == "basic":
        parsed = parse_users(users)
        if file_state is not None:
            log.info("read %d users from %s", len(parsed), users)
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
    """The login settings from the environment, or None when login is off. A users file is
    read again whenever it changes (one ``stat`` a call), so a removed user is refused on
    the next request and a broken file refuses everyone (AuthConfigError)."""
    mode, users = settings.auth_mode(), settings.auth_users()
    state = _users_file_state(users) if mode == "basic" else None
    return _config(mode, users, settings.auth_header(), state)


@functools.cache
def _process_token() -> str:
    return secrets.token_urlsafe(32)


def internal_token() -> str:
    return settings.internal_token() or _process_token()


def internal_headers() -> dict[str, str]:
    """Headers that let this server's own export browser in."""
    return {INTERNAL_HEADER: internal_token()}


_dummy_hash = functools.cache(lambda: hash_password(secrets.token_hex(8)))
_key = secrets.token_bytes(32)
_signins = RecentSignIns(_KNOWN_SIGNINS, SIGNIN_TTL)
_throttle = Throttle()


def _digest(*parts: str | None) -> bytes:
    """A keyed hash of ``parts`` (never stored in the clear; the key lives only in memory)."""
    return hmac.new(_key, json.dumps(parts).encode(), hashlib.sha256).digest()


def _password_ok(config: AuthConfig, client: str, user: str, password: str) -> bool:
    """Whether ``password`` is ``user``'s, checked in constant time (an unknown user costs the
    same as a known one). Raises SignInThrottled, before any PBKDF2, when over the limits.

    A sign-in found right is trusted for ``SIGNIN_TTL`` seconds from the same client (so a
    signed-in user is not locked out by someone else failing with their name elsewhere).
    """
    stored = None
    for name, hashed in config.users:
        if hmac.compare_digest(name.encode(), user.encode()):
            stored = hashed
    name_key = _digest(user)[:16]
    wait = _throttle.admit(client, name_key)
    if wait:
        raise SignInThrottled(wait)
    mark = _digest(client, user, password, stored)
    while not _signins.known(mark):
        running = _signins.claim(mark)
        if running is not None:  # the same credentials are being checked: use that check
            running.wait(timeout=30)
            continue
        try:
            wait = _throttle.charge(client, name_key)
            if wait:
                raise SignInThrottled(wait)
            ok = check_password_hash(stored or _dummy_hash(), password) and stored is not None
            if ok:
                _throttle.refund(client, name_key)
                _signins.add(mark)
            return ok
        finally:
            _signins.release(mark)
    return True


def signed_in_user(config: AuthConfig) -> str | None:
    """The user this request is from, or None when it has no valid credentials. Raises
    SignInThrottled when it has failed too often to be checked now."""
    token = request.headers.get(INTERNAL_HEADER)
    if token and hmac.compare_digest(token.encode(), internal_token().encode()):
        return EXPORT_USER
    if config.mode == "header":
        return (request.headers.get(config.header) or "").strip() or None
    credentials = request.authorization
    if credentials is None or credentials.type != "basic":
        return None
    user, password = credentials.username or "", credentials.password or ""
    client = client_key(client_address())
    return user if _password_ok(config, client, user, password) else None


def client_address() -> str:
    """The address a request comes from: its peer's, or when the peer is a proxy on this
    machine (nginx, ``docs/nginx.conf``) the last address in ``X-Forwarded-For``, the one
    that proxy added (a client can put anything before it, nothing after)."""
    peer = request.remote_addr or ""
    forwarded = request.headers.get("X-Forwarded-For", "")
    if peer in LOOPBACK and forwarded:
        return forwarded.rsplit(",", 1)[-1].strip() or peer
    return peer


def _throttled(wait: float) -> Response:
    seconds = max(1, math.ceil(wait))
    log.warning("rejected request %s %s from %s: too many failed sign-ins (retry after %d s)",
                request.method, request.path[:200], client_address()[:64], seconds)
    response = jsonify(error=f"Too many failed sign-ins. Please try again after {seconds} s.",
                       status=429)
    response.status_code = 429
    response.headers["Retry-After"] = str(seconds)
    return response


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
        try:
            user = signed_in_user(config)
        except SignInThrottled as throttled:
            return _throttled(throttled.retry_after)
        if user is None:
            return _refuse(config, "not signed in")
        request.environ["REMOTE_USER"] = user
        return None
