"""Settings of one ШЭП peer instance (``[peers.<name>] protocol = "shep"``).

``url`` (from :class:`PeerSettings`) is the ШЭП endpoint of the channel in use (the AsyncChannel
for ЦБДИ). ``sender_id``/``sender_password`` are the credentials ШЭП registered for this
information system (``sender{senderId, password}`` in every request); ``service_id`` is the
interaction's id in ШЭП's register. The signing key and certificate (WS-Security on every
message) are files, PEM or DER; the sandbox generates them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field

from gateway.peers.settings import PeerSettings

__all__ = ["ShepSettings"]


class ShepSettings(PeerSettings):
    # "async": AsyncChannel sendMessage, the answer later by getMessages (ЦБДИ, the conclusion);
    # "sync": SyncChannel SendMessage, SCSS001 registers synchronously.
    channel: Literal["async", "sync"] = "async"
    service_id: str = Field(default="MZ_CBDI_MSE_031U", min_length=1, max_length=200)
    sender_id: str = Field(default="", max_length=200)
    sender_password: str = Field(default="", max_length=500)
    # The information system's WS-Security key and certificate (GOST 2015-512 or RSA), PEM/DER.
    signing_key_file: str = ""
    signing_certificate_file: str = ""
    # Certificates whose WS-Security signature this instance trusts on answers (ШЭП's, ЦБДИ's):
    # PEM files, pinned. Empty: nothing ШЭП sends is trusted (recorded as unattributed).
    trusted_certificates: list[str] = Field(default_factory=list)
    # At most this many messages per getMessages call, and calls per receive round.
    receive_amount: int = Field(default=20, gt=0, le=1000)
    receive_batch: int = Field(default=20, gt=0)
    # Messages handled at once within the one leased receiver (verify → record → notify each).
    # The wait is I/O (the journal's commits, ШЭП's answers; the expert's signature is checked
    # in a thread), so handling overlaps; getMessages asks only for free places, so a message
    # is not leased to the gateway while it waits behind others. 1 = strictly one at a time.
    receive_concurrency: int = Field(default=8, ge=1, le=64)
    # The pilot's regions and launch months (КАТО code → start). Empty: config/kz_pilot_regions.tsv.
    pilot_regions_file: str = ""

    def key_path(self) -> Path | None:
        return Path(self.signing_key_file) if self.signing_key_file else None

    def certificate_path(self) -> Path | None:
        return Path(self.signing_certificate_file) if self.signing_certificate_file else None
