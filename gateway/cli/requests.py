"""`requests list|show|answer`: requests peers sent the gateway as a provider (SMEV 3 GetRequest)
and the answers owed to them. ``answer`` only writes the answer to the journal; the instance's
receiver sends it (SendResponse) in its next round, under a MessageID persisted before the send."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

import click

from gateway.cli._common import data_dir_option, load
from gateway.cli.messages import echo, failure, say
from gateway.intake.opening import open_store
from gateway.journal.peer_requests import AnswerRefused, PeerRequests, RecordedRequest
from gateway.wire.safexml import XmlSecurityError, XmlSyntaxError, parse_xml

__all__ = ["requests"]

# SMEV 3 RequestRejected reason codes (smev-message-exchange-basic-1.1.xsd, RejectCode).
REJECT_CODES = ("ACCESS_DENIED", "NO_DATA", "UNKNOWN_REQUEST_DESCRIPTION", "FAILURE")


def _row(r: RecordedRequest) -> dict[str, Any]:
    return {
        "id": r.id,
        "peer": r.peer,
        "message_id": r.message_id,
        "sender": r.sender,
        "type": f"{{{r.content_namespace or ''}}}{r.content_root or ''}",
        "trusted": r.trusted,
        "code": r.code,
        "reason": r.reason,
        "received_at": r.received_at.isoformat(),
        "seen": r.seen,
        "answer_state": r.answer_state,
        "answer_kind": r.answer_kind,
        "answer_message_id": r.answer_message_id,
        "answer_attempts": r.answer_attempts,
        "answer_code": r.answer_code,
        "answer_text": r.answer_text,
    }


@click.group()
def requests() -> None:
    """Requests peers sent us as a provider (SMEV 3), and our answers."""


@requests.command("list")
@click.option("--peer", default=None, help="Only this instance.")
@click.option("--limit", default=100, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@data_dir_option
@click.pass_context
def list_(ctx: click.Context, peer: str | None, limit: int, as_json: bool, data_dir: Path | None) -> None:
    """The newest requests first."""
    config = load(ctx, data_dir=data_dir)

    async def run() -> list[dict[str, Any]]:
        async with open_store(config) as (journal, _):
            return [_row(r) for r in await PeerRequests(journal).entries(peer=peer, limit=limit)]

    rows = asyncio.run(run())
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False))
        return
    answer = say("requests.answer_label")
    for r in rows:
        trust = "trusted" if r["trusted"] else f"UNTRUSTED {r['code']}"
        click.echo(f"{r['id']}  {r['peer']:<12} {r['type']:<60} {trust:<30} {answer}: {r['answer_state'] or '-'}")


@requests.command("show")
@click.argument("request_id")
@click.option("--body", is_flag=True, help="Print the request's envelope as received (instead of its record).")
@data_dir_option
@click.pass_context
def show(ctx: click.Context, request_id: str, body: bool, data_dir: Path | None) -> None:
    """One request's record (JSON), or its envelope."""
    config = load(ctx, data_dir=data_dir)

    async def run() -> tuple[RecordedRequest | None, bytes | None]:
        async with open_store(config) as (journal, _):
            port = PeerRequests(journal)
            return await port.get(request_id), (await port.body(request_id) if body else None)

    found, envelope = asyncio.run(run())
    if found is None:
        raise failure("requests.unknown", id=request_id)
    if body:
        sys.stdout.buffer.write(envelope or b"")
        return
    click.echo(json.dumps(_row(found), ensure_ascii=False, indent=2))


@requests.command("answer")
@click.argument("request_id")
@click.option(
    "--content",
    "content_path",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="The business answer: an XML file (MessagePrimaryContent's element).",
)
@click.option("--reject", "reject_code", type=click.Choice(REJECT_CODES), help="Reject the request with this code.")
@click.option("--reason", default="", help="The rejection's description.")
@click.option("--by", default="cli", show_default=True, help="Who answers (kept with the answer).")
@data_dir_option
@click.pass_context
def answer(
    ctx: click.Context,
    request_id: str,
    content_path: Path | None,
    reject_code: str | None,
    reason: str,
    by: str,
    data_dir: Path | None,
) -> None:
    """Owe the requester this answer; the instance's receiver sends it with SendResponse."""
    if (content_path is None) == (reject_code is None):
        raise click.UsageError("give exactly one of --content FILE and --reject CODE")
    content: bytes | None = None
    if content_path is not None:
        content = content_path.read_bytes()
        try:
            parse_xml(content)
        except (XmlSecurityError, XmlSyntaxError) as exc:
            raise failure("requests.not_xml", path=content_path, error=exc) from None
    if reject_code is not None and not reason.strip():
        raise click.UsageError("--reject needs --reason (SMEV requires a description)")
    config = load(ctx, data_dir=data_dir)

    async def run() -> None:
        async with open_store(config) as (journal, _):
            rejections = [(reject_code, reason)] if reject_code is not None else []
            await PeerRequests(journal).answer(request_id, content=content, rejections=rejections, by=by)

    try:
        asyncio.run(run())
    except AnswerRefused as exc:
        raise click.ClickException(f"{exc.code}: {exc}") from None
    echo("requests.recorded", id=request_id)
