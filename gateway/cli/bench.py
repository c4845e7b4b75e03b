"""``mse-gateway bench``: measure the crypto hot path on this machine."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator

import click

from gateway.cli.messages import echo, say

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
    """Detached CAdES-BES verification of a 50 KB GOST 2012-256 document, per backend.

    \b
    Keys of --json (ops = full verifications per second, one thread):
      project_ops_per_s      as configured (auto: the OpenSSL GOST engine when present);
                             backend, backend_reason, backend_streebog, backend_gost3410 say what ran
      fallback_ops_per_s     as it runs without the engine: libgcrypt Streebog + pure-Python
                             GOST R 34.10 (pure Python where libgcrypt is unusable); fallback,
                             fallback_reason, fallback_streebog, fallback_gost3410 say which
      pure_python_ops_per_s  everything in pure Python
      thread_pool_ops_per_s  the project's path on a pool of `threads` workers
      gostcrypto_ops_per_s, openssl_cli_ops_per_s   naive gostcrypto; `openssl cms -verify` per process
      streebog_mb_per_s, fallback_streebog_mb_per_s, pure_python_streebog_mb_per_s
                             Streebog-256 MB/s of each
      loadavg_before, loadavg_after   load averages around the run
    See docs/verify-report.md ("Performance").
    """
    from gateway.bench.verify import bench_verify

    results = bench_verify(seconds, threads=threads)
    if as_json:
        click.echo(json.dumps(results, indent=2))
        return
    # The figures' names are the --json keys, in both languages; the words around them are translated.
    echo("bench.backend", name=results["backend"], reason=results["backend_reason"])
    echo("bench.fallback", name=results["fallback"], reason=results["fallback_reason"])
    for key in (
        "project_ops_per_s",
        "fallback_ops_per_s",
        "pure_python_ops_per_s",
        "gostcrypto_ops_per_s",
        "openssl_cli_ops_per_s",
        "thread_pool_ops_per_s",
    ):
        value = results.get(key)
        shown = say("bench.na") if value is None else f"{value:,.1f}"
        target = TARGETS.get(key)
        note = (
            ""
            if target is None or value is None
            else say("bench.target", target=f"{target:,.0f}", verdict=_verdict(value >= target))
        )
        click.echo(f"{key:30} {shown:>10}{note}")
    click.echo(f"{'threads':30} {results['threads']:>10}")
    for key in ("streebog_mb_per_s", "fallback_streebog_mb_per_s", "pure_python_streebog_mb_per_s"):
        click.echo(f"{key:30} {results[key]:>10,.1f}")
    echo("bench.load", before=results["loadavg_before"], after=results["loadavg_after"])


def _verdict(met: bool) -> str:
    return say("bench.met" if met else "bench.not_met")


@bench.command("verify-xml")
@click.option("--seconds", type=click.FloatRange(min=0.1), default=2.0, show_default=True, help="Wall time per figure.")
@click.option("--json", "as_json", is_flag=True, help="Print the raw numbers as JSON.")
def verify_xml(seconds: float, as_json: bool) -> None:
    """SMEV-style GOST XMLDSig verification of a 50 KB envelope beside signxml's RSA verification."""
    from gateway.bench.verify_xml import bench_verify_xml

    results = bench_verify_xml(seconds)
    if as_json:
        click.echo(json.dumps(results, indent=2))
        return
    echo("bench.xml_backend", name=results["backend"], size=f"{results['document_bytes']:,}")
    for key in ("project_gost_ops_per_s", "signxml_rsa_ops_per_s", "project_rsa_ops_per_s"):
        click.echo(f"{key:24} {results[key]:>10,.1f}")
    ratio = results["project_gost_ops_per_s"] / results["signxml_rsa_ops_per_s"]
    click.echo(
        f"{'gost / signxml rsa':24} {ratio:>10.2f}" + say("bench.target", target=">= 1", verdict=_verdict(ratio >= 1))
    )
    echo("bench.xml_load", before=results["loadavg_before"], after=results["loadavg_after"])


@contextlib.contextmanager
def _scratch_database(url: str) -> Iterator[str]:
    """A fresh PostgreSQL database on the server ``url`` names, dropped afterwards ("" = SQLite in
    a temporary directory, made by the simulation itself)."""
    if not url:
        yield ""
        return
    import asyncio
    import uuid

    import asyncpg
    from sqlalchemy.engine import make_url

    from gateway.journal.engine import normalise_url

    admin = make_url(normalise_url(url)).set(drivername="postgresql")
    name = f"mseg_bench_{uuid.uuid4().hex[:10]}"

    async def run(statement: str) -> None:
        conn = await asyncpg.connect(admin.render_as_string(hide_password=False))
        try:
            await conn.execute(statement)
        finally:
            await conn.close()

    asyncio.run(run(f'CREATE DATABASE "{name}"'))
    try:
        yield normalise_url(admin.set(database=name).render_as_string(hide_password=False))
    finally:
        asyncio.run(run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@bench.command("delivery")
@click.option("--count", type=int, default=2000, show_default=True, help="Documents per database.")
@click.option(
    "--database",
    "databases",
    multiple=True,
    default=("sqlite",),
    show_default=True,
    help="'sqlite' (a temporary file) or a PostgreSQL URL; repeat to compare.",
)
@click.option(
    "--processes",
    type=int,
    default=1,
    show_default=True,
    help="Gateway processes sharing the journal (more than one wants PostgreSQL).",
)
@click.option(
    "--validation-processes",
    type=int,
    default=0,
    show_default=True,
    help="Validation worker processes per gateway process (workers.validation_processes).",
)
@click.option("--concurrency", type=int, default=32, show_default=True, help="Concurrent senders.")
@click.option(
    "--schematron/--no-schematron",
    default=True,
    show_default=True,
    help="Run the shipped Schematron (kind 121) in the gateway and in the yardstick alike.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the raw numbers as JSON.")
def delivery(
    count: int,
    databases: tuple[str, ...],
    processes: int,
    validation_processes: int,
    concurrency: int,
    schematron: bool,
    as_json: bool,
) -> None:
    """Documents per second from REST intake to REMD registration with callbacks, no faults: the
    gateway as `serve` processes (full validation), signed sample documents generated beforehand,
    the REMD twin and the sender in this process, over loopback. Also the gateway's CPU time per
    document, read from the kernel.

    \b
    Keys of --json besides the counts and rates:
      gateway_cpu_ms_per_document     CPU of the gateway processes and their validation workers
      validation_cpu_ms_per_document  the offline check alone (parse, signatures, schema, rules)
                                      of the same documents, one thread of this process, CPU time
      overhead_ratio                  gateway_cpu_ms_per_document / validation_cpu_ms_per_document
      intake_p50_ms, intake_p99_ms    REST intake latency (POST to 202) during the run
      loadavg_before, loadavg_after   load averages around the run
      gateway_idle_cpu_ms_per_s       the idle gateways' CPU per second (3 s before sending)
      idle_cpu_ms_per_document        that rate times the run's duration, per document
      schematron, kinds               whether the Schematron ran (both sides), kinds sent
    See docs/benchmarks.md ("Delivery")."""
    import asyncio

    from gateway.bench.delivery import run_delivery_bench
    from gateway.common.logs import configure_logging
    from gateway.sandbox.simulate import Progress

    configure_logging("warning")
    if processes < 1:
        raise click.BadParameter(say("at_least_1"), param_hint="--processes")
    if validation_processes < 0:
        raise click.BadParameter(say("zero_or_more"), param_hint="--validation-processes")
    results = []
    for database in databases:
        url = "" if database == "sqlite" else database
        with _scratch_database(url) as scratch:
            r = asyncio.run(
                run_delivery_bench(
                    count=count,
                    database_url=scratch,
                    processes=processes,
                    validation_processes=validation_processes,
                    concurrency=concurrency,
                    progress=Progress(),
                    schematron=schematron,
                )
            )
        results.append(r.to_json())
    if as_json:
        click.echo(json.dumps(results, indent=2))
        return
    for row in results:
        echo(
            "bench.delivery",
            database=f"{row['database']:<11}",
            processes=row["processes"],
            validators=row["validation_processes"],
            registered=row["registered"],
            documents=row["documents"],
            seconds=row["seconds"],
            rate=row["documents_per_s"],
            intake=row["intake_per_s"],
            p50=row["p50_final_s"],
            cpu=row["gateway_cpu_ms_per_document"],
        )
        echo(
            "bench.delivery_2",
            pad=" " * 11,
            validation=row["validation_cpu_ms_per_document"],
            ratio=row["overhead_ratio"],
            p50=row["intake_p50_ms"],
            p99=row["intake_p99_ms"],
            before=row["loadavg_before"],
            after=row["loadavg_after"],
        )


@bench.command("journal-growth")
@click.option(
    "--rows", type=click.IntRange(min=0), default=1_000_000, show_default=True, help="Submissions pre-loaded."
)
@click.option("--count", type=int, default=600, show_default=True, help="Documents sent in each delivery run.")
@click.option("--database", default="sqlite", show_default=True, help="'sqlite' (temporary files) or a PostgreSQL URL.")
@click.option("--processes", type=int, default=1, show_default=True, help="Gateway processes sharing the journal.")
@click.option("--validation-processes", type=int, default=0, show_default=True, help="Per gateway process.")
@click.option("--concurrency", type=int, default=32, show_default=True, help="Concurrent senders.")
@click.option("--json", "as_json", is_flag=True, help="Print the raw numbers as JSON.")
def journal_growth(
    rows: int, count: int, database: str, processes: int, validation_processes: int, concurrency: int, as_json: bool
) -> None:
    """The delivery bench on an empty journal and on one pre-loaded with --rows submissions (bulk
    INSERT, mostly final, some open and due later), in one run: documents/s of each and their
    ratio, the operator UI's overview, message list and message search times, the gateway's RSS.

    \b
    Keys of --json: rows, preload_seconds, documents_per_s_ratio (pre-loaded / empty), and
    empty / preloaded: each a `bench delivery` row whose `extra` holds ui_overview_s,
    ui_messages_s, message_search_s (median of 3, over HTTP), with gateway_rss_mb.
    """
    import asyncio

    from gateway.bench.growth import run_growth_bench
    from gateway.common.logs import configure_logging
    from gateway.sandbox.simulate import Progress

    configure_logging("warning")
    url = "" if database == "sqlite" else database
    with _scratch_database(url) as empty_url, _scratch_database(url) as full_url:
        result = asyncio.run(
            run_growth_bench(
                rows=rows,
                count=count,
                database_url=full_url,
                empty_database_url=empty_url,
                processes=processes,
                validation_processes=validation_processes,
                concurrency=concurrency,
                progress=Progress(),
            )
        )
    if as_json:
        click.echo(json.dumps(result, indent=2))
        return
    echo("bench.preloaded", rows=f"{result['rows']:,}", seconds=result["preload_seconds"])
    labels = {"empty": say("bench.empty"), "preloaded": say("bench.full")}
    width = max(10, *(len(text) for text in labels.values()))
    for key, label in labels.items():
        row = result[key]
        extra = row["extra"] or {}
        echo(
            "bench.growth",
            label=f"{label:<{width}}",
            rate=row["documents_per_s"],
            cpu=row["gateway_cpu_ms_per_document"],
            ratio=row["overhead_ratio"],
            rss=row["gateway_rss_mb"],
            overview=extra.get("ui_overview_s"),
            messages=extra.get("ui_messages_s"),
            search=extra.get("message_search_s"),
            before=row["loadavg_before"],
            after=row["loadavg_after"],
        )
    echo("bench.growth_ratio", ratio=result["documents_per_s_ratio"])
