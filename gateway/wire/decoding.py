"""Decoding large request bodies off the event loop, one at a time.

JSON decoding, base64 decoding and the cost estimates run in C calls that hold the GIL for their
whole length (tens of milliseconds for a 20 MB body): in ordinary worker threads, ten such
requests at once queue their calls back to back in front of the event loop, and `/healthz`
waited 212 ms (measured, 10 concurrent 20 MiB `/check` bodies). Here they run in one dedicated
thread, so the event loop waits for at most one such call at a time.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Final, ParamSpec, TypeVar

__all__ = ["decode_off_loop"]

_P = ParamSpec("_P")
_T = TypeVar("_T")
_DECODER: Final = ThreadPoolExecutor(max_workers=1, thread_name_prefix="body-decoder")


async def decode_off_loop(fn: Callable[_P, _T], /, *args: _P.args, **kwargs: _P.kwargs) -> _T:
    """``fn(*args, **kwargs)`` in the body-decoding thread."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(_DECODER, functools.partial(fn, *args, **kwargs))
