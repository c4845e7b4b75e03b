"""The twin's file store: SMEV 3's FTP file store (ФХ) modelled over HTTP.

``PUT /_filestore/{uuid}/{file name}`` (Basic authentication) streams the body to a file under the
store's directory, hashing it on the way (GOST R 34.11-2012, Streebog-256, base64; sent back in
``X-Streebog256``); a file above ``max_file_bytes`` is cut off with 413. ``GET`` the same path
returns it (for FSAttachment downloads). SendRequest's ``RefAttachmentHeader`` entries are checked
against what was uploaded (:meth:`FileStore.check`): unknown uuid or another hash →
AttachmentContentMiscoordination; above the limit → AttachmentSizeLimitExceeded.

Real SMEV: FTP (login per information system) — see adapters/smev3/filestore.py.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from aiohttp import web

from gateway.signatures.gost.hashing import new_streebog

__all__ = ["FILESTORE_PATH", "FileStore", "StoredFile"]

FILESTORE_PATH: Final = "/_filestore"
_CHUNK: Final = 1 << 20


@dataclass(frozen=True, slots=True)
class StoredFile:
    uuid: str
    file_name: str
    path: Path
    size: int
    hash: str


class FileStore:
    """Files uploaded to the twin, by uuid. ``users`` maps user name → password; None accepts any
    credentials (Basic authentication is still required, as SMEV's FTP requires a login)."""

    def __init__(
        self, directory: Path | None = None, *, max_file_bytes: int = 1 << 30, users: dict[str, str] | None = None
    ) -> None:
        self._tmp = None if directory is not None else tempfile.TemporaryDirectory(prefix="smev3-filestore-")
        self.directory = directory if directory is not None else Path(self._tmp.name)  # type: ignore[union-attr]
        self.directory.mkdir(parents=True, exist_ok=True)
        self.max_file_bytes = max_file_bytes
        self.users = users
        self.files: dict[str, StoredFile] = {}
        self.uploads = 0
        self.refused = 0

    def _authorised(self, request: web.Request) -> bool:
        header = request.headers.get("Authorization", "")
        if not header.lower().startswith("basic "):
            return False
        try:
            user, _, password = base64.b64decode(header[6:].strip()).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return False
        return bool(user) and (self.users is None or self.users.get(user) == password)

    async def handle_put(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return web.Response(status=401, headers={"WWW-Authenticate": 'Basic realm="smev3-filestore"'})
        uuid, name = request.match_info["uuid"], request.match_info["name"]
        if "/" in uuid or uuid in ("", ".", "..") or "/" in name or name in ("", ".", ".."):
            return web.Response(status=400, text="bad file path")
        hasher = new_streebog(256)
        size = 0
        fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as fh:
                async for chunk in request.content.iter_chunked(_CHUNK):
                    size += len(chunk)
                    if size > self.max_file_bytes:
                        self.refused += 1
                        raise web.HTTPRequestEntityTooLarge(max_size=self.max_file_bytes, actual_size=size)
                    hasher.update(chunk)
                    fh.write(chunk)
            target = self.directory / uuid
            target.mkdir(exist_ok=True)
            final = target / name
            os.replace(tmp, final)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
        digest = base64.b64encode(hasher.digest()).decode("ascii")
        self.files[uuid] = StoredFile(uuid, name, final, size, digest)
        self.uploads += 1
        return web.json_response(
            {"uuid": uuid, "size": size, "hash": digest}, status=201, headers={"X-Streebog256": digest}
        )

    async def handle_get(self, request: web.Request) -> web.StreamResponse:
        if not self._authorised(request):
            return web.Response(status=401, headers={"WWW-Authenticate": 'Basic realm="smev3-filestore"'})
        stored = self.files.get(request.match_info["uuid"])
        if stored is None or stored.file_name != request.match_info["name"]:
            return web.Response(status=404)
        return web.FileResponse(stored.path)

    def read(self, uuid: str) -> bytes | None:
        stored = self.files.get(uuid)
        return stored.path.read_bytes() if stored is not None else None

    def add_routes(self, app: web.Application) -> None:
        app.router.add_put(FILESTORE_PATH + "/{uuid}/{name}", self.handle_put)
        app.router.add_get(FILESTORE_PATH + "/{uuid}/{name}", self.handle_get)

    def stats(self) -> dict[str, int]:
        return {"files": len(self.files), "uploads": self.uploads, "refused": self.refused}
