"""One SOAP 1.2 exchange over the shared aiohttp session, with tenacity for in-call retries (any peer).

Only a refused or reset connection is retried, at most once more after a short pause: those are
the failures where the request most likely never reached the peer's application (a stale pooled
connection, a restarting proxy). Anything else — a timeout, an HTTP error — is returned to the
caller at once; retries across time belong to the delivery core, which persists them.
"""

from __future__ import annotations

import errno
from dataclasses import dataclass
from typing import Final

import aiohttp
from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt, wait_fixed

from gateway.wire.safexml import DEFAULT_MAX_BYTES
from gateway.wire.soap import content_type

__all__ = ["MAX_TRIES", "HttpReply", "TransportError", "is_connection_refused_or_reset", "post_soap"]

MAX_TRIES: Final = 2
_RETRY_WAIT_SECONDS: Final = 0.2
_RETRY_ERRNOS: Final = frozenset({errno.ECONNREFUSED, errno.ECONNRESET})


@dataclass(frozen=True, slots=True)
class HttpReply:
    status: int
    content_type: str
    body: bytes
    retry_after: float | None
    attempts: int  # how many times the request went out (1 or 2)


class TransportError(Exception):
    """No HTTP answer: connection failure, timeout, oversize answer. ``attempts`` as in HttpReply."""

    def __init__(self, message: str, *, attempts: int) -> None:
        super().__init__(message)
        self.attempts = attempts


def is_connection_refused_or_reset(exc: BaseException) -> bool:
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return True  # the peer closed a pooled keep-alive connection before answering
    if isinstance(exc, aiohttp.ClientConnectorError):
        return exc.os_error.errno in _RETRY_ERRNOS
    if isinstance(exc, aiohttp.ClientOSError):
        return exc.errno in _RETRY_ERRNOS
    return isinstance(exc, ConnectionRefusedError | ConnectionResetError)


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None  # an HTTP-date: rare from SOAP services, and the core has its own floor
    return seconds if seconds >= 0 else None


async def _read_limited(resp: aiohttp.ClientResponse, max_bytes: int) -> bytes:
    chunks: list[bytes] = []
    total = 0
    async for chunk in resp.content.iter_chunked(64 * 1024):
        total += len(chunk)
        if total > max_bytes:
            raise ValueError(f"answer larger than {max_bytes} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


async def post_soap(
    session: aiohttp.ClientSession,
    url: str,
    body: bytes,
    *,
    action: str | None,
    timeout_seconds: float,
    max_bytes: int = DEFAULT_MAX_BYTES,
    tries: int = MAX_TRIES,
    extra_headers: dict[str, str] | None = None,
) -> HttpReply:
    """POST a SOAP 1.2 envelope and read the whole answer (any HTTP status). Raises
    TransportError when there is no answer."""
    headers = {"Content-Type": content_type(action), "Accept": "application/soap+xml, text/xml"}
    if extra_headers:
        headers.update(extra_headers)
    attempts = 0
    try:
        async for attempt in AsyncRetrying(
            stop=stop_after_attempt(max(1, tries)),
            wait=wait_fixed(_RETRY_WAIT_SECONDS),
            retry=retry_if_exception(is_connection_refused_or_reset),
            reraise=True,
        ):
            with attempt:
                attempts += 1
                async with session.post(
                    url, data=body, headers=headers, timeout=aiohttp.ClientTimeout(total=timeout_seconds)
                ) as resp:
                    data = await _read_limited(resp, max_bytes)
                    return HttpReply(
                        status=resp.status,
                        content_type=resp.headers.get("Content-Type", ""),
                        body=data,
                        retry_after=_retry_after(resp.headers.get("Retry-After")),
                        attempts=attempts,
                    )
    except TimeoutError:
        raise TransportError(f"no answer within {timeout_seconds:g} s", attempts=attempts) from None
    except ValueError as exc:  # oversize answer, or an invalid URL
        raise TransportError(str(exc), attempts=attempts) from None
    except aiohttp.ClientError as exc:
        raise TransportError(f"{type(exc).__name__}: {exc}", attempts=attempts) from None
    except OSError as exc:
        raise TransportError(f"{type(exc).__name__}: {exc}", attempts=attempts) from None
    raise TransportError("no attempt was made", attempts=attempts)  # pragma: no cover - tenacity always tries
