"""Failed UI logins, counted per username and per client address, answered with an exponential
delay rather than a lock.

Issue 14 finding 9: 5 failures locked ``admin`` out for 15 minutes, and 20 per address locked out
everyone behind one reverse proxy — a guesser could keep the operators out for good. Now the first
``max_failures`` failures of an account within ``window`` cost nothing; each further one makes the
next attempt wait 1 s, 2 s, 4 s, … up to ``max_delay``. An address gets ``ADDRESS_FACTOR`` times as
many free failures (operators behind one NAT share it). A guesser is slowed to one guess per
``max_delay`` per account, and the real operator is never kept out longer than that. The client
address comes from gateway.ui.client_address, which believes X-Forwarded-For only from
``[server] trusted_proxies``.

In memory, per process; argon2id already makes each guess cost ~50 ms of CPU. A successful login
clears its username's count (not the address's: one address guessing many accounts stays slowed).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from gateway.common.clock import Clock

__all__ = ["ADDRESS_FACTOR", "LoginThrottle"]

Key = tuple[str, str]
ADDRESS_FACTOR = 4


class LoginThrottle:
    def __init__(
        self,
        *,
        max_failures: int,
        window: timedelta,
        clock: Clock,
        max_delay: timedelta = timedelta(seconds=60),
        max_keys: int = 10_000,
    ) -> None:
        self.max_failures = max_failures
        self.window = window
        self.max_delay = max_delay
        self.clock = clock
        self.max_keys = max_keys
        self._failures: dict[Key, list[datetime]] = {}

    @staticmethod
    def keys(username: str, address: str | None) -> list[Key]:
        keys = [("user", username.strip().lower())]
        if address:
            keys.append(("address", address))
        return keys

    def _recent(self, key: Key, now: datetime) -> list[datetime]:
        times = [t for t in self._failures.get(key, ()) if now - t < self.window]
        if times:
            self._failures[key] = times
        else:
            self._failures.pop(key, None)
        return times

    def delay(self, failures: int, free: int) -> timedelta:
        """The wait after ``failures`` recent failures when ``free`` cost nothing."""
        if failures < free:
            return timedelta(0)
        seconds = 2.0 ** min(failures - free, 30)  # min(): no float overflow after many failures
        return min(self.max_delay, timedelta(seconds=seconds))

    def retry_after(self, keys: Iterable[Key]) -> float | None:
        """Seconds until a login may be tried again, or None when it may be tried now."""
        now = self.clock.now()
        waits = []
        for key in keys:
            free = self.max_failures * (ADDRESS_FACTOR if key[0] == "address" else 1)
            times = self._recent(key, now)
            if times:
                wait = (times[-1] + self.delay(len(times), free) - now).total_seconds()
                if wait > 0:
                    waits.append(wait)
        return max(waits) if waits else None

    def failed(self, keys: Iterable[Key]) -> None:
        now = self.clock.now()
        if len(self._failures) >= self.max_keys:  # a flood of distinct names: forget the stale ones
            for key in list(self._failures):
                self._recent(key, now)
        for key in keys:
            self._failures.setdefault(key, []).append(now)

    def succeeded(self, username: str) -> None:
        self._failures.pop(("user", username.strip().lower()), None)
