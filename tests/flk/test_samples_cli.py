"""``mse-gateway samples`` → ``mse-gateway check`` agrees with expected.json for every file; the
check command's exit codes."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from gateway.cli.checking import check, samples


@pytest.fixture(scope="module")
def sample_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("samples")
    result = CliRunner().invoke(samples, [str(directory), "--count", "6", "--seed", "7", "--standalone"])
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


def test_human_output_and_exit_codes(sample_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LC_ALL", "ru_RU.UTF-8")  # a Russian locale: Russian labels
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
    result = CliRunner().invoke(
        samples, [str(tmp_path / "more"), "--count", "1", "--pki", str(sample_dir / "pki"), "--standalone"]
    )
    assert result.exit_code == 0, result.output
    again = _check(str(tmp_path / "more" / "valid-121-0.json"), "--trust", str(sample_dir / "pki"))
    assert again.exit_code == 0, again.output


def test_the_shipped_schematron_runs_by_default_and_names_the_rule(sample_dir: Path) -> None:
    """No packages configured: kind 121 is validated with the ministry's package shipped in
    gateway/documents/packages, and the broken sample is rejected naming the ministry's rule."""
    ok = _check(str(sample_dir / "valid-121-0.json"), "--json", "--trust", str(sample_dir / "pki"))
    report = json.loads(ok.output)
    assert ok.exit_code == 0 and "semd-schema" not in {s["rule"] for s in report["skipped"]}
    bad = _check(str(sample_dir / "defect-semd-schematron-121.json"), "--json", "--trust", str(sample_dir / "pki"))
    findings = json.loads(bad.output)["flk"]
    assert bad.exit_code == 1
    assert [(f["rule"], f["code"]) for f in findings] == [("semd-schema", "XML_VALIDATION_ERROR")]
    assert findings[0]["message"].startswith("Extra02-1.") and "postalCode" in findings[0]["field"]


def test_samples_and_check_use_the_sandbox_data_dir(tmp_path: Path) -> None:
    """With a sandbox's data directory, samples sign with its PKI as its client, and check trusts
    that PKI without --trust."""
    from gateway.sandbox.setup import SANDBOX_CLIENT

    data_dir = tmp_path / "var"
    (data_dir / "pki").mkdir(parents=True)
    (data_dir / "sandbox-client.json").write_text(json.dumps({"source_system": SANDBOX_CLIENT, "token": "t"}))
    out = tmp_path / "s"
    made = CliRunner().invoke(samples, [str(out), "--count", "1", "--data-dir", str(data_dir)])
    assert made.exit_code == 0, made.output
    assert (data_dir / "pki" / "ca.pem").exists() or any((data_dir / "pki").iterdir())
    sub = json.loads((out / "valid-121-0.json").read_text("utf-8"))
    assert sub["source_system"] == SANDBOX_CLIENT
    assert _check(str(out / "valid-121-0.json"), "--data-dir", str(data_dir)).exit_code == 0
    # the same file with the sandbox's anchors unavailable: not trusted
    untrusted = _check(str(out / "valid-121-0.json"), "--data-dir", str(tmp_path / "elsewhere"))
    assert untrusted.exit_code == 1 and "CANT_BUILD_CERT_CHAIN" in untrusted.output


def test_check_speaks_english_when_asked(sample_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    args = [str(sample_dir / "valid-121-0.json"), "--trust", str(sample_dir / "pki")]
    assert _check(*args, "--lang", "en").output.startswith("PASSED\n  signatures: 2, all valid: yes")
    monkeypatch.setenv("LC_ALL", "en_GB.UTF-8")
    assert _check(*args).output.startswith("PASSED")
    monkeypatch.setenv("LC_ALL", "ru_RU.UTF-8")
    assert _check(*args).output.startswith("ПРОЙДЕНА")


def test_every_defect_is_reported_in_the_language_asked_for(sample_dir: Path) -> None:
    """Each FLK rule's findings (one defective sample per rule) in English with ``--lang en`` and in
    Russian with ``--lang ru``; both texts are always in the JSON, and the codes do not change."""
    cyrillic = re.compile(r"[\u0400-\u04ff]")
    relayed = re.compile(r"«[^»]*»")  # names from the ministry's tables, quoted in both languages
    expected = json.loads((sample_dir / "expected.json").read_text(encoding="utf-8"))
    wrong: list[tuple[str, str, str]] = []
    for name in sorted(n for n in expected if n.startswith(("defect-", "warning-"))):
        reports = {}
        for lang in ("en", "ru"):
            args = [str(sample_dir / name), "--json", "--lang", lang, "--trust", str(sample_dir / "pki")]
            result = _check(*args, "--journal", str(sample_dir / "journal.json"))
            reports[lang] = json.loads(result.output)
        items = {lang: [*r["flk"], *r["warnings"]] for lang, r in reports.items()}
        assert items["en"], name
        assert [i["code"] for i in items["en"]] == [i["code"] for i in items["ru"]], name
        for en, ru in zip(items["en"], items["ru"], strict=True):
            assert (en["message_ru"], en["message_en"]) == (ru["message_ru"], ru["message_en"])
            assert en["message"] == en["message_en"] and ru["message"] == ru["message_ru"]
            if not cyrillic.search(ru["message"]):
                wrong.append((name, "ru", ru["message"]))
            schematron = en["code"] == "XML_VALIDATION_ERROR"  # the ministry's assertion, relayed
            if cyrillic.search(relayed.sub("", en["message"])) and not schematron:
                wrong.append((name, "en", en["message"]))
        for skipped in reports["en"]["skipped"]:
            if cyrillic.search(skipped["reason"]):
                wrong.append((name, "skipped", skipped["reason"]))
    assert wrong == []
