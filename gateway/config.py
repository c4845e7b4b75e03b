"""Configuration: one TOML file plus ``GATEWAY_<SECTION>__<KEY>`` environment overrides.

Validation happens once, at start: an unknown key, a wrong type or a missing required value stops
the process with a message naming the key (``server.port``) or the variable
(``GATEWAY_SERVER__PORT``). Types are strict, so ``port = "8080"`` in TOML is an error rather than a
silent conversion; environment values are read as TOML literals (``8081``, ``true``, ``"x"``) and
fall back to plain strings.
"""

from __future__ import annotations

import ipaddress
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from gateway.common.shipped import shipped
from gateway.errors import ConfigError
from gateway.flk.config import ValidationConfig
from gateway.ui.config import AlertsConfig, UiConfig

__all__ = [
    "DEFAULT_CONFIG_PATH",
    "ENV_PREFIX",
    "GatewayConfig",
    "JournalConfig",
    "LoggingConfig",
    "NotificationsConfig",
    "RetentionConfig",
    "RoutingConfig",
    "SandboxConfig",
    "SecurityConfig",
    "ServerConfig",
    "StorageConfig",
    "WorkersConfig",
    "load_config",
]

ENV_PREFIX = "GATEWAY_"
DEFAULT_CONFIG_PATH = Path("config/gateway.toml")


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class ServerConfig(_Section):
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)
    max_body_bytes: int = Field(default=20 * 1024 * 1024, gt=0)
    # Memory all requests being read and parsed may hold at once: bodies plus their estimated parse
    # cost (gateway/wire/budget.py). Beyond it requests are shed with 503 + Retry-After before they are
    # read. Must hold at least one maximum-size JSON body (3 × max_body_bytes).
    max_inflight_bytes: int = Field(default=256 * 1024 * 1024, gt=0)
    # Dry-run checks (/api/v1/check) running at once; more are answered 503 + Retry-After.
    check_concurrency: int = Field(default=4, gt=0)
    shutdown_grace_seconds: float = Field(default=10.0, ge=0)
    # Public base URL of this gateway as peers call it back (callbacks, files served to peers);
    # a peer's own peers.<name>.public_url wins. Empty: http://<host>:<port>.
    public_url: str = ""
    # Let several gateway processes listen on the same port (SO_REUSEPORT; the kernel spreads
    # connections). Meant for a PostgreSQL journal; on SQLite the processes queue on one file lock.
    reuse_port: bool = False
    # Reverse proxies (addresses or CIDR networks) whose X-Forwarded-For is believed: the client
    # address used for login limits and for the loopback-only /metrics is then the last address
    # in X-Forwarded-For not itself a trusted proxy. Empty: the direct peer's address, always.
    trusted_proxies: list[str] = Field(default_factory=list)

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        bad = []
        for item in value:
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError:
                bad.append(item)
        if bad:
            raise ValueError(f"not IP addresses or networks: {bad}")
        return value

    @model_validator(mode="after")
    def _budget_holds_one_body(self) -> ServerConfig:
        if self.max_inflight_bytes < 3 * self.max_body_bytes:
            raise ValueError(
                f"max_inflight_bytes ({self.max_inflight_bytes}) must be at least 3 × max_body_bytes "
                f"({3 * self.max_body_bytes}): a maximum-size body could never be served"
            )
        return self


class StorageConfig(_Section):
    data_dir: str = "./var"
    # Empty means the embedded default: SQLite at <data_dir>/gateway.sqlite3.
    database_url: str = ""
    auto_migrate: bool = True
    pool_size: int = Field(default=10, gt=0)
    sqlite_busy_timeout_ms: int = Field(default=30_000, gt=0)


class JournalConfig(_Section):
    lease_seconds: float = Field(default=120.0, gt=0)
    claim_batch: int = Field(default=50, gt=0)


class RetentionConfig(_Section):
    """``[retention]``: the scheduled archiving of final submissions' envelopes
    (gateway.journal.archive; ``mse-gateway archive`` runs it by hand)."""

    enabled: bool = False
    archive_after_days: int = Field(default=365, gt=0)
    policy: Literal["archive", "delete"] = "archive"
    # Empty means <data_dir>/archive.
    archive_dir: str = ""
    interval_hours: float = Field(default=24.0, gt=0)
    batch: int = Field(default=500, gt=0, le=5000)
    max_batches_per_run: int = Field(default=200, gt=0)
    pause_seconds: float = Field(default=0.2, ge=0)


class LoggingConfig(_Section):
    level: Literal["debug", "info", "warning", "error"] = "info"
    format: Literal["json", "console"] = "json"


class SecurityConfig(_Section):
    # 32 random bytes, created on first start when missing. Keys patient-id hashes and encrypts
    # stored envelopes; losing it makes stored envelopes unreadable, so back it up with the DB.
    secret_key_file: str = ""  # empty: <data_dir>/secret.key
    # Hosts every client may name as its callback_url / wsa:ReplyTo, in addition to the hosts
    # registered per client (`clients add --callback-host`). Exact names or addresses,
    # "*.example.org" for names under example.org, "*" for any host (the sandbox's choice).
    # Empty, and a client with no registered hosts: that client's callbacks are refused.
    callback_hosts: list[str] = Field(default_factory=list)
    # Allow callbacks to private, loopback, link-local and other non-public addresses (checked on
    # the URL at intake and on every resolved address at send time). The sandbox sets it: its
    # test MIS listen on loopback. Needed too where the MIS sit in the same private network.
    allow_private_callbacks: bool = False


class RoutingConfig(_Section):
    # Empty: config/routes.toml when present in the working directory, else the built-in rules
    # (Russian MSE kinds to REMD, the Kazakh 031/у to ШЭП).
    routes_file: str = ""


class WorkersConfig(_Section):
    # Run the background workers in this process. Disable on API-only replicas.
    enabled: bool = True
    validation_concurrency: int = Field(default=8, gt=0)
    # Validate in this many worker processes (parsing and signature checks are CPU-bound and would
    # otherwise share this process's one core's worth of Python). 0: in threads of this process.
    validation_processes: int = Field(default=0, ge=0)
    notifier_concurrency: int = Field(default=8, gt=0)
    idle_sleep_seconds: float = Field(default=0.5, gt=0)
    # A polling peer's receiver (SMEV 3 GetResponse) pauses up to this long (real seconds) while
    # its queue stays empty or failing. A simulation running days per minute lowers it: at clock
    # x20000 the default 30 s is a week of simulated time before a notice is taken.
    receiver_max_sleep_seconds: float = Field(default=30.0, gt=0)


class NotificationsConfig(_Section):
    timeout_seconds: float = Field(default=15.0, gt=0)
    backoff_base_seconds: float = Field(default=10.0, gt=0)
    backoff_cap_seconds: float = Field(default=3600.0, gt=0)
    # Stop retrying an undeliverable notice after this long (it stays visible to operators).
    max_age_hours: float = Field(default=168.0, gt=0)


class InboundConfig(_Section):
    """Documents addressed to our organisations (docs/inbound.md)."""

    # Peer instances searched on a schedule (their plug-in must offer discovery: REMD does).
    # Empty: none; documents then arrive only by what peers push.
    discover_peers: list[str] = []
    # Kinds searched for (NSI 1520 codes of the kind table).
    kinds: list[str] = ["187", "130", "35", "108"]
    # Organisations searched for; empty: every organisation of every client that is not revoked.
    recipients: list[str] = []
    interval_seconds: float = Field(default=300.0, gt=0)
    # Each window starts this long before the end of the last one (late-indexed registrations).
    overlap_seconds: float = Field(default=900.0, ge=0)
    # The first window of a (peer, organisation, kind) reaches this far back.
    first_lookback_hours: float = Field(default=72.0, gt=0)


class SandboxConfig(_Section):
    # Simulated clock for the sandbox: how many simulated seconds pass per real second (1 = real
    # time). The gateway and the sandbox peers share it, so days of REMD behaviour take seconds.
    clock_speed: float = Field(default=1.0, gt=0)
    # Wall-clock Unix time at which the simulated clock starts (0: when the process starts). Set the
    # same value in several processes (gateway, peers, a restarted gateway) to share one clock.
    clock_epoch: float = Field(default=0.0, ge=0)
    # Fault profile of every sandbox twin: a name its plug-in knows (config/faults/) or a TOML path.
    fault_profile: str = "none"
    # Per peer instance: {gis-77 = "flaky"} overrides fault_profile for that twin.
    fault_profiles: dict[str, str] = {}
    # Port of the first twin (0: next to the gateway's port); further twins take the next ports.
    twin_port: int = Field(default=0, ge=0, le=65535)
    # The vendor page /ui/sandbox, open without login: only `mse-gateway sandbox` turns it on.
    vendor_page: bool = False
    # The running twins' URLs by peer instance (set by `mse-gateway sandbox`), for the vendor page.
    twins: dict[str, str] = {}


class GatewayConfig(_Section):
    server: ServerConfig = ServerConfig()
    storage: StorageConfig = StorageConfig()
    journal: JournalConfig = JournalConfig()
    retention: RetentionConfig = RetentionConfig()
    logging: LoggingConfig = LoggingConfig()
    security: SecurityConfig = SecurityConfig()
    routing: RoutingConfig = RoutingConfig()
    workers: WorkersConfig = WorkersConfig()
    notifications: NotificationsConfig = NotificationsConfig()
    inbound: InboundConfig = InboundConfig()
    # Peer instances by name: [peers.<name>] with protocol = "<plug-in>" (default: the name) and
    # that protocol's settings, validated by gateway.peers.registry when the app is built.
    peers: dict[str, dict[str, Any]] = Field(default_factory=lambda: {"remd": {"protocol": "remd"}})
    sandbox: SandboxConfig = SandboxConfig()
    validation: ValidationConfig = ValidationConfig()
    ui: UiConfig = UiConfig()
    alerts: AlertsConfig = AlertsConfig()

    @property
    def routes_path(self) -> Path | None:
        if self.routing.routes_file:
            return Path(self.routing.routes_file)
        return shipped("config/routes.toml")

    @property
    def data_dir(self) -> Path:
        return Path(self.storage.data_dir)

    @property
    def database_url(self) -> str:
        if self.storage.database_url:
            return self.storage.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'gateway.sqlite3').as_posix()}"

    @property
    def archive_dir(self) -> Path:
        if self.retention.archive_dir:
            return Path(self.retention.archive_dir)
        return self.data_dir / "archive"

    @property
    def secret_key_path(self) -> Path:
        if self.security.secret_key_file:
            return Path(self.security.secret_key_file)
        return self.data_dir / "secret.key"

    def with_overrides(self, **sections: Mapping[str, Any]) -> GatewayConfig:
        """A copy with some keys replaced (CLI flags such as --port), validated like the file."""
        data = self.model_dump()
        for section, values in sections.items():
            data[section] = _merge(data.get(section, {}), _drop_none(values))
        return _validate(data, origin={})


def _parse_env_value(raw: str) -> Any:
    try:
        return tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        return raw


def _resolve(path: list[str], base: Mapping[str, Any]) -> list[str]:
    """Match each part of an environment path to a key of the file's tables, where one differs only
    by hyphens: a variable name cannot hold the ``-`` of ``[peers.regional-gis]``, so
    ``GATEWAY_PEERS__REGIONAL_GIS__URL`` names that peer when the file defines it."""
    resolved: list[str] = []
    node: Any = base
    for part in path:
        if isinstance(node, Mapping) and part not in node:
            twins = [key for key in node if isinstance(key, str) and key.lower().replace("-", "_") == part]
            if len(twins) == 1:
                part = twins[0]
        resolved.append(part)
        node = node.get(part) if isinstance(node, Mapping) else None
    return resolved


def _env_overrides(
    environ: Mapping[str, str], base: Mapping[str, Any] | None = None
) -> tuple[dict[str, Any], dict[str, str]]:
    data: dict[str, Any] = {}
    origin: dict[str, str] = {}
    for name, raw in environ.items():
        if not name.startswith(ENV_PREFIX) or "__" not in name:
            continue  # GATEWAY_TEST_PG_DSN and friends are not configuration keys
        path = _resolve(name[len(ENV_PREFIX) :].lower().split("__"), base or {})
        node = data
        for part in path[:-1]:
            node = node.setdefault(part, {})
        node[path[-1]] = _parse_env_value(raw)
        origin[".".join(path)] = name
    return data, origin


def _drop_none(values: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _drop_none(v) if isinstance(v, Mapping) else v for k, v in values.items() if v is not None}


def _merge(base: dict[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _validate(data: Mapping[str, Any], origin: Mapping[str, str]) -> GatewayConfig:
    try:
        return GatewayConfig.model_validate(data)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            key = ".".join(str(p) for p in err["loc"])
            where = f" (from {origin[key]})" if key in origin else ""
            reason = "unknown key" if err["type"] == "extra_forbidden" else err["msg"]
            lines.append(f"{key}{where}: {reason}")
        raise ConfigError("invalid configuration: " + "; ".join(lines), details={"errors": lines}) from None


def load_config(path: Path | None = None, environ: Mapping[str, str] | None = None) -> GatewayConfig:
    """Read the TOML file (``path``, else config/gateway.toml if present, else built-in sandbox
    defaults), apply environment overrides and validate."""
    environ = os.environ if environ is None else environ
    data: dict[str, Any] = {}
    source = path if path is not None else (DEFAULT_CONFIG_PATH if DEFAULT_CONFIG_PATH.exists() else None)
    if source is not None:
        try:
            with source.open("rb") as fh:
                data = tomllib.load(fh)
        except FileNotFoundError:
            raise ConfigError(f"configuration file not found: {source}") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{source}: not valid TOML: {exc}") from None
    env_data, origin = _env_overrides(environ, data)
    return _validate(_merge(data, env_data), origin)
