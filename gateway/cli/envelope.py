"""`mse-gateway envelope`: build and inspect the envelopes the gateway exchanges with peers.

The core names no protocol: ``inspect`` asks every installed plug-in that is an
:class:`~gateway.peers.contract.EnvelopeInspector`; ``build`` asks the configured instance's
plug-in when it is an :class:`~gateway.peers.contract.EnvelopeBuilder`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from gateway.cli._common import load
from gateway.cli.messages import failure, say
from gateway.errors import ConfigError
from gateway.intake.submission import parse_submission
from gateway.peers.contract import EnvelopeBuilder, EnvelopeInspector
from gateway.peers.installed import installed_plugins
from gateway.peers.registry import resolve_peers

__all__ = ["envelope"]


@click.group()
def envelope() -> None:
    """Build and inspect peer envelopes (REMD, SMEV 3)."""


def inspect_bytes(data: bytes) -> dict[str, Any] | None:
    """The first installed plug-in's reading of ``data``, or None when none knows it."""
    for plugin in installed_plugins().values():
        if isinstance(plugin, EnvelopeInspector):
            found = plugin.inspect(data)
            if found is not None:
                return found
    return None


def _lines(result: dict[str, Any]) -> list[str]:
    out: list[str] = []
    for key, value in result.items():
        if key == "signatures":
            out.append(say("envelope.signatures", n=len(value)) if value else say("envelope.no_signatures"))
            for sig in value:
                verdict = sig.get("verdict") or say("envelope.valid" if sig.get("valid") else "envelope.not_valid")
                out.append(
                    say(
                        "envelope.signature",
                        holder=sig.get("holder"),
                        target=sig.get("target"),
                        verdict=verdict,
                        integrity=sig.get("integrity"),
                        chain=sig.get("chain"),
                    )
                )
                out.extend(f"      {reason}" for reason in sig.get("reasons", []))
        elif isinstance(value, list):
            out.append(f"{key}:")
            out.extend(f"  - {json.dumps(item, ensure_ascii=False)}" for item in value)
        else:
            out.append(f"{key}: {value}")
    return out


@envelope.command("inspect")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of lines.")
def inspect_cmd(file: Path, as_json: bool) -> None:
    """What the gateway makes of FILE: protocol, operation, message ids, response kind, status,
    fault code and class, signature verdicts (chains are not checked against a trust store)."""
    result = inspect_bytes(file.read_bytes())
    if result is None:
        raise failure("envelope.unknown", file=file)
    if as_json:
        click.echo(json.dumps(result, ensure_ascii=False, indent=2, default=str))
    else:
        for line in _lines(result):
            click.echo(line)


@envelope.command("build")
@click.argument("peer")
@click.argument("operation")
@click.argument("submission", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--key", "key_file", type=click.Path(exists=True, dir_okay=False), help="Signing key (PEM/DER).")
@click.option("--cert", "cert_file", type=click.Path(exists=True, dir_okay=False), help="Its certificate.")
@click.option("--message-id", default=None, help="The message id to use (default: a fresh one).")
@click.pass_context
def build_cmd(
    ctx: click.Context,
    peer: str,
    operation: str,
    submission: Path,
    key_file: str | None,
    cert_file: str | None,
    message_id: str | None,
) -> None:
    """Print the exact (signed) envelope OPERATION to the configured PEER instance would carry
    for SUBMISSION.json (the intake JSON)."""
    config = load(ctx)
    try:
        instances = resolve_peers(config.peers, installed_plugins())
    except ConfigError as exc:
        raise click.ClickException(exc.message) from None
    instance = instances.get(peer)
    if instance is None:
        raise failure("envelope.no_peer", peer=repr(peer), known=", ".join(sorted(instances)) or say("none"))
    if not isinstance(instance.plugin, EnvelopeBuilder):
        raise failure("envelope.cannot_build", protocol=repr(instance.plugin.protocol))
    try:
        canonical = parse_submission(json.loads(submission.read_text("utf-8")))
    except Exception as exc:  # the intake's own errors: show them as they are
        raise click.ClickException(f"{submission}: {exc}") from None
    try:
        out = instance.plugin.build_envelope(
            peer,
            instance.settings,
            operation,
            canonical,
            message_id=message_id,
            key_file=key_file,
            certificate_file=cert_file,
        )
    except ConfigError as exc:
        raise click.ClickException(exc.message) from None
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(out.decode("utf-8"))
