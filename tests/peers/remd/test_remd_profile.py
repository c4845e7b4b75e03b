"""Fault profiles: the loader, and the egisz-2023 probabilities over thousands of seeded draws.

Tolerances: for a probability p over n draws the count is binomial with standard deviation
sqrt(n·p·(1−p)); every check allows 4 standard deviations (a false alarm about once in 16,000
runs for a correct sampler, while a sampler off by the checked amount fails). The seed makes a
run reproducible, it is not tuned: the checks hold for any seed.
"""

from __future__ import annotations

import math
import random
import statistics
from pathlib import Path

import pytest

from adapters.remd.sandbox import Delay, Fate, FaultProfile, SyncFault
from gateway.errors import ConfigError

N = 5000


def _within(count: int, n: int, p: float) -> bool:
    sigma = math.sqrt(n * p * (1 - p))
    return abs(count - n * p) <= 4 * sigma + 1e-9


def test_shipped_profiles_load_by_name() -> None:
    none = FaultProfile.load("none")
    assert none.probabilities.lost_callback == 0 and none.callback_delay.draw(random.Random(1)) == 1.0
    egisz = FaultProfile.load("egisz-2023")
    assert (egisz.probabilities.registration_timeout, egisz.probabilities.lost_callback) == (0.026, 0.49)
    assert egisz.late_callback_delay.cap_seconds == pytest.approx(10.1 * 86400)
    flaky = FaultProfile.load("flaky")
    assert flaky.probabilities.rate_limit > 0 and flaky.probabilities.http_5xx > 0


def test_load_by_path_and_errors(tmp_path: Path) -> None:
    good = tmp_path / "mine.toml"
    good.write_text(
        '[probabilities]\nrate_limit = 0.5\n[callback_delay]\ndistribution = "uniform"\n'
        "min_seconds = 1\nmax_seconds = 2\n"
    )
    profile = FaultProfile.load(str(good))
    assert profile.name == "mine" and profile.probabilities.rate_limit == 0.5
    bad_key = tmp_path / "bad.toml"
    bad_key.write_text("[probabilities]\nlost_calbacks = 0.1\n")
    with pytest.raises(ConfigError, match="lost_calbacks"):
        FaultProfile.load(bad_key)
    too_much = tmp_path / "sum.toml"
    too_much.write_text("[probabilities]\nlost_callback = 0.7\nlate_callback = 0.5\n")
    with pytest.raises(ConfigError, match="must not exceed 1"):
        FaultProfile.load(too_much)
    broken = tmp_path / "broken.toml"
    broken.write_text("[probabilities\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        FaultProfile.load(broken)
    with pytest.raises(ConfigError, match="unknown fault profile"):
        FaultProfile.load("no-such-profile")


def test_egisz_2023_fates_match_the_seed_figures() -> None:
    profile = FaultProfile.load("egisz-2023")
    rng = random.Random(2023)
    counts = {fate: 0 for fate in Fate}
    for _ in range(N):
        counts[profile.draw_fate(rng)] += 1
    p = profile.probabilities
    assert _within(counts[Fate.TIMEOUT], N, 0.026), counts
    assert _within(counts[Fate.LOST], N, 0.49), counts
    assert _within(counts[Fate.LATE], N, p.late_callback), counts
    assert _within(counts[Fate.CALLBACK], N, 1 - 0.026 - 0.49 - p.late_callback), counts


def test_egisz_2023_late_callbacks_stay_within_ten_days() -> None:
    delay = FaultProfile.load("egisz-2023").late_callback_delay
    rng = random.Random(11)
    draws = [delay.draw(rng) for _ in range(N)]
    assert min(draws) >= 3600 and max(draws) <= 10.1 * 86400
    # The sample median of a lognormal: log-median has sd ≈ 1.2533·σ/√n ≈ 0.018 here; 4 sd ≈ ±7 %.
    assert abs(math.log(statistics.median(draws) / 86400)) < 4 * 1.2533 * delay.sigma / math.sqrt(N)
    capped = sum(d == 10.1 * 86400 for d in draws) / N  # P(lognormal(ln 1 day, 1) > 10.1 days) ≈ 1.05 %
    assert _within(round(capped * N), N, 0.5 * math.erfc(math.log(10.1) / math.sqrt(2)))


def test_sync_faults_and_slow_answers_of_flaky() -> None:
    profile = FaultProfile.load("flaky")
    rng = random.Random(5)
    faults = [profile.draw_sync_fault(rng) for _ in range(N)]
    assert _within(faults.count(SyncFault.RATE_LIMIT), N, 0.10)
    assert _within(faults.count(SyncFault.HTTP_5XX), N, 0.05)
    slow = [profile.draw_slow(rng) for _ in range(N)]
    slow_ones = [s for s in slow if s > 0]
    assert _within(len(slow_ones), N, 0.05)
    assert all(1.0 <= s <= 3.0 for s in slow_ones)


@pytest.mark.parametrize(
    ("delay", "mean"),
    [
        (Delay(distribution="fixed", seconds=7), 7.0),
        (Delay(distribution="uniform", min_seconds=2, max_seconds=4), 3.0),
        (Delay(distribution="exponential", mean_seconds=10), 10.0),
    ],
)
def test_delay_distributions(delay: Delay, mean: float) -> None:
    rng = random.Random(3)
    draws = [delay.draw(rng) for _ in range(N)]
    sd = statistics.pstdev(draws)
    assert abs(statistics.fmean(draws) - mean) <= 4 * sd / math.sqrt(N) + 1e-9


def test_invalid_delays_are_refused() -> None:
    with pytest.raises(ValueError, match="uniform"):
        Delay(distribution="uniform", min_seconds=5)
    with pytest.raises(ValueError, match="lognormal"):
        Delay(distribution="lognormal")
