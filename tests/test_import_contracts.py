"""The import contracts of pyproject.toml ([tool.importlinter]) hold for the tree and catch a breach.

The breach test copies the packages and pyproject.toml to a scratch directory, adds an adapter that
imports another adapter, and runs ``lint-imports`` there: it must fail and name the independence
contract. A second breach (the core importing an adapter) must name the composition contract.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")

pytestmark = pytest.mark.skipif(not LINT_IMPORTS.exists(), reason="import-linter is not installed (make install)")


def _copy_tree(dest: Path) -> None:
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for package in ("gateway", "adapters"):
        shutil.copytree(ROOT / package, dest / package, ignore=ignore)
    shutil.copy(ROOT / "pyproject.toml", dest / "pyproject.toml")


def _lint_imports(cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run lint-imports in ``cwd``; stdout with its line wrapping undone (it wraps at the terminal width)."""
    env = {**os.environ, "PYTHONPATH": str(cwd)}
    result = subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )
    result.stdout = " ".join(result.stdout.split())
    return result


def test_the_tree_keeps_every_contract() -> None:
    result = _lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_an_adapter_importing_another_breaks_the_independence_contract(tmp_path: Path) -> None:
    _copy_tree(tmp_path)
    evil = tmp_path / "adapters" / "evil"
    evil.mkdir()
    (evil / "__init__.py").write_text('"""Leans on another adapter."""\n\nimport adapters.remd  # noqa: F401\n')
    result = _lint_imports(tmp_path)
    assert result.returncode != 0
    assert "Adapters are independent of each other BROKEN" in result.stdout
    assert "adapters.evil" in result.stdout


def test_the_core_importing_an_adapter_breaks_the_composition_contract(tmp_path: Path) -> None:
    _copy_tree(tmp_path)
    (tmp_path / "gateway" / "sandbox" / "shortcut.py").write_text('"""Skips the plug-in."""\n\nimport adapters.remd\n')
    result = _lint_imports(tmp_path)
    assert result.returncode != 0
    assert "gateway.peers.installed BROKEN" in result.stdout
    assert "gateway.sandbox.shortcut -> adapters.remd" in result.stdout
