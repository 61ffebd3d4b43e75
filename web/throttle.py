"""Back-off for failed sign-ins, and a short memory of good ones (used by ``web.auth``).

Failures are counted per client address and per user name as a token bucket with
exponential back-off: ``free`` failures cost nothing, one failure is forgiven every
``forgive`` seconds, and from the ``free``-th failure on the next try must wait
``first_wait`` seconds after the latest failure, doubling with each further failure up to
``longest_wait``. One plain token bucket for the whole process caps the password checks that
wrong passwords can cause, however many addresses and names an attacker uses. Every table is
bounded (the stalest entries are forgotten first) and every class is thread-safe.
"""

from __future__ import annotations

import ipaddress
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass

Clock = Callable[[], float]


@dataclass(frozen=True)
class Policy:
    """How failures are forgiven, and how long a key waits once past its free ones."""

    free: int = 5  # failures answered at once
    forgive: float = 600.0  # seconds for one failure to be forgiven
    first_wait: float = 1.0  # the wait after the ``free``-th failure; doubled after each more
    longest_wait: float = 300.0
    keys: int = 10_000  # addresses (or names) remembered; the longest without a failure go

    @property
    def most(self) -> int:
        """Failures held at most: enough to reach the longest wait, so one who stops trying
        is forgiven within ``most * forgive`` seconds."""
        return self.free + math.ceil(math.log2(self.longest_wait / self.first_wait))


@dataclass(frozen=True)
class Strikes:
    failures: float  # as counted at ``last``
    last: float  # clock time of the latest failure


def failures_now(strikes: Strikes, now: float, policy: Policy) -> float:
    """Failures still held at ``now`` (forgiven continuously, one per ``forgive`` seconds)."""
    return max(0.0, strikes.failures - (now - strikes.last) / policy.forgive)


def wait_for(strikes: Strikes, now: float, policy: Policy) -> float:
    """Seconds before the next try may be checked; 0 when it may be checked now.

    ``first_wait * 2 ** (n - free)`` after the latest failure, at most ``longest_wait``,
    where n is the failures held (rounded to whole ones).
    """
    over = math.floor(strikes.failures + 0.5) - policy.free
    if over < 0:
        return 0.0
    pause = min(policy.first_wait * 2.0**over, policy.longest_wait)
    return max(0.0, strikes.last + pause - now)


class Backoff:
    """Failures per key (a client address or a user name) in at most ``policy.keys`` entries.

    Not locked itself: ``Throttle`` holds one lock over its tables.
    """

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self._strikes: OrderedDict[Hashable, Strikes] = OrderedDict()

    def __len__(self) -> int:
        return len(self._strikes)

    def wait(self, key: Hashable, now: float) -> float:
        strikes = self._strikes.get(key)
        return 0.0 if strikes is None else wait_for(strikes, now, self.policy)

    def fail(self, key: Hashable, now: float) -> None:
        old = self._strikes.pop(key, None)
        held = 0.0 if old is None else failures_now(old, now, self.policy)
        self._strikes[key] = Strikes(min(held + 1, self.policy.most), now)
        while len(self._strikes) > self.policy.keys:
            self._strikes.popitem(last=False)

    def forgive(self, key: Hashable) -> None:
        old = self._strikes.get(key)
        if old is not None:
            self._strikes[key] = Strikes(max(0.0, old.failures - 1), old.last)


class Budget:
    """A plain token bucket: ``size`` at once, refilled at ``rate`` a second."""

    def __init__(self, size: float, rate: float, now: float) -> None:
        self.size, self.rate = size, rate
        self._tokens, self._stamp = float(size), now

    def take(self, now: float) -> float:
        """Take a token: 0 when one was taken, else the seconds until one will be there."""
        self._tokens = min(self.size, self._tokens + (now - self._stamp) * self.rate)
        self._stamp = now
        if self._tokens >= 1:
            self._tokens -= 1
            return 0.0
        return (1 - self._tokens) / self.rate

    def give_back(self) -> None:
        self._tokens = min(self.size, self._tokens + 1)


class Throttle:
    """Back-off per client address and per user name, and the process's budget of checks.

    A try is refused at once while both its address and its name are waiting. Otherwise it
    may be answered from remembered sign-ins; if not, ``charge`` counts it as failed before
    its password is checked (so concurrent tries cannot overrun a limit), and ``refund``
    takes that back when the password was right.
    """

    def __init__(self, policy: Policy | None = None, checks_at_once: float = 10,
                 checks_per_second: float = 0.5, clock: Clock = time.monotonic) -> None:
        self.policy = policy or Policy()
        self.addresses = Backoff(self.policy)
        self.names = Backoff(self.policy)
        self._clock = clock
        self._budget = Budget(checks_at_once, checks_per_second, clock())
        self._lock = threading.Lock()

    def admit(self, address: Hashable, name: Hashable) -> float:
        """0 when the try may go on; else the seconds both its address and name must wait."""
        with self._lock:
            now = self._clock()
            waits = self.addresses.wait(address, now), self.names.wait(name, now)
        return max(waits) if min(waits) > 0 else 0.0

    def charge(self, address: Hashable, name: Hashable) -> float:
        """Count a try as failed; 0 when its password may be checked, else seconds to wait
        (its address or name is waiting, or the process's budget is spent).

        While one of the two is waiting, the try counts against the other only: it was
        looked up in the remembered sign-ins, so it must cost a try, but it does not
        lengthen a wait already running.
        """
        with self._lock:
            now = self._clock()
            address_wait, name_wait = self.addresses.wait(address, now), self.names.wait(name, now)
            if not address_wait:
                self.addresses.fail(address, now)
            if not name_wait:
                self.names.fail(name, now)
            if address_wait or name_wait:
                return max(address_wait, name_wait)
            return self._budget.take(now)

    def refund(self, address: Hashable, name: Hashable) -> None:
        """The charged try's password was right: forget that failure and give its check back."""
        with self._lock:
            self.addresses.forgive(address)
            self.names.forgive(name)
            self._budget.give_back()

    def sizes(self) -> tuple[int, int]:
        """Addresses and names held (for tests and monitoring)."""
        with self._lock:
            return len(self.addresses), len(self.names)


def client_key(address: str | None) -> str:
    """The unit throttled for a client address: the address itself, or for IPv6 its /64 (one
    subscriber's allocation, so stepping through it buys no more tries)."""
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return (address or "?")[:64]
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((int(ip), 64), strict=False))
    return str(ip)


class RecentSignIns:
    """Marks (keyed hashes) of credentials found right lately: each trusted for ``ttl``
    seconds after its check, at most ``size`` of them. Concurrent checks of one mark are
    made one at a time (``claim``), so a burst of requests costs one password check."""

    def __init__(self, size: int, ttl: float, clock: Clock = time.monotonic) -> None:
        self.size, self.ttl = size, ttl
        self._clock = clock
        self._marks: OrderedDict[bytes, float] = OrderedDict()
        self._checking: dict[bytes, threading.Event] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        with self._lock:
            return len(self._marks)

    def marks(self) -> list[bytes]:
        with self._lock:
            return list(self._marks)

    def known(self, mark: bytes) -> bool:
        with self._lock:
            checked = self._marks.get(mark)
            if checked is None:
                return False
            if self._clock() - checked >= self.ttl:
                del self._marks[mark]
                return False
            self._marks.move_to_end(mark)
            return True

    def add(self, mark: bytes) -> None:
        with self._lock:
            self._marks[mark] = self._clock()
            self._marks.move_to_end(mark)
            while len(self._marks) > self.size:
                self._marks.popitem(last=False)

    def claim(self, mark: bytes) -> threading.Event | None:
        """None when the caller is to check ``mark`` (then ``release`` it); else an event
        set when the check under way ends (then look again)."""
        with self._lock:
            if mark in self._checking:
                return self._checking[mark]
            self._checking[mark] = threading.Event()
            return None

    def release(self, mark: bytes) -> None:
        with self._lock:
            event = self._checking.pop(mark, None)
        if event is not None:
            event.set()
