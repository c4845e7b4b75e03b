"""The SMEV 3 file store (ФХ) for attachments above ``attachment_threshold_bytes``.

Real SMEV 3 keeps large attachments on an FTP(S) server at the node: the sender uploads each file
to ``/<uuid>/<file name>`` with the login SMEV issued to the information system, then names it in
``RefAttachmentHeader`` (uuid, Hash, MimeType, SignaturePKCS7); the recipient gets an
``FSAttachment`` (uuid, UserName, Password, FileName) to download it. This module speaks the same
model over HTTP — ``PUT``/``GET <filestore_url><uuid>/<file name>`` with Basic authentication —
which is what the sandbox twin offers (adapters/smev3/sandbox/filestore.py). An FTP transport for a
real node is the same two calls (STOR/RETR in passive mode, over FTPS where the node requires it,
through the firewall rules SMEV's connection guide lists); see docs/smev3.md, "Attachments".

Uploads stream the caller's bytes in 1 MiB views (no copy, no base64) and hash them on the way
(GOST R 34.11-2012, Streebog-256, base64: the ``Hash`` SMEV compares); the store's own hash must
match or the upload is an error.
"""

from __future__ import annotations

import base64
import urllib.parse
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Final

import aiohttp

from gateway.signatures.gost.hashing import new_streebog

__all__ = ["FileStoreError", "Uploaded", "download", "file_url", "upload"]

_CHUNK: Final = 1 << 20


class FileStoreError(Exception):
    """An upload or download failed. ``transient``: worth trying again later (network, 5xx)."""

    def __init__(self, code: str, message: str, *, transient: bool) -> None:
        super().__init__(message)
        self.code = code
        self.transient = transient


@dataclass(frozen=True, slots=True)
class Uploaded:
    uuid: str
    file_name: str
    size: int
    hash: str  # Streebog-256, base64


def file_url(base_url: str, uuid: str, file_name: str) -> str:
    base = base_url if base_url.endswith("/") else base_url + "/"
    return urllib.parse.urljoin(base, f"{urllib.parse.quote(uuid, safe='')}/{urllib.parse.quote(file_name, safe='')}")


async def upload(
    session: aiohttp.ClientSession,
    base_url: str,
    *,
    uuid: str,
    file_name: str,
    data: bytes | memoryview,
    user: str,
    password: str,
    timeout_seconds: float,
) -> Uploaded:
    """PUT ``data`` to the store, streamed and hashed in one pass. Raises FileStoreError."""
    view = memoryview(data)
    hasher = new_streebog(256)

    async def chunks() -> AsyncIterator[memoryview]:
        for start in range(0, len(view), _CHUNK):
            piece = view[start : start + _CHUNK]
            hasher.update(piece)
            yield piece

    url = file_url(base_url, uuid, file_name)
    try:
        async with session.put(
            url,
            data=chunks(),
            headers={
                "Authorization": aiohttp.encode_basic_auth(user, password),
                "Content-Type": "application/octet-stream",
                "X-Content-Length": str(len(view)),
            },
            timeout=aiohttp.ClientTimeout(total=timeout_seconds),
        ) as resp:
            text = (await resp.text())[:500]
            if resp.status >= 500:
                raise FileStoreError("FILESTORE_UNAVAILABLE", f"HTTP {resp.status}: {text}", transient=True)
            if resp.status == 413:
                raise FileStoreError(
                    "AttachmentSizeLimitExceeded", f"the file store refused the size: {text}", transient=False
                )
            if resp.status >= 400:
                raise FileStoreError("FILESTORE_REFUSED", f"HTTP {resp.status}: {text}", transient=False)
            stored = resp.headers.get("X-Streebog256", "")
    except TimeoutError:
        raise FileStoreError("FILESTORE_TIMEOUT", f"no answer within {timeout_seconds:g} s", transient=True) from None
    except aiohttp.ClientError as exc:
        raise FileStoreError("FILESTORE_UNAVAILABLE", f"{type(exc).__name__}: {exc}", transient=True) from None
    digest = base64.b64encode(hasher.digest()).decode("ascii")
    if stored and stored != digest:
        # the bytes changed on the way: upload again (same uuid) rather than send a wrong Hash
        raise FileStoreError("FILESTORE_HASH_MISMATCH", f"stored {stored}, sent {digest}", transient=True)
    return Uploaded(uuid, file_name, len(view), digest)


async def download(
    session: aiohttp.ClientSession,
    base_url: str,
    *,
    uuid: str,
    file_name: str,
    user: str,
    password: str,
    timeout_seconds: float,
    max_bytes: int,
) -> bytes:
    """GET one file (an FSAttachment of a received message), at most ``max_bytes``."""
    url = file_url(base_url, uuid, file_name)
    try:
        async with session.get(
            url,
            headers={"Authorization": aiohttp.encode_basic_auth(user, password)},
            timeout=aiohttp.ClientTimeout(total=timeout_seconds),
        ) as resp:
            if resp.status >= 400:
                transient = resp.status >= 500
                raise FileStoreError("FILESTORE_REFUSED", f"HTTP {resp.status}", transient=transient)
            chunks: list[bytes] = []
            total = 0
            async for chunk in resp.content.iter_chunked(_CHUNK):
                total += len(chunk)
                if total > max_bytes:
                    raise FileStoreError("AttachmentSizeLimitExceeded", f"above {max_bytes} bytes", transient=False)
                chunks.append(chunk)
            return b"".join(chunks)
    except TimeoutError:
        raise FileStoreError("FILESTORE_TIMEOUT", f"no answer within {timeout_seconds:g} s", transient=True) from None
    except aiohttp.ClientError as exc:
        raise FileStoreError("FILESTORE_UNAVAILABLE", f"{type(exc).__name__}: {exc}", transient=True) from None
