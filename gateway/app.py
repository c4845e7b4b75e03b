"""The aiohttp application factory. Tests, `serve` and `sandbox` all build the app here."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any, Final

import aiohttp
from aiohttp import web
from aiohttp.typedefs import Middleware

from gateway import __version__
from gateway.api import PUBLIC_PATHS, setup_api
from gateway.api.auth import client_auth_middleware
from gateway.api.error_language import localise_error, preferred_language
from gateway.api.operator import PREFIX as OPERATOR_PREFIX
from gateway.api.operator import operator_auth_middleware
from gateway.appkeys import (
    CALLBACK_POLICY_KEY,
    CHECKER_KEY,
    CLIENTS_KEY,
    CLOCK_KEY,
    CONFIG_KEY,
    DISCOVERY_KEY,
    DRY_CHECKER_KEY,
    HTTP_KEY,
    INBOUND_KEY,
    JOURNAL_KEY,
    ROUTER_KEY,
    WORKERS_KEY,
)
from gateway.common.backoff import Backoff
from gateway.common.clock import Clock, SystemClock
from gateway.common.logs import bind_ids, get_logger
from gateway.common.secrets import load_or_create_secret
from gateway.config import GatewayConfig
from gateway.delivery.receiver import RECEIVERS_KEY, Receiver, is_polling
from gateway.delivery.reconciler import Reconciler
from gateway.delivery.routing import load_routes
from gateway.delivery.stage import DeliveryStage
from gateway.errors import ConfigError, GatewayError, Overloaded
from gateway.flk import FullChecker, JournalReader
from gateway.flk.checker import resolve_trust
from gateway.flk.pool import PoolSettings, ValidationPool
from gateway.inbound.contract import InboundDiscovery
from gateway.inbound.discovery import Discovery
from gateway.inbound.receive import InboundReceiver
from gateway.intake.clients import ClientRegistry
from gateway.intake.stored import Handoff
from gateway.journal.engine import create_engine
from gateway.journal.inbound import InboundJournal
from gateway.journal.inbound_outbox import InboundOutbox
from gateway.journal.migrate import current_revision, head_revision, upgrade
from gateway.journal.store import Journal
from gateway.journal.wakeup import listening
from gateway.journal.worker import ClaimLoop, submission_loop
from gateway.model import ErrorCode, State
from gateway.monitoring.archiving import archive_ctx
from gateway.monitoring.metrics import setup_metrics
from gateway.notices.notifier import Notifier, rest_sender
from gateway.peers.contract import PeerPlugin
from gateway.peers.mount import INSTANCES_KEY, PEERS_KEY, mount_peers, notice_channels, peer_context, peers_ctx
from gateway.peers.registry import check_routes, resolve_peers
from gateway.signatures.verify import Verifier
from gateway.signatures.xml.verify import XmlVerifier
from gateway.ui.setup import alerts_ctx, setup_ui
from gateway.validation.contract import Checker
from gateway.validation.stage import ValidationStage
from gateway.wire.budget import BODY_BUDGET_KEY, CHECK_SLOTS_KEY, BodyBudget, CheckSlots
from gateway.wire.inputguard import input_guard_middleware
from gateway.wire.outbound import CallbackPolicy, GuardedResolver

__all__ = ["create_app", "error_middleware", "request_id_middleware"]

_log: Final = get_logger(__name__)
_Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
# The id echoed in X-Request-ID and quoted in 500 bodies.
REQUEST_ID_KEY: Final = web.RequestKey("request_id", str)


def request_id_middleware(*, header: str = "X-Request-ID") -> Middleware:
    """Bind a request id to every log line of the request and echo it back. A caller's id is
    kept when it looks sane, so a vendor can correlate their logs with ours."""

    @web.middleware
    async def middleware(request: web.Request, handler: _Handler) -> web.StreamResponse:
        incoming = request.headers.get(header, "")
        rid = incoming if 0 < len(incoming) <= 64 and incoming.isascii() and incoming.isprintable() else ""
        rid = rid or uuid.uuid4().hex
        request[REQUEST_ID_KEY] = rid
        bind_ids(request_id=rid)
        try:
            response = await handler(request)
        except web.HTTPException as exc:
            exc.headers[header] = rid
            raise
        response.headers[header] = rid
        return response

    return middleware


def error_middleware() -> Middleware:
    """Turn GatewayError into a coded JSON answer; anything unexpected becomes a 500 with the
    request id and no internals (the log line carries the traceback, masked)."""

    def internal_error(request: web.Request) -> web.Response:
        rid = request.get(REQUEST_ID_KEY)
        return web.json_response(
            {
                "error": {
                    "code": str(ErrorCode.INTERNAL_ERROR),
                    "message": "internal error; quote the request id to the gateway's operator",
                    "request_id": rid,
                }
            },
            status=500,
        )

    @web.middleware
    async def middleware(request: web.Request, handler: _Handler) -> web.StreamResponse:
        try:
            return await handler(request)
        except web.HTTPException as exc:
            if exc.status >= 400 and exc.content_type != "application/json":
                return web.json_response(
                    {"error": {"code": f"HTTP_{exc.status}", "message": exc.reason}},
                    status=exc.status,
                    headers={k: v for k, v in exc.headers.items() if k.lower() == "allow"},
                )
            raise
        except GatewayError as exc:
            headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, Overloaded) else {}
            language = preferred_language(request.headers.get("Accept-Language"))
            headers["Content-Language"] = language
            error = localise_error(exc.to_dict(), language)
            return web.json_response({"error": error}, status=exc.http_status, headers=headers)
        except Exception:
            # The traceback goes to the log (masked line by line, gateway/common/logs.py); the caller gets
            # the request id to quote, which is on that log line too.
            _log.exception("unhandled error", method=request.method, path=request.path)
            return internal_error(request)

    return middleware


async def healthz(_: web.Request) -> web.Response:
    """Alive: the process answers. Deliberately touches nothing else."""
    return web.json_response({"status": "ok", "version": __version__})


async def readyz(request: web.Request) -> web.Response:
    """Ready: the journal answers, its schema is at the head revision, and every peer a route sends
    to is usable (enabled, with a URL)."""
    journal = request.app[JOURNAL_KEY]
    checks: dict[str, str] = {}
    ok = True
    try:
        await journal.ping()
        checks["database"] = "ok"
        current, head = await current_revision(journal.engine), head_revision()
        checks["schema"] = "ok" if current == head else f"at {current}, expected {head}"
        ok = current == head
    except Exception as exc:
        checks.setdefault("database", f"unreachable: {type(exc).__name__}")
        ok = False
    # Every configured peer instance: "ok", or why it cannot deliver. Unready when a route sends
    # to an unusable peer (its documents would wait); an unused, disabled instance is only reported.
    routed = request.app[ROUTER_KEY].destinations
    for name, instance in sorted(request.app[INSTANCES_KEY].items()):
        why = instance.usable
        checks[f"peer:{name}"] = why or "ok"
        if why is not None and name in routed:
            ok = False
    return web.json_response({"status": "ok" if ok else "unavailable", "checks": checks}, status=200 if ok else 503)


async def _journal_ctx(app: web.Application) -> AsyncIterator[None]:
    config = app[CONFIG_KEY]
    engine = create_engine(
        config.database_url,
        pool_size=config.storage.pool_size,
        sqlite_busy_timeout_ms=config.storage.sqlite_busy_timeout_ms,
    )
    try:
        if config.storage.auto_migrate:
            await upgrade(engine)
        secret = load_or_create_secret(config.secret_key_path)
        app[JOURNAL_KEY] = Journal(engine, secret, clock=app[CLOCK_KEY])
        app[CLIENTS_KEY] = ClientRegistry(engine, secret, clock=app[CLOCK_KEY])
        yield
    finally:
        await engine.dispose()


def _checker_ctx(injected: Checker | None) -> Callable[[web.Application], AsyncIterator[None]]:
    async def ctx(app: web.Application) -> AsyncIterator[None]:
        """The full checker (signatures, roles, FLK) needs the journal for duplicate and late-arrival
        look-ups, so it is built once the journal exists; configuration errors surface at start."""
        if injected is not None:
            app[CHECKER_KEY] = app[DRY_CHECKER_KEY] = injected
            yield
            return
        config = app[CONFIG_KEY]
        journal = app[JOURNAL_KEY]
        pool = None
        if config.workers.validation_processes:
            settings = PoolSettings(
                validation=config.validation,
                router=app[ROUTER_KEY],
                data_dir=config.data_dir,
                max_bytes=config.server.max_body_bytes,
                log_level=config.logging.level,
                log_format=config.logging.format,
            )
            pool = ValidationPool(config.workers.validation_processes, settings)
        try:
            checker = await asyncio.to_thread(
                FullChecker.from_config,
                config.validation,
                journal=JournalReader(journal, limit=config.validation.journal_lookup_limit),
                router=app[ROUTER_KEY],
                data_dir=config.data_dir,
                clock=journal.clock.now,
                max_bytes=config.server.max_body_bytes,
                pool=pool,
            )
            if pool is not None:
                await pool.warm_up()  # a broken configuration fails here, at start
            app[CHECKER_KEY] = checker
            app[DRY_CHECKER_KEY] = checker.with_journal(None)
            yield
        finally:
            if pool is not None:
                await asyncio.to_thread(pool.close)

    return ctx


async def _inbound_ctx(app: web.Application) -> AsyncIterator[None]:
    """The one inbound path (gateway.inbound): documents addressed to our organisations are
    checked with the dry-run checker (structure, signatures, roles; no journal rules, which judge
    what an MIS sends)."""
    checker = app[DRY_CHECKER_KEY]
    config = app[CONFIG_KEY]
    xml_verifier = None
    if not isinstance(checker, FullChecker):
        # An injected checker (tests, tools) has no verifier to share: documents signed inside
        # (the ЦБДИ conclusion) are still verified against the configured trust.
        trust, crls = resolve_trust(
            Path(config.validation.trust_dir) if config.validation.trust_dir else None, config.validation.crl_sources
        )
        xml_verifier = XmlVerifier(Verifier(trust, crls or None))
    app[INBOUND_KEY] = InboundReceiver(
        app[JOURNAL_KEY],
        checker,
        max_bytes=config.server.max_body_bytes,
        xml_verifier=xml_verifier,
        clock=app[JOURNAL_KEY].clock.now,
    )
    yield


def _discovery(app: web.Application, owner: str) -> Discovery | None:
    """Discovery over the peers ``[inbound] discover_peers`` names (ConfigError for a peer that
    is not configured or cannot be searched)."""
    config = app[CONFIG_KEY]
    wanted = config.inbound.discover_peers
    if not wanted:
        return None
    peers: dict[str, InboundDiscovery] = {}
    for name in wanted:
        if name not in app[INSTANCES_KEY]:
            raise ConfigError(f"inbound.discover_peers: no peer instance {name!r} is configured")
        peer = app[PEERS_KEY].get(name)
        if peer is None:  # configured but not usable (disabled, no URL): logged by peers_ctx
            continue
        if not isinstance(peer.adapter, InboundDiscovery):
            raise ConfigError(f"inbound.discover_peers: peer {name!r} cannot be searched for inbound documents")
        peers[name] = peer.adapter
    if not peers:
        return None
    fixed = list(config.inbound.recipients)
    registry = app[CLIENTS_KEY]

    journal = app[JOURNAL_KEY]

    async def recipients() -> list[str]:
        """The configured list, else every organisation of every active client; a client allowed
        every organisation (``*``) adds those that submitted in the last 90 days."""
        if fixed:
            return fixed
        orgs: set[str] = set()
        wildcard = False
        for client in await registry.list():
            if client.revoked_at is None:
                wildcard = wildcard or "*" in client.organization_oids
                orgs.update(o for o in client.organization_oids if o != "*")
        if wildcard:
            since = journal.clock.now() - timedelta(days=90)
            orgs.update(await InboundJournal(journal).submitting_organisations(since))
        return sorted(orgs)

    return Discovery(
        app[JOURNAL_KEY],
        app[INBOUND_KEY],
        peers,
        recipients,
        config.inbound.kinds,
        owner=owner,
        interval_seconds=config.inbound.interval_seconds,
        overlap_seconds=config.inbound.overlap_seconds,
        first_lookback_hours=config.inbound.first_lookback_hours,
        lease_seconds=max(config.journal.lease_seconds, 2 * config.inbound.interval_seconds),
    )


async def _http_ctx(app: web.Application) -> AsyncIterator[None]:
    timeout = aiohttp.ClientTimeout(total=app[CONFIG_KEY].notifications.timeout_seconds)
    async with aiohttp.ClientSession(timeout=timeout, raise_for_status=False) as session:
        app[HTTP_KEY] = session
        yield


def _notice_session(app: web.Application) -> aiohttp.ClientSession:
    """The notifier's own HTTP session: its resolver refuses forbidden addresses at connect time
    (gateway.wire.outbound). Separate from the peers' session, whose addresses the operator configured."""
    config = app[CONFIG_KEY]
    resolver = GuardedResolver(allow_private=config.security.allow_private_callbacks)
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(resolver=resolver),
        timeout=aiohttp.ClientTimeout(total=config.notifications.timeout_seconds),
        raise_for_status=False,
    )


async def _workers_ctx(app: web.Application) -> AsyncIterator[None]:
    config = app[CONFIG_KEY]
    loops: dict[str, ClaimLoop[Any]] = {}
    app[WORKERS_KEY] = loops
    receivers: dict[str, Receiver] = {}
    app[RECEIVERS_KEY] = receivers
    journal = app[JOURNAL_KEY]
    if not config.workers.enabled:
        yield
        return
    try:
        schema_current = await current_revision(journal.engine) == head_revision()
    except Exception:  # the database is down: start anyway, claims retry until it is back
        _log.exception("journal unreachable at start; workers will retry")
        schema_current = True
    if not schema_current:
        # Without the schema every claim would fail; /readyz reports the gateway as not ready.
        _log.error("journal schema is not current: workers not started (run `mse-gateway db upgrade`)")
        yield
        return
    # A routed document wakes its peer's delivery loop in this process at once (other processes
    # hear of it by PostgreSQL NOTIFY), rather than at the loop's next idle poll; and its decoded
    # payload waits for that loop in `handoff` instead of being read and decoded a second time.
    handoff = Handoff()
    stage = ValidationStage(
        journal,
        app[CHECKER_KEY],
        app[ROUTER_KEY],
        on_queued=lambda destination: loop.wake() if (loop := loops.get(f"delivery:{destination}")) else None,
        handoff=handoff,
    )
    loops["validation"] = submission_loop(
        journal,
        role="validation",
        states=[State.RECEIVED, State.VALIDATED],
        handler=stage.handle,
        concurrency=config.workers.validation_concurrency,
        lease_seconds=config.journal.lease_seconds,
        idle_sleep=config.workers.idle_sleep_seconds,
    )
    idle = config.workers.idle_sleep_seconds
    lease = config.journal.lease_seconds
    for name, peer in app[PEERS_KEY].items():
        receiver = None
        if is_polling(peer):
            sink = peer_context(app, app[INSTANCES_KEY][name]).sink
            # The lease runs on the journal's clock, the pauses in real time: on a simulated
            # clock (the sandbox) a lease of `lease` seconds lasts lease/speed real seconds, and
            # the receiver must renew it (poll) within that.
            speed = float(getattr(app[CLOCK_KEY], "speed", 1.0)) or 1.0
            receiver = Receiver(
                journal,
                peer,
                sink,
                lease_seconds=lease,
                idle_sleep=idle,
                max_sleep=min(config.workers.receiver_max_sleep_seconds, lease / speed / 3),
            )
            receivers[name] = receiver
        deliver = DeliveryStage(journal, peer, after_send=receiver.wake if receiver else None, handoff=handoff)
        reconciler = Reconciler(journal, peer)
        common: dict[str, Any] = {"lease_seconds": lease, "idle_sleep": idle, "destinations": [name]}
        loops[f"delivery:{name}"] = submission_loop(
            journal,
            role=f"delivery:{name}",
            states=[State.QUEUED, State.RETRY_WAIT],
            handler=deliver.handle,
            concurrency=peer.config.limits.concurrency,
            **common,
        )
        if peer.capabilities.lookup:
            loops[f"reconcile:{name}"] = submission_loop(
                journal,
                role=f"reconcile:{name}",
                states=[State.SENT],
                due_column="answer_deadline",
                handler=reconciler.handle_overdue,
                concurrency=max(1, peer.config.limits.concurrency // 2),
                **common,
            )
        # Without lookup, overdue SENT rows wait for the peer's answer (and show as stuck); a row
        # in RECONCILING ("already there") is put back to SENT by the reconciler, not left there.
        loops[f"reconciling:{name}"] = submission_loop(
            journal,
            role=f"reconciling:{name}",
            states=[State.RECONCILING],
            handler=reconciler.handle_reconciling,
            concurrency=max(1, peer.config.limits.concurrency // 2),
            **common,
        )
    n = config.notifications
    registry = app[CLIENTS_KEY]

    async def hosts_of(client_id: str | None) -> tuple[str, ...]:
        client = await registry.by_id(client_id) if client_id else None
        return client.callback_hosts if client is not None else ()

    notice_session = _notice_session(app)
    notifier = Notifier(
        journal,
        notice_session,
        {
            "rest": rest_sender(app[CLIENTS_KEY], lambda: journal.clock.now().isoformat()),
            **notice_channels(app),
        },
        backoff=Backoff(base=n.backoff_base_seconds, cap=n.backoff_cap_seconds),
        max_age=timedelta(hours=n.max_age_hours),
        concurrency=config.workers.notifier_concurrency,
        idle_sleep=config.workers.idle_sleep_seconds,
        policy=app[CALLBACK_POLICY_KEY],
        hosts_of=hosts_of,
    )
    loops["notifier"] = notifier.loop
    # Documents addressed to our organisations: their webhook notices (same channel, same HMAC,
    # their own outbox) and, where configured, discovery at the peers.
    inbound_notifier = Notifier(
        journal,
        notice_session,
        {"rest": rest_sender(app[CLIENTS_KEY], lambda: journal.clock.now().isoformat())},
        backoff=Backoff(base=n.backoff_base_seconds, cap=n.backoff_cap_seconds),
        max_age=timedelta(hours=n.max_age_hours),
        concurrency=config.workers.notifier_concurrency,
        idle_sleep=config.workers.idle_sleep_seconds,
        policy=app[CALLBACK_POLICY_KEY],
        hosts_of=hosts_of,
        outbox=InboundOutbox(journal),
        role="inbound-notifier",
    )
    loops["inbound-notifier"] = inbound_notifier.loop
    app[INBOUND_KEY].on_offered = inbound_notifier.loop.wake
    discovery = _discovery(app, owner=f"discovery-{uuid.uuid4().hex[:12]}")
    tasks = [asyncio.create_task(loop.run(), name=f"worker:{name}") for name, loop in loops.items()]
    polling = [asyncio.create_task(r.run(), name=f"receiver:{name}") for name, r in receivers.items()]
    if discovery is not None:
        app[DISCOVERY_KEY] = discovery
        polling.append(asyncio.create_task(discovery.run(), name="inbound-discovery"))

    def wake(name: str) -> None:  # another process journalled work for this loop
        if (loop := loops.get(name)) is not None:
            loop.wake()

    try:
        async with listening(journal.engine, wake):
            yield
    finally:
        grace = config.server.shutdown_grace_seconds
        if discovery is not None:
            await discovery.stop()
        for receiver in receivers.values():
            await receiver.stop()
        await asyncio.gather(*(loop.stop(grace) for loop in loops.values()))
        await asyncio.gather(*tasks, return_exceptions=True)
        await notice_session.close()
        if polling:
            _, late = await asyncio.wait(polling, timeout=grace)
            for task in late:
                task.cancel()
            await asyncio.gather(*polling, return_exceptions=True)


def create_app(
    config: GatewayConfig,
    *,
    clock: Clock | None = None,
    checker: Checker | None = None,
    plugins: Mapping[str, PeerPlugin] | None = None,
) -> web.Application:
    """Build the gateway application. Resources (database engine, HTTP client, workers) are
    opened in cleanup contexts, in order, and closed in reverse on shutdown.

    Peer instances are validated and routes checked here, before anything starts: a route to a
    peer that is not configured raises ConfigError. ``plugins`` replaces the installed plug-ins
    (tests drive the core with peers written only against the contract)."""
    if plugins is None:
        from gateway.peers.installed import installed_plugins

        plugins = installed_plugins()
    instances = resolve_peers(config.peers, plugins)
    router = load_routes(config.routes_path)
    check_routes(router, instances)
    app = web.Application(
        client_max_size=config.server.max_body_bytes,
        middlewares=[
            request_id_middleware(),
            error_middleware(),
            input_guard_middleware(),
            client_auth_middleware(public=PUBLIC_PATHS, elsewhere=(OPERATOR_PREFIX,)),
            operator_auth_middleware(),
        ],
    )
    app[BODY_BUDGET_KEY] = BodyBudget(config.server.max_inflight_bytes)
    app[CHECK_SLOTS_KEY] = CheckSlots(config.server.check_concurrency)
    app[CONFIG_KEY] = config
    app[CLOCK_KEY] = clock or SystemClock()
    app[ROUTER_KEY] = router
    app[CALLBACK_POLICY_KEY] = CallbackPolicy(
        tuple(config.security.callback_hosts), config.security.allow_private_callbacks
    )
    app.cleanup_ctx.extend([_journal_ctx, _checker_ctx(checker), _inbound_ctx, _http_ctx, peers_ctx, _workers_ctx])
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    setup_api(app)
    mount_peers(app, instances)
    setup_ui(app)
    setup_metrics(app)
    app.cleanup_ctx.append(alerts_ctx())
    app.cleanup_ctx.append(archive_ctx())
    return app
