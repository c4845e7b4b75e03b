"""Loopback ports for servers the tests start, one block per pytest-xdist worker.

A port picked by binding to 0 is released before the server binds it; in the meantime an
outgoing connection of another test process may take it as its local port (seen in CI: "address
already in use" on a port picked a second earlier). The blocks lie below both the kernel's ephemeral
range and the range the product's own ``free_port`` draws from (20000 up), so neither an outgoing
connection nor another worker's or the product's pick can land on them. Each pick steps by ten: a
sandbox started on port P puts its twins on P+1, P+2, … and the next pick stays clear of them.
"""

from __future__ import annotations

import itertools
import os
import socket

_FIRST, _LAST = 10_000, 20_000
_STEP = 10
_BLOCK = 1_250  # eight workers fit between _FIRST and _LAST


def _worker_index() -> int:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")  # "gw3" under xdist; absent without it
    digits = worker.removeprefix("gw")
    return int(digits) % ((_LAST - _FIRST) // _BLOCK) if digits.isdigit() else 0


_start = _FIRST + _worker_index() * _BLOCK
_next = itertools.cycle(range(_start, _start + _BLOCK, _STEP))


def free_port() -> int:
    """The next port of this worker's block that can be bound now."""
    for _ in range(_BLOCK // _STEP):
        port = next(_next)
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise OSError(f"no free port in {_start}..{_start + _BLOCK}")
