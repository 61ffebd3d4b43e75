"""Sign-in under attack (tracker issue 20): wrong passwords are throttled per address and per
user name, with 429 and ``Retry-After`` before any PBKDF2 runs; a good sign-in is checked
once and trusted for a while; the throttle's memory is bounded; the users file is read again
when it changes, so a removed user is refused at once and a broken file refuses everyone."""

from __future__ import annotations

import base64
import logging
import os
import threading
import time

import pytest

from tests.security.conftest import PASSWORD
from web import auth as app_auth
from web import throttle

ROUTE = "/assets/style.css"  # any route is covered; this one is cheap to answer
FREE = throttle.Policy().free


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds



@pytest.fixture
def clock(monkeypatch) -> Clock:
    """Fresh throttle and sign-in memory, both on a hand-moved clock."""
    clock = Clock()
    monkeypatch.setattr(app_auth, "_throttle", throttle.Throttle(clock=clock))
    monkeypatch.setattr(app_auth, "_signins", throttle.RecentSignIns(
        app_auth._KNOWN_SIGNINS, app_auth.SIGNIN_TTL, clock=clock))
    return clock


@pytest.fixture
def basic(monkeypatch, alice_hash, clock):
    monkeypatch.setenv("EQUALITIES_AUTH", "basic")
    monkeypatch.setenv("EQUALITIES_USERS", f"alice:{alice_hash}, bob:{alice_hash}")


@pytest.fixture
def checks(monkeypatch) -> list[str]:
    """The password hashes checked (PBKDF2 runs), one entry a check."""
    calls: list[str] = []
    real = app_auth.check_password_hash

    def counted(hashed: str, password: str) -> bool:
        calls.append(hashed)
        return real(hashed, password)

    monkeypatch.setattr(app_auth, "check_password_hash", counted)
    return calls


def attempt(client, user: str, password: str, address: str = "10.0.0.1"):
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return client.get(ROUTE, headers={"Authorization": f"Basic {token}"},
                      environ_base={"REMOTE_ADDR": address})


def test_one_address_is_throttled_with_429_and_retry_after(client, basic, clock, caplog):
    names = ("alice", "bob", "mallory", "alice", "eve")  # a name each does not help
    for name in names[:FREE]:
        assert attempt(client, name, "wrong").status_code == 401
    with caplog.at_level(logging.WARNING):
        refused = attempt(client, "zoe", "wrong")
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "1"
    assert "try again after 1 s" in refused.get_json()["error"]
    assert "too many failed sign-ins" in caplog.text
    clock.advance(1)
    assert attempt(client, "zoe", "wrong").status_code == 401  # checked again, and wrong
    assert attempt(client, "zoe", "wrong").headers["Retry-After"] == "2"  # doubled
    assert attempt(client, "zoe", "wrong", address="10.0.0.2").status_code == 401


def test_one_name_is_throttled_across_addresses(client, basic, clock):
    for n in range(FREE):
        assert attempt(client, "alice", "wrong", address=f"10.0.1.{n}").status_code == 401
    refused = attempt(client, "alice", "wrong", address="10.0.1.99")
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) >= 1
    assert attempt(client, "bob", "wrong", address="10.0.1.98").status_code == 401


def test_unknown_names_cost_and_wait_the_same(client, basic, clock, checks):
    """Statuses and PBKDF2 runs do not tell a real name from an invented one."""
    seen = {}
    for name, prefix in (("alice", "10.0.2"), ("no-such-user", "10.0.3")):
        checks.clear()
        seen[name] = [attempt(client, name, "wrong", address=f"{prefix}.{n % 3}").status_code
                      for n in range(FREE + 3)], len(checks)
    assert seen["alice"] == seen["no-such-user"] == ([401] * FREE + [429] * 3, FREE)


def test_right_password_waits_out_the_throttle(client, basic, clock):
    """Policy: once an address and a name are both waiting, even the right password is
    refused until the wait is over; from elsewhere, a sign-in not already checked there
    waits for the name too."""
    for _ in range(FREE):
        attempt(client, "alice", "wrong", address="10.0.4.1")
    assert attempt(client, "alice", PASSWORD, address="10.0.4.1").status_code == 429
    assert attempt(client, "alice", PASSWORD, address="10.0.4.2").status_code == 429
    clock.advance(app_auth._throttle.policy.longest_wait)
    assert attempt(client, "alice", PASSWORD, address="10.0.4.1").status_code == 200


def test_signed_in_user_is_not_locked_out_by_failures_elsewhere(client, basic, clock, checks):
    """Policy: a sign-in already checked from an address keeps working there for
    SIGNIN_TTL while someone else fails with the same name; after that it is checked
    again and waits like any other."""
    assert attempt(client, "alice", PASSWORD, address="10.0.5.1").status_code == 200
    for n in range(10):
        attempt(client, "alice", "guess", address=f"10.0.6.{n}")
    assert attempt(client, "alice", "guess", address="10.0.6.99").status_code == 429
    checks.clear()
    assert attempt(client, "alice", PASSWORD, address="10.0.5.1").status_code == 200
    assert checks == []  # answered from memory, no PBKDF2
    clock.advance(app_auth.SIGNIN_TTL)
    attempt(client, "alice", "guess", address="10.0.6.100")  # the attack goes on
    assert attempt(client, "alice", PASSWORD, address="10.0.5.1").status_code == 429


def test_many_failures_cost_few_password_checks(client, basic, clock, checks):
    for _ in range(60):
        attempt(client, "alice", "wrong", address="10.0.7.1")
    assert len(checks) == FREE  # one address
    checks.clear()
    for n in range(60):
        attempt(client, "bob", "wrong", address=f"10.0.8.{n}")
    assert len(checks) == FREE  # one name from many addresses
    checks.clear()
    clock.advance(20)  # the process's budget full again: 10 checks
    statuses = [attempt(client, f"user{n}", "wrong", address=f"10.1.{n}.1").status_code
                for n in range(60)]
    assert statuses == [401] * 10 + [429] * 50  # a new name and address each time
    assert len(checks) == 10
    clock.advance(2)  # then one check every 2 seconds
    assert attempt(client, "user99", "wrong", address="10.1.99.1").status_code == 401
    assert attempt(client, "user98", "wrong", address="10.1.98.1").status_code == 429


def test_addresses_in_one_ipv6_64_share_a_limit(client, basic, clock):
    for n in range(FREE):
        address = f"2001:db8:1:2::{n + 1}"
        assert attempt(client, "mallory", "x", address=address).status_code == 401
    assert attempt(client, "eve", "x", address="2001:db8:1:2:ffff::9").status_code == 429
    assert attempt(client, "eve", "x", address="2001:db8:1:3::1").status_code == 401
    assert throttle.client_key("::ffff:192.0.2.7") == "192.0.2.7"
    assert throttle.client_key("not an address") == "not an address"


def test_behind_local_proxy_the_forwarded_address_is_throttled(client, basic, clock):
    """Behind nginx on this machine each client has its own limit: the last address in
    X-Forwarded-For, which nginx adds. A client cannot choose it by sending the header
    itself, and a peer that is not on this machine cannot set it at all."""
    def through_proxy(name: str, forwarded: str):
        token = base64.b64encode(f"{name}:wrong".encode()).decode()
        return client.get(ROUTE, headers={"Authorization": f"Basic {token}",
                                          "X-Forwarded-For": forwarded})  # from 127.0.0.1

    for n in range(FREE):
        assert through_proxy(f"name{n}", f"10.9.9.{n}, 203.0.113.5").status_code == 401
    assert through_proxy("other", "1.2.3.4, 203.0.113.5").status_code == 429
    assert through_proxy("other", "203.0.113.6").status_code == 401  # another client
    clock.advance(20)  # the process's budget full again
    for n in range(FREE):
        token = base64.b64encode(f"far{n}:wrong".encode()).decode()
        response = client.get(ROUTE, environ_base={"REMOTE_ADDR": "10.0.11.1"},
                              headers={"Authorization": f"Basic {token}",
                                       "X-Forwarded-For": f"198.51.100.{n}"})
        assert response.status_code == 401
    assert attempt(client, "far9", "wrong", address="10.0.11.1").status_code == 429


def test_concurrent_failures_do_not_overrun_the_limit(dash_app, basic, clock, monkeypatch):
    """Each try is counted before its password is checked, so a burst of simultaneous
    tries from one address gets no more checks than tries one after another."""
    calls = []

    def slow_check(hashed: str, password: str) -> bool:
        calls.append(hashed)
        time.sleep(0.05)
        return False

    monkeypatch.setattr(app_auth, "check_password_hash", slow_check)
    statuses = []
    start = threading.Barrier(16)

    def one(n: int) -> None:
        own = dash_app.server.test_client()
        start.wait()
        statuses.append(attempt(own, f"user{n}", "wrong", address="10.0.9.1").status_code)

    threads = [threading.Thread(target=one, args=(n,)) for n in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(statuses) == 16
    assert len(calls) == FREE
    assert sorted(statuses) == [401] * FREE + [429] * (16 - FREE)


def test_throttle_memory_is_bounded(client, basic, monkeypatch):
    """An attacker stepping through addresses and names cannot grow the tables."""
    small = throttle.Throttle(throttle.Policy(keys=50), checks_at_once=10_000)
    monkeypatch.setattr(app_auth, "_throttle", small)
    monkeypatch.setattr(app_auth, "check_password_hash", lambda hashed, password: False)
    for n in range(400):
        assert attempt(client, f"name{n}", "x", address=f"10.2.{n // 250}.{n % 250}"
                       ).status_code == 401
    assert small.sizes() == (50, 50)
    remembered = throttle.RecentSignIns(size=20, ttl=300)
    for n in range(100):
        remembered.add(n.to_bytes(4, "big"))
    assert len(remembered) == 20


def test_good_sign_ins_are_checked_once_for_a_while(client, basic, clock, checks):
    for _ in range(20):
        assert attempt(client, "alice", PASSWORD).status_code == 200
    assert len(checks) == 1
    marks = app_auth._signins.marks()
    assert len(marks) == 1 and PASSWORD.encode() not in marks[0]  # a keyed hash only
    clock.advance(app_auth.SIGNIN_TTL - 1)
    assert attempt(client, "alice", PASSWORD).status_code == 200
    assert len(checks) == 1
    clock.advance(1)  # the time limit: checked again, once
    for _ in range(5):
        assert attempt(client, "alice", PASSWORD).status_code == 200
    assert len(checks) == 2


def test_concurrent_first_sign_ins_check_once(dash_app, basic, clock, checks):
    """A browser's first burst of requests with new credentials costs one PBKDF2 run."""
    statuses = []
    start = threading.Barrier(8)

    def one() -> None:
        own = dash_app.server.test_client()
        start.wait()
        statuses.append(attempt(own, "alice", PASSWORD, address="10.0.10.1").status_code)

    threads = [threading.Thread(target=one) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert statuses == [200] * 8
    assert len(checks) == 1


def write_users(path, text: str) -> None:
    """Replace the users file in one step, as the README advises."""
    spare = path.with_name(path.name + ".new")
    spare.write_text(text, encoding="utf-8")
    os.replace(spare, path)


@pytest.fixture
def users_file(tmp_path, monkeypatch, clock):
    path = tmp_path / "users"
    monkeypatch.setenv("EQUALITIES_AUTH", "basic")
    monkeypatch.setenv("EQUALITIES_USERS", str(path))
    return path


def test_removed_user_is_refused_on_the_next_request(client, users_file, alice_hash):
    write_users(users_file, f"alice:{alice_hash}\ncarol:{alice_hash}\n")
    assert attempt(client, "carol", PASSWORD).status_code == 200
    assert attempt(client, "carol", PASSWORD).status_code == 200  # remembered
    users_file.write_text(f"alice:{alice_hash}\n", encoding="utf-8")  # edited in place
    assert attempt(client, "carol", PASSWORD).status_code == 401
    assert attempt(client, "alice", PASSWORD).status_code == 200
    write_users(users_file, f"alice:{alice_hash}\ndave:{alice_hash}\n")
    assert attempt(client, "dave", PASSWORD).status_code == 200


def test_changed_password_is_needed_on_the_next_request(client, users_file, alice_hash):
    write_users(users_file, f"alice:{alice_hash}\n")
    assert attempt(client, "alice", PASSWORD).status_code == 200
    write_users(users_file, f"alice:{app_auth.hash_password('a new phrase')}\n")
    assert attempt(client, "alice", PASSWORD).status_code == 401
    assert attempt(client, "alice", "a new phrase").status_code == 200


def test_broken_users_file_refuses_everyone(client, users_file, alice_hash, caplog):
    write_users(users_file, f"alice:{alice_hash}\n")
    assert attempt(client, "alice", PASSWORD).status_code == 200
    for broken in (f"alice:{alice_hash}\nbob:plaintext\n", ""):
        write_users(users_file, broken)
        caplog.clear()
        with caplog.at_level(logging.ERROR):
            assert attempt(client, "alice", PASSWORD).status_code == 503
        assert "EQUALITIES_USERS" in caplog.text
    users_file.unlink()
    assert attempt(client, "alice", PASSWORD).status_code == 503
    write_users(users_file, f"alice:{alice_hash}\n")
    assert attempt(client, "alice", PASSWORD).status_code == 200


def test_back_off_doubles_to_its_longest_and_is_forgiven():
    """The policy in numbers: 5 failures free, then 1 s, 2 s, 4 s ... at most 300 s after
    the latest failure; one failure forgiven every 10 minutes."""
    policy = throttle.Policy()
    table, now, waits = throttle.Backoff(policy), 0.0, []
    for _ in range(18):  # each try made as soon as it is allowed
        now += table.wait("key", now)
        table.fail("key", now)
        waits.append(table.wait("key", now))
    # (the 256 s wait comes twice: a little is forgiven while waiting it)
    assert waits == [0, 0, 0, 0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 256, 300, 300, 300, 300]
    assert table.wait("key", now + 300) == 0
    table.fail("key", now + policy.most * policy.forgive)  # all forgiven by then: one held
    assert table.wait("key", now + policy.most * policy.forgive) == 0
