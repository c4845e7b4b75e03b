"""Benchmarks: `bench delivery` and the process wrapper it shares with the chaos script.

Not part of the product's hot path."""
