"""The provider side of an SMEV 3 instance: requests to us taken from its incoming queue, and the
answers owed to them sent back (issue 15 item 1: the MSE side answering requests).

One round (called from :meth:`Smev3Adapter.receive`, so under the instance's one receiver lease):

1. **answers** — every answer the core owes (``RequestPort.owed``) goes out with SendResponse
   under its own MessageID (a UUID v1 committed by ``RequestPort.message_id`` before the first
   send and reused on every resend). ``SendResponseResponse`` or ``MessageIsAlreadySent`` → sent;
   ``StaleMessageId`` → a new id next time; the code table's transient/rate-limit classes, no HTTP
   answer or an unreadable one → resent later under the same id; anything else → refused with
   SMEV's own code and text;
2. **requests** — ``provider_concurrency`` lanes (the consumer's ``receive_concurrency``), each
   GetRequest → verify ЭП-СМЭВ and attachments → record (``RequestPort.record``, durable when it
   returns) → Ack. A request whose signature or attachments fail, or that cannot be read but
   whose MessageId can be found, is recorded untrusted with its bytes and Acked
   ``accepted="false"``; it never blocks the queue. A Cancel is recorded (it cannot be answered)
   and Acked. A redelivery is recorded once (the journal's ``(peer, message_id)``).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from adapters.smev3 import messages as m
from adapters.smev3.acks import AckFailed, acknowledge, lax_message_id
from adapters.smev3.client import Exchange
from adapters.smev3.codes import RENEW_MESSAGE_ID, smev3_code_table
from adapters.smev3.incoming import attachments_problem
from adapters.smev3.signing import verify_incoming
from gateway.common.logs import get_logger
from gateway.peers.codes import CodeClass
from gateway.peers.contract import OwedAnswer, PeerRequest, RequestPort, Settlement
from gateway.wire.safexml import XmlSecurityError, XmlSyntaxError, parse_xml

if TYPE_CHECKING:
    from adapters.smev3.adapter import Smev3Adapter

__all__ = ["CANCEL_ROOT", "ProviderRound", "Smev3Provider"]

_log: Final = get_logger(__name__)

ALREADY_SENT: Final = "MessageIsAlreadySent"
CANCEL_ROOT: Final = "Cancel"  # content_root of a recorded Cancel (it answers nothing)
SMEV_SIGNATURE_INVALID: Final = "SMEV_SIGNATURE_INVALID"
MALFORMED_MESSAGE: Final = "SMEV_MALFORMED_MESSAGE"
LANE_FAILURES: Final = 3


@dataclass(slots=True)
class ProviderRound:
    """What one provider round did (the lanes share it: one event loop, no lock)."""

    budget: int
    taken: int = 0
    answered: int = 0
    stop: bool = False
    drained: bool = False
    get_error: str | None = None
    failure: Exception | None = None


def _root_of(content: bytes) -> tuple[str | None, str | None]:
    try:
        root = parse_xml(content)
    except (XmlSecurityError, XmlSyntaxError):
        return None, None
    tag = root.tag if isinstance(root.tag, str) else ""
    if tag.startswith("{"):
        namespace, _, local = tag[1:].partition("}")
        return namespace, local
    return None, tag or None


class Smev3Provider:
    """The provider half of one instance (its adapter's client, verifier and Ack)."""

    def __init__(self, adapter: Smev3Adapter, port: RequestPort) -> None:
        self.adapter = adapter
        self.port = port
        self.name = adapter.name

    def _selector(self) -> m.MessageTypeSelector:
        s = self.adapter.settings.provider_selector
        return m.MessageTypeSelector(
            timestamp=self.adapter.clock.now(),
            namespace_uri=s.namespace_uri or None,
            root_element_local_name=s.root_element_local_name or None,
            node_id=self.adapter.settings.node_id or None,
        )

    async def run(self) -> ProviderRound:
        """Answers first (they are owed already), then the requests waiting. Raises only when the
        journal failed to record a request (that one was not Acked)."""
        settings = self.adapter.settings
        state = ProviderRound(budget=settings.provider_batch)
        for owed in await self.port.owed(self.name, limit=settings.provider_batch):
            await self.answer(owed)
            state.answered += 1
        lanes = min(settings.receive_concurrency, state.budget)
        await asyncio.gather(*(self._lane(state) for _ in range(lanes)))
        if state.failure is not None:
            raise state.failure
        return state

    # -- answers ---------------------------------------------------------------------------------

    async def answer(self, owed: OwedAnswer) -> Settlement:
        """Send one owed answer; returns how it settled (sent | refused | retry | renew)."""
        message_id = await self.port.message_id(owed.request_id, self.adapter.new_message_id)
        data = m.SenderProvidedResponseData(
            message_id,
            owed.reply_to,
            content=owed.content,
            rejections=tuple(m.RequestRejected(code, text) for code, text in owed.rejections),
        )
        ex = await self.adapter.client.send_response(m.SendResponseRequest(data))
        result, code, text, pause = self._settlement(ex)
        await self.port.settle(owed.request_id, result, code=code, text=text, pause_seconds=pause)
        _log.info(
            "SMEV 3 SendResponse answered",
            peer=self.name,
            request_message_id=owed.request_message_id,
            message_id=message_id,
            result=result,
            code=code,
            http_status=ex.http_status,
        )
        return result

    @staticmethod
    def _settlement(ex: Exchange) -> tuple[Settlement, str | None, str | None, float | None]:
        """(result, code, text, pause) of one SendResponse exchange, by the plug-in's code table."""
        if isinstance(ex.message, m.SendResponseResponse):
            return "sent", None, None, None
        fault = ex.fault
        if fault is None:  # no HTTP answer, or one we cannot read: it may have arrived; same id
            return "retry", "NO_ANSWER", (ex.error or "no answer")[:1000], None
        if fault.code == ALREADY_SENT:  # the earlier send under this MessageID arrived
            return "sent", fault.code, fault.text, None
        codes = fault.answer_codes()
        code, text = codes[0]
        if any(c.upper() in RENEW_MESSAGE_ID for c, _ in codes):
            return "renew", code, text, 0.0
        table = smev3_code_table()
        rules = [rule for c, _ in codes if (rule := table.lookup(c)) is not None]
        cls = rules[0].cls if rules else table.unknown
        if cls is CodeClass.RATE_LIMIT:
            return "retry", code, text, max(rules[0].wait_seconds, 1.0)
        if cls is CodeClass.TRANSIENT:
            return "retry", code, text, None
        if cls is CodeClass.ALREADY_THERE:
            return "sent", code, text, None
        return "refused", code, text, None

    # -- requests --------------------------------------------------------------------------------

    async def _lane(self, state: ProviderRound) -> None:
        failures = 0
        while not state.stop and state.budget > 0:
            state.budget -= 1
            ex = await self.adapter.client.get_request(self._selector())
            try:
                message = ex.message
                if isinstance(message, m.GetRequestResponse):
                    if message.empty:
                        state.drained = state.stop = True
                        return
                    await self._take(ex, message)
                elif message is None and ex.reply is not None and (lax := lax_message_id(ex.reply.body)):
                    await self._record_untrusted(ex, lax, MALFORMED_MESSAGE, ex.error or "unreadable message")
                else:
                    code = ex.fault.code if ex.fault is not None else "NO_ANSWER"
                    state.get_error = f"{code}: {ex.fault.text if ex.fault is not None else ex.error}"
                    failures += 1
                    if failures >= LANE_FAILURES:
                        return
                    continue
            except AckFailed as exc:  # recorded; SMEV redelivers it and the journal records it once
                _log.warning(
                    "SMEV 3 Ack of a request failed; it is recorded and comes again", peer=self.name, error=str(exc)
                )
            except Exception as exc:  # the journal could not record it: no Ack, every lane stops
                if state.failure is None:
                    state.failure = exc
                state.stop = True
                return
            failures = 0
            state.taken += 1

    async def _take(self, ex: Exchange, message: m.GetRequestResponse) -> None:
        assert ex.reply is not None
        if message.cancel is not None:
            cancel = message.cancel
            cancel_id = cancel.metadata.message_id or cancel.message_id
            verdicts = await asyncio.to_thread(verify_incoming, ex.reply.body, self.adapter.verifier)
            trusted = verdicts.smev_valid
            await self.port.record(
                PeerRequest(
                    peer=self.name,
                    message_id=cancel_id,
                    trusted=trusted,
                    sender=cancel.metadata.sender.mnemonic,
                    content_root=CANCEL_ROOT,
                    code=None if trusted else SMEV_SIGNATURE_INVALID,
                    reason=f"cancels {cancel.reference}" if trusted else "; ".join(verdicts.errors)[:1000],
                    envelopes=ex.envelopes,
                )
            )
            await acknowledge(self.adapter.client, cancel_id, accepted=trusted)
            return
        request = message.request
        assert request is not None
        message_id = request.metadata.message_id or request.data.message_id
        verdicts = await asyncio.to_thread(verify_incoming, ex.reply.body, self.adapter.verifier)
        if not verdicts.smev_valid:
            reasons = [r for v in verdicts.of("SMEVSignature") for r in v.reasons] or list(verdicts.errors)
            await self._record_untrusted(
                ex, message_id, SMEV_SIGNATURE_INVALID, "; ".join(reasons) or "no SMEVSignature", request
            )
            return
        problem = await attachments_problem(self.adapter, ex, request)
        if problem is not None:
            await self._record_untrusted(ex, message_id, *problem, request)
            return
        namespace, root = _root_of(request.data.content)
        receipt = await self.port.record(
            PeerRequest(
                peer=self.name,
                message_id=message_id,
                trusted=True,
                reply_to=request.reply_to,
                sender=request.metadata.sender.mnemonic,
                content_namespace=namespace,
                content_root=root,
                envelopes=ex.envelopes,
            )
        )
        if not receipt.created:
            _log.info("SMEV 3 request delivered again; recorded before", peer=self.name, message_id=message_id)
        await acknowledge(self.adapter.client, message_id, accepted=True)

    async def _record_untrusted(
        self, ex: Exchange, message_id: str, code: str, text: str, request: m.Request | None = None
    ) -> None:
        """Recorded with its bytes, never answerable, then Acked accepted="false"."""
        _log.warning(
            "security: SMEV 3 request not trusted; recorded and Acked accepted=false",
            security_event=code,
            peer=self.name,
            peer_message_id=message_id,
            reason=text[:500],
        )
        namespace, root = _root_of(request.data.content) if request is not None else (None, None)
        await self.port.record(
            PeerRequest(
                peer=self.name,
                message_id=message_id,
                trusted=False,
                reply_to=request.reply_to if request is not None else None,
                sender=request.metadata.sender.mnemonic if request is not None else None,
                content_namespace=namespace,
                content_root=root,
                code=code,
                reason=text[:1000],
                envelopes=ex.envelopes,
            )
        )
        await acknowledge(self.adapter.client, message_id, accepted=False)
