"""The REMD-compatible SOAP front door: an MIS points its REMD endpoint at the gateway
(``POST /remd/service``) and changes nothing else in its messages.

registerDocument is authenticated (clientEntityId, plus the client's token in ``X-MSE-Token``),
translated to the canonical submission JSON and handed to the core, which journals it durably
before the MIS gets REMD's synchronous "accepted". The outcome goes back later as REMD's own
registerDocumentResult callback to the request's ReplyTo (channel ``remd-soap``,
adapters.remd.notify). searchRegistryItem answers from the gateway's journal.

Answers follow REMD: a request that was understood gets ``status`` + ``errors/item`` (REMD codes
where one fits: ACCESS_DENIED, NOT_UNIQUE_PROVIDED_ID, VALIDATION_ERROR, FILE_WAS_NOT_SENT,
WRONG_MESSAGE_ID); one that could not be processed at all — malformed or hostile XML, not SOAP
1.2, unknown operation, failed authentication, an internal failure — gets a SOAP 1.2 fault.
The request is parsed leniently (by local names, no XSD validation): the WSDL is a
reconstruction, and a real MIS may differ from it in ways real REMD tolerates.
"""

from __future__ import annotations

import asyncio
import re
from datetime import datetime
from typing import Any, Final, Protocol
from xml.sax.saxutils import escape as xml_escape

from aiohttp import web

from adapters.remd import codec
from adapters.remd.mapping import MappingError, canonical_from_request
from adapters.remd.messages import RegistryMatch, SearchRegistryItemResponse, StatusResponse
from adapters.remd.soap import WSA_ANONYMOUS, Envelope, EnvelopeError, SoapFault, parse_envelope
from adapters.remd.webutil import check_content_type, fault_response, overloaded_response, read_body, soap_response
from adapters.remd.wsdl import SERVICE_WSDL, wsdl_dir
from gateway.common.logs import get_logger
from gateway.errors import GatewayError, Overloaded, PayloadTooLarge
from gateway.intake.clients import Client
from gateway.model import ErrorCode
from gateway.wire.budget import body_budget, xml_parse_cost
from gateway.wire.safexml import DEFAULT_MAX_BYTES

__all__ = ["SERVICE_PATH", "TOKEN_HEADER", "ClientDirectory", "FrontDoor", "FrontDoorCore"]

SERVICE_SUFFIX: Final = "/service"
# What emdr-service.wsdl imports (schemaLocation is relative: /<peer>/<name>.xsd).
_SERVED_SCHEMAS: Final = frozenset({"emdr-service.xsd", "egisz-transport.xsd", "ws-addressing.xsd"})
SERVICE_PATH: Final = "/remd" + SERVICE_SUFFIX
TOKEN_HEADER: Final = "X-MSE-Token"  # noqa: S105 - a header name, not a secret
SUBMISSION_HEADER: Final = "X-MSE-Submission-Id"
_log: Final = get_logger(__name__)

# The gateway's own refusals in REMD's words.
_REMD_CODE: Final = {
    ErrorCode.SCHEMA_INVALID: "VALIDATION_ERROR",
    ErrorCode.FORBIDDEN: "ACCESS_DENIED",
    ErrorCode.DUPLICATE_CONFLICT: "NOT_UNIQUE_PROVIDED_ID",
    ErrorCode.CALLBACK_NOT_ALLOWED: "VALIDATION_ERROR",  # a ReplyTo outside the outbound allowlist
    ErrorCode.INVALID_CHARACTER: "VALIDATION_ERROR",
}
# The EGISZ transport header precedes the body; where the client token is not required this finds
# the clientEntityId in the first bytes without parsing, so an unknown sender costs no parse.
_ENTITY_PEEK: Final = 64 * 1024
_ENTITY_ID: Final = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?clientEntityId(?:\s[^>]*)?>\s*([^<\s]{1,100})\s*</")


class FrontDoorCore(Protocol):
    """What the front door needs from the core (implemented in gateway/)."""

    async def accept(
        self, client: Client, canonical_json: dict[str, Any], *, envelope: bytes, message_id: str, reply_to: str | None
    ) -> tuple[str, bool]:
        """Validate (schema), authorise and journal a submission durably, with origin
        ``remd-soap`` and origin_ref ``message_id``; ``canonical_json["callback_url"]`` is the
        MIS's ReplyTo when it gave a usable one. Returns (submission id, created). Raises
        GatewayError (SchemaViolation, Forbidden, DuplicateConflict, StoreError) to refuse."""
        ...

    async def search(
        self, client: Client, organization: str, kind: str, begin: datetime, end: datetime, snils: str | None
    ) -> list[tuple[str, str, datetime]]:
        """The client's submissions registered at the peer within [begin, end]:
        (local_uid, peer registration id (emdrId), registered at)."""
        ...


class ClientDirectory(Protocol):
    """The two lookups of gateway.intake.clients.ClientRegistry the front door uses."""

    async def by_entity_id(self, entity_id: str) -> Client | None: ...

    async def authenticate(self, token: str) -> Client | None: ...


class _Refusal(Exception):
    def __init__(self, errors: tuple[tuple[str, str], ...]) -> None:
        super().__init__(errors[0][1] if errors else "refused")
        self.errors = errors


def _callback_url(reply_to: str | None) -> str | None:
    if not reply_to or reply_to == WSA_ANONYMOUS or not reply_to.startswith(("http://", "https://")):
        return None
    return reply_to


def _gateway_errors(exc: GatewayError) -> tuple[tuple[str, str], ...]:
    code = _REMD_CODE.get(exc.code, str(exc.code))  # type: ignore[call-overload]
    details = exc.details.get("errors") if isinstance(exc.details, dict) else None
    if isinstance(details, list) and details:
        return tuple(
            (code, f"{d.get('field', '')}: {d.get('message', '')}" if isinstance(d, dict) else str(d))
            for d in details[:50]
        )
    return ((code, exc.message),)


class FrontDoor:
    """``POST /remd/service`` for MIS speaking REMD's protocol.

    ``require_token=False`` authenticates by clientEntityId alone — only where the network already
    authenticates the MIS (the protected ViPNet/ГОСТ TLS channel REMD itself relies on).
    """

    def __init__(
        self,
        core: FrontDoorCore,
        clients: ClientDirectory,
        *,
        require_token: bool = True,
        max_body_bytes: int = DEFAULT_MAX_BYTES,
    ) -> None:
        self.core = core
        self.clients = clients
        self.require_token = require_token
        self.max_body_bytes = max_body_bytes

    def routes(self, prefix: str = "/remd") -> web.RouteTableDef:
        routes = web.RouteTableDef()
        routes.post(prefix + SERVICE_SUFFIX)(self.handle)
        routes.get(prefix + SERVICE_SUFFIX)(self.handle_wsdl)
        routes.get(prefix + "/{schema:[a-z-]+\\.xsd}")(self.handle_schema)
        return routes

    async def handle_wsdl(self, request: web.Request) -> web.Response:
        """``GET /remd/service?wsdl``: the contract an MIS's SOAP toolkit generates its client
        from, its address pointing at this front door (the schemas it imports sit beside it)."""
        if "wsdl" not in request.query:
            raise web.HTTPNotFound(text="GET ?wsdl for the WSDL; requests are POSTed (SOAP 1.2)")
        text = (wsdl_dir() / SERVICE_WSDL).read_text("utf-8")
        here = str(request.url.with_query(None))
        text = text.replace("https://remd.invalid/emdr", xml_escape(here))
        return web.Response(text=text, content_type="text/xml", charset="utf-8")

    async def handle_schema(self, request: web.Request) -> web.Response:
        name = request.match_info["schema"]
        path = wsdl_dir() / name
        if name not in _SERVED_SCHEMAS or not path.is_file():
            raise web.HTTPNotFound()
        return web.Response(body=path.read_bytes(), content_type="text/xml", charset="utf-8")

    async def handle(self, request: web.Request) -> web.Response:
        """Authenticate what can be authenticated before the body is parsed (the token header
        before a byte is read; the clientEntityId by a bounded peek), hold the body and its parse
        cost in the process's budget, and parse off the event loop."""
        try:
            check_content_type(request)
            holder = await self._token_holder(request)
            if isinstance(holder, web.Response):
                return holder
            announced = request.content_length if request.content_length is not None else self.max_body_bytes
            async with body_budget(request).hold(min(announced, self.max_body_bytes)) as hold:
                raw = await read_body(request, self.max_body_bytes)
                if not self.require_token:
                    refused = await self._peek_entity(raw)
                    if refused is not None:
                        return refused
                hold.resize(xml_parse_cost(raw))
                env = await asyncio.to_thread(parse_envelope, raw, max_bytes=self.max_body_bytes)
                return await self._dispatch(env, raw, request, holder)
        except EnvelopeError as exc:
            _log.warning("REMD front door refused a body", code=exc.code, error=exc.message[:200])
            return fault_response(exc)
        except Overloaded as exc:
            _log.warning("REMD front door shed a request", error=exc.message)
            return overloaded_response(exc)
        except PayloadTooLarge as exc:
            return fault_response(EnvelopeError(str(exc.code), exc.message, http_status=413))

    async def _dispatch(self, env: Envelope, raw: bytes, request: web.Request, holder: Client | None) -> web.Response:
        relates = env.addressing.message_id
        operation = env.operation
        if operation not in {"registerDocumentRequest", "searchRegistryItemRequest"}:
            return fault_response(
                SoapFault("Sender", f"unknown operation {operation!r}", subcode="UNKNOWN_OPERATION"), relates_to=relates
            )
        client = await self._authenticate(env, holder)
        if isinstance(client, web.Response):
            return client
        try:
            if operation == "registerDocumentRequest":
                return await self._register(env, raw, client)
            return await self._search(env, client)
        except GatewayError as exc:
            _log.error("REMD front door: core failure", code=str(exc.code), error=exc.message[:200])
            return fault_response(
                SoapFault("Receiver", exc.message[:300], subcode=str(exc.code)),
                relates_to=relates,
                status=exc.http_status,
            )
        except Exception:
            _log.exception("REMD front door: internal error", operation=operation)
            return fault_response(
                SoapFault("Receiver", "internal error, try again later", subcode="INTERNAL_ERROR"), relates_to=relates
            )

    @staticmethod
    def _unauthorized(code: str, message: str, relates: str | None = None) -> web.Response:
        fault = SoapFault("Sender", message, subcode=ErrorCode.UNAUTHORIZED, errors=((code, message),))
        return fault_response(fault, relates_to=relates, status=401)

    async def _token_holder(self, request: web.Request) -> Client | web.Response | None:
        """With tokens required: the client the X-MSE-Token header names, or the 401 fault —
        decided before the body is read."""
        if not self.require_token:
            return None
        token = request.headers.get(TOKEN_HEADER, "").strip()
        if not token:
            return self._unauthorized("ACCESS_DENIED", f"the client token is required in the {TOKEN_HEADER} header")
        holder = await self.clients.authenticate(token)
        if holder is None:
            return self._unauthorized("ACCESS_DENIED", "the token does not belong to this clientEntityId")
        return holder

    async def _peek_entity(self, raw: bytes) -> web.Response | None:
        found = _ENTITY_ID.search(raw, 0, _ENTITY_PEEK)
        if found is None:
            return self._unauthorized("NO_RMIS", "transportHeader/authInfo/clientEntityId is required")
        entity = found.group(1).decode("utf-8", errors="replace")
        if await self.clients.by_entity_id(entity) is None:
            return self._unauthorized("NO_RMIS", "unknown or revoked clientEntityId")
        return None

    async def _authenticate(self, env: Envelope, holder: Client | None) -> Client | web.Response:
        relates = env.addressing.message_id
        if env.client_entity_id is None:
            return self._unauthorized("NO_RMIS", "transportHeader/authInfo/clientEntityId is required", relates)
        client = await self.clients.by_entity_id(env.client_entity_id)
        if client is None:
            return self._unauthorized("NO_RMIS", "unknown or revoked clientEntityId", relates)
        if self.require_token and (holder is None or holder.id != client.id):
            return self._unauthorized("ACCESS_DENIED", "the token does not belong to this clientEntityId", relates)
        return client

    async def _register(self, env: Envelope, raw: bytes, client: Client) -> web.Response:
        assert env.body is not None
        a = env.addressing
        action = "registerDocumentResponse"

        def refused(errors: tuple[tuple[str, str], ...]) -> web.Response:
            _log.info(
                "REMD front door: registerDocument refused", client=client.source_system, codes=[c for c, _ in errors]
            )
            return soap_response(
                codec.build_register_document_response(StatusResponse(False, errors)),
                action=action,
                relates_to=a.message_id,
            )

        if not a.message_id:
            return refused((("WRONG_MESSAGE_ID", "wsa:MessageID is required: the result callback refers to it"),))
        try:
            req = codec.parse_register_document_request(env.body)
        except codec.MessageError as exc:
            return refused((("VALIDATION_ERROR", exc.message),))
        if not client.may_submit_for(req.organization):
            return refused((("ACCESS_DENIED", f"this client may not submit for organisation {req.organization}"),))
        try:
            canonical = canonical_from_request(
                req, source_system=client.source_system, callback_url=_callback_url(a.reply_to)
            )
        except MappingError as exc:
            return refused(((exc.code, exc.message),))
        try:
            submission_id, created = await self.core.accept(
                client, canonical, envelope=raw, message_id=a.message_id, reply_to=a.reply_to
            )
        except GatewayError as exc:
            if exc.http_status >= 500:
                raise
            return refused(_gateway_errors(exc))
        _log.info(
            "REMD front door: registerDocument accepted",
            client=client.source_system,
            local_uid=req.local_uid,
            submission_id=submission_id,
            created=created,
        )
        return soap_response(
            codec.build_register_document_response(StatusResponse(True)),
            action=action,
            relates_to=a.message_id,
            headers={SUBMISSION_HEADER: submission_id},
        )

    async def _search(self, env: Envelope, client: Client) -> web.Response:
        assert env.body is not None
        action = "searchRegistryItemResponse"
        relates = env.addressing.message_id

        def refused(errors: tuple[tuple[str, str], ...]) -> web.Response:
            body = codec.build_search_response(SearchRegistryItemResponse(False, errors=errors))
            return soap_response(body, action=action, relates_to=relates)

        try:
            req = codec.parse_search_request(env.body)
        except codec.MessageError as exc:
            return refused((("VALIDATION_ERROR", exc.message),))
        if not client.may_submit_for(req.organization):
            return refused((("ACCESS_DENIED", f"this client may not search organisation {req.organization}"),))
        found = await self.core.search(client, req.organization, req.kind, req.begin, req.end, req.patient_snils)
        matches = tuple(
            RegistryMatch(
                local_uid=uid, emdr_id=emdr_id, registered_at=at, kind=req.kind, organization=req.organization
            )
            for uid, emdr_id, at in found
        )
        return soap_response(
            codec.build_search_response(SearchRegistryItemResponse(True, matches=matches)),
            action=action,
            relates_to=relates,
        )
