"""Settings of one SMEV 3 peer instance (``[peers.<name>] protocol = "smev3"``).

``url`` (from :class:`PeerSettings`) is the SMEV 3 service endpoint (or the twin's). The
information system's signing key and certificate (ЭП-ОВ) are files, PEM or DER; the sandbox
generates them. PKCS#11 tokens are a later addition.
"""

from __future__ import annotations

import urllib.parse
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from gateway.peers.settings import PeerSettings

__all__ = [
    "DEFAULT_ATTACHMENT_MAX",
    "DEFAULT_ATTACHMENT_THRESHOLD",
    "EaviiasSettings",
    "MessageTypeSelectorSettings",
    "NamespaceVersion",
    "Smev3Settings",
]

NamespaceVersion = Literal["1.1", "1.2", "1.3"]
DEFAULT_ATTACHMENT_THRESHOLD = 5 * 1024 * 1024
DEFAULT_ATTACHMENT_MAX = 512 * 1024 * 1024


class MessageTypeSelectorSettings(BaseModel):
    """The responses (or, on the provider side, the requests) this instance takes from its queue:
    the namespace and local name of the business content's root element. Both empty: any type."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    namespace_uri: str = ""
    root_element_local_name: str = Field(default="", pattern=r"^([A-Za-z_][A-Za-z0-9._-]*)?$")

    @property
    def selects_type(self) -> bool:
        return bool(self.namespace_uri and self.root_element_local_name)


_NAME = r"^[A-Za-z_][A-Za-z0-9._-]*$"


class EaviiasSettings(BaseModel):
    """The ЕАВИИАС content profile (``content_profile = "eaviias"``): namespace and root elements
    of the referral and of the bureau's notices. The defaults are the project's stand-in schema
    (adapters/smev3/eaviias/eaviias-sandbox-1.0.xsd), not an official kind of data; set the
    official ones when it is published (docs/eaviias.md)."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    namespace: str = "urn://x-artefacts-mse-gateway/eaviias-sandbox/1.0"
    referral_root: str = Field(default="MseReferralRequest", pattern=_NAME)
    notice_root: str = Field(default="MseNotice", pattern=_NAME)
    # Validate notices against the stand-in XSD (only while namespace and roots are its own).
    validate_schema: bool = True
    # Routing metadata: the bureau the referrals go to, and their region (empty: from the
    # organisation's OID, as routing does).
    bureau_code: str = Field(default="", max_length=80)
    region: str = Field(default="", pattern=r"^([0-9]{2})?$")


class Smev3Settings(PeerSettings):
    # Message-exchange types version: the namespaces .../types/<v>, .../types/basic/<v>,
    # .../types/faults/<v>. 1.1 is what the official schemas in wsdl/smev3/1.1 describe.
    namespace_version: NamespaceVersion = "1.1"
    # The information system's key and certificate for ЭП-ОВ (CallerInformationSystemSignature):
    # PEM or DER files. Empty: the instance cannot sign (the sandbox fills them in).
    signing_key_file: str = ""
    signing_certificate_file: str = ""
    # The selector of GetResponse (and GetRequest on the provider side).
    message_type_selector: MessageTypeSelectorSettings = MessageTypeSelectorSettings()
    # Attachments above this many bytes in total go through the SMEV file store
    # (RefAttachmentHeader) instead of MTOM in the message.
    attachment_threshold_bytes: int = Field(default=DEFAULT_ATTACHMENT_THRESHOLD, gt=0)
    # Above this many bytes in total the attachments are refused before sending (coded
    # AttachmentSizeLimitExceeded, permanent): the file store has its limits too.
    attachment_max_bytes: int = Field(default=DEFAULT_ATTACHMENT_MAX, gt=0)
    # "attachment": the document and its detached signatures travel as SMEV attachments (MTOM, or
    # the file store above attachment_threshold_bytes) and the business content names them;
    # "inline": the document base64 inside the business content (the first, provisional layout).
    document_transport: Literal["attachment", "inline"] = "attachment"
    # ЭП-СП (a person's key) for SignaturePKCS7 of the attachments and, with personal_signature,
    # PersonalSignature over the business content. Empty: the submission's own personal signature
    # is the document's SignaturePKCS7, and no PersonalSignature is made.
    personal_key_file: str = ""
    personal_certificate_file: str = ""
    personal_signature: bool = False
    # The SMEV file store: an HTTP(S) URL (the sandbox twin's; a path like "/_filestore/" is taken
    # relative to url). Real SMEV nodes use FTP: see docs/smev3.md, "Attachments".
    filestore_url: str = ""
    filestore_user: str = "anonymous"
    filestore_password: str = ""
    # EOL of every request: this many seconds after it is built (SMEV answers EndOfLifeReached
    # when the message cannot be delivered by then; transient, the resend gets a new EOL). 0: none.
    message_ttl_seconds: float = Field(default=0.0, ge=0)
    # Mark every request TestMessage (the provider must not change its data).
    test_message: bool = False
    # NodeID of this information system's node (SenderProvidedRequestData/NodeID,
    # MessageTypeSelector/NodeID). Empty: not sent.
    node_id: str = Field(default="", max_length=50)
    # ЭП-СМЭВ of every incoming message is verified against this CA directory (and CRLs); a
    # message that fails is recorded as unattributed and Acked accepted="false". Empty: the
    # instance cannot verify, and takes nothing from its queue as trusted.
    smev_trust_dir: str = ""
    smev_crl_dir: str = ""
    # At most this many GetResponse calls per receive round (the receiver calls again at once
    # when a round took something).
    receive_batch: int = Field(default=50, gt=0)
    # GetResponse calls in flight at once within the one leased receiver: each lane takes a
    # message, records it, Acks it, takes the next. Polling is bound by round-trip latency (and
    # SMEV's slow answers), not CPU: lanes overlap the waits. 1 = strictly one at a time.
    receive_concurrency: int = Field(default=4, ge=1, le=32)
    # The provider side: the instance also takes requests to us from its own incoming queue
    # (GetRequest → verify → record → Ack) and sends the answers owed to them (SendResponse),
    # in the same leased receiver. ``provider_selector`` filters the request types (empty: any).
    provider: bool = False
    provider_selector: MessageTypeSelectorSettings = MessageTypeSelectorSettings()
    # GetRequest calls (and answers sent) per receive round at most.
    provider_batch: int = Field(default=50, gt=0)
    # The business content of SendRequest (MessagePrimaryContent) until the ЕАВИИАС schema is
    # wired in: <content_root xmlns=content_namespace> with the document base64-encoded.
    content_namespace: str = "urn://x-artefacts-mse/referral/1.0"
    content_root: str = Field(default="Referral", pattern=_NAME)
    # What the business content is: "provisional" (above) or "eaviias" (the referral to ФГИС
    # ЕАВИИАС and the bureau's notices, adapters/smev3/eaviias; settings in [peers.<name>.eaviias]).
    content_profile: Literal["provisional", "eaviias"] = "provisional"
    eaviias: EaviiasSettings = EaviiasSettings()

    def key_path(self) -> Path | None:
        return Path(self.signing_key_file) if self.signing_key_file else None

    def certificate_path(self) -> Path | None:
        return Path(self.signing_certificate_file) if self.signing_certificate_file else None

    def filestore_base(self, endpoint: str | None = None) -> str:
        """The file store's absolute base URL ("" when none is configured)."""
        if not self.filestore_url:
            return ""
        return urllib.parse.urljoin(endpoint or self.url, self.filestore_url)
