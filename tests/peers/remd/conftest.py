"""Fixtures of the REMD adapter tests (helpers live in remd_kit.py: this directory is not a package,
tests/peers/ rather than tests/adapters/, which would shadow the real adapters package on sys.path)."""

from remd_kit import harness

__all__ = ["harness"]
