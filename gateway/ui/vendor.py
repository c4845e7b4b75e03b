"""The sandbox's vendor page, ``/ui/sandbox``: what an MIS vendor needs in the first hour, without a
login — on the sandbox only (``sandbox.vendor_page``, which `mse-gateway sandbox` turns on; on any
other gateway these routes answer 404).

- upload a canonical submission (JSON) or a bare signed document (XML) and get the report
  `mse-gateway check` gives (the gateway's own dry-run checker);
- download the test PKI's certificates and keys, one bundle per signer role;
- choose the fault profile the twins use;
- see the sandbox client's own submissions and their timelines.

Everything here is fictional (the sandbox's test PKI, generated people); the keys offered for
download are test keys the sandbox generated for exactly this purpose.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import re
import secrets
from pathlib import Path
from typing import Any, Final

import aiohttp
from aiohttp import web

from gateway.appkeys import CONFIG_KEY, DRY_CHECKER_KEY, JOURNAL_KEY
from gateway.common.pii import mask_text
from gateway.common.sandbox_files import read_sandbox_client
from gateway.common.twin_profile import PROFILE_PATH
from gateway.config import GatewayConfig
from gateway.documents import DocumentError
from gateway.documents.parse import detect_kind
from gateway.errors import GatewayError, NotFound
from gateway.flk.codes import FlkCode
from gateway.flk.findings import finding
from gateway.flk.messages import FLK_TEXTS
from gateway.intake.submission import SchemaViolation, parse_submission
from gateway.journal.outcome_texts import event_message
from gateway.journal.store import SearchQuery
from gateway.peers.installed import installed_plugins
from gateway.ui.actions import audit
from gateway.ui.client_address import client_address
from gateway.ui.session import LOGIN_CSRF_COOKIE, PREFIX, current_language, current_session
from gateway.validation.contract import Report, message_in_language, report_in_language
from gateway.wire.safexml import XmlSecurityError, XmlSyntaxError, parse_xml

__all__ = ["vendor_routes"]

_MAX_UPLOAD: Final = 8 * 1024 * 1024
_CDA_MIME: Final = "application/x-hl7-cda-level-one+xml"
_ROLE_RE: Final = re.compile(r"^[a-z0-9-]{1,40}$")
# What each sample role signs (sample-roles.json names the roles; these are their readers' words).
_ROLE_NOTES: Final = {
    "vk-chair": "председатель врачебной комиссии МО (121, 109)",
    "doctor": "врач МО (не председатель ВК)",
    "mo-org": "подпись медицинской организации (121, 109)",
    "foreign-mo-org": "подпись другой МО (для проверки отказа)",
    "mse-head": "руководитель бюро МСЭ (35)",
    "mse-official": "специалист бюро МСЭ (108)",
    "mse-org": "подпись бюро МСЭ (35, 108)",
    "kz-vkk-chair": "председатель ВКК, РК (031/у)",
    "kz-employee": "сотрудник юрлица, РК (для проверки отказа)",
}

vendor_routes = web.RouteTableDef()


def _config(request: web.Request) -> GatewayConfig:
    config: GatewayConfig = request.config_dict[CONFIG_KEY]
    if not config.sandbox.vendor_page:
        raise web.HTTPNotFound()
    return config


def _pki(config: GatewayConfig) -> Path:
    return config.data_dir / "pki"


def _roles(config: GatewayConfig) -> dict[str, str]:
    try:
        state = json.loads((_pki(config) / "sample-roles.json").read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    roles = state.get("roles") if isinstance(state, dict) else None
    return {str(k): str(v) for k, v in roles.items()} if isinstance(roles, dict) else {}


def _client(config: GatewayConfig) -> str:
    files = read_sandbox_client(config.data_dir)
    return files.source_system if files is not None else "sandbox-mis"


async def _twin_profiles(config: GatewayConfig) -> list[dict[str, Any]]:
    """Each twin's current profile (asked over HTTP) and the profiles its protocol ships."""
    plugins = installed_plugins()
    out: list[dict[str, Any]] = []
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=3)) as http:
        for name, url in sorted(config.sandbox.twins.items()):
            protocol = str(config.peers.get(name, {}).get("protocol", name))
            plugin = plugins.get(protocol)
            choices = list(plugin.fault_profiles()) if plugin is not None else []
            current = None
            try:
                async with http.get(f"{url}{PROFILE_PATH}") as resp:
                    if resp.status == 200:
                        current = (await resp.json()).get("profile")
            except (aiohttp.ClientError, TimeoutError, ValueError):
                pass
            out.append({"name": name, "protocol": protocol, "current": current, "choices": choices})
    return out


def _render(request: web.Request, **context: Any) -> web.Response:
    from gateway.ui.web import render  # web imports this module's routes

    token = secrets.token_urlsafe(32)
    session = current_session(request)
    response = render(request, "sandbox.html", login_csrf=token, **context)
    if session is None:  # the double-submit cookie the login form uses
        response.set_cookie(LOGIN_CSRF_COOKIE, token, max_age=3600, path=PREFIX, httponly=True, samesite="Strict")
    return response


async def _page(request: web.Request, **context: Any) -> web.Response:
    config = _config(request)
    journal = request.config_dict[JOURNAL_KEY]
    items, _ = await journal.search(SearchQuery(source_system=_client(config), limit=50))
    context.setdefault("report", None)
    context.setdefault("upload_error", None)
    context.setdefault("profile_message", None)
    return _render(
        request,
        submissions=items,
        roles=sorted(_roles(config)),
        role_notes=_ROLE_NOTES,
        twins=await _twin_profiles(config),
        client=_client(config),
        **context,
    )


@vendor_routes.get("/sandbox")
async def vendor_page(request: web.Request) -> web.Response:
    return await _page(request)


def _submission_of(data: bytes, config: GatewayConfig) -> dict[str, Any]:
    """A canonical submission from an upload: JSON as it is; a bare XML document wrapped with the
    identifiers read from it (its signatures must then be inside it, XMLDSig)."""
    stripped = data.lstrip()
    if stripped.startswith(b"{"):
        value = json.loads(data)
        if not isinstance(value, dict):
            raise ValueError("the JSON is not an object")
        return value
    root = parse_xml(data)
    kind = detect_kind(root).value
    from gateway.documents.parse import parse_document

    doc = parse_document(data, kind=kind)
    patient: dict[str, str] = {}
    if doc.patient.snils:
        patient["snils"] = doc.patient.snils
    if doc.patient.iin:
        patient["iin"] = doc.patient.iin
    return {
        "source_system": _client(config),
        "local_uid": doc.local_uid,
        "kind": kind,
        "organization_oid": doc.organisation.oid,
        "creation_datetime": doc.created.isoformat(),
        "document": base64.b64encode(data).decode("ascii"),
        "document_mime": "application/xml" if kind == "kz-031u" else _CDA_MIME,
        "patient": patient,
        "signatures": [],
    }


def _rejection(code: FlkCode, key: str, detail: str) -> Report:
    return Report(findings=(finding("submission", code, "other", FLK_TEXTS.text(key, detail=detail)),))


@vendor_routes.post("/sandbox/check")
async def vendor_check(request: web.Request) -> web.Response:
    config = _config(request)
    form = await request.post()
    upload = form.get("file")
    data = upload.file.read(_MAX_UPLOAD + 1) if isinstance(upload, web.FileField) else b""
    if not data or len(data) > _MAX_UPLOAD:
        return await _page(request, upload_error="v.upload_missing")
    try:
        raw = await asyncio.to_thread(_submission_of, data, config)
        report = await request.config_dict[DRY_CHECKER_KEY].check(parse_submission(raw))
    except SchemaViolation as exc:
        report = _rejection(FlkCode.SUBMISSION_INVALID, "submission.invalid", exc.message)
    except (ValueError, UnicodeDecodeError, binascii.Error) as exc:  # JSON that is not JSON
        report = _rejection(FlkCode.SUBMISSION_INVALID, "submission.not_json", f"{exc}"[:300])
    except (XmlSecurityError, XmlSyntaxError, DocumentError) as exc:
        report = _rejection(FlkCode.SUBMISSION_INVALID, "submission.not_document", f"{exc}"[:300])
    data_view = report_in_language(report.to_dict(), current_language(request))
    name = upload.filename if isinstance(upload, web.FileField) else ""
    return await _page(request, report=data_view, report_json=json.dumps(data_view, ensure_ascii=False, indent=2),
                       uploaded=name)  # fmt: skip


@vendor_routes.get("/sandbox/keys/{role}")
async def vendor_key(request: web.Request) -> web.Response:
    """One role's certificate, its private key and the CA chain, as one PEM file."""
    config = _config(request)
    role = request.match_info["role"]
    if role in ("ca", "chain"):
        body = (_pki(config) / f"{'chain' if role == 'chain' else 'ca'}.pem").read_bytes()
        filename = f"sandbox-{role}.pem"
    else:
        serial = _roles(config).get(role) if _ROLE_RE.match(role) else None
        if serial is None:
            raise web.HTTPNotFound()
        issued = _pki(config) / "issued"
        body = (
            (issued / f"{serial}.pem").read_bytes()
            + (issued / f"{serial}.key").read_bytes()
            + (_pki(config) / "chain.pem").read_bytes()
        )
        filename = f"sandbox-{role}.pem"
    return web.Response(
        body=body,
        content_type="application/x-pem-file",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@vendor_routes.post("/sandbox/profile")
async def vendor_profile(request: web.Request) -> web.Response:
    """Switch one twin's fault profile at run time (the twin's ``/_sandbox/profile``); audited, as
    every operator action is, under the operator's name when one is logged in, else as the
    vendor page with the caller's address."""
    config = _config(request)
    form = await request.post()
    twin = str(form.get("twin", ""))
    profile = str(form.get("profile", ""))
    url = config.sandbox.twins.get(twin)
    twins = {t["name"]: t for t in await _twin_profiles(config)}
    before = twins.get(twin, {}).get("current")
    ok = False
    if url is not None and profile in twins.get(twin, {}).get("choices", []):
        try:
            async with (
                aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as http,
                http.post(f"{url}{PROFILE_PATH}", json={"profile": profile}) as resp,
            ):
                ok = resp.status == 200
        except (aiohttp.ClientError, TimeoutError):
            ok = False
    journal = request.config_dict[JOURNAL_KEY]
    session = current_session(request)
    who = session.username if session is not None else f"vendor-page@{client_address(request) or '?'}"
    await audit(journal.engine, journal, username=who, action="twin-profile", outcome="ok" if ok else "refused",
                comment=f"{twin[:40]}: {before or '?'} → {profile[:40]}")  # fmt: skip
    return await _page(request, profile_message=("v.profile_set" if ok else "v.profile_refused", twin, profile))


@vendor_routes.get("/sandbox/submissions/{sid}")
async def vendor_submission(request: web.Request) -> web.Response:
    config = _config(request)
    journal = request.config_dict[JOURNAL_KEY]
    try:
        sub = await journal.get(request.match_info["sid"])
    except (NotFound, GatewayError):
        raise web.HTTPNotFound() from None
    if sub.source_system != _client(config):  # only the sandbox client's own
        raise web.HTTPNotFound()
    events = await journal.events(sub.id)
    report = next((e.details["report"] for e in reversed(events) if "report" in (e.details or {})), None)
    lang = current_language(request)
    if isinstance(report, dict):
        report = report_in_language(report, lang)
    timeline = [
        {"at": e.at, "kind": e.kind, "from": e.from_state, "to": e.to_state, "code": e.code,
         "message": mask_text(message_in_language(event_message(e.message, e.details, lang), report, lang) or "")}
        for e in events
    ]  # fmt: skip
    from gateway.ui.web import render

    return render(request, "sandbox_submission.html", sub=sub, timeline=timeline, report=report)
