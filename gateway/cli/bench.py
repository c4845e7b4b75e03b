"""``mse-gateway bench``: measure the crypto hot path on this machine."""

from __future__ import annotations

import json

import click

__all__ = ["bench"]

TARGETS = {"project_ops_per_s": 1500.0, "fallback_ops_per_s": 300.0}


@click.group("bench")
def bench() -> None:
    """Benchmarks of the signature path."""


@bench.command("verify")
@click.option("--seconds", type=click.FloatRange(min=0.1), default=2.0, show_default=True, help="Wall time per figure.")
@click.option(
    "--threads",
    type=click.IntRange(min=1),
    default=None,
    help="Workers for the thread-pool figure (default: CPU count).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the raw numbers as JSON.")
def verify(seconds: float, threads: int | None, as_json: bool) -> None:
    """Detached CAdES-BES verification of a 50 KB GOST 2012-256 document, per backend."""
    from gateway.signatures.bench import bench_verify

    results = bench_verify(seconds, threads=threads)
    if as_json:
        click.echo(json.dumps(results, indent=2))
        return
    click.echo(f"backend: {results['backend']} ({results['backend_reason']})")
    for key in (
        "project_ops_per_s",
        "fallback_ops_per_s",
        "gostcrypto_ops_per_s",
        "openssl_cli_ops_per_s",
        "thread_pool_ops_per_s",
    ):
        value = results.get(key)
        shown = "n/a" if value is None else f"{value:,.1f}"
        target = TARGETS.get(key)
        note = (
            ""
            if target is None or value is None
            else f"  (target {target:,.0f}: {'met' if value >= target else 'NOT met'})"
        )
        click.echo(f"{key:24} {shown:>10}{note}")
    click.echo(f"{'threads':24} {results['threads']:>10}")
    click.echo(f"{'streebog_mb_per_s':24} {results['streebog_mb_per_s']:>10,.1f}")
