"""Adapters are plug-ins: adapters.remd imports the core (gateway.*) and itself, never another
adapter (DESIGN.md, "No adapter imports another")."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[3] / "adapters" / "remd"


def test_no_other_adapter_is_imported() -> None:
    offenders = []
    files = sorted(PACKAGE.rglob("*.py"))
    assert len(files) > 10
    for path in files:
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            for name in names:
                if (name.startswith("adapters.") and not name.startswith("adapters.remd")) or name == "adapters":
                    offenders.append(f"{path.relative_to(PACKAGE)}: {name}")
    assert offenders == []
