"""``mse-gateway samples`` and ``mse-gateway check``: sample submissions and the full check.

- ``samples DIR [--count N] [--seed S] [--pki PKIDIR]`` writes signed canonical submissions — N valid
  ones (the kinds in turn: 121, 187, 130, 35, 108, kz-031u) and one defective submission per FLK rule
  (plus the role and edition defects of 187/130 and the retired 109) — plus ``expected.json``,
  ``journal.json`` and a README, signing with a sandbox test PKI (``DIR/pki`` unless ``--pki``;
  created when missing, reused otherwise).
- ``check SUBMISSION.json [--json] [--trust DIR] [--crl SRC]… [--journal FILE] [--packages DIR]``
  runs the gateway's full checker and prints the report. Exit codes: 0 the submission passes,
  1 it is rejected (a document that does not parse, or JSON that does not match the submission
  schema, is a rejection with a code), 2 the file cannot be read as JSON or the options/configuration
  are unusable.

Settings come from the ``[validation]`` section of the configuration when the gateway has it
(:class:`gateway.flk.config.ValidationConfig`); the options override it.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import sys
from pathlib import Path
from typing import Any

import click

from gateway.cli._common import data_dir_option, load
from gateway.cli.messages import CLI_TEXTS, cli_language, echo, say
from gateway.common.language import Language
from gateway.delivery.routing import load_routes
from gateway.errors import ConfigError
from gateway.flk.checker import FullChecker
from gateway.flk.codes import FlkCode
from gateway.flk.config import ValidationConfig
from gateway.flk.findings import RuleFinding, finding
from gateway.flk.journal_view import StaticJournalView
from gateway.flk.messages import FLK_TEXTS
from gateway.intake.submission import SchemaViolation, parse_submission
from gateway.sandbox.sample_set import VALID_KINDS, write_samples
from gateway.sandbox.setup import read_sandbox_client
from gateway.validation.contract import Report, report_in_language

__all__ = ["check", "samples"]

EXIT_PASSED = 0
EXIT_REJECTED = 1
EXIT_UNUSABLE = 2


@click.command("samples")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--count",
    type=click.IntRange(min=0),
    default=len(VALID_KINDS),
    show_default=True,
    help="valid submissions (kinds in turn: " + ", ".join(VALID_KINDS) + ")",
)
@click.option(
    "--seed",
    type=int,
    default=None,
    help="fixes names and identifiers (default 0; for a sandbox a fresh one, so that a second set "
    "does not reuse the first one's localUids, which the sandbox would refuse as NOT_UNIQUE_PROVIDED_ID)",
)
@click.option(
    "--pki",
    "pki_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="test PKI directory (default DIR/pki; created when missing, reused when present)",
)
@click.option(
    "--standalone",
    is_flag=True,
    help="ignore the sandbox's data directory: sign with DIR/pki (or --pki) as source_system sample-mis",
)
@data_dir_option
@click.pass_context
def samples(
    ctx: click.Context,
    directory: Path,
    count: int,
    seed: int | None,
    pki_dir: Path | None,
    standalone: bool,
    data_dir: Path | None,
) -> None:
    """Write signed sample submissions (valid and one defective per rule) and expected.json to DIRECTORY.

    When the sandbox's data directory exists (``--data-dir``, default storage.data_dir, ./var), the
    submissions are signed by the sandbox's test PKI and carry its client's source_system, so the
    running sandbox accepts them as they are."""
    config = load(ctx, data_dir=data_dir)
    sandbox = None if standalone else read_sandbox_client(config.data_dir)
    source_system = None
    if sandbox is not None:
        source_system = sandbox.source_system
        pki_dir = pki_dir or sandbox.pki_dir
        seed = secrets.randbelow(1_000_000) if seed is None else seed
    seed = seed or 0
    expected = write_samples(directory, count=count, seed=seed, pki_dir=pki_dir, source_system=source_system)
    rejected = sum(1 for e in expected.values() if not e["passed"])
    pki = pki_dir or directory / "pki"
    echo("samples.written", n=len(expected), directory=directory, passing=len(expected) - rejected, rejected=rejected)
    if sandbox is not None:
        echo("samples.signed", pki=pki, source=source_system, seed=seed)
        echo("samples.check_one", command=f"mse-gateway check FILE --journal {directory / 'journal.json'}")
    else:
        command = f"mse-gateway check FILE --trust {pki} --journal {directory / 'journal.json'}"
        echo("samples.check_one", command=command)


def _validation_config(ctx: click.Context, data_dir: Path | None) -> tuple[ValidationConfig, Any]:
    config = load(ctx, data_dir=data_dir)
    section = getattr(config, "validation", None)
    return (section if isinstance(section, ValidationConfig) else ValidationConfig()), config


def _print_report(report: Report, lang: Language) -> None:
    def words(key: str, **params: object) -> str:
        return CLI_TEXTS.get_text(lang, f"check.{key}", **params)

    data = report_in_language(report.to_dict(), lang)
    click.echo(words("passed") if report.passed else words("rejected"))
    signatures = data.get("signatures") or {}
    entries = signatures.get("entries", [])
    ok = words("yes") if signatures.get("valid") else words("no")
    click.echo("  " + words("signatures", n=len(entries), ok=ok))
    for item in data["flk"]:
        where = f" — {item['field']}" if item.get("field") else ""
        click.echo(f"  [{item['rule']}] {item['code']} ({item['category']}): {item['message']}{where}")
    for item in data.get("warnings", []):
        click.echo(f"  {words('warning')} [{item['rule']}] {item['code']}: {item['message']}")
    for item in data.get("skipped", []):
        click.echo(f"  {words('skipped')} [{item['rule']}]: {item['reason']}")


def _schema_report(exc: SchemaViolation) -> Report:
    """A submission that does not match the schema is a rejection with every problem listed."""
    problems = exc.details.get("errors")
    items = [p for p in problems if isinstance(p, dict)] if isinstance(problems, list) else []

    def invalid(detail: str, field: str | None = None) -> RuleFinding:
        text = FLK_TEXTS.text("submission.invalid", detail=detail)
        return finding("submission", FlkCode.SUBMISSION_INVALID, "other", text, field)

    findings = [invalid(f"{p.get('field')}: {p.get('message')}", p.get("field")) for p in items]
    return Report(findings=tuple(findings or [invalid(exc.message)]))


@click.command("check")
@click.argument("submission", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="print the full report as JSON")
@click.option(
    "--trust",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="trusted CA certificates, or a test PKI directory (default: validation.trust_dir, else the "
    "sandbox's test PKI when --data-dir is a sandbox's)",
)
@click.option("--crl", "crls", multiple=True, help="CRL file, directory or URL (repeatable)")
@click.option(
    "--journal",
    "journal_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="earlier submissions as a JSON list (e.g. samples' journal.json); without it the duplicate "
    "and late-arrival rules are skipped",
)
@click.option(
    "--packages",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="the ministry's XSD + schematron packages (default: validation.semd_packages_dir)",
)
@click.option(
    "--lang",
    type=click.Choice(["ru", "en"]),
    default=None,
    help="language of the report (overrides the global --lang; default: from the locale LC_ALL/LC_MESSAGES/LANG: "
    "ru_* Russian, en_* English, others English)",
)
@data_dir_option
@click.pass_context
def check(
    ctx: click.Context,
    submission: Path,
    as_json: bool,
    trust: Path | None,
    crls: tuple[str, ...],
    journal_file: Path | None,
    packages: Path | None,
    lang: str | None,
    data_dir: Path | None,
) -> None:
    """Check SUBMISSION (canonical JSON) like the gateway does; exit 0 passes, 1 rejected, 2 unreadable."""
    try:
        data = json.loads(submission.read_bytes())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        echo("error", err=True, message=say("check.not_json", path=submission, error=exc))
        ctx.exit(EXIT_UNUSABLE)
    validation, config = _validation_config(ctx, data_dir)
    updates: dict[str, Any] = {}
    if trust is not None:
        updates["trust_dir"] = str(trust)
    if crls:
        updates["crl_sources"] = list(crls)
    if packages is not None:
        updates["semd_packages_dir"] = str(packages)
    if not validation.trust_dir and "trust_dir" not in updates:
        # No anchors configured: trust what the sandbox trusts (as `mse-gateway sandbox` does),
        # when this data directory is a sandbox's.
        sandbox = read_sandbox_client(config.data_dir)
        if sandbox is not None:
            updates["trust_dir"] = str(sandbox.pki_dir)
    validation = validation.model_copy(update=updates)
    try:
        journal = StaticJournalView.load(journal_file) if journal_file is not None else None
        checker = FullChecker.from_config(
            validation, journal=journal, router=load_routes(config.routes_path), data_dir=config.data_dir
        )
    except (ConfigError, OSError, ValueError) as exc:
        message = exc.message if isinstance(exc, ConfigError) else str(exc)
        echo("error", err=True, message=message)
        ctx.exit(EXIT_UNUSABLE)
    try:
        report = asyncio.run(checker.check(parse_submission(data)))
    except SchemaViolation as exc:
        report = _schema_report(exc)
    if as_json:
        data = report_in_language(report.to_dict(), cli_language(lang))
        sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")
    else:
        _print_report(report, cli_language(lang))
    ctx.exit(EXIT_PASSED if report.passed else EXIT_REJECTED)
