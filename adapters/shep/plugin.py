"""The ШЭП protocol as a peer plug-in (``protocol = "shep"``): a polling AsyncChannel consumer
towards АИС ЦБДИ, with the AsyncChannel client callback mounted at ``/<name>/callback``.

``sendMessage`` answers synchronously (accepted, or an ErrorInfo fault); ЦБДИ's registration of
the draft act and the expert's conclusion arrive later through ``getMessages``, taken by the
core's leased receiver through :meth:`ShepAdapter.receive`. The same messageId is sent on every
resend and ШЭП answers DUPLICATE_MESSAGE for one it has (docs/shep.md): resends are safe.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

import aiohttp
from aiohttp import web

from adapters.shep.adapter import ShepAdapter, build_request
from adapters.shep.callbacks import callback_routes
from adapters.shep.codec import ShepCodec
from adapters.shep.codes import shep_code_table
from adapters.shep.inspect import inspect_envelope
from adapters.shep.pilot import PilotTable
from adapters.shep.settings import ShepSettings
from gateway.common.clock import Clock
from gateway.errors import ConfigError
from gateway.intake.submission import CanonicalSubmission
from gateway.peers.codes import CodeTable
from gateway.peers.contract import Capabilities, ChannelSender, DeliveryAdapter, PeerContext, TwinContext
from gateway.peers.settings import PeerSettings
from gateway.signatures.certificates import Certificate, load_certificates
from gateway.signatures.keys import PrivateKey, load_private_key
from gateway.signatures.pki.builder import write_self_signed_identity
from gateway.signatures.xml.wssecurity import sign_wssecurity

__all__ = ["FAULT_PROFILES", "PLUGIN", "ShepPlugin", "load_identity", "load_pinned"]

FAULT_PROFILES: Final = ("none", "flaky", "painful", "refusing")  # config/faults/shep-<name>.toml


def _settings(ctx: PeerContext | TwinContext) -> ShepSettings:
    if not isinstance(ctx.settings, ShepSettings):
        raise TypeError(f"peer {ctx.name!r}: settings are {type(ctx.settings).__name__}, not ShepSettings")
    return ctx.settings


def load_identity(name: str, settings: ShepSettings) -> tuple[PrivateKey, Certificate]:
    """The instance's WS-Security key and certificate (ConfigError otherwise)."""
    key_path, cert_path = settings.key_path(), settings.certificate_path()
    if key_path is None or cert_path is None:
        raise ConfigError(
            f"peers.{name}: ШЭП messages must be signed: set signing_key_file and signing_certificate_file"
        )
    try:
        key = load_private_key(key_path.read_bytes())
        cert = load_certificates(cert_path.read_bytes())[0]
    except (OSError, ValueError, IndexError) as exc:
        raise ConfigError(f"peers.{name}: cannot load the ШЭП signing key or certificate: {exc}") from None
    return key, cert


def load_pinned(name: str, settings: ShepSettings) -> list[Certificate]:
    """Certificates whose signature on ШЭП's answers is trusted: ``trusted_certificates`` and
    ``auth.signer_certificates`` (where the sandbox pins its twin's)."""
    out: list[Certificate] = []
    for path in [*settings.trusted_certificates, *settings.auth.signer_certificates]:
        try:
            out.extend(load_certificates(Path(path).read_bytes()))
        except (OSError, ValueError) as exc:
            raise ConfigError(f"peers.{name}.trusted_certificates: {path}: {exc}") from None
    return out


class ShepPlugin:
    protocol: Final = "shep"
    settings_model = ShepSettings
    capabilities: Final = Capabilities(
        lookup=False,  # getMessageStatus says "delivered", not "concluded": no reconciliation
        idempotent_resend=True,  # the persisted messageId is resent; ШЭП answers DUPLICATE_MESSAGE
        polling=True,
        answers_relate_to=True,  # correlationId echoes our messageId
        # ЦБДИ's answers carry LocalUid (compared with the submission's); ШЭП's own status
        # callbacks name only our messageId: attributed by it alone.
        answers_name_document=False,
        answers_once_per_message=True,
        endpoints=True,  # the AsyncChannel client callback
    )
    description: Final = "Kazakhstan e-government gateway ШЭП v10 (SyncChannel/AsyncChannel, WS-Security) to АИС ЦБДИ"

    def code_table(self) -> CodeTable:
        return shep_code_table()

    def build(self, ctx: PeerContext, session: aiohttp.ClientSession, clock: Clock) -> DeliveryAdapter:
        settings = _settings(ctx)
        key, cert = load_identity(ctx.name, settings)
        return ShepAdapter(
            settings,
            session,
            name=ctx.name,
            key=key,
            certificate=cert,
            pinned=load_pinned(ctx.name, settings),
            pilot=PilotTable.load(settings.pilot_regions_file or None),
            clock=clock,
            inbound=ctx.inbound,
        )

    def routes(self, ctx: PeerContext) -> Sequence[web.AbstractRouteDef]:
        settings = _settings(ctx)
        codec = ShepCodec()
        if settings.signing_key_file and settings.signing_certificate_file:
            key, cert = load_identity(ctx.name, settings)
            codec = ShepCodec(signer=lambda data: sign_wssecurity(data, key, cert))
        pinned = load_pinned(ctx.name, settings)
        return list(
            callback_routes(
                ctx.sink,
                codec=codec,
                pinned=lambda: pinned,
                peer=ctx.name,
                prefix=ctx.path_prefix,
                max_bytes=ctx.max_body_bytes,
                guard=ctx.guard,
                on_refusal=ctx.on_refusal,
            )
        )

    def notice_channels(self, ctx: PeerContext) -> Mapping[str, ChannelSender]:
        return {}

    def twin(self, ctx: TwinContext) -> web.Application:
        """ШЭП and ЦБДИ twins (adapters/shep/sandbox), imported only when a sandbox starts."""
        from adapters.shep.sandbox import FaultProfile, create_twin

        settings = _settings(ctx)
        pinned: Certificate | None = None
        if cert_path := settings.certificate_path():
            try:
                pinned = load_certificates(cert_path.read_bytes())[0]
            except (OSError, ValueError, IndexError) as exc:
                raise ConfigError(f"peers.{ctx.name}.signing_certificate_file: {exc}") from None
        identity = (ctx.key, ctx.certificate) if ctx.key is not None and ctx.certificate is not None else None
        app: web.Application = create_twin(
            FaultProfile.load(ctx.fault_profile),
            ctx.clock,
            seed=ctx.seed,
            identity=identity,
            sender=(settings.sender_id, settings.sender_password),
            sender_certificate=pinned,
            service_id=settings.service_id,
            expert_source=lambda: _sandbox_expert(ctx.pki_dir),
        )
        return app

    def sandbox_settings(self, ctx: TwinContext, directory: Path) -> dict[str, Any]:
        """In the sandbox: sender credentials and a self-signed RSA identity for the instance
        (ШЭП accepts RSA-SHA256 and KZ GOST; RSA keeps 5,000-document runs fast), each only where
        the instance has none configured. The twin's certificate is pinned by the sandbox in
        ``auth.signer_certificates``, which :func:`load_pinned` reads."""
        settings = _settings(ctx)
        out: dict[str, Any] = {}
        if not settings.sender_id:
            out["sender_id"] = f"sandbox-mis-{ctx.name}"
        if not settings.sender_password:
            out["sender_password"] = secrets.token_urlsafe(12)
        if not (settings.signing_key_file and settings.signing_certificate_file):
            key_path, cert_path = sandbox_identity(directory, ctx.name)
            out["signing_key_file"], out["signing_certificate_file"] = str(key_path), str(cert_path)
        return out

    def fault_profiles(self) -> Sequence[str]:
        return FAULT_PROFILES

    def inspect(self, data: bytes) -> dict[str, Any] | None:
        """What the gateway makes of a ШЭП envelope (``mse-gateway envelope inspect``)."""
        return inspect_envelope(data, shep_code_table())

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
        """The signed message the adapter would send (``mse-gateway envelope build shep SendMessage``)."""
        if not isinstance(settings, ShepSettings):
            raise TypeError(f"peer {name!r}: settings are {type(settings).__name__}, not ShepSettings")
        if operation in ("SendMessage", "sync"):
            channel = "sync"
        elif operation in ("sendMessage", "async"):
            channel = "async"
        else:
            raise ValueError(f"shep builds SendMessage (SyncChannel) or sendMessage (AsyncChannel), not {operation!r}")
        overrides: dict[str, Any] = {
            k: v for k, v in (("signing_key_file", key_file), ("signing_certificate_file", certificate_file)) if v
        }
        overrides["channel"] = channel
        chosen = settings.model_copy(update=overrides)
        key, cert = load_identity(name, chosen)
        codec = ShepCodec(signer=lambda data: sign_wssecurity(data, key, cert))
        msg = build_request(
            chosen, canonical, message_id=message_id or ShepAdapter.new_message_id(), now=datetime.now(UTC)
        )
        return codec.build(msg)


def _sandbox_expert(pki_dir: Path | None) -> tuple[PrivateKey, Certificate, tuple[Certificate, ...]] | None:
    """ЦБДИ's expert's key and individual certificate from the sandbox's test PKI (the one the
    sandbox gateway trusts), so that the twin's conclusions verify and pass the role policy on
    the inbound path; None without that PKI (the twin then signs with a key nobody trusts)."""
    if pki_dir is None or not (pki_dir / "sample-roles.json").is_file():
        return None
    from gateway.flk.sample_pki import SampleSigners

    signers = SampleSigners.open_or_create(pki_dir)
    return signers.key("kz-expert"), signers.certificate("kz-expert"), (signers.pki.ca,)


def sandbox_identity(directory: Path, name: str) -> tuple[Path, Path]:
    """A fresh self-signed RSA-2048 information-system identity for instance ``name``."""
    return write_self_signed_identity(directory, f"{name}-shep", algorithm="rsa", common_name=f"sandbox MIS {name}")


PLUGIN: Final = ShepPlugin()
