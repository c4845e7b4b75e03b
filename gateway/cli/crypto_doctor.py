"""``mse-gateway doctor``: which GOST crypto backend this process would use, why, and does it work.

It names the implementation of each primitive separately (Streebog, GOST R 34.10) since the
fallback mixes them: libgcrypt's Streebog with the pure-Python signature code."""

from __future__ import annotations

import json
import os

import click

from gateway.cli.messages import echo, say
from gateway.signatures.gost import (
    CURVES,
    BackendUnavailable,
    InvalidSignature,
    backend_info,
    public_key_from_private,
    sign_digest,
    streebog256,
    verify_digest,
)
from gateway.signatures.gost.backend import ENV_VAR

__all__ = ["doctor"]

# GOST R 34.11-2012 appendix A, message M1 and its Streebog-256 (OpenSSL byte order).
_M1 = b"012345678901234567890123456789012345678901234567890123456789012"
_M1_256 = "9d151eefd8590b89daa6ba6cb74af9275dd051026bb149a452fd84e5e57b5500"


_TAMPERED = "FAILED (a tampered signature verified)"  # the JSON value; the human line is translated


def _checks() -> dict[str, str]:
    """Known-answer hash and a sign/verify/tamper round trip on the active backend."""
    results: dict[str, str] = {}
    results["streebog256_m1"] = "ok" if streebog256(_M1).hex() == _M1_256 else "FAILED"
    curve = CURVES["id-GostR3410-2001-CryptoPro-A-ParamSet"]
    private = 0x1D19CE9891EC3B28  # a fixed throw-away key: the check must not depend on randomness
    digest = streebog256(b"mse-gateway doctor")
    public = public_key_from_private(curve, private)
    signature = sign_digest(curve, private, digest)
    try:
        verify_digest(curve, public, digest, signature)
        try:
            verify_digest(curve, public, digest, signature[:-1] + bytes([signature[-1] ^ 1]))
            results["gost3410_round_trip"] = _TAMPERED
        except InvalidSignature:
            results["gost3410_round_trip"] = "ok"
    except InvalidSignature as exc:
        results["gost3410_round_trip"] = f"FAILED ({exc})"
    return results


@click.command("doctor")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def doctor(as_json: bool) -> None:
    """Show the active GOST crypto backend and why; self-check it.

    Backends: openssl-gost (the OpenSSL GOST engine), libgcrypt-fallback (Streebog from libgcrypt,
    GOST R 34.10 in pure Python: what runs without the engine) and pure-python. The implementation
    of Streebog and of GOST R 34.10 is shown separately, each with the reason it was chosen.
    Exits with status 1 when a forced backend is unavailable or a self-check fails.
    """
    report: dict[str, object] = {"requested": os.environ.get(ENV_VAR, "") or "auto (default)"}
    try:
        info = backend_info()
    except (BackendUnavailable, ValueError) as exc:
        report.update(ok=False, backend=None, reason=str(exc))
        _emit(report, as_json)
        raise SystemExit(1) from None
    checks = _checks()
    ok = all(value == "ok" for value in checks.values())
    report.update(
        ok=ok,
        backend=info.name,
        reason=info.reason,
        streebog={"implementation": info.streebog, "why": info.details.get("streebog_reason", "")},
        gost3410={"implementation": info.gost3410, "why": info.details.get("gost3410_reason", "")},
        details=info.details,
        checks=checks,
    )
    _emit(report, as_json)
    if not ok:
        raise SystemExit(1)


def _emit(report: dict[str, object], as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(report, indent=2, ensure_ascii=False))
        return
    # The values (backend names, the probe's reasons, the details) are the backend's own words,
    # English; the words around them follow the CLI's language.
    echo("doctor.backend", name=report["backend"] or say("doctor.unavailable"))
    echo("doctor.why", reason=report["reason"])
    for key in ("streebog", "gost3410"):
        primitive = report.get(key)
        if isinstance(primitive, dict):
            echo(f"doctor.{key}", implementation=primitive["implementation"], why=primitive["why"])
    requested = os.environ.get(ENV_VAR, "") or say("doctor.auto")
    echo("doctor.requested", requested=requested, var=ENV_VAR)
    details = report.get("details")
    if isinstance(details, dict):
        for key, value in details.items():
            click.echo(f"  {key}: {value}")
    checks = report.get("checks")
    if isinstance(checks, dict):
        for key, value in checks.items():
            echo("doctor.check", name=key, result=_check_text(str(value)))


def _check_text(value: str) -> str:
    if value == "ok":
        return say("doctor.ok")
    if value == _TAMPERED:
        return say("doctor.failed", detail=say("doctor.tampered"))
    return say("doctor.failed", detail=value.removeprefix("FAILED").strip(" ()"))
