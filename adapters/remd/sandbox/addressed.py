"""Documents *addressed to* an MO, registered at the REMD twin by other systems (the MSE bureau's
results and return notices), which the gateway discovers with searchRegistryItem
(searchBy=recipient) and fetches with getDocumentFile, both on the twin's service port.

Other systems register them through ``POST /_sandbox/addressed`` (JSON, see
:meth:`AddressedRegistry.handle_register`) or in process with :meth:`AddressedRegistry.register`
(the ЕАВИИАС twin, tests).
"""

from __future__ import annotations

import base64
import binascii
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aiohttp import web

from adapters.remd.messages import (
    CodedValue,
    DocumentFile,
    GetDocumentFileRequest,
    GetDocumentFileResponse,
    PersonalSignature,
    RegistryMatch,
    SearchRegistryItemRequest,
    SignatureData,
    Signer,
)
from gateway.common.clock import Clock

__all__ = ["AddressedDocument", "AddressedRegistry"]


@dataclass(frozen=True, slots=True)
class AddressedDocument:
    emdr_id: str
    local_uid: str
    kind: str
    organization: str  # who registered it (the author: the bureau)
    recipient: str  # the MO it is addressed to
    registered_at: datetime
    document: bytes
    org_signature: bytes | None
    personal_signatures: tuple[tuple[Signer, bytes], ...]


class AddressedRegistry:
    """``on_registered(document, notify_url)`` is called for a registration that asked for a
    documentRegisteredNotification (the twin sends it)."""

    def __init__(self, clock: Clock, on_registered: Callable[[AddressedDocument, str], None] | None = None) -> None:
        self.clock = clock
        self.on_registered = on_registered
        self.documents: dict[tuple[str, str], AddressedDocument] = {}  # (organisation, localUid)
        self._seq = itertools.count(1)
        self.file_requests = 0
        self.searches = 0

    def register(
        self,
        *,
        local_uid: str,
        kind: str,
        organization: str,
        recipient: str,
        document: bytes,
        org_signature: bytes | None = None,
        personal_signatures: tuple[tuple[Signer, bytes], ...] = (),
    ) -> AddressedDocument:
        """Register once per (organisation, localUid); a repeat returns the first registration."""
        key = (organization, local_uid.lower())
        found = self.documents.get(key)
        if found is not None:
            return found
        doc = AddressedDocument(
            emdr_id=f"EMDR-IN-{next(self._seq):08d}",
            local_uid=local_uid,
            kind=kind,
            organization=organization,
            recipient=recipient,
            registered_at=self.clock.now(),
            document=document,
            org_signature=org_signature,
            personal_signatures=personal_signatures,
        )
        self.documents[key] = doc
        return doc

    def search(self, req: SearchRegistryItemRequest, now: datetime) -> tuple[RegistryMatch, ...]:
        return tuple(
            RegistryMatch(d.local_uid, d.emdr_id, d.registered_at, kind=d.kind, organization=d.organization)
            for d in sorted(self.documents.values(), key=lambda d: d.emdr_id)
            if d.recipient == req.organization
            and d.kind == req.kind
            and req.begin <= d.registered_at <= min(req.end, now)
        )

    def file(self, req: GetDocumentFileRequest) -> GetDocumentFileResponse:
        self.file_requests += 1
        doc = self.documents.get((req.organization, req.local_uid.lower()))
        if doc is None or (req.kind is not None and req.kind != doc.kind):
            return GetDocumentFileResponse(False, errors=(("FILE_WAS_NOT_SENT", "Документ не найден в РЭМД"),))
        return GetDocumentFileResponse(
            True,
            document=DocumentFile.of(doc.document),
            org_signature=SignatureData.of(doc.org_signature) if doc.org_signature is not None else None,
            personal_signatures=tuple(
                PersonalSignature(signer, SignatureData.of(cms)) for signer, cms in doc.personal_signatures
            ),
        )

    async def handle_register(self, request: web.Request) -> web.Response:
        """``POST /_sandbox/addressed``: ``{local_uid, kind, organization, recipient, document
        (base64), signatures: [{type: personal|organization, cms (base64), signer: {snils,
        local_id, position_code}}], notify_url?}`` → ``201 {emdr_id, registered_at}``; with
        ``notify_url`` the twin also sends a documentRegisteredNotification there."""
        try:
            data: dict[str, Any] = await request.json()
            org_sig: bytes | None = None
            personal: list[tuple[Signer, bytes]] = []
            for sig in data.get("signatures", []):
                cms = base64.b64decode(sig["cms"], validate=True)
                if sig["type"] == "organization":
                    org_sig = cms
                else:
                    meta = sig.get("signer") or {}
                    position = meta.get("position_code")
                    personal.append(
                        (
                            Signer(
                                local_id=meta.get("local_id"),
                                snils=meta.get("snils"),
                                position=CodedValue(position) if position else None,
                            ),
                            cms,
                        )
                    )
            doc = self.register(
                local_uid=str(data["local_uid"]),
                kind=str(data["kind"]),
                organization=str(data["organization"]),
                recipient=str(data["recipient"]),
                document=base64.b64decode(data["document"], validate=True),
                org_signature=org_sig,
                personal_signatures=tuple(personal),
            )
        except (ValueError, KeyError, TypeError, binascii.Error) as exc:
            return web.json_response({"error": {"code": "BAD_REQUEST", "message": str(exc)[:200]}}, status=400)
        notify_url = data.get("notify_url")
        if isinstance(notify_url, str) and notify_url and self.on_registered is not None:
            self.on_registered(doc, notify_url)
        return web.json_response({"emdr_id": doc.emdr_id, "registered_at": doc.registered_at.isoformat()}, status=201)
