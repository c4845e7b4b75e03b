"""`simulate`: N signed documents through the sandbox under a fault profile, until every outcome is
known, compared with the 2023 baseline."""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
import signal
import sys
import tempfile
from collections.abc import Callable, Coroutine, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import click

from gateway.cli._common import load
from gateway.cli.messages import echo, say
from gateway.common.logs import configure_logging
from gateway.sandbox.kz_pilot import KZ_PILOT_PROFILES, KzPilotResult, run_kz_pilot
from gateway.sandbox.mse_loop import MSE_LOOP_PROFILES, MseLoopResult, run_mse_loop
from gateway.sandbox.setup import read_sandbox_client
from gateway.sandbox.simulate import BASELINE_2023, Progress, SimulationResult, run_simulation
from gateway.sandbox.simulate_target import run_against_sandbox
from gateway.sandbox.traffic import plan

__all__ = ["simulate"]


class _Bars(Progress):
    """click progress bars on stderr, one per stage."""

    def __init__(self) -> None:
        self._bar: Any = None
        self._done = 0

    def stage(self, name: str, total: int) -> None:
        self._close()
        bar: Any = click.progressbar(length=total, label=f"{name:<10}", file=sys.stderr)
        bar.__enter__()
        self._bar = bar
        self._done = 0

    def update(self, done: int) -> None:
        if self._bar is not None and done > self._done:
            self._bar.update(done - self._done)
            self._done = done

    def _close(self) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)
            self._bar = None

    def close(self) -> None:
        self._close()


def _table(r: SimulationResult) -> str:
    n = max(1, r.count)

    def pct(x: int) -> str:
        return f"{x:>8}  {100 * x / n:6.2f}%"

    rows = [
        (say("sim.documents"), f"{r.count:>8}", ""),
        (say("sim.registered"), pct(r.registered), f"{100 * BASELINE_2023['registered']:6.1f}%"),
        (say("sim.first_try"), pct(r.registered_first_try), ""),
        (say("sim.after_retry"), pct(r.registered_after_retry), ""),
        (say("sim.via_reconciliation"), pct(r.registered_via_reconciliation), ""),
        (say("sim.failed_permanent"), pct(r.failed_permanent), f"{100 * BASELINE_2023['failed']:6.1f}%"),
        (say("sim.rejected"), pct(r.rejected), ""),
        (say("sim.unknown"), pct(r.unknown), f"{100 * BASELINE_2023['no_answer']:6.1f}%"),
        (say("sim.dead"), pct(r.dead), ""),
        (say("sim.duplicates"), f"{r.duplicates_at_peer:>8}", ""),
        (say("sim.lost"), f"{r.lost:>8}", ""),
        (say("sim.late_callbacks"), f"{r.late_callbacks:>8}", ""),
        (say("sim.regressions"), f"{r.regressions:>8}", ""),
        (say("sim.contradictions"), f"{r.contradictions:>8}", ""),
    ]
    w = _width(label for label, _, _ in rows)
    out = [f"{'':{w}}{say('sim.this_run'):>18}  {say('sim.baseline'):>9}"]
    out += [f"{label:<{w}}{value:>18}  {base:>9}" for label, value, base in rows]
    p50 = say("sim.minutes", n=f"{r.p50_final_s / 60:.1f}") if r.p50_final_s is not None else "-"
    p95 = say("sim.minutes", n=f"{r.p95_final_s / 60:.1f}") if r.p95_final_s is not None else "-"
    out.append(say("sim.time_to_final", p50=p50, p95=p95))
    out.append(say("sim.run", profile=r.profile, speed=f"{r.speed:g}", wall=f"{r.wall_seconds:.1f}",
                   intake=f"{r.intake_per_s:.0f}"))  # fmt: skip
    return "\n".join(out)


def _width(labels: Iterable[str], at_least: int = 28) -> int:
    """The label column: as wide as the table's usual width, or the longest label in the language."""
    return max(at_least, *(len(label) + 1 for label in labels))


def _loop_table(r: MseLoopResult) -> str:
    n = max(1, r.accepted)
    rows = [
        (say("sim.referrals"), r.count),
        (say("sim.accepted"), r.accepted),
        (say("sim.results"), r.results),
        (say("sim.returned"), r.returned),
        (say("sim.failed_other"), r.failed_other),
        (say("sim.rejected"), r.rejected),
        (say("sim.unknown"), r.unknown),
        (say("sim.lost"), r.lost),
        (say("sim.duplicates"), r.duplicates_at_peer),
        (say("sim.unattributed"), r.unattributed),
        (say("sim.contradictions"), r.contradictions),
        (say("sim.offered"), r.delivered_to_mis),
        (say("sim.offered_twice"), r.delivered_twice_to_mis),
    ]
    out = [f"{label:<34}{value:>8}  {100 * value / n:6.2f}%" for label, value in rows]
    k_ = {
        k: say(f"sim.ksi.{k}")
        for k in ("measured", "within", "share", "late", "open", "unreported", "bureau_late", "deadline")
    }
    out.append(f"{say('sim.ksi'):<34}{k_['measured']:>9}{k_['within']:>8}{k_['share']:>8}{k_['late']:>6}"
               f"{k_['open']:>6}{k_['unreported']:>7}{k_['bureau_late']:>12}  {k_['deadline']}")  # fmt: skip
    for stage, k in r.ksi.items():
        share = f"{100 * k['share_within']:.1f}%" if k["share_within"] is not None else "-"
        out.append(
            f"  {stage:<32}{k['measured']:>9}{k['within']:>8}{share:>8}{k['late']:>6}{k['open_overdue']:>6}"
            f"{k['unreported']:>7}{k['late_by_the_bureaus_own_count']:>12}  {k['deadline']}"
        )
    out.append(say("sim.notices", notices=r.notices))
    out.append(say("sim.by_kind", by_kind=r.delivered_by_kind, held=r.held_for_operator))
    out.append(say("sim.loop_run", profile=r.profile, speed=f"{r.speed:g}", days=r.simulated_days, wall=r.wall_seconds))
    out.append(say("sim.loop_ends", where=r.where_it_ends))
    return "\n".join(out)


@click.command()
@click.option("--count", type=int, default=1000, show_default=True, help="Documents to submit.")
@click.option(
    "--target",
    default=None,
    metavar="URL",
    help="A running sandbox (e.g. http://127.0.0.1:8080): send to it, signed by its PKI as its client "
    "(read from --data-dir), so that the documents show in its journal and UI.",
)
@click.option(
    "--profile",
    default="egisz-2023",
    show_default=True,
    help="REMD twin fault profile (in-process run); mse-loop-2023 runs the whole MSE loop "
    "through ФГИС ЕАВИИАС over SMEV 3; kz-pilot-2025 runs 031/у through ШЭП to ЦБДИ and back.",
)
@click.option("--seed", type=int, default=1, show_default=True, help="Seed for the mix of documents and fault draws.")
@click.option(
    "--defects",
    type=click.FloatRange(0.0, 1.0),
    default=None,
    help="With --target: share of documents with a deliberate defect (default 0.1).",
)
@click.option(
    "--speed",
    type=float,
    default=None,
    help="Simulated seconds per real second (default 600; mse-loop-2023 and kz-pilot-2025: 20000).",
)
@click.option("--concurrency", type=int, default=32, show_default=True, help="Concurrent submissions.")
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="In-process: the journal's directory (default: a new temporary one, removed at the end). "
                   "With --target: the sandbox's data directory (default: storage.data_dir, ./var).")  # fmt: skip
@click.option("--keep", is_flag=True, help="Keep the temporary directory (journal, generated documents).")
@click.option("--database-url", default="", help="Journal database (default: SQLite in the data directory).")
@click.option(
    "--timeout",
    type=float,
    default=None,
    help="Real seconds to wait for every outcome after submitting (default: 600 or 0.5 s per document).",
)
@click.option(
    "--validation-processes",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Validate in this many worker processes (workers.validation_processes).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON.")
@click.pass_context
def simulate(
    ctx: click.Context,
    count: int,
    target: str | None,
    profile: str,
    seed: int,
    defects: float | None,
    speed: float | None,
    concurrency: int,
    data_dir: Path | None,
    keep: bool,
    database_url: str,
    timeout: float | None,
    validation_processes: int,
    as_json: bool,
) -> None:
    """Submit COUNT signed documents and wait until every outcome is known.

    In-process (default): the gateway and a REMD twin under --profile on a simulated clock, in a
    temporary journal, compared with the 2023 baseline (49% of MSE results never answered).
    With --target URL: into a running sandbox — referrals, results, returns, several regions and
    deliberate defects — so that they appear in its UI; --seed fixes the mix."""
    config = load(ctx, data_dir=data_dir if target else None)  # configuration checks
    # the progress bars and the table (or the JSON) are the output; problems still show, on stderr
    # so that --json prints nothing but the figures on stdout
    configure_logging("warning", stream=sys.stderr)
    settle = timeout if timeout is not None else max(600.0, 0.5 * count)  # --target
    workdir = Path(tempfile.mkdtemp(prefix="mse-simulate-")) if target or data_dir is None else data_dir
    temporary = target is not None or data_dir is None
    click.echo(
        say("sim.workdir", path=workdir) + (say("sim.workdir_removed") if temporary and not keep else ""), err=True
    )
    bars = _Bars()
    try:
        with _cleanup_on_signals():
            if target is not None:
                code = _against_sandbox(target, config.data_dir, count, seed, 0.1 if defects is None else defects,
                                        concurrency, settle, workdir, bars, as_json)  # fmt: skip
            else:
                kind = (
                    _MSE_LOOP if profile in MSE_LOOP_PROFILES else _KZ_PILOT if profile in KZ_PILOT_PROFILES else _REMD
                )
                code = _in_process(kind, count, profile, seed, speed, concurrency, workdir, database_url, bars,
                                   timeout, validation_processes, as_json)  # fmt: skip
    except _Interrupted as exc:
        code = 128 + exc.signum
        echo("sim.stopped", err=True, signal=signal.Signals(exc.signum).name)
    finally:
        bars.close()
        if temporary and not keep:
            shutil.rmtree(workdir, ignore_errors=True)
    ctx.exit(code)


class _Interrupted(BaseException):
    """SIGTERM or SIGINT: unwinds the run (asyncio cancels its tasks, the pools shut down) so that
    the working directory is removed on the way out, as at a normal end."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


@contextlib.contextmanager
def _cleanup_on_signals() -> Iterator[None]:
    def interrupt(signum: int, _frame: Any) -> None:
        raise _Interrupted(signum)

    previous = {sig: signal.signal(sig, interrupt) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    except KeyboardInterrupt:  # asyncio turns a SIGINT inside its loop into this
        raise _Interrupted(signal.SIGINT) from None
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _against_sandbox(
    url: str,
    sandbox_dir: Path,
    count: int,
    seed: int,
    defects: float,
    concurrency: int,
    settle: float,
    workdir: Path,
    bars: _Bars,
    as_json: bool,
) -> int:
    sandbox = read_sandbox_client(sandbox_dir)
    if sandbox is None:
        echo("error", err=True, message=say("sim.no_sandbox", path=sandbox_dir))
        return 2
    planned = plan(count, seed, defect_rate=defects)
    run = asyncio.run(
        run_against_sandbox(
            url,
            sandbox,
            planned,
            seed=seed,
            workdir=workdir,
            concurrency=min(concurrency, 16),
            settle_timeout=settle,
            progress=bars,
        )
    )
    bars.close()
    figures = run.figures(seed=seed)
    if as_json:
        click.echo(json.dumps(figures, ensure_ascii=False, sort_keys=True))
    else:
        click.echo(_target_table(figures, url))
    return 1 if run.unsettled or figures["defects_not_rejected"] or "UNKNOWN" in figures["states"] else 0


def _target_table(f: dict[str, Any], url: str) -> str:
    states = sorted({s for per in f["regions"].values() for s in per})
    out = [say("sim.target", count=f["count"], url=url, seed=f["seed"])]
    out.append(f"{say('sim.region'):<8}" + "".join(f"{s:>18}" for s in states))
    for region, per in f["regions"].items():
        out.append(f"{region:<8}" + "".join(f"{per.get(s, 0):>18}" for s in states))
    out.append(say("sim.kinds", list=", ".join(f"{k} {sum(v.values())}" for k, v in f["kinds"].items())))
    if f["rejection_codes"]:
        out.append(say("sim.rejections", list=", ".join(f"{c} {n}" for c, n in f["rejection_codes"].items())))
    if f["refused_at_intake"]:
        refused = ", ".join(f"{c} {n}" for c, n in f["refused_at_intake"].items())
        out.append(say("sim.refused_at_intake", list=refused))
    if f["defects_not_rejected"]:
        out.append(say("sim.not_rejected", list=", ".join(f["defects_not_rejected"])))
    out.append(say("sim.see", url=url))
    return "\n".join(out)


def _kz_table(r: KzPilotResult) -> str:
    n = max(r.accepted, 1)
    rows = [
        (say("sim.accepted"), r.accepted),
        (say("sim.concluded"), r.concluded),
        (say("sim.refused"), r.refused),
        (say("sim.rejected"), r.rejected),
        (say("sim.kz_dead"), r.dead),
        (say("sim.kz_unknown"), r.unknown),
        (say("sim.kz_lost"), r.lost),
        (say("sim.kz_duplicates"), r.duplicates_at_peer),
        (say("sim.conclusion_offered"), r.delivered_to_mis),
        (say("sim.offered_twice"), r.delivered_twice_to_mis),
        (say("sim.not_offered"), r.concluded_not_delivered),
    ]
    out = [f"{label:<34}{value:>8}  {100 * value / n:6.2f}%" for label, value in rows]
    d = r.deadline
    share = f"{100 * d['share_within_deadline']:.1f}%" if d["share_within_deadline"] is not None else "-"
    within = say("sim.of", within=f"{d['within']:>8}", measured=d["measured"])
    out.append(f"{say('sim.within_deadline'):<34}{within} ({share}); {d['rule']}")
    for region, cell in d["by_region"].items():
        label, phase = region or say("sim.no_region"), cell["phase"] or "-"
        out.append(
            f"  {label:<12} {phase:<10} " + say("sim.of", within=f"{cell['within']:>6}", measured=cell["measured"])
        )
    out.append(say("sim.outcomes", list=", ".join(f"{k} {v}" for k, v in r.outcomes.items())))
    if r.held_for_operator:
        out.append(say("sim.held", list=", ".join(f"{k} {v}" for k, v in r.held_for_operator.items())))
    out.append(say("sim.kz_run", profile=r.profile, twins=r.fault_profile, speed=f"{r.speed:g}",
                   days=r.simulated_days, wall=r.wall_seconds))  # fmt: skip
    return "\n".join(out)


@dataclass(frozen=True)
class _InProcess:
    """One in-process run: its runner (gateway/sandbox/), its table, when it failed, and its
    defaults where they differ between the runs."""

    run: Callable[..., Coroutine[Any, Any, Any]]
    table: Callable[[Any], str]
    failed: Callable[[Any], bool]
    speed: float  # the clock's default speed: days of the MSE loop or the pilot pass in minutes at 20,000
    settle_floor: float  # real seconds to wait for every outcome, at least (else 0.5 s per document)
    max_concurrency: int | None = None


_REMD: Final = _InProcess(
    run_simulation,
    _table,
    lambda r: bool(r.unknown or r.lost or r.duplicates_at_peer or r.regressions),
    speed=600.0,
    settle_floor=600.0,
)
_MSE_LOOP: Final = _InProcess(  # the whole MSE loop (docs/eaviias.md)
    run_mse_loop,
    _loop_table,
    lambda r: bool(r.unknown or r.lost or r.duplicates_at_peer or r.delivered_twice_to_mis),
    speed=20_000.0,
    settle_floor=900.0,
)
_KZ_PILOT: Final = _InProcess(  # the Kazakh route (docs/shep.md)
    run_kz_pilot,
    _kz_table,
    lambda r: bool(r.failed_checks),
    speed=20_000.0,
    settle_floor=600.0,
    max_concurrency=16,
)


def _in_process(
    kind: _InProcess,
    count: int,
    profile: str,
    seed: int,
    speed: float | None,
    concurrency: int,
    workdir: Path,
    database_url: str,
    bars: _Bars,
    timeout: float | None,
    validation_processes: int,
    as_json: bool,
) -> int:
    result = asyncio.run(
        kind.run(
            count=count,
            profile=profile,
            seed=seed,
            speed=speed if speed is not None else kind.speed,
            concurrency=min(concurrency, kind.max_concurrency or concurrency),
            data_dir=workdir,
            database_url=database_url,
            progress=bars,
            settle_timeout=timeout if timeout is not None else max(kind.settle_floor, 0.5 * count),
            config_overrides={"workers": {"validation_processes": validation_processes}},
        )
    )
    bars.close()
    click.echo(json.dumps(result.to_json(), ensure_ascii=False) if as_json else kind.table(result))
    return 1 if kind.failed(result) else 0
