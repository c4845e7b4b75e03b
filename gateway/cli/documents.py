"""``mse-gateway documents``: sample documents, parse and validate them from the command line.

- ``documents sample --kind 121 --seed 0 -o out.xml`` writes a realistic fictional document.
- ``documents parse FILE`` prints the kind and identifiers (no personal data) or the coded error.
- ``documents validate --packages DIR [--kind 121] FILE`` runs the ministry's XSD + schematron from
  DIR and prints the report as JSON; exit 0 valid, 1 invalid, 2 unreadable / no package.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from gateway.cli.messages import echo
from gateway.documents import DocumentError, DocumentKind, SemdPackageError, SemdPackages, build_document
from gateway.documents.kinds import accepted_codes
from gateway.documents.parse import detect_kind, parse_document
from gateway.documents.samples import sample_document
from gateway.wire.safexml import XmlSecurityError, XmlSyntaxError, parse_xml

__all__ = ["documents"]

_KINDS = list(accepted_codes())  # the ЦБДИ conclusion is received only: no sample, not parsed here


@click.group("documents")
def documents() -> None:
    """MSE documents: samples, parsing, validation with the ministry's packages."""


@documents.command("sample")
@click.option("--kind", type=click.Choice(_KINDS), required=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None)
def sample(kind: str, seed: int, output: Path | None) -> None:
    """Write a fictional but complete document of KIND (stdout without -o)."""
    data = build_document(sample_document(DocumentKind(kind), seed=seed))
    if output is None:
        sys.stdout.buffer.write(data)
    else:
        output.write_bytes(data)


@documents.command("parse")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--kind", type=click.Choice(_KINDS), default=None, help="the kind the sender declared")
def parse(file: Path, kind: str | None) -> None:
    """Parse FILE; print kind and document identifiers as JSON, or the coded error (exit 1)."""
    try:
        doc = parse_document(file.read_bytes(), kind=kind)
    except DocumentError as exc:
        click.echo(json.dumps(exc.to_dict(), ensure_ascii=False))
        sys.exit(1)
    summary = {
        "kind": doc.kind.value,
        "local_uid": doc.local_uid,
        "set_id": doc.set_id,
        "version": doc.version,
        "organisation": doc.organisation.oid,
        "created": doc.created.isoformat(),
    }
    click.echo(json.dumps(summary, ensure_ascii=False))


@documents.command("validate")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--packages", "packages_dir", type=click.Path(file_okay=False, path_type=Path), required=True)
@click.option("--kind", default=None, help="package to use (default: detected from the document)")
@click.option("--cache-dir", type=click.Path(file_okay=False, path_type=Path), default=None)
def validate(file: Path, packages_dir: Path, kind: str | None, cache_dir: Path | None) -> None:
    """Validate FILE with the XSD and schematron of its kind from --packages."""
    try:
        data = file.read_bytes()
        root = parse_xml(data)
        chosen = kind or detect_kind(root).value
        report = SemdPackages(packages_dir, cache_dir=cache_dir).validate(chosen, root)
    except (SemdPackageError, XmlSecurityError, XmlSyntaxError, DocumentError, OSError) as exc:
        echo("documents.error", err=True, detail=exc)
        sys.exit(2)
    click.echo(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
    sys.exit(0 if report.ok else 1)


if __name__ == "__main__":  # pragma: no cover - convenience for regenerating vectors
    documents()
