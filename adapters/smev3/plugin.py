"""The SMEV 3 protocol as a peer plug-in (``protocol = "smev3"``): a polling consumer.

SendRequest answers synchronously (accepted, or a fault); every answer to it arrives in the
instance's SMEV queue and is taken by the core's leased receiver through
:meth:`Smev3Adapter.receive`. No HTTP routes: SMEV never calls the gateway.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Final

import aiohttp
from aiohttp import web

from adapters.smev3.adapter import Smev3Adapter, send_request_message
from adapters.smev3.codec import Smev3Codec
from adapters.smev3.codes import smev3_code_table
from adapters.smev3.identity import new_message_id
from adapters.smev3.inspect import inspect_envelope
from adapters.smev3.settings import Smev3Settings
from adapters.smev3.signing import Signer
from gateway.common.clock import Clock
from gateway.errors import ConfigError
from gateway.intake.submission import CanonicalSubmission
from gateway.peers.codes import CodeTable
from gateway.peers.contract import Capabilities, ChannelSender, DeliveryAdapter, PeerContext, TwinContext
from gateway.peers.settings import PeerSettings
from gateway.signatures._asn1 import der_to_pem
from gateway.signatures.certificates import load_certificates
from gateway.signatures.pki.builder import write_self_signed_identity
from gateway.signatures.xml.verify import XmlVerifier

__all__ = [
    "FAULT_PROFILES",
    "PLUGIN",
    "Smev3Plugin",
    "load_personal_signer",
    "load_signer",
    "load_verifier",
    "sandbox_identity",
]

FAULT_PROFILES: Final = (
    "none",
    "flaky",
    "painful",
    "rejecting",
    "eaviias",
    "mse-loop-2023",
)  # config/faults/smev3-<name>.toml


def _settings(ctx: PeerContext | TwinContext) -> Smev3Settings:
    if not isinstance(ctx.settings, Smev3Settings):  # the registry validates with settings_model
        raise TypeError(f"peer {ctx.name!r}: settings are {type(ctx.settings).__name__}, not Smev3Settings")
    return ctx.settings


def load_signer(name: str, settings: Smev3Settings) -> Signer:
    """The instance's ЭП-ОВ identity from its key and certificate files (ConfigError otherwise)."""
    key, cert = settings.key_path(), settings.certificate_path()
    if key is None or cert is None:
        raise ConfigError(
            f"peers.{name}: SMEV 3 requests must be signed: set signing_key_file and signing_certificate_file"
        )
    try:
        return Signer.from_files(key, cert)
    except (OSError, ValueError) as exc:
        raise ConfigError(f"peers.{name}: cannot load the SMEV 3 signing key or certificate: {exc}") from None


def load_personal_signer(name: str, settings: Smev3Settings) -> Signer | None:
    """The instance's ЭП-СП (SignaturePKCS7 of attachments, PersonalSignature), if configured."""
    if not (settings.personal_key_file or settings.personal_certificate_file):
        if settings.personal_signature:
            raise ConfigError(f"peers.{name}.personal_signature needs personal_key_file and personal_certificate_file")
        return None
    try:
        return Signer.from_files(settings.personal_key_file, settings.personal_certificate_file)
    except (OSError, ValueError) as exc:
        raise ConfigError(f"peers.{name}: cannot load the ЭП-СП key or certificate: {exc}") from None


def load_verifier(name: str, settings: Smev3Settings) -> XmlVerifier:
    """The verifier of ЭП-СМЭВ on incoming messages (ConfigError without a trust directory: the
    instance would Ack every answer accepted="false" and lose it)."""
    if not settings.smev_trust_dir:
        raise ConfigError(f"peers.{name}: set smev_trust_dir (the CA certificates of SMEV's ЭП-СМЭВ)")
    if not Path(settings.smev_trust_dir).is_dir():
        raise ConfigError(f"peers.{name}.smev_trust_dir: {settings.smev_trust_dir} is not a directory")
    crls = [settings.smev_crl_dir] if settings.smev_crl_dir else None
    return XmlVerifier(trust=settings.smev_trust_dir, crls=crls)


class Smev3Plugin:
    protocol: Final = "smev3"
    settings_model = Smev3Settings
    # SMEV cannot be asked about one request (GetStatus pops the next status message, not the
    # one of a given MessageID). It does recognise a resend under the same MessageID: one it has
    # accepted already is refused as MessageIsAlreadySent, which the adapter reads as accepted.
    # The core persists the MessageID before the first send and reuses it on every resend (also
    # after a restart), so a SendRequest without an answer is resent safely; only StaleMessageId
    # asks for a new id, and the core does not take one while the old may have arrived
    # (gateway/delivery/stage.py, docs/smev3.md "Resending"). Answers are polled and name our
    # MessageID, not the localUid.
    capabilities: Final = Capabilities(
        lookup=False,
        idempotent_resend=True,
        polling=True,
        answers_relate_to=True,
        answers_name_document=False,
        answers_once_per_message=True,
        endpoints=False,
    )
    description: Final = "SMEV 3 (SOAP 1.1, message exchange 1.1/1.2/1.3): SendRequest, GetResponse/Ack polling"

    def code_table(self) -> CodeTable:
        return smev3_code_table()

    def build(self, ctx: PeerContext, session: aiohttp.ClientSession, clock: Clock) -> DeliveryAdapter:
        settings = _settings(ctx)
        return Smev3Adapter(
            settings,
            session,
            name=ctx.name,
            signer=load_signer(ctx.name, settings),
            verifier=load_verifier(ctx.name, settings),
            clock=clock,
            personal_signer=load_personal_signer(ctx.name, settings),
            requests=ctx.requests,
            inbound=ctx.inbound,
        )

    def routes(self, ctx: PeerContext) -> Sequence[web.AbstractRouteDef]:
        return []  # a polling consumer: SMEV never calls the gateway

    def notice_channels(self, ctx: PeerContext) -> Mapping[str, ChannelSender]:
        return {}

    def twin(self, ctx: TwinContext) -> web.Application:
        """The SMEV 3 twin (adapters/smev3/sandbox), imported only when a sandbox starts."""
        try:
            from adapters.smev3.sandbox import FaultProfile, create_twin  # type: ignore[attr-defined,unused-ignore]
            from adapters.smev3.sandbox.bureau import BureauProfile, default_signers_dir
        except ImportError as exc:
            raise ConfigError(f"the SMEV 3 twin (adapters.smev3.sandbox) is not available: {exc}") from None
        identity = (ctx.key, ctx.certificate) if ctx.key is not None and ctx.certificate is not None else None
        settings = _settings(ctx)
        # The twin checks the instance's ЭП-ОВ against its certificate, as SMEV checks a
        # registered information system's (CertificateIsNotFound for any other).
        pinned = None
        if cert_path := settings.certificate_path():
            try:
                pinned = load_certificates(cert_path.read_bytes())[0]
            except (OSError, ValueError, IndexError) as exc:
                raise ConfigError(f"peers.{ctx.name}.signing_certificate_file: {exc}") from None
        profile = FaultProfile.load(ctx.fault_profile)
        # an ЕАВИИАС instance needs the simulated bureau behind its twin, under every profile: a
        # punctual one where the profile names none (also after the vendor page switches profiles)
        bureau_default = BureauProfile() if settings.content_profile == "eaviias" else None
        # the simulated ЕАВИИАС signs its result and return documents with a test PKI: the
        # sandbox's, else one of its own beside the instance's identity (a temporary one elsewhere)
        base = cert_path.parent if (cert_path := settings.certificate_path()) else None
        bureau_dir = None
        if ctx.pki_dir is not None:
            # the sandbox's test PKI, which the sandbox gateway trusts: the bureau's results
            # and returns pass its signature checks on the inbound path (docs/eaviias.md)
            bureau_dir = ctx.pki_dir
        elif base is not None:
            bureau_dir = base / f"{ctx.name}-bureau-pki"
        elif profile.bureau is not None or bureau_default is not None:
            bureau_dir = default_signers_dir()
        # A provider instance takes the requests of its selector's namespace from its own
        # incoming queue: the twin routes them to its caller name (the certificate's CN).
        routed: dict[str, str] = {}
        caller = pinned.identity().common_name if pinned is not None else None
        if settings.provider and settings.provider_selector.namespace_uri and caller:
            routed[settings.provider_selector.namespace_uri] = caller
        app: web.Application = create_twin(
            profile,
            ctx.clock,
            seed=ctx.seed,
            identity=identity,
            pinned=pinned,
            bureau_dir=bureau_dir,
            bureau_default=bureau_default,
            provider_namespaces=routed,
            # the bureau also registers its documents where the gateway discovers them (REMD twin)
            addressed_registry_url=ctx.addressed_registry_url if profile.bureau is not None else None,
        )
        return app

    def sandbox_settings(self, ctx: TwinContext, directory: Path) -> dict[str, Any]:
        """In the sandbox: a self-signed ЭП-ОВ identity for the instance (its key and certificate
        under ``directory``), and ``smev_trust_dir`` holding the twin's certificate (its ЭП-СМЭВ),
        each only where the instance has none configured."""
        settings = _settings(ctx)
        out: dict[str, Any] = {}
        if not (settings.signing_key_file and settings.signing_certificate_file):
            key_path, cert_path = sandbox_identity(directory, ctx.name)
            out["signing_key_file"], out["signing_certificate_file"] = str(key_path), str(cert_path)
        if not settings.smev_trust_dir and ctx.certificate is not None:
            trust = directory / f"{ctx.name}-smev-trust"
            trust.mkdir(parents=True, exist_ok=True)
            for old in trust.glob("*.pem"):
                old.unlink()  # a fresh twin identity at every start: trust only the current one
            (trust / "smev.pem").write_bytes(der_to_pem(ctx.certificate.der, "CERTIFICATE"))
            out["smev_trust_dir"] = str(trust)
        if not settings.filestore_url:
            out["filestore_url"] = "/_filestore/"  # the twin's file store, next to its service
        return out

    def fault_profiles(self) -> Sequence[str]:
        return FAULT_PROFILES

    def inspect(self, data: bytes) -> dict[str, Any] | None:
        """What the gateway makes of an SMEV 3 envelope (``mse-gateway envelope inspect``)."""
        return inspect_envelope(data, smev3_code_table())

    def build_envelope(
        self,
        name: str,
        settings: PeerSettings,
        operation: str,
        canonical: CanonicalSubmission,
        *,
        message_id: str | None = None,
        key_file: str | None = None,
        certificate_file: str | None = None,
    ) -> bytes:
        """The signed SendRequest the adapter would send (``mse-gateway envelope build``)."""
        if operation.lower() not in ("sendrequest", "send_request"):
            raise ValueError(f"smev3 builds SendRequest only, not {operation!r}")
        if not isinstance(settings, Smev3Settings):
            raise TypeError(f"peer {name!r}: settings are {type(settings).__name__}, not Smev3Settings")
        overrides = {
            k: v for k, v in (("signing_key_file", key_file), ("signing_certificate_file", certificate_file)) if v
        }
        chosen = settings.model_copy(update=overrides)
        codec = Smev3Codec(chosen.namespace_version, signer=load_signer(name, chosen))
        msg = send_request_message(
            chosen,
            canonical,
            message_id=message_id or new_message_id(),
            personal_signer=load_personal_signer(name, chosen),
        )
        return codec.send_request(msg)  # attachments inline here; on the wire they go by MTOM


def sandbox_identity(directory: Path, name: str) -> tuple[Path, Path]:
    """A fresh self-signed ECDSA P-256 information-system identity for instance ``name``: its
    PKCS#8 key (mode 0600) and certificate under ``directory``. ECDSA, like the twins' own: GOST
    signing falls back to pure Python where the engine is missing, and the sandbox signs every
    request and Ack."""
    return write_self_signed_identity(
        directory, f"{name}-is", algorithm="ecdsa", common_name=f"sandbox information system {name}"
    )


PLUGIN: Final = Smev3Plugin()
