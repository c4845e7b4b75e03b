"""Settings of one REMD-protocol peer instance (``[peers.<name>] protocol = "remd"``)."""

from __future__ import annotations

from gateway.peers.settings import PeerSettings

__all__ = ["RemdSettings"]


class RemdSettings(PeerSettings):
    # This gateway's clientEntityId (GUID) registered at the peer.
    client_entity_id: str = "00000000-0000-4000-8000-000000000001"
    # Serve a REMD-compatible SOAP front door for MIS at /<name>/service. Usually on for the
    # instance that is REMD itself, off for relays (a regional GIS instance).
    front_door: bool = True
    # Send the document inline (false: send its checksum and let the peer pull it with
    # getDocumentFile from /<name>/getDocumentFile).
    inline_document: bool = True
