"""Discovering documents addressed to an MO at REMD: ``searchRegistryItem`` with
``searchBy=recipient`` over a registration window, then ``getDocumentFile`` for each match the
core does not know yet (both on REMD's service port; reconstructed, see docs/remd.md). What is
fetched is handed back to the core's one inbound path (:mod:`gateway.inbound`), which verifies,
links and journals it; the peer's id of a document is its emdrId.
"""

from __future__ import annotations

import uuid
from typing import Final

import aiohttp
from lxml import etree

from adapters.remd import codec
from adapters.remd.messages import GetDocumentFileRequest, RegistryMatch, SearchRegistryItemRequest, checksum
from adapters.remd.soap import Addressing, EnvelopeError, build_envelope, parse_envelope
from gateway.common.logs import get_logger
from gateway.inbound.contract import (
    DiscoveryBatch,
    DiscoveryQuery,
    InboundDocument,
    InboundPort,
    InboundSignature,
)
from gateway.model import EnvelopeIn
from gateway.wire.transport import TransportError, post_soap

__all__ = ["RemdDiscovery"]

_log: Final = get_logger(__name__)
_SOAP12: Final = "application/soap+xml; charset=utf-8"


class _Refused(Exception):
    """REMD answered, but not with what was asked (fault, error status, unreadable body)."""


class RemdDiscovery:
    """Searches one REMD-protocol endpoint for documents addressed to an organisation."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        endpoint: str,
        client_entity_id: str,
        timeout_seconds: float,
        peer: str,
    ) -> None:
        self.session = session
        self.endpoint = endpoint
        self.client_entity_id = client_entity_id
        self.timeout_seconds = timeout_seconds
        self.peer = peer

    async def _call(self, body: bytes, action: str) -> tuple[bytes, bytes, etree._Element]:
        try:
            reply = await post_soap(
                self.session, self.endpoint, body, action=action, timeout_seconds=self.timeout_seconds
            )
        except TransportError as exc:
            raise _Refused(f"{action}: no answer: {exc}") from None
        try:
            env = parse_envelope(reply.body)
        except EnvelopeError as exc:
            raise _Refused(f"{action}: unreadable answer (HTTP {reply.status}): {exc}") from None
        if env.fault is not None or env.body is None:
            raise _Refused(f"{action}: SOAP fault (HTTP {reply.status})")
        return body, reply.body, env.body

    def _envelope(self, body: etree._Element, action: str) -> bytes:
        return build_envelope(
            body,
            addressing=Addressing(message_id=str(uuid.uuid4()), action=action, to=self.endpoint),
            client_entity_id=self.client_entity_id,
        )

    async def discover(self, query: DiscoveryQuery, port: InboundPort) -> DiscoveryBatch:
        request = SearchRegistryItemRequest(
            organization=query.recipient_oid,
            kind=query.kind,
            begin=query.begin,
            end=query.end,
            search_by="recipient",
        )
        try:
            _, _, body = await self._call(
                self._envelope(codec.build_search_request(request), "searchRegistryItem"), "searchRegistryItem"
            )
            found = codec.parse_search_response(body)
        except (_Refused, codec.MessageError) as exc:
            return DiscoveryBatch(complete=False, error=str(exc)[:500])
        if not found.success:
            codes = ", ".join(f"{c}: {m}" for c, m in found.errors)[:500]
            return DiscoveryBatch(complete=False, error=f"searchRegistryItem refused: {codes}")
        documents: list[InboundDocument] = []
        errors: list[str] = []
        for match in found.matches:
            if match.kind is not None and match.kind != query.kind:
                continue
            if await port.known(self.peer, match.emdr_id):
                continue
            try:
                documents.append(await self._fetch(match, query))
            except (_Refused, codec.MessageError) as exc:
                errors.append(f"{match.emdr_id}: {exc}"[:300])
        if errors:
            _log.warning("REMD discovery: documents not fetched", peer=self.peer, count=len(errors), first=errors[0])
        return DiscoveryBatch(
            documents=tuple(documents),
            complete=not errors,
            error="; ".join(errors)[:1000] or None,
            found=len(found.matches),
        )

    async def _fetch(self, match: RegistryMatch, query: DiscoveryQuery) -> InboundDocument:
        if not match.organization:
            raise _Refused("the match names no organisation to fetch the file from")
        request = GetDocumentFileRequest(local_uid=match.local_uid, organization=match.organization, kind=query.kind)
        sent, received, body = await self._call(
            self._envelope(codec.build_get_document_file_request(request), "getDocumentFile"), "getDocumentFile"
        )
        answer = codec.parse_get_document_file_response(body)
        if not answer.success or answer.document is None or answer.document.data is None:
            codes = ", ".join(f"{c}: {m}" for c, m in answer.errors)[:300]
            raise _Refused(f"getDocumentFile refused: {codes or 'no file'}")
        if checksum(answer.document.data) != answer.document.checksum:
            raise _Refused("getDocumentFile: the file does not match its checksum")
        signatures: list[InboundSignature] = []
        for ps in answer.personal_signatures:
            signer = {
                k: v
                for k, v in (
                    ("snils", ps.signer.snils),
                    ("local_id", ps.signer.local_id),
                    ("position_code", ps.signer.position.code if ps.signer.position else None),
                )
                if v
            }
            signatures.append(InboundSignature("personal", ps.signature.data, signer))
        if answer.org_signature is not None:
            signatures.append(InboundSignature("organization", answer.org_signature.data))
        return InboundDocument(
            peer=self.peer,
            peer_document_id=match.emdr_id,
            recipient_oid=query.recipient_oid,
            kind=query.kind,
            document=answer.document.data,
            signatures=tuple(signatures),
            peer_ids={"emdrId": match.emdr_id, "localUid": match.local_uid, "organization": match.organization},
            registered_at=match.registered_at,
            envelopes=(EnvelopeIn("out", self.peer, _SOAP12, sent), EnvelopeIn("in", self.peer, _SOAP12, received)),
        )
