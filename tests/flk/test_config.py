"""ValidationConfig: strict like the rest of the configuration, rule names checked at start."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from gateway.flk.config import RULE_NAMES, ValidationConfig


def test_defaults_enable_every_rule() -> None:
    config = ValidationConfig()
    assert all(config.rule_enabled(name) for name in RULE_NAMES)
    assert config.unverified_rows_severity == "warning"


def test_a_rule_can_be_switched_off() -> None:
    assert not ValidationConfig(rules={"wrong-region": False}).rule_enabled("wrong-region")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"rules": {"no-such-rule": False}}, "unknown rule"),
        ({"rules": {"document": False}}, "cannot be switched off"),
        ({"served_regions": ["77a"]}, "region codes"),
        ({"unknown_key": 1}, "Extra inputs"),
        ({"future_tolerance_minutes": "10"}, "valid number"),  # strict: no silent conversion
        ({"journal_lookup_limit": 0}, "greater than 0"),
        ({"unverified_rows_severity": "info"}, "warning"),
    ],
)
def test_bad_values_are_refused(data: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        ValidationConfig.model_validate(data)


def test_region_codes_are_normalised() -> None:
    assert ValidationConfig(served_regions=["7", "77"]).served_regions == ["07", "77"]


def test_resolve_prefers_the_configured_path_then_config_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = ValidationConfig()
    assert config.resolve("/x/roles.toml", "roles.toml") == Path("/x/roles.toml")
    monkeypatch.chdir(tmp_path)
    # Not in the working directory: the shipped file (here, the checkout's).
    checkout = Path(__file__).resolve().parents[2]
    assert config.resolve("", "roles.toml") == checkout / "config" / "roles.toml"
    assert config.resolve("", "no-such-table.tsv") is None
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "roles.toml").write_text("")
    assert config.resolve("", "roles.toml") == tmp_path / "config" / "roles.toml"


def test_the_model_is_frozen() -> None:
    with pytest.raises(ValidationError):
        ValidationConfig().trust_dir = "x"  # type: ignore[misc]
