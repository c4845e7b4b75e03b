"""``mse-gateway samples`` → ``mse-gateway check`` agrees with expected.json for every file; the
check command's exit codes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from gateway.cli.checking import check, samples


@pytest.fixture(scope="module")
def sample_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("samples")
    result = CliRunner().invoke(samples, [str(directory), "--count", "6", "--seed", "7"])
    assert result.exit_code == 0, result.output
    return directory


def _check(*args: str) -> Any:
    return CliRunner().invoke(check, list(args), catch_exceptions=False)


def test_samples_cover_every_kind_and_every_rule(sample_dir: Path) -> None:
    expected = json.loads((sample_dir / "expected.json").read_text(encoding="utf-8"))
    names = set(expected)
    assert {f"valid-{k}-{i}.json" for i, k in enumerate(["121", "187", "130", "35", "108", "kz-031u"])} <= names
    assert {
        "defect-role-policy-position-187.json",
        "defect-role-policy-org-count-187.json",
        "defect-role-policy-position-130.json",
        "defect-kind-validity-109.json",
        "defect-kind-validity-187.json",
    } <= names
    rules = {
        "document",
        "signatures-present",
        "metadata",
        "kind-validity",
        "semd-schema",
        "duplicate",
        "late-arrival",
        "invalid-signature",
        "role-policy",
        "dates",
        "wrong-region",
        "citizen-data",
        "examinations",
    }
    assert all(any(n.startswith(f"defect-{rule}") for n in names) for rule in rules), sorted(names)
    assert {e["category"] for e in expected.values()} >= {
        "late",
        "duplicate",
        "invalid_signature",
        "wrong_region",
        "citizen_data",
        "examinations",
        "role",
        "other",
    }
    assert sorted(p.name for p in sample_dir.glob("*.json")) == sorted([*names, "expected.json", "journal.json"])


def test_check_agrees_with_expected_for_every_file(sample_dir: Path) -> None:
    expected = json.loads((sample_dir / "expected.json").read_text(encoding="utf-8"))
    disagreements = {}
    for name, want in expected.items():
        result = _check(
            str(sample_dir / name),
            "--json",
            "--trust",
            str(sample_dir / "pki"),
            "--journal",
            str(sample_dir / "journal.json"),
        )
        report = json.loads(result.output)
        first = report["flk"][0] if report["flk"] else None
        got = {
            "passed": report["passed"],
            "category": first["category"] if first else None,
            "code": first["code"] if first else None,
        }
        if got != want or result.exit_code != (0 if want["passed"] else 1):
            disagreements[name] = {"expected": want, "got": got, "exit": result.exit_code}
    assert disagreements == {}


def test_human_output_and_exit_codes(sample_dir: Path) -> None:
    ok = _check(str(sample_dir / "valid-121-0.json"), "--trust", str(sample_dir / "pki"))
    assert ok.exit_code == 0 and ok.output.startswith("ПРОЙДЕНА")
    bad = _check(str(sample_dir / "defect-role-policy-position.json"), "--trust", str(sample_dir / "pki"))
    assert bad.exit_code == 1 and "POSITION_TO_ROLE_MISMATCH" in bad.output


def test_file_that_is_not_json_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    path.write_bytes(b"\xff{not json")
    assert _check(str(path)).exit_code == 2
    assert _check(str(tmp_path / "missing.json")).exit_code == 2


def test_json_that_is_not_a_submission_is_a_rejection(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    path.write_text('{"kind": "121", "signatures": "none"}')
    result = _check(str(path), "--json")
    assert result.exit_code == 1
    report = json.loads(result.output)
    assert {f["code"] for f in report["flk"]} == {"FLK_SUBMISSION_INVALID"}
    assert any(f["field"] == "/signatures" for f in report["flk"])


def test_unusable_journal_file_exits_2(sample_dir: Path, tmp_path: Path) -> None:
    journal = tmp_path / "journal.json"
    journal.write_text('{"not": "a list"}')
    result = _check(str(sample_dir / "valid-35-2.json"), "--journal", str(journal))
    assert result.exit_code == 2


def test_samples_reuse_the_pki(sample_dir: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(samples, [str(tmp_path / "more"), "--count", "1", "--pki", str(sample_dir / "pki")])
    assert result.exit_code == 0, result.output
    again = _check(str(tmp_path / "more" / "valid-121-0.json"), "--trust", str(sample_dir / "pki"))
    assert again.exit_code == 0, again.output
