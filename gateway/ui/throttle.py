"""Failed UI logins, counted per username and per client address: past the limit within the
window, logins are refused without checking a password until the window has passed. An address
may fail ``ADDRESS_FACTOR`` times as often as one account: operators behind one NAT share it.

In memory, per process: it slows a guesser down to ``max_failures`` guesses per window per
account and per address on each process; argon2id already makes each guess cost ~50 ms of CPU.
A successful login clears its username's count (not the address's: one address guessing many
accounts stays throttled).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from gateway.common.clock import Clock

__all__ = ["ADDRESS_FACTOR", "LoginThrottle"]

Key = tuple[str, str]
ADDRESS_FACTOR = 4


class LoginThrottle:
    def __init__(self, *, max_failures: int, window: timedelta, clock: Clock, max_keys: int = 10_000) -> None:
        self.max_failures = max_failures
        self.window = window
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

    def retry_after(self, keys: Iterable[Key]) -> float | None:
        """Seconds until a login may be tried again, or None when it may be tried now."""
        now = self.clock.now()
        waits = []
        for key in keys:
            limit = self.max_failures * (ADDRESS_FACTOR if key[0] == "address" else 1)
            times = self._recent(key, now)
            if len(times) >= limit:
                waits.append((times[-limit] + self.window - now).total_seconds())
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
