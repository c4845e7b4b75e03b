"""A push peer written only against gateway.peers.contract: ``send`` answers synchronously
(scripted), answers come back on its own HTTP routes (a JSON callback), and the peer pulls
documents it was sent (``/<name>/file``). No lookup: it cannot be asked about a submission."""

from __future__ import annotations

import uuid
from collections import deque
from collections.abc import Mapping, Sequence
from typing import Any

import aiohttp
from aiohttp import web

from gateway.peers.contract import (
    Answer,
    AnswerKind,
    Capabilities,
    ChannelSender,
    CodeClass,
    CodeRule,
    CodeTable,
    DeliveryAdapter,
    LookupResult,
    PeerContext,
    PeerOutcome,
    PeerSettings,
    Progress,
    TwinContext,
)

PROTOCOL = "test-push"


class PushSettings(PeerSettings):
    label: str = "push"  # a protocol-specific key, validated by the registry


class PushAdapter:
    def __init__(self, name: str) -> None:
        self.name = name
        self.script: deque[Answer] = deque()  # scripted answers; ACCEPTED when empty
        self.sent: list[tuple[str, str]] = []  # (localUid, message id) of every send

    def new_message_id(self) -> str:
        return f"{self.name}-{uuid.uuid4()}"

    async def send(self, sub: Any, canonical: Any, *, message_id: str) -> Answer:
        self.sent.append((canonical.local_uid, message_id))
        return self.script.popleft() if self.script else Answer(AnswerKind.ACCEPTED)

    async def lookup(self, sub: Any, canonical: Any) -> LookupResult:
        return LookupResult(found=None, error="this peer cannot be asked")


class PushPlugin:
    """One object per test: it remembers the adapters it built (the test plays the peer)."""

    protocol = PROTOCOL
    settings_model = PushSettings
    capabilities = Capabilities(lookup=False, idempotent_resend=True, polling=False)
    description = "test push peer (JSON callbacks)"

    def __init__(self) -> None:
        self.adapters: dict[str, PushAdapter] = {}

    def code_table(self) -> CodeTable:
        return CodeTable(
            codes={
                "BUSY": CodeRule(CodeClass.TRANSIENT),
                "BAD": CodeRule(CodeClass.PERMANENT),
                "HAVE_IT": CodeRule(CodeClass.ALREADY_THERE),
            },
            source="push_peer.py",
        )

    def build(self, ctx: PeerContext, session: aiohttp.ClientSession, clock: Any) -> DeliveryAdapter:
        adapter = self.adapters[ctx.name] = PushAdapter(ctx.name)
        return adapter

    def routes(self, ctx: PeerContext) -> Sequence[web.AbstractRouteDef]:
        async def callback(request: web.Request) -> web.Response:
            data = await request.json()
            common = {
                "peer": ctx.name,
                "local_uid": data["local_uid"],
                "organization_oid": data.get("organization"),
                "relates_to": data.get("relates_to"),
                "peer_message_id": data.get("message_id"),
            }
            try:
                if "status" in data:
                    await ctx.sink.progress(Progress(status=data["status"], message=data.get("text", ""), **common))
                else:
                    codes = tuple((c, "") for c in data.get("codes", ()))
                    outcome = PeerOutcome(
                        success=data["success"], codes=codes, peer_registration_id=data.get("registration"), **common
                    )
                    await ctx.sink(outcome)
            except Exception as exc:  # not recorded: the peer must send it again
                return web.json_response({"recorded": False, "error": type(exc).__name__}, status=503)
            return web.json_response({"recorded": True})

        async def file(request: web.Request) -> web.Response:
            data = await request.json()
            document = await ctx.documents(data["local_uid"], data.get("organization", ""))
            if document is None:
                return web.json_response({"error": "not sent"}, status=404)
            return web.Response(body=document, content_type="application/octet-stream")

        return [
            web.post(f"{ctx.path_prefix}/callback", callback),
            web.post(f"{ctx.path_prefix}/file", file),
        ]

    def notice_channels(self, ctx: PeerContext) -> Mapping[str, ChannelSender]:
        return {}

    def twin(self, ctx: TwinContext) -> web.Application:
        return web.Application()

    def fault_profiles(self) -> Sequence[str]:
        return ("none",)
